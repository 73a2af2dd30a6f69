"""Which frame features carry sentiment to speakers, languages and channels
a model never heard: a fast screen before a recipe goes through
``benchmarks.corpus_accuracy``.

    python -m benchmarks.feature_screen [--corpora emodb-dev,ased,turev]
        [--sets spectral,voice,classical] [--c 0.1]

Every clip of the dev corpora is featurized once per channel (as recorded
and as a phone line records it) with the product's ``compute_frames``
(40 MFCCs, their deltas, the 3 prosody, the 14 spectral and the 256 voice
columns), and pooled over time with the statistics of the ``frame_stats`` model (mean,
standard deviation, minimum, maximum, 10/50/90th percentiles, mean absolute
and RMS frame-to-frame change). A feature set is a choice of frame columns;
each is fitted as ``frame_stats`` is, a class-balanced multinomial logistic
regression on the standardised statistics (scikit-learn here, so a fold
takes seconds instead of a training run), on the train speakers' clips as
recorded plus one telephone copy of each (the recommended copies'
telephone share), and tested on the held-out speakers' clips per channel.
The splits are ``corpus_accuracy``'s: three speaker-grouped folds within
each corpus and leave one corpus out. ``classical`` is that benchmark's
reference (pooled MFCC/Δ, pitch and energy statistics), fitted the same way.

The features are kept in ``--work`` (``frames-CORPUS-CHANNEL.npz``); a
second run reuses them (delete them when the feature code changes). This
is a screen of whole clips, not the score path: the chosen set is then
measured with ``corpus_accuracy``.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from benchmarks import corpora
from benchmarks.corpus_accuracy import make_folds

WORK_DIR = os.path.join(corpora.ROOT, "build", "bench", "feature_screen")
LABELS = ("negative", "neutral", "positive")
N_MFCC = 40
PERCENTILES = (10.0, 50.0, 90.0)
STAT_NAMES = ("mean", "std", "min", "max", *(f"p{q:g}" for q in PERCENTILES),
              "dmean", "drms")


def screen_config():
    """Every column the screen can choose from: MFCCs, deltas, prosody, spectral, voice."""
    from sentiment_model.config import FeatureConfig

    return FeatureConfig(preset="screen", deltas=1, prosody=True, spectral=True,
                         voice=True).validate()


def column_groups() -> dict[str, np.ndarray]:
    """Frame column indices of :func:`screen_config` by group."""
    from sentiment_model.config import PROSODY_DIMS, SPECTRAL_DIMS, VOICE_DIMS

    start = 0
    groups = {}
    for name, width in (("mfcc", N_MFCC), ("deltas", N_MFCC), ("prosody", PROSODY_DIMS),
                        ("spectral", SPECTRAL_DIMS), ("voice", VOICE_DIMS)):
        groups[name] = np.arange(start, start + width)
        start += width
    return groups


FEATURE_SETS = {
    "spectral": ("mfcc", "spectral"),
    "prosody": ("mfcc", "prosody", "spectral"),
    "deltas": ("mfcc", "deltas", "spectral"),
    "prosody_deltas": ("mfcc", "deltas", "prosody", "spectral"),
    "mfcc_prosody": ("mfcc", "prosody"),
    "voice": ("mfcc", "spectral", "voice"),  # the default preset
    "voice_only": ("voice",),
    "voice_prosody": ("mfcc", "prosody", "spectral", "voice"),
}


def pooled_statistics(frames: np.ndarray) -> np.ndarray:
    """``frame_stats``' statistics of ``frames`` ``[t, d]``: ``[len(STAT_NAMES), d]``
    (mean, std, min, max, percentiles by nearest rank, mean absolute and RMS
    frame-to-frame change)."""
    x = np.asarray(frames, np.float64)
    ordered = np.sort(x, axis=0)
    last = x.shape[0] - 1
    out = [x.mean(0), np.sqrt(x.var(0) + 1e-6), x.min(0), x.max(0)]
    out += [ordered[int(np.round(q / 100.0 * last))] for q in PERCENTILES]
    step = np.diff(x, axis=0) if x.shape[0] > 1 else np.zeros((1, x.shape[1]))
    out += [np.abs(step).mean(0), np.sqrt((step ** 2).mean(0) + 1e-6)]
    return np.stack(out).astype(np.float32)


def clip_features(path: str, channel: str) -> tuple[np.ndarray, np.ndarray]:
    """(pooled statistics ``[n_stats, frame_dims]``, classical vector) of one clip."""
    from benchmarks.emodb_accuracy import classical_features
    from sentiment_model.audio import resample
    from sentiment_model.features import compute_frames

    config = screen_config()
    y, rate = corpora.in_channel(*corpora.read_mono(path), channel)
    y16 = resample(y, rate, config.sample_rate)
    frames = compute_frames(y16, config.sample_rate, config)
    return pooled_statistics(frames), classical_features(y, rate).astype(np.float32)


def _one(job: tuple[str, str]):
    return clip_features(*job)


def corpus_features(rows: list[dict], corpus: str, channel: str, work: str,
                    workers: int) -> dict[str, np.ndarray]:
    """{'stats': [n, n_stats, dims], 'classical': [n, k]} for ``rows``, cached."""
    path = os.path.join(work, f"frames-{corpus}-{channel}.npz")
    if os.path.exists(path):
        with np.load(path) as f:
            return {k: f[k] for k in f.files}
    started = time.monotonic()
    jobs = [(r["path"], channel) for r in rows]
    if workers > 1:
        from multiprocessing import get_context

        # small matrix products: BLAS threads in each worker only contend
        os.environ["OPENBLAS_NUM_THREADS"] = "1"

        with get_context("spawn").Pool(workers) as pool:
            out = pool.map(_one, jobs, chunksize=16)
    else:
        out = [_one(j) for j in jobs]
    feats = {"stats": np.stack([s for s, _ in out]), "classical": np.stack([c for _, c in out])}
    os.makedirs(work, exist_ok=True)
    np.savez(path, **feats)
    print(f"feature_screen: {corpus} {channel}: {len(rows)} clips in "
          f"{time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return feats


def design(feats: dict[str, np.ndarray], name: str) -> np.ndarray:
    """The rows ``[n, k]`` of feature set ``name``."""
    if name == "classical":
        return feats["classical"]
    groups = column_groups()
    cols = np.concatenate([groups[g] for g in FEATURE_SETS[name]])
    return feats["stats"][:, :, cols].reshape(len(feats["stats"]), -1)


def fit_predict(x_train, y_train, x_tests, *, c: float):
    """Class-balanced logistic regression on standardised ``x_train`` ``[n, k]``;
    probabilities ``[m, 3]`` of each of ``x_tests``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(),
                        LogisticRegression(class_weight="balanced", max_iter=3000, C=c))
    clf.fit(x_train, y_train)
    return [clf.predict_proba(x) for x in x_tests]


