"""Scripted support calls from real speech (Berlin EMO-DB), scored end to end.

    python -m benchmarks.emodb_calls [--data ../shared/data/emodb-dev] [--folds 7]
        [--recipe default|default_noise_speed|spectral_noise_speed|
                  spectral_noise_speed_stats|emotions|
                  emotions_noise_speed|speaker_norm|speaker_partial|
                  speaker_norm_emotions|speaker_partial_emotions]

For each leave-one-speaker-out fold of ``benchmarks.emodb_accuracy`` (its
``model-RECIPE`` model is reused when present and made with the recipe's
current preset, and trained otherwise) it assembles 4 stereo calls with
``sentiment_model.calls``: the customer (channel 1) is the fold's test
speaker, following the scripted sentiment arcs, the agent (channel 0) is the
fold's eval speaker speaking neutral utterances — neither voice was trained
on. Utterances are cut to the scripted turn length. The calls go through
``audio-sentiment score`` (default settings) and are compared with the
script:

* the customer's first- and last-quarter labels;
* every customer speech window against the sentiment scripted for the
  section its centre falls in (accuracy, UAR);
* the share of agent windows labelled neutral.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys

import numpy as np

from benchmarks.emodb_accuracy import (
    DATA_DIR,
    WORK_DIR,
    eval_speaker,
    load_rows,
    read_mono,
    stable_seed,
)

SENTIMENTS = ["negative", "neutral", "positive"]
RATE = 16000


def utterance_source(rows, audio, *, customer: str, agent: str):
    """``calls.UtteranceFn`` drawing EMO-DB clips of the two speakers."""
    from sentiment_model import audio as audio_lib
    from sentiment_model import calls

    pools: dict[tuple[int, str], list[np.ndarray]] = {}
    for r in rows:
        for role, speaker in ((calls.CUSTOMER, customer), (calls.AGENT, agent)):
            if r["speaker"] == speaker:
                y, sr = audio[r["abs"]]
                pools.setdefault((role, r["label"]), []).append(
                    audio_lib.resample(y, sr, RATE))

    def speak(role: int, sentiment: str, duration_s: float, seed: int) -> np.ndarray:
        pool = pools[(role, sentiment)]
        clip = pool[np.random.default_rng(seed).integers(len(pool))]
        return clip[: round(duration_s * RATE)]

    return speak


def model_for_fold(rows, fold_dir: str, *, data: str, test_spk: str, eval_spk: str,
                   epochs: int | None, patience: int | None, recipe: str) -> str:
    from benchmarks.emodb_accuracy import RECIPES, train_recipe
    from sentiment_model.config import preset
    from sentiment_model.model_card import CARD_FILE, ModelCard

    name, presets, *_ = RECIPES[recipe]
    model_dir = os.path.join(fold_dir, f"model-{name}")
    card_path = os.path.join(model_dir, CARD_FILE)
    if os.path.exists(card_path):
        with open(card_path) as f:
            made = ModelCard.from_dict(json.load(f)).feature
            if made.same_values(preset(presets[0]).with_overrides(
                    dict(item.split("=", 1) for item in presets[1:]))):
                return model_dir
    return train_recipe(rows, fold_dir, RECIPES[recipe], data=data, test_spk=test_spk,
                        eval_spk=eval_spk, epochs=epochs, patience=patience)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=DATA_DIR)
    parser.add_argument("--workdir", default=WORK_DIR)
    parser.add_argument("--folds", type=int, default=0, help="only the first N folds")
    parser.add_argument("--epochs", type=int, help="default: train's for the recipe's model")
    parser.add_argument("--patience", type=int, help="default: train's for the recipe's model")
    parser.add_argument("--recipe", default="default",
                        choices=("default", "default_noise_speed", "spectral_noise_speed",
                                 "spectral_noise_speed_stats", "emotions",
                                 "emotions_noise_speed", "speaker_norm", "speaker_partial",
                                 "speaker_norm_emotions", "speaker_partial_emotions"),
                        help="which emodb_accuracy recipe's fold models score the calls")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    import pandas as pd

    from pipelines import score
    from sentiment_model import calls, evaluation

    rows = load_rows(args.data)
    speakers = sorted({r["speaker"] for r in rows})
    folds = speakers[: args.folds] if args.folds else speakers
    audio = {r["abs"]: read_mono(r["abs"]) for r in rows}
    quarter_hits, window_true, window_pred, agent_neutral = [], [], [], []
    for test_spk in folds:
        eval_spk = eval_speaker(test_spk, speakers)
        fold_dir = os.path.join(args.workdir, f"fold-{test_spk}")
        model_dir = model_for_fold(rows, fold_dir, data=args.data, test_spk=test_spk,
                                   eval_spk=eval_spk, epochs=args.epochs,
                                   patience=args.patience, recipe=args.recipe)
        calls_dir = os.path.join(fold_dir, "calls")
        speak = utterance_source(rows, audio, customer=test_spk, agent=eval_spk)
        expected = calls.write_calls(calls_dir, n_calls=len(calls.ARCS),
                                     speak_factory=lambda i, s=speak: s,
                                     seed=stable_seed(test_spk) % 1000)
        out = os.path.join(fold_dir, f"scores-{args.recipe}")
        score.run(["--input", os.path.join(calls_dir, "calls"), "--model-dir", model_dir,
                   "--output", out, "--overwrite", "--progress-interval", "3600"])
        files = pd.read_parquet(os.path.join(out, "files"))
        segs = pd.read_parquet(os.path.join(out, "segments"))
        with open(expected, newline="") as f:
            script = {(os.path.basename(r["path"]), int(r["channel"])): r
                      for r in csv.DictReader(f)}
        for _, row in files.iterrows():
            key = (os.path.basename(row.uri), int(row.channel))
            want = script[key]
            if key[1] == calls.CUSTOMER:
                quarter_hits += [row.first_quarter_label == want["first_quarter"],
                                 row.last_quarter_label == want["last_quarter"]]
        for _, s in segs[segs.is_speech & segs.label.notna()].iterrows():
            arc = script[(os.path.basename(s.uri), int(s.channel))]["arc"].split("/")
            duration = files[(files.uri == s.uri) & (files.channel == s.channel)].duration_s
            section = min(int((s.start_s + s.end_s) / 2 / (duration.iloc[0] / len(arc))),
                          len(arc) - 1)
            if int(s.channel) == calls.CUSTOMER:
                window_true.append(SENTIMENTS.index(arc[section]))
                window_pred.append(SENTIMENTS.index(s.label))
            else:
                agent_neutral.append(s.label == "neutral")
        print(f"fold {test_spk} done", file=sys.stderr)

    windows = evaluation.classification_metrics(np.array(window_true), np.array(window_pred),
                                                SENTIMENTS)
    result = {
        "recipe": args.recipe, "folds": folds, "calls": len(folds) * len(calls.ARCS),
        "customer_quarter_accuracy": round(float(np.mean(quarter_hits)), 3),
        "customer_quarters": len(quarter_hits),
        "customer_window_accuracy": round(windows["accuracy"], 3),
        "customer_window_uar": round(windows["uar"], 3),
        "customer_windows": windows["n"],
        "customer_window_confusion": windows["confusion_matrix"],
        "agent_windows_neutral": round(float(np.mean(agent_neutral)), 3),
        "agent_windows": len(agent_neutral),
    }
    with open(os.path.join(args.workdir, f"calls-results-{args.recipe}.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
