"""Which clip-level features carry tone across speakers? A call-safe screen.

    python -m benchmarks.emodb_functionals [--data ../shared/data/emodb-dev]

Every input here is standardised with the training speakers' statistics only
(call-safe: nothing is taken from the test speaker), and classified by
class-balanced logistic regression, leave-one-speaker-out as in
``emodb_accuracy``. The regularisation C is chosen inside each fold, by
leave-one-speaker-out over its six training speakers, from ``C_GRID``; the
test speaker never picks it.

Inputs:

* ``classical``: ``emodb_accuracy``'s reference (20 MFCC + delta mean/std,
  pitch and energy statistics);
* ``mfcc40``: the 40 MFCCs of ``--preset mfcc``, with the same functionals
  as ``spectral`` (the product's frame features, pooled);
* ``spectral``: the 14 spectral-shape columns that ``--preset default`` adds
  (``sentiment_model.features.compute_spectral``) and their deltas, pooled by
  ``functionals`` (mean, standard deviation, skewness, kurtosis, 1/25/50/75/99
  percentiles, inter-quartile and 1-99 ranges);
* ``mfcc40+spectral``: both;
* with ``--opensmile`` (needs ``pip install opensmile``, not a dependency of
  the product: openSMILE's licence allows research and personal use only,
  not commercial use): openSMILE's ``eGeMAPSv02`` and ``ComParE_2016``
  functional sets, and ComParE's spectral-shape part alone
  (``pcm_fftMag_*``), the part ``compute_spectral`` follows.

Trains no network: about a minute without openSMILE, a few with it (2 cores).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from benchmarks.emodb_accuracy import (
    DATA_DIR,
    SENTIMENTS,
    classical_features,
    load_rows,
    read_mono,
    standardise,
)

C_GRID = (1.0, 0.1, 0.01, 0.001)
PERCENTILES = (1, 25, 50, 75, 99)


def functionals(frames: np.ndarray) -> np.ndarray:
    """Time functionals of ``frames`` ``[n_frames, dims]``: per column the mean,
    standard deviation, skewness, kurtosis, the ``PERCENTILES``, the
    inter-quartile range and the 1-99 % range.

    Returns:
        float64 ``[11 * dims]``, grouped by functional.
    """
    x = np.asarray(frames, dtype=np.float64)
    mean, std = x.mean(axis=0), x.std(axis=0)
    z = (x - mean) / np.maximum(std, 1e-8)
    q = np.percentile(x, PERCENTILES, axis=0)
    return np.concatenate([mean, std, (z ** 3).mean(axis=0), (z ** 4).mean(axis=0), *q,
                           q[3] - q[1], q[4] - q[0]])


def frame_functionals(y: np.ndarray, sample_rate: int) -> dict[str, np.ndarray]:
    """The ``mfcc40`` and ``spectral`` inputs of one clip (16 kHz, the presets)."""
    import librosa

    from sentiment_model.audio import resample
    from sentiment_model.config import preset
    from sentiment_model.features import compute_frames, compute_spectral

    cfg = preset("spectral")
    y = resample(np.asarray(y, dtype=np.float32), sample_rate, cfg.sample_rate)
    mfcc = compute_frames(y, cfg.sample_rate, preset("mfcc"))
    shape = compute_spectral(y, cfg.sample_rate, cfg, n_frames=mfcc.shape[0])
    delta = librosa.feature.delta(shape, width=5, axis=0)
    return {"mfcc40": functionals(mfcc),
            "spectral": np.concatenate([functionals(shape), functionals(delta)])}


def fit_predict(train_x, train_y, test_x, *, c: float) -> np.ndarray:
    """Class-balanced logistic regression on ``train_x`` standardised with its own
    statistics; predictions for ``test_x`` standardised with the same."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(class_weight="balanced", max_iter=3000, C=c)
    clf.fit(standardise(train_x, train_x), train_y)
    return clf.predict(standardise(test_x, train_x))


def uar(y: np.ndarray, pred: np.ndarray) -> float:
    """Unweighted average recall over the classes present in ``y``
    (scikit-learn's balanced accuracy)."""
    from sklearn.metrics import balanced_accuracy_score

    return float(balanced_accuracy_score(y, pred))


