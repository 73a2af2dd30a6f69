"""Combiners that summarise a featurize run for ``metadata.json``."""

from __future__ import annotations

from typing import NamedTuple

import apache_beam as beam
import numpy as np

from sentiment_model.moments import Moments

FINGERPRINT_MODULUS = 2**256


class ExampleSummary(NamedTuple):
    """What the statistics need of one written example.

    Attributes:
        split, label, speaker: as written.
        duration_s: seconds of audio in the example.
        frames: float32 ``[n_frames, frame_dims]``.
        pooled: float32 ``[pooled_dims]``.
        fingerprint: hex sha256 of (uri, content sha256) on the first
            example of each file, ``""`` on the others (further channels).
    """

    split: str
    label: str
    speaker: str
    duration_s: float
    frames: np.ndarray
    pooled: np.ndarray
    fingerprint: str
    augmented: bool = False


class _StatsAccumulator:
    def __init__(self, frame_dims: int, pooled_dims: int) -> None:
        self.counts: dict[str, dict[str, int]] = {}
        self.augmented: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.speakers: dict[str, set[str]] = {}
        self.frames = Moments(frame_dims)
        self.pooled = Moments(pooled_dims)
        self.by_speaker: dict[str, Moments] = {}
        self.fingerprint_sum = 0


class DatasetStatsFn(beam.CombineFn):
    """Counts per split and label, audio seconds, speakers per split, the
    per-column mean/std of ``frames`` and ``pooled`` over the train split, and
    an order-independent fingerprint of the inputs.

    With ``per_speaker``, also the per-column mean/std of ``frames`` of each
    known speaker, over all splits and original (not augmented) audio: the
    statistics that ``normalize="speaker"`` uses.
    """

    def __init__(self, frame_dims: int, pooled_dims: int, *, per_speaker: bool = False) -> None:
        self._frame_dims, self._pooled_dims = frame_dims, pooled_dims
        self._per_speaker = per_speaker

    def create_accumulator(self):
        return _StatsAccumulator(self._frame_dims, self._pooled_dims)

    def add_input(self, acc, item: ExampleSummary):
        by_label = acc.counts.setdefault(item.split, {})
        by_label[item.label] = by_label.get(item.label, 0) + 1
        acc.seconds[item.split] = acc.seconds.get(item.split, 0.0) + item.duration_s
        if item.augmented:
            acc.augmented[item.split] = acc.augmented.get(item.split, 0) + 1
        if item.speaker:
            acc.speakers.setdefault(item.split, set()).add(item.speaker)
        if item.split == "train":
            acc.frames.add_rows(item.frames)
            acc.pooled.add_rows(item.pooled[None, :])
        if self._per_speaker and item.speaker and not item.augmented:
            acc.by_speaker.setdefault(item.speaker, Moments(self._frame_dims)).add_rows(
                item.frames)
        if item.fingerprint:
            acc.fingerprint_sum = (acc.fingerprint_sum + int(item.fingerprint, 16)) % (
                FINGERPRINT_MODULUS)
        return acc

    def merge_accumulators(self, accumulators):
        accumulators = iter(accumulators)
        out = next(accumulators)
        for acc in accumulators:
            for split, by_label in acc.counts.items():
                mine = out.counts.setdefault(split, {})
                for label, n in by_label.items():
                    mine[label] = mine.get(label, 0) + n
            for split, n in acc.augmented.items():
                out.augmented[split] = out.augmented.get(split, 0) + n
            for split, s in acc.seconds.items():
                out.seconds[split] = out.seconds.get(split, 0.0) + s
            for split, names in acc.speakers.items():
                out.speakers.setdefault(split, set()).update(names)
            out.frames.merge(acc.frames)
            out.pooled.merge(acc.pooled)
            for speaker, moments in acc.by_speaker.items():
                out.by_speaker.setdefault(speaker, Moments(self._frame_dims)).merge(moments)
            out.fingerprint_sum = (out.fingerprint_sum + acc.fingerprint_sum) % (
                FINGERPRINT_MODULUS)
        return out

    def extract_output(self, acc):
        return {
            "counts": {s: dict(sorted(c.items())) for s, c in sorted(acc.counts.items())},
            "examples": {s: sum(c.values()) for s, c in sorted(acc.counts.items())},
            "augmented_examples": dict(sorted(acc.augmented.items())),
            "audio_seconds": {s: round(v, 3) for s, v in sorted(acc.seconds.items())},
            "total_audio_seconds": round(sum(acc.seconds.values()), 3),
            "speakers": {s: sorted(v) for s, v in sorted(acc.speakers.items())},
            "train_stats": {"frames": acc.frames.to_dict(), "pooled": acc.pooled.to_dict()},
            "speaker_stats": ({name: m.to_dict() for name, m in sorted(acc.by_speaker.items())}
                              if self._per_speaker else None),
            "input_fingerprint": f"{acc.fingerprint_sum:064x}",
        }


def classify_input(element) -> str:
    """``(uri, {"matched": [...], "written": [...], "rejected": [...]})`` -> outcome.

    A matched file is ``written`` when at least one example of it was
    written, else ``rejected`` when it has an error row, else ``lost`` (a bug).
    Rows for URIs that were never matched (label rows naming missing files)
    are ``label_only``.
    """
    _, groups = element
    if not list(groups["matched"]):
        return "label_only"
    if list(groups["written"]):
        return "written"
    if list(groups["rejected"]):
        return "rejected"
    return "lost"
