"""Running per-column statistics of feature rows, mergeable across workers."""

from __future__ import annotations

import numpy as np


class Moments:
    """Running count, mean and sum of squared deviations per column
    (Chan et al.'s parallel algorithm, float64)."""

    __slots__ = ("count", "m2", "mean")

    def __init__(self, dims: int) -> None:
        self.count = 0
        self.mean = np.zeros(dims, dtype=np.float64)
        self.m2 = np.zeros(dims, dtype=np.float64)

    def add_rows(self, rows: np.ndarray) -> None:
        """Adds ``[n, dims]`` rows."""
        centred = np.array(rows, dtype=np.float64)  # a copy, centred in place
        if centred.shape[0] == 0:
            return
        other = Moments(centred.shape[1])
        other.count = centred.shape[0]
        other.mean = centred.sum(axis=0) / other.count
        centred -= other.mean
        other.m2 = np.einsum("ij,ij->j", centred, centred)
        self.merge(other)

    def merge(self, other: Moments) -> None:
        if other.count == 0:
            return
        if self.count == 0:
            self.count, self.mean, self.m2 = other.count, other.mean.copy(), other.m2.copy()
            return
        n = self.count + other.count
        delta = other.mean - self.mean
        self.mean = self.mean + delta * (other.count / n)
        self.m2 = self.m2 + other.m2 + delta**2 * (self.count * other.count / n)
        self.count = n

    def to_dict(self) -> dict:
        std = np.sqrt(self.m2 / self.count) if self.count else self.m2
        return {"count": int(self.count), "mean": self.mean.tolist(), "std": std.tolist()}