def choose_c(x: np.ndarray, y: np.ndarray, speakers: np.ndarray) -> float:
    """The ``C_GRID`` value with the best leave-one-speaker-out UAR on ``x``
    (ties: the stronger regularisation)."""
    scores = []
    for c in C_GRID:
        pred = np.empty_like(y)
        for held in np.unique(speakers):
            test = speakers == held
            pred[test] = fit_predict(x[~test], y[~test], x[test], c=c)
        scores.append(uar(y, pred))
    best = max(scores)
    return min(c for c, s in zip(C_GRID, scores, strict=True) if s == best)


def loso(x: np.ndarray, y: np.ndarray, speakers: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Leave-one-speaker-out predictions ``[clips]``, C chosen inside each fold;
    also the C of each fold (speakers in sorted order)."""
    pred, chosen = np.empty_like(y), []
    for held in np.unique(speakers):
        test = speakers == held
        c = choose_c(x[~test], y[~test], speakers[~test])
        chosen.append(c)
        pred[test] = fit_predict(x[~test], y[~test], x[test], c=c)
    return pred, chosen


def opensmile_inputs(signals: list[tuple[np.ndarray, int]]) -> dict[str, np.ndarray]:
    """openSMILE's eGeMAPSv02 and ComParE_2016 functionals, and ComParE's
    spectral-shape columns alone. Needs the ``opensmile`` package."""
    import opensmile

    out = {}
    for name in ("eGeMAPSv02", "ComParE_2016"):
        smile = opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, name),
                                feature_level=opensmile.FeatureLevel.Functionals)
        out[f"opensmile_{name}"] = np.nan_to_num(np.stack(
            [smile.process_signal(y, rate).to_numpy()[0] for y, rate in signals]))
        if name == "ComParE_2016":
            shape = np.array([n.startswith("pcm_fftMag_") for n in smile.feature_names])
            out["opensmile_ComParE_spectral"] = out[f"opensmile_{name}"][:, shape]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=DATA_DIR)
    parser.add_argument("--opensmile", action="store_true",
                        help="also openSMILE's functional sets (pip install opensmile; "
                             "research licence)")
    args = parser.parse_args()

    from sentiment_model import evaluation

    rows = load_rows(args.data)
    signals = [read_mono(r["abs"]) for r in rows]
    y = np.array([SENTIMENTS.index(r["label"]) for r in rows])
    speakers = np.array([r["speaker"] for r in rows])
    print("features ...", file=sys.stderr)
    per_clip = [frame_functionals(*s) for s in signals]
    inputs = {
        "classical": np.stack([classical_features(*s) for s in signals]),
        "mfcc40": np.stack([f["mfcc40"] for f in per_clip]),
        "spectral": np.stack([f["spectral"] for f in per_clip]),
    }
    inputs["mfcc40+spectral"] = np.hstack([inputs["mfcc40"], inputs["spectral"]])
    if args.opensmile:
        inputs.update(opensmile_inputs(signals))

    results = {}
    for name, x in inputs.items():
        print(f"{name} ...", file=sys.stderr)
        pred, chosen = loso(x, y, speakers)
        m = evaluation.classification_metrics(y, pred, SENTIMENTS)
        results[name] = {"dims": int(x.shape[1]), "accuracy": round(m["accuracy"], 3),
                         "uar": round(m["uar"], 3), "macro_f1": round(m["macro_f1"], 3),
                         "recall": [round(r, 2) for r in
                                    (m["per_class"][s]["recall"] for s in SENTIMENTS)],
                         "c_per_fold": chosen}
    print(json.dumps(results, indent=1))
    print("\n| input | dims | accuracy | UAR | macro-F1 | recall neg / neu / pos | C per fold |\n"
          "|---|---:|---:|---:|---:|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['dims']} | {r['accuracy']:.3f} | {r['uar']:.3f} | "
              f"{r['macro_f1']:.3f} | {' / '.join(f'{v:.2f}' for v in r['recall'])} | "
              f"{', '.join(f'{c:g}' for c in r['c_per_fold'])} |")


if __name__ == "__main__":
    main()
