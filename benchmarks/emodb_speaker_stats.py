"""Per-speaker statistics on call channels that keep one tone: what survives?

    python -m benchmarks.emodb_speaker_stats [--data ../shared/data/emodb-dev] [--seeds 0,1,2]

Standardising features with each speaker's own statistics is the step that
lifts EMO-DB's speaker-independent UAR most (classical reference 0.621 ->
0.688, ``emodb_accuracy``). It assumes a speaker's statistics span their
usual range of tone, which holds on EMO-DB (every speaker acts every
emotion) and fails on a call channel that keeps one tone: a neutral agent,
a caller angry from start to end. This benchmark measures that on the
``classical`` reference of ``emodb_accuracy`` (pooled MFCC/delta, pitch and
energy statistics, class-balanced logistic regression), cheap enough to
refit for every variant, leave-one-speaker-out as there.

Test conditions: the test speaker's statistics come from

* ``all``: all of their clips (EMO-DB's assumption, as ``emodb_accuracy``);
* ``mixed``: the clips of the clip's own emotion and one or two other
  emotions of theirs, drawn at random (a call whose tone moves);
* ``one_tone``: only the clips of the clip's own emotion (a channel that
  keeps one tone).

Model inputs:

* ``absolute``: the features standardised with the training statistics
  only (call-safe; the product's default normalisation);
* ``per_speaker``: standardised with the speaker's statistics
  (``speaker_norm``'s assumption);
* ``both``: the two side by side;
* ``both_subsets``: ``both``, trained with the statistics of 20 random
  subsets of each training speaker's clips (all clips, one emotion, or two
  to three emotions, 30 / 30 / 40 %; weighted so that each speaker counts
  as many clips as without subsets),
  so the model sees relative features measured against baselines of every
  kind; ``per_speaker_subsets`` the same without the absolute features.

It reports 3-class UAR per condition, and how often neutral clips stay
neutral and anger clips stay negative. Trains no network: ~1 minute on
2 cores.
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
    classical_fold,
    load_rows,
    read_mono,
    standardise,
)

CONDITIONS = ("all", "mixed", "one_tone")
INPUTS = ("absolute", "per_speaker", "both", "per_speaker_subsets", "both_subsets")
SUBSETS_PER_SPEAKER = 20
P_ALL, P_ONE = 0.3, 0.3  # the rest: two or three emotions


def random_subsets(emotions: np.ndarray, *, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``n`` random subsets (index arrays) of one speaker's clips, whose
    emotions are ``emotions`` ``[clips]``: all clips, the clips of one
    emotion, or of two to three emotions."""
    kinds = np.unique(emotions)
    out = []
    for _ in range(n):
        draw = rng.random()
        if draw < P_ALL:
            chosen = kinds
        elif draw < P_ALL + P_ONE:
            chosen = rng.choice(kinds, size=1)
        else:
            chosen = rng.choice(kinds, size=min(int(rng.integers(2, 4)), len(kinds)),
                                replace=False)
        out.append(np.flatnonzero(np.isin(emotions, chosen)))
    return out


