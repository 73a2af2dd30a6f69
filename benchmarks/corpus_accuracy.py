"""Accuracy as users get it: through score's path, on speakers, languages
and channels the model never heard.

    python -m benchmarks.corpus_accuracy [--recipes classical,stats,default]
        [--seeds 0,1,2] [--folds 3] [--corpora emodb-dev,ased,turev]

Splits (speakers are never in train and test):

* ``within``: each corpus's speakers in ``--folds`` speaker-grouped folds;
  each fold's test speakers are scored, and of the other speakers about
  15 % (at least one) are the eval split for early stopping and
  calibration;
* ``loco``: leave one corpus out: train on the others (eval speakers held
  out the same way), test on all of the one left out.

Each test clip is scored as recorded (``wideband``) and as a phone line
records it (``telephone``: 300-3400 Hz, 8 kHz, µ-law), through
:func:`sentiment_model.scoring.score_recording` (the core of the score job:
speech detection, windows, aggregation; its ``files/`` label and
probabilities) and, beside it, as one whole clip by the model
(``whole``). Reported per recipe, split, corpus and channel: UAR,
accuracy, macro-F1 and ECE (10 bins) of the scored files, and the share of
files rejected (``no_speech`` and the like; they have no label).

Recipes: ``classical`` (pooled MFCC/Δ, pitch and energy statistics,
class-balanced logistic regression; ``benchmarks.emodb_accuracy``), and
models trained by the product's featurize + train on the fold's train and
eval speakers: ``stats`` (``frame_stats``, the ``spectral`` preset, noise and
speed copies), ``stats_tel`` (the same plus one telephone copy of each
clip: the recommended copies), ``voice_tel`` (``stats_tel`` on the default
preset: the ``spectral`` columns plus the pretrained speaker encoder's),
``voice_tel_valcal`` and ``voice_tel_cal5`` (``voice_tel`` with the
temperature fitted on the eval speakers, ``train --calibration-folds 0``,
or out of fold over five groups instead of three),
``default`` (the default architecture and preset, noise
and speed copies), ``default_tel`` (the default architecture and the
recommended copies) and ``seed`` (the study's preset and BiLSTM).

Every (recipe, split, fold, seed) keeps its result in ``--work``; a second
run reuses them (resumable) and prints the tables again (``--report-only``:
of what is there, computing nothing).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
import sys
import time

import numpy as np

from benchmarks import corpora

WORK_DIR = os.path.join(corpora.ROOT, "build", "bench", "corpora")
NOISE_SPEED = "noise=1,speed=0.9/1.1,snr=5/20"  # the recommended copies before telephone=1
TELEPHONE_COPY = "telephone=1"
# name -> (featurize preset, architecture, --augment, train options)
RECIPES = {
    "stats": ("spectral", "frame_stats", NOISE_SPEED, {}),
    "stats_tel": ("spectral", "frame_stats", f"{NOISE_SPEED},{TELEPHONE_COPY}", {}),
    "voice_tel": ("default", "frame_stats", f"{NOISE_SPEED},{TELEPHONE_COPY}", {}),
    # the temperature fitted on the eval speakers (train's default before 2026-12-07) or
    # out of fold over 5 groups of the train and eval speakers (the default: 3)
    "voice_tel_valcal": ("default", "frame_stats", f"{NOISE_SPEED},{TELEPHONE_COPY}",
                         {"calibration_folds": 0}),
    "voice_tel_cal5": ("default", "frame_stats", f"{NOISE_SPEED},{TELEPHONE_COPY}",
                       {"calibration_folds": 5}),
    "default": ("default", "bilstm_stats", NOISE_SPEED, {}),
    "default_tel": ("default", "bilstm_stats", f"{NOISE_SPEED},{TELEPHONE_COPY}", {}),
    "seed": ("seed", "seed_bilstm", "", {}),
}
METRICS = ("uar", "accuracy", "macro_f1", "ece", "ece_floor", "rejected")


@dataclasses.dataclass(frozen=True)
class Fold:
    """One train/test split: ``name`` e.g. ``within-ased-1`` or ``loco-turev``."""

    name: str
    train: tuple[str, ...]  # speakers
    eval: tuple[str, ...]
    test: tuple[str, ...]


def _eval_share(speakers: list[str], *, seed: int) -> tuple[list[str], list[str]]:
    """(train, eval) speakers: about 15 % (at least one) held out for eval."""
    rng = np.random.default_rng(seed)
    order = sorted(speakers)
    rng.shuffle(order)
    n_eval = max(1, round(0.15 * len(order)))
    return sorted(order[n_eval:]), sorted(order[:n_eval])


def make_folds(rows: list[dict], *, corpora_names: list[str], n_folds: int) -> list[Fold]:
    """The within-corpus folds and the leave-one-corpus-out folds."""
    folds = []
    by_corpus = {c: sorted({r["speaker"] for r in rows if r["corpus"] == c})
                 for c in corpora_names}
    for corpus, speakers in by_corpus.items():
        rng = np.random.default_rng(len(speakers))
        order = list(speakers)
        rng.shuffle(order)
        for k in range(n_folds):
            test = sorted(order[k::n_folds])
            rest = [s for s in speakers if s not in test]
            train, held = _eval_share(rest, seed=k)
            folds.append(Fold(f"within-{corpus}-{k + 1}", tuple(train), tuple(held),
                              tuple(test)))
    if len(corpora_names) > 1:
        for corpus in corpora_names:
            rest = [s for c, spk in by_corpus.items() if c != corpus for s in spk]
            train, held = _eval_share(rest, seed=0)
            folds.append(Fold(f"loco-{corpus}", tuple(train), tuple(held),
                              tuple(by_corpus[corpus])))
    return folds


# ------------------------------------------------------------ metrics
def summarise(y_true: list[str], probs: list[np.ndarray | None], labels: tuple[str, ...]
              ) -> dict:
    """UAR, accuracy, macro-F1, ECE and its sampling floor (:func:`ece_floor`)
    over the scored files; share rejected; each file's label id (``truth``)
    and probabilities (``probs``, None when rejected), to pool folds."""
    from sentiment_model.calibration import expected_calibration_error
    from sentiment_model.evaluation import classification_metrics

    kept = [(labels.index(t), p) for t, p in zip(y_true, probs, strict=True) if p is not None]
    out = {"n": len(y_true), "rejected": 1 - len(kept) / max(len(y_true), 1),
           "truth": [labels.index(t) for t in y_true],
           "probs": [None if p is None else [float(v) for v in p] for p in probs]}
    if not kept:
        return {**out, "uar": None, "accuracy": None, "macro_f1": None, "ece": None,
                "ece_floor": None}
    y = np.array([k for k, _ in kept])
    p = np.stack([q for _, q in kept])
    m = classification_metrics(y, p.argmax(axis=1), labels)
    return {**out, "uar": m["uar"], "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
            "ece": expected_calibration_error(p, y), "ece_floor": ece_floor(p)}


def ece_floor(probs: np.ndarray, *, draws: int = 200, seed: int = 0) -> float:
    """Median ECE of a perfectly calibrated model with these probabilities
    ``[n, classes]``: each draw takes every label at random from its row, so
    the ECE left is the sampling noise of ``n`` files in ten bins. A measured
    ECE near this floor cannot show miscalibration at this ``n``."""
    from sentiment_model.calibration import expected_calibration_error

    rng = np.random.default_rng(seed)
    p = np.asarray(probs, np.float64)
    cum = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    values = []
    for _ in range(draws):
        u = rng.random((len(p), 1))
        y = np.minimum((u > cum).sum(axis=1), p.shape[1] - 1)
        values.append(expected_calibration_error(p, y))
    return float(np.median(values))


# ------------------------------------------------------------ recipes
def test_audio(rows: list[dict]) -> dict[str, dict[str, tuple[np.ndarray, int]]]:
    """{path: {channel: (samples, rate)}} of the test clips."""
    out = {}
    for r in rows:
        y, rate = corpora.read_mono(r["path"])
        out[r["path"]] = {ch: corpora.in_channel(y, rate, ch) for ch in corpora.CHANNELS}
    return out


def classical_result(train_rows, test_rows, audio, cache: dict) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from benchmarks.emodb_accuracy import classical_features

    def feats(path: str, channel: str = "wideband"):
        key = (path, channel)
        if key not in cache:
            y, rate = (corpora.read_mono(path) if channel == "wideband" and path not in audio
                       else audio[path][channel])
            cache[key] = classical_features(y, rate)
        return cache[key]

    labels = ("negative", "neutral", "positive")
    x = np.stack([feats(r["path"]) for r in train_rows])
    y = [labels.index(r["label"]) for r in train_rows]
    clf = make_pipeline(StandardScaler(),
                        LogisticRegression(class_weight="balanced", max_iter=5000, C=0.5))
    clf.fit(x, y)
    result = {}
    for channel in corpora.CHANNELS:
        xt = np.stack([feats(r["path"], channel) for r in test_rows])
        probs = list(clf.predict_proba(xt))
        result[channel] = {"score": summarise([r["label"] for r in test_rows], probs, labels)}
    return result


def train_recipe(recipe: str, fold: Fold, rows: list[dict], fold_dir: str, *,
                 seed: int) -> tuple[str, dict]:
    """featurize + train on the fold's train/eval speakers: (model dir, train facts)."""
    from pipelines import featurize
    from sentiment_model import train

    preset, arch, augment, options = RECIPES[recipe]
    os.makedirs(fold_dir, exist_ok=True)
    labels_csv = os.path.join(fold_dir, "labels.csv")
    manifest = os.path.join(fold_dir, "inputs.txt")
    used = [r for r in rows if r["speaker"] in fold.train or r["speaker"] in fold.eval]
    with open(labels_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "speaker", "split"])
        for r in used:
            w.writerow([r["path"], r["label"], r["speaker"],
                        "eval" if r["speaker"] in fold.eval else "train"])
    with open(manifest, "w") as f:
        f.write("\n".join(r["path"] for r in used) + "\n")
    from sentiment_model.config import preset as preset_config

    values = json.dumps(preset_config(preset).to_dict(), sort_keys=True)
    digest = hashlib.sha256(values.encode()).hexdigest()[:8]  # a preset's meaning can change
    feats = os.path.join(fold_dir, f"features-{preset}-{digest}-{augment or 'none'}"
                         .replace("/", "_"))
    if not os.path.exists(os.path.join(feats, "metadata.json")):
        args = ["--input", manifest, "--labels", labels_csv, "--output", feats,
                "--preset", preset, "--overwrite", "--progress-interval", "3600"]
        featurize.run([*args, "--augment", augment] if augment else args)
    model_dir = os.path.join(fold_dir, f"model-{recipe}-seed{seed}")
    started = time.process_time()
    card = train.train(train.TrainConfig(features=feats, model_dir=model_dir,
                                         architecture=arch, seed=seed, verbose=0, **options))
    return model_dir, {"train_cpu_s": time.process_time() - started,
                       "train_eval": card.metrics["eval"]["uar"],
                       "temperature": (card.calibration or {}).get("temperature")}