def uar(y_true: np.ndarray, probs: np.ndarray) -> float:
    from sentiment_model.evaluation import classification_metrics

    return classification_metrics(y_true, probs.argmax(axis=1), LABELS)["uar"]


def main(argv: list[str] | None = None) -> None:
    parser = corpora.benchmark_parser(__doc__, work_dir=WORK_DIR)
    parser.add_argument("--sets", default=",".join([*FEATURE_SETS, "classical"]))
    parser.add_argument("--c", default="0.1", help="inverse L2 strengths, comma-separated")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    names = args.corpora.split(",")
    sets = args.sets.split(",")
    rows = [r for c in names for r in corpora.load_rows(c, data_root=args.data)]
    feats = {}
    for channel in corpora.CHANNELS:
        parts = [corpus_features([r for r in rows if r["corpus"] == c], c, channel, args.work,
                                 args.workers) for c in names]
        feats[channel] = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    y = np.array([LABELS.index(r["label"]) for r in rows])
    speakers = np.array([r["speaker"] for r in rows])
    folds = make_folds(rows, corpora_names=names, n_folds=args.folds)
    results: dict = {}
    for c in [float(v) for v in args.c.split(",")]:
        for name in sets:
            x = {ch: design(feats[ch], name) for ch in corpora.CHANNELS}
            for fold in folds:
                train = np.isin(speakers, fold.train + fold.eval)
                test = np.isin(speakers, fold.test)
                x_train = np.concatenate([x["wideband"][train], x["telephone"][train]])
                y_train = np.concatenate([y[train], y[train]])
                probs = fit_predict(x_train, y_train, [x[ch][test] for ch in corpora.CHANNELS],
                                    c=c)
                split, corpus = fold.name.split("-", 1)
                corpus = corpus.rsplit("-", 1)[0] if split == "within" else corpus
                for ch, p in zip(corpora.CHANNELS, probs, strict=True):
                    results.setdefault((c, name, split, corpus, ch), []).append(uar(y[test], p))
            print(f"feature_screen: C={c:g} {name} done", file=sys.stderr, flush=True)
    cols = [(s, c, ch) for s in ("within", "loco") for c in names for ch in corpora.CHANNELS]
    print("| C | features | " + " | ".join(f"{s} {c} {ch}" for s, c, ch in cols) + " |")
    print("|---|---|" + "---:|" * len(cols))
    for c in [float(v) for v in args.c.split(",")]:
        for name in sets:
            cells = [f"{np.mean(results[(c, name, *col)]):.3f}" for col in cols]
            print(f"| {c:g} | {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
