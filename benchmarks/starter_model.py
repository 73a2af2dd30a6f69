"""Builds the packaged starter model and measures the figures on its card.

    python -m benchmarks.starter_model [--seed 0] [--recipe stats_tel]

(``make starter-model``.) Trains the recipe of ``benchmarks.corpus_accuracy``
(featurize + train, the product's own commands) on every speaker of
``emodb-dev`` and ``ased`` in ``../shared/data`` (about 15 % of the speakers
are the eval split, for early stopping and the temperature), and measures,
through score's path (:func:`sentiment_model.scoring.score_recording`, the
``files/`` label and probabilities), wideband and as a phone line records it:

* ``zero_shot``: every clip of ``turev`` (a language, speakers and recording
  set-up it never heard; its licence forbids derivatives, so it is never
  trained on);
* ``held_out``: a second model, trained the same way without a fifth of
  each corpus's speakers, on those speakers' clips.

The model and its card (with intended use, limitations, training corpora and
these figures) are written to ``sentiment_model/starter_model/``; the run's work
stays in ``build/bench/starter/``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

import numpy as np

from benchmarks import corpora
from benchmarks.corpus_accuracy import (
    RECIPES,
    Fold,
    _eval_share,
    score_rows,
    test_audio,
    train_recipe,
)

WORK_DIR = os.path.join(corpora.ROOT, "build", "bench", "starter")
TRAIN_CORPORA = ("emodb-dev", "ased")
ZERO_SHOT = "turev"
CORPUS_NOTES = {
    "emodb-dev": {
        "name": "Berlin Database of Emotional Speech (EMO-DB), development copy",
        "language": "German", "speech": "acted, 10 sentences, studio",
        "citation": "F. Burkhardt, A. Paeschke, M. Rolfes, W. Sendlmeier, B. Weiss: A "
                    "database of German emotional speech. Interspeech 2005.",
        "licence": "not stated in ../shared/data; check the corpus's terms before "
                   "redistributing this model",
    },
    "ased": {
        "name": "Amharic Speech Emotion Dataset (ASED)",
        "language": "Amharic (four dialects)", "speech": "acted, 2-4 s clips",
        "citation": "E. A. Retta, E. Almekhlafi, R. Sutcliffe, M. Mhamed, H. Ali, J. Feng: A "
                    "New Amharic Speech Emotion Dataset and Classification Benchmark. ACM "
                    "TALLIP 22(1), 2023. doi:10.1145/3529759",
        "licence": "published as freely available for download; no licence file in "
                   "../shared/data; check the corpus's terms before redistributing "
                   "this model",
    },
}
INTENDED_USE = (
    "A first look at what audio-sentiment writes on your own recordings, before you have "
    "labelled any: the tone (negative / neutral / positive) of each recording channel and "
    "window.")
LIMITATIONS = (
    "Trained on acted emotional speech in German and Amharic only (two corpora, 72 "
    "speakers); never validated on real contact-centre calls, on spontaneous speech or on "
    "other languages; on an unseen language (Turkish) it is little better than chance (see "
    "evaluation). Do not base decisions about people on it. For production, label a few "
    "hundred of your own calls and train on them: audio-sentiment featurize --input CALLS "
    "--labels labels.csv --output features --augment noise=1,speed=0.9/1.1,snr=5/20,"
    "telephone=1; audio-sentiment train --features features --model-dir model; "
    "audio-sentiment score --input CALLS --model-dir model --output scores.")


def _rows(names) -> list[dict]:
    return [r for name in names for r in corpora.load_rows(name)]


def _figures(result: dict) -> dict:
    keep = ("uar", "macro_f1", "ece", "accuracy", "rejected", "n")
    return {channel: {k: result[channel]["score"][k] for k in keep}
            for channel in corpora.CHANNELS}


def held_out_fold(rows: list[dict], *, seed: int) -> Fold:
    """A fifth of each training corpus's speakers as the test speakers."""
    test = []
    for corpus in TRAIN_CORPORA:
        speakers = sorted({r["speaker"] for r in rows if r["corpus"] == corpus})
        rng = np.random.default_rng(seed + len(speakers))
        rng.shuffle(speakers)
        test += speakers[:max(1, round(0.2 * len(speakers)))]
    rest = sorted({r["speaker"] for r in rows} - set(test))
    train, held = _eval_share(rest, seed=seed)
    return Fold("held-out", tuple(train), tuple(held), tuple(sorted(test)))