def score_rows(model_dir: str, test_rows: list[dict], audio) -> dict:
    """Per channel: the test clips through score's path and as whole clips."""
    from sentiment_model import inference
    from sentiment_model import segments as seg
    from sentiment_model.scoring import score_recording

    loaded = inference.load_model_dir(model_dir)
    segment = seg.SegmentConfig()
    truth = [r["label"] for r in test_rows]
    result = {}
    for channel in corpora.CHANNELS:
        scored, whole = [], []
        for r in test_rows:
            y, rate = audio[r["path"]][channel]
            (res,) = score_recording(y[:, None], rate, loaded, segment=segment)
            scored.append(None if res.summary is None else np.asarray(res.summary["probs"]))
            whole.append(np.asarray(inference.predict_proba(loaded, y, rate), np.float64))
        result[channel] = {"score": summarise(truth, scored, loaded.labels),
                           "whole": summarise(truth, whole, loaded.labels)}
    return result


def model_result(recipe: str, fold: Fold, rows: list[dict], test_rows: list[dict], audio,
                 fold_dir: str, *, seed: int) -> dict:
    """featurize + train on the fold's train/eval speakers, then score its test clips."""
    model_dir, facts = train_recipe(recipe, fold, rows, fold_dir, seed=seed)
    return {**facts, **score_rows(model_dir, test_rows, audio)}