def test_relative(x: np.ndarray, emotions: np.ndarray, *,
                  rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One test speaker's clips ``x`` ``[clips, dims]`` standardised with the
    statistics each condition allows."""
    out = {"all": standardise(x, x), "mixed": np.empty_like(x), "one_tone": np.empty_like(x)}
    kinds = np.unique(emotions)
    for emotion in kinds:
        rows = emotions == emotion
        out["one_tone"][rows] = standardise(x[rows], x[rows])
        others = rng.choice(kinds[kinds != emotion], size=int(rng.integers(1, 3)), replace=False)
        ref = np.isin(emotions, [emotion, *others])
        out["mixed"][rows] = standardise(x[rows], x[ref])
    return out


def model_input(name: str, absolute: np.ndarray, relative: np.ndarray) -> np.ndarray:
    if name == "absolute":
        return absolute
    if name.startswith("per_speaker"):
        return relative
    return np.hstack([absolute, relative])


def training_set(name: str, x: np.ndarray, y: np.ndarray, emotions: np.ndarray,
                 speakers: np.ndarray, *, rng: np.random.Generator):
    """(inputs, labels, weights) of the training speakers' clips for input ``name``."""
    xs, ys, ws = [], [], []
    for speaker in np.unique(speakers):
        rows = np.flatnonzero(speakers == speaker)
        if name.endswith("_subsets"):
            subsets = random_subsets(emotions[rows], n=SUBSETS_PER_SPEAKER, rng=rng)
        else:
            subsets = [np.arange(len(rows))]
        for subset in subsets:
            clips = x[rows[subset]]
            xs.append(model_input(name, clips, standardise(clips, clips)))
            ys.append(y[rows[subset]])
            # every speaker weighs its clip count in all, as without subsets
            ws.append(np.full(len(subset), len(rows) / (len(subset) * len(subsets))))
    return np.vstack(xs), np.concatenate(ys), np.concatenate(ws)


def run(x: np.ndarray, y: np.ndarray, emotions: np.ndarray, speakers: np.ndarray, *,
        seed: int) -> dict[str, dict[str, dict[str, float]]]:
    """Leave-one-speaker-out predictions of every input and condition, scored."""
    from sentiment_model import evaluation

    rng = np.random.default_rng(seed)
    names = sorted(set(speakers.tolist()))
    preds = {name: {c: np.empty_like(y) for c in CONDITIONS} for name in INPUTS}
    for test in names:
        test_rows = speakers == test
        relative = test_relative(x[test_rows], emotions[test_rows], rng=rng)
        train = ~test_rows
        for name in INPUTS:
            tx, ty, tw = training_set(name, x[train], y[train], emotions[train],
                                      speakers[train], rng=rng)
            got = classical_fold(tx, ty, {c: model_input(name, x[test_rows], relative[c])
                                          for c in CONDITIONS}, sample_weight=tw)
            for c in CONDITIONS:
                preds[name][c][test_rows] = got[c]
    neutral, anger = emotions == "neutral", emotions == "anger"
    out = {}
    for name in INPUTS:
        for c in CONDITIONS:
            p = preds[name][c]
            out.setdefault(name, {})[c] = {
                "uar": round(evaluation.classification_metrics(y, p, SENTIMENTS)["uar"], 3),
                "neutral_stays_neutral": round(float(np.mean(p[neutral] == 1)), 3),
                "anger_stays_negative": round(float(np.mean(p[anger] == 0)), 3),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=DATA_DIR)
    parser.add_argument("--seeds", default="0,1,2",
                        help="seeds of the random subsets and conditions (default: %(default)s)")
    args = parser.parse_args()

    rows = load_rows(args.data)
    print("classical features ...", file=sys.stderr)
    x = np.stack([classical_features(*read_mono(r["abs"])) for r in rows])
    y = np.array([SENTIMENTS.index(r["label"]) for r in rows])
    emotions = np.array([r["emotion"] for r in rows])
    speakers = np.array([r["speaker"] for r in rows])
    seeds = [int(s) for s in args.seeds.split(",")]
    by_seed = {seed: run(x, y, emotions, speakers, seed=seed) for seed in seeds}
    print(json.dumps(by_seed, indent=1))

    print("\n3-class UAR (neutral stays neutral / anger stays negative), seeds "
          + ", ".join(map(str, seeds)) + "\n")
    print("| input | " + " | ".join(CONDITIONS) + " |\n|---|" + "---|" * len(CONDITIONS))
    for name in INPUTS:
        cells = []
        for c in CONDITIONS:
            got = [by_seed[s][name][c] for s in seeds]
            cells.append(" / ".join(f"{g['uar']:.3f}" for g in got) + " ("
                         + " / ".join(f"{g['neutral_stays_neutral']:.2f}" for g in got) + "; "
                         + " / ".join(f"{g['anger_stays_negative']:.2f}" for g in got) + ")")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
