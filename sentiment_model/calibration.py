"""Confidence calibration: temperature scaling, expected calibration error
(ECE) and the reliability diagram.

Temperature scaling (Guo et al., 2017) rescales a model's log-probabilities
by one scalar ``T`` fitted on held-out data: ``p' = softmax(log(p) / T)``.
It never changes which class is most probable, only how sure the model
says it is. ``train`` fits ``T`` on out-of-fold probabilities of its
training speakers (or on its validation data) and exports it as the
model's last layer (:class:`sentiment_model.models.Temperature`).
"""

from __future__ import annotations

import numpy as np

ECE_BINS = 10
_EPS = 1e-7


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log(probs) / temperature)`` of ``[n, k]`` probabilities."""
    logits = np.log(np.clip(np.asarray(probs, np.float64), _EPS, 1.0)) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=-1, keepdims=True)


def nll(probs: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood of labels ``y [n]`` under ``probs [n, k]``."""
    picked = np.asarray(probs, np.float64)[np.arange(len(y)), np.asarray(y, int)]
    return float(-np.log(np.clip(picked, _EPS, 1.0)).mean())


def fit_temperature(probs: np.ndarray, y: np.ndarray, *, bounds: tuple[float, float] = (0.05, 20.0)
                    ) -> float:
    """The temperature in ``bounds`` that minimises the NLL of ``y [n]`` under
    ``apply_temperature(probs [n, k], T)`` (1.0 when there are no examples)."""
    from scipy.optimize import minimize_scalar

    if len(y) == 0:
        return 1.0
    result = minimize_scalar(lambda log_t: nll(apply_temperature(probs, np.exp(log_t)), y),
                             bounds=tuple(np.log(bounds)), method="bounded",
                             options={"xatol": 1e-4})
    return float(np.exp(result.x))


def reliability(probs: np.ndarray, y: np.ndarray, *, bins: int = ECE_BINS) -> dict:
    """Confidence against accuracy in ``bins`` equal-width confidence bins.

    Args:
        probs: ``[n, k]`` class probabilities.
        y: ``[n]`` true class ids.

    Returns:
        ``{"ece", "bins": [{"low", "high", "n", "confidence", "accuracy"}]}``;
        ECE is the bins' ``|accuracy - confidence|`` weighted by their share
        of the examples (``None`` for no examples).
    """
    probs = np.asarray(probs, np.float64)
    y = np.asarray(y, int)
    conf = probs.max(axis=1) if len(y) else np.zeros(0)
    correct = (probs.argmax(axis=1) == y) if len(y) else np.zeros(0, bool)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        mask = which == b
        n = int(mask.sum())
        row = {"low": float(edges[b]), "high": float(edges[b + 1]), "n": n,
               "confidence": float(conf[mask].mean()) if n else None,
               "accuracy": float(correct[mask].mean()) if n else None}
        if n:
            ece += n / len(y) * abs(row["accuracy"] - row["confidence"])
        rows.append(row)
    return {"ece": float(ece) if len(y) else None, "bins": rows}


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, *, bins: int = ECE_BINS
                               ) -> float | None:
    """ECE over ``bins`` equal-width confidence bins (:func:`reliability`)."""
    return reliability(probs, y, bins=bins)["ece"]


def plot_reliability(curves: dict[str, dict], path: str, *, title: str) -> None:
    """Saves a reliability diagram (a local PNG file): accuracy against confidence per bin, one
    line per entry of ``curves`` (name -> :func:`reliability`), the diagonal
    for perfect calibration, and each curve's ECE in the legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.8, 4.4), dpi=110)
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="calibrated")
    markers = ("o", "s", "^", "D")
    colours = ("#0072B2", "#E69F00", "#009E73", "#CC79A7")  # colour-blind-safe (Okabe-Ito)
    for i, (name, rel) in enumerate(curves.items()):
        pts = [(b["confidence"], b["accuracy"]) for b in rel["bins"] if b["n"]]
        if not pts:
            continue
        xs, ys = zip(*pts, strict=True)
        ece = rel["ece"]
        ax.plot(xs, ys, marker=markers[i % 4], color=colours[i % 4],
                label=f"{name} (ECE {ece:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (mean of the bin)")
    ax.set_ylabel("accuracy")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