# ------------------------------------------------------------ report
def _fmt(values: list[float | None], key: str) -> str:
    vals = [v for v in values if v is not None]
    if not vals:
        return "-"
    med = float(np.median(vals))
    text = f"{100 * med:.1f} %" if key == "rejected" else f"{med:.3f}"
    if len(vals) > 1 and key != "rejected":
        text += f" ±{(max(vals) - min(vals)) / 2:.3f}"
    return text


def report(results: dict, *, recipes: list[str], corpora_names: list[str]) -> str:
    """Markdown tables: rows recipe x path, columns split/corpus/channel.

    A cell is the median over seeds of the metric pooled... per fold then
    averaged over a corpus's folds (``within``), or the one ``loco`` fold;
    ``±`` is half the seed range."""
    lines = []
    for key in ("uar", "macro_f1", "ece", "ece_floor", "rejected"):
        cols = [(split, c, ch) for split in ("within", "loco") for c in corpora_names
                for ch in corpora.CHANNELS]
        lines.append(f"\n**{key}**\n")
        lines.append("| recipe | path | " + " | ".join(f"{s} {c} {ch}" for s, c, ch in cols)
                     + " |")
        lines.append("|---|---|" + "---:|" * len(cols))
        for recipe in recipes:
            for path in ("score", "whole"):
                cells, any_value = [], False
                for split, corpus, channel in cols:
                    per_seed = {}
                    for (rec, fold, seed), res in results.items():
                        if rec != recipe or not fold.startswith(f"{split}-{corpus}"):
                            continue
                        value = res.get(channel, {}).get(path, {}).get(key)
                        per_seed.setdefault(seed, []).append(value)
                    seeds = [float(np.mean([v for v in vs if v is not None]))
                             for vs in per_seed.values() if any(v is not None for v in vs)]
                    any_value = any_value or bool(seeds)
                    cells.append(_fmt(seeds, key))
                if any_value:
                    lines.append(f"| {recipe} | {path} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def pooled_report(results: dict, *, recipes: list[str], corpora_names: list[str]) -> str:
    """A Markdown table of each corpus's ``within`` folds pooled: every test
    file scored by the model of its fold, one UAR and one ECE over all of
    them (an EMO-DB fold alone has ~110 files, too few for a 10-bin ECE:
    ``ece_floor``). Median over seeds, ``±`` half the seed range; results
    stored before the files' probabilities were kept show ``-``."""
    cols = [(c, ch) for c in corpora_names for ch in corpora.CHANNELS]
    lines = ["\n**within, pooled over each corpus's folds: UAR / ECE (floor)**\n",
             "| recipe | path | " + " | ".join(f"{c} {ch}" for c, ch in cols) + " |",
             "|---|---|" + "---:|" * len(cols)]
    labels = ("negative", "neutral", "positive")
    for recipe in recipes:
        for path in ("score", "whole"):
            cells, any_value = [], False
            for corpus, channel in cols:
                per_seed: dict = {}
                for (rec, fold, seed), res in results.items():
                    if rec == recipe and fold.startswith(f"within-{corpus}-"):
                        per_seed.setdefault(seed, []).append(
                            res.get(channel, {}).get(path, {}))
                metrics = []
                for folds in per_seed.values():
                    if not all(f.get("probs") is not None for f in folds):
                        continue
                    truth = [labels[t] for f in folds for t in f["truth"]]
                    probs = [None if p is None else np.asarray(p) for f in folds
                             for p in f["probs"]]
                    metrics.append(summarise(truth, probs, labels))
                any_value = any_value or bool(metrics)
                cells.append(" / ".join(_fmt([m[k] for m in metrics], k)
                                        for k in ("uar", "ece"))
                             + (f" ({_fmt([m['ece_floor'] for m in metrics], 'ece_floor')})"
                                if metrics else ""))
            if any_value:
                lines.append(f"| {recipe} | {path} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = corpora.benchmark_parser(__doc__, work_dir=WORK_DIR)
    parser.add_argument("--recipes", default="classical,stats")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--splits", default="within,loco")
    parser.add_argument("--only", default="",
                        help="run only the folds whose names start with one of these "
                             "(comma-separated, e.g. within-emodb-dev,loco-turev)")
    parser.add_argument("--report-only", action="store_true",
                        help="print the tables of the results in --work; compute nothing")
    args = parser.parse_args(argv)
    names = args.corpora.split(",")
    recipes = args.recipes.split(",")
    unknown = [r for r in recipes if r != "classical" and r not in RECIPES]
    if unknown:
        parser.error(f"unknown recipe(s) {unknown}; choose from classical, {', '.join(RECIPES)}")
    rows = [r for c in names for r in corpora.load_rows(c, data_root=args.data)]
    folds = [f for f in make_folds(rows, corpora_names=names, n_folds=args.folds)
             if f.name.split("-")[0] in args.splits.split(",")
             and (not args.only or f.name.startswith(tuple(args.only.split(","))))]
    seeds = [int(s) for s in args.seeds.split(",")]
    results: dict = {}
    cache: dict = {}
    todo = [(rec, fold, seed) for fold in folds for rec in recipes
            for seed in (seeds if rec != "classical" else [0])]
    started = time.monotonic()
    for i, (recipe, fold, seed) in enumerate(todo, 1):
        fold_dir = os.path.join(args.work, fold.name)
        path = os.path.join(fold_dir, f"result-{recipe}-seed{seed}.json")
        if os.path.exists(path):
            with open(path) as f:
                results[(recipe, fold.name, seed)] = json.load(f)
            continue
        if args.report_only:
            continue
        test_rows = [r for r in rows if r["speaker"] in fold.test]
        train_rows = [r for r in rows if r["speaker"] in fold.train or r["speaker"] in fold.eval]
        audio = test_audio(test_rows)
        t0 = time.process_time()
        if recipe == "classical":
            result = classical_result(train_rows, test_rows, audio, cache)
        else:
            result = model_result(recipe, fold, rows, test_rows, audio, fold_dir, seed=seed)
        result["cpu_s"] = time.process_time() - t0
        os.makedirs(fold_dir, exist_ok=True)
        with open(path, "w") as f:
            json.dump(result, f, indent=1)
        results[(recipe, fold.name, seed)] = result
        elapsed = time.monotonic() - started
        wb = result["wideband"]["score"]["uar"]
        tel = result["telephone"]["score"]["uar"]
        print(f"corpus_accuracy [{i}/{len(todo)}, {elapsed / 60:.0f} min] {recipe} {fold.name} "
              f"seed {seed}: score UAR wideband {wb:.3f}, telephone {tel:.3f} "
              f"({result['cpu_s']:.0f} CPU s)", file=sys.stderr, flush=True)
    print(report(results, recipes=recipes, corpora_names=names))
    print(pooled_report(results, recipes=recipes, corpora_names=names))


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