def build(*, recipe: str, seed: int, work: str, target: str) -> dict:
    """Trains and measures; writes the starter model to ``target``. Returns its card."""
    rows = _rows(TRAIN_CORPORA)
    started = time.process_time()
    zero_rows = corpora.load_rows(ZERO_SHOT)
    print(f"starter: {len(rows)} training clips; zero-shot on {len(zero_rows)} {ZERO_SHOT} "
          "clips", file=sys.stderr)
    train, held = _eval_share(sorted({r["speaker"] for r in rows}), seed=seed)
    source, _ = train_recipe(recipe, Fold("all", tuple(train), tuple(held), ()), rows,
                             os.path.join(work, "all"), seed=seed)
    zero = _figures(score_rows(source, zero_rows, test_audio(zero_rows)))
    print(f"starter: zero-shot {json.dumps(zero)}", file=sys.stderr)
    fold = held_out_fold(rows, seed=seed)
    model_dir, _ = train_recipe(recipe, fold, rows, os.path.join(work, "held-out"), seed=seed)
    held_out = {}
    for corpus in TRAIN_CORPORA:
        test_rows = [r for r in rows if r["corpus"] == corpus and r["speaker"] in fold.test]
        held_out[corpus] = {"speakers": sorted({r["speaker"] for r in test_rows}),
                            **_figures(score_rows(model_dir, test_rows, test_audio(test_rows)))}
        print(f"starter: held-out {corpus} {json.dumps(held_out[corpus])}", file=sys.stderr)
    return write_starter(source, target, recipe=recipe, seed=seed, zero=zero,
                         held_out=held_out, cpu_s=time.process_time() - started,
                         n_clips=len(rows))


def write_starter(source: str, target: str, *, recipe: str, seed: int, zero: dict,
                  held_out: dict, cpu_s: float, n_clips: int) -> dict:
    """Copies the model and writes its card, with the notes and figures added
    (unsigned card fields: the model's digest is unchanged)."""
    from sentiment_model.model_card import CARD_FILE, MODEL_FILE, ModelCard

    os.makedirs(target, exist_ok=True)
    shutil.copyfile(os.path.join(source, MODEL_FILE), os.path.join(target, MODEL_FILE))
    with open(os.path.join(source, CARD_FILE)) as f:
        card = json.load(f)
    preset, arch, augment, _ = RECIPES[recipe]
    for key in ("data", "hyperparameters"):  # where this machine kept them: not shipped
        if isinstance(card.get(key), dict):
            card[key] = {k: _relative(v) for k, v in card[key].items()}
    card.update({
        "name": "audio-sentiment starter",
        "trained_on": "EMO-DB (German) + ASED (Amharic), acted speech, all speakers",
        "intended_use": INTENDED_USE,
        "limitations": LIMITATIONS,
        "training_corpora": [{"id": c, **CORPUS_NOTES[c]} for c in TRAIN_CORPORA],
        "recipe": {"name": recipe, "preset": preset, "architecture": arch,
                   "augment": augment, "seed": seed, "clips": n_clips,
                   "command": f"python -m benchmarks.starter_model --recipe {recipe} "
                              f"--seed {seed}"},
        "evaluation": {
            "path": "score (sentiment_model.scoring.score_recording: files/ label and "
                    "probabilities); telephone = 300-3400 Hz, 8 kHz, mu-law",
            "zero_shot": {"corpus": ZERO_SHOT, "language": "Turkish", **zero},
            "held_out_speakers": held_out,
            "cpu_s": round(cpu_s),
        },
    })
    with open(os.path.join(target, CARD_FILE), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    return ModelCard.read(target).to_dict()  # signed and loadable, or this raises


def _relative(value):
    """A path under the repository, relative to it; anything else as it is."""
    if isinstance(value, str) and value.startswith(corpora.ROOT + os.sep):
        return os.path.relpath(value, corpora.ROOT)
    return value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", default="stats_tel", choices=sorted(RECIPES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default=WORK_DIR)
    parser.add_argument("--target", default=os.path.join(corpora.ROOT, "sentiment_model",
                                                         "starter_model"))
    args = parser.parse_args(argv)
    started = time.time()
    card = build(recipe=args.recipe, seed=args.seed, work=args.work, target=args.target)
    print(json.dumps(card["evaluation"], indent=2))
    print(f"starter: written to {args.target} in {time.time() - started:.0f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
