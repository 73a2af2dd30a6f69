"""Ensembles of the fold models that ``emodb_accuracy`` trained, on EMO-DB.

    python -m benchmarks.emodb_ensembles [--recipes default_noise_speed,emotions_noise_speed]
        [--seeds 0,1,2] [--ensemble K] [--noise] [--members]
        [--data ../shared/data/emodb-dev] [--workdir DIR]

Reads, for every leave-one-speaker-out fold, the exported models
``fold-SPK/model-RECIPE[-seedN]`` written by ``emodb_accuracy`` runs with
``--recipes RECIPE --train-seed N`` (it trains nothing itself), scores each
fold's clean test clips with every model through the serving path
(``sentiment_model.inference``) and reports the 3-class accuracy, UAR and
macro-F1 of:

* each model alone (equal to ``emodb_accuracy``'s figures for it);
* each recipe's seeds averaged (an ensemble over training seeds);
* with ``--ensemble K``, each run of ``K`` consecutive seeds averaged: seeds
  S..S+K-1 are the members ``train --ensemble K --seed S`` trains (each
  member is initialised and its data shuffled by its own seed, as in a
  separate run; ``tests/sentiment_model/test_train.py`` checks it), so this
  is that recipe's result for every S whose K seeds are in ``--seeds``
  (exactly, for runs trained since commit b6cd31e; older runs saw other
  shuffles of the same data);
* each seed's recipes averaged (an ensemble over recipes, e.g. one model
  trained on the 3 classes and one on the 7 emotions reporting sentiment);
* all the models averaged;
* with ``--members``, each member of a model that ``train`` exported as an
  average (``--ensemble K``, ``--architecture bilstm_stats``) alone, and
  each member averaged over the seeds (clean clips).

With ``--noise`` every average is also scored on the test clips with white
and babble-like noise at 20, 10 and 5 dB SNR, the very noisy audio
``emodb_accuracy`` scores (``emodb_accuracy.noisy_test_audio``).

Averaging is of the class probabilities, which every model reports over the
same three sentiments; every combination is printed, none is picked.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

import numpy as np

from benchmarks.emodb_accuracy import (
    CONDITIONS,
    DATA_DIR,
    SENTIMENTS,
    WORK_DIR,
    load_rows,
    model_dir_name,
    noisy_test_audio,
    read_mono,
)
from sentiment_model import evaluation, inference


def member_models(loaded: inference.LoadedModel) -> list[tuple[str, inference.LoadedModel]]:
    """(architecture, model) of each member of an exported average
    (``models.average_ensemble``: layers ``member_0`` ...), in training order;
    empty for a single model, and for a model that reports label groups (its
    members sit one level deeper; said on stderr)."""
    runs = loaded.card.details.get("ensemble") or []
    if len(runs) < 2:
        return []
    if "member_0" not in {layer.name for layer in loaded.model.layers}:
        print(f"{loaded.card.architecture} model {loaded.card.model_version[:12]}: "
              "members not split (it reports label groups)", file=sys.stderr)
        return []
    return [(run.get("architecture", loaded.card.architecture),
             dataclasses.replace(loaded, model=loaded.model.get_layer(f"member_{i}")))
            for i, run in enumerate(runs)]


def fold_probabilities(rows: list[dict], workdir: str, members: list[tuple[str, int]], *,
                       split_members: bool = False, conditions: tuple[str, ...] = ("clean",)):
    """Returns (truth [n_clips], {condition: {model: probabilities [n_clips, 3]}})
    over all folds, for each of ``conditions`` (``emodb_accuracy.CONDITIONS``
    names); the models are ``members`` (recipe, seed), and with
    ``split_members`` also, on clean clips, (recipe, seed, "member I (ARCH)")
    for each member of an exported average."""
    truth: list[int] = []
    probs: dict[str, dict[tuple, list[np.ndarray]]] = {
        cond: {m: [] for m in members} for cond in conditions}
    folds = sorted(d[len("fold-"):] for d in os.listdir(workdir) if d.startswith("fold-"))
    if not folds:
        sys.exit(f"no fold-* directories in {workdir}: run benchmarks.emodb_accuracy first")
    speakers = sorted({r["speaker"] for r in rows})
    # the babble of the noisy conditions is mixed from other speakers' clips
    audio = {r["abs"]: read_mono(r["abs"]) for r in rows
             if conditions != ("clean",) or r["speaker"] in folds}
    for spk in folds:
        test_rows = [r for r in rows if r["speaker"] == spk]
        truth += [SENTIMENTS.index(r["label"]) for r in test_rows]
        noisy = (noisy_test_audio(rows, audio, test_spk=spk, speakers=speakers)
                 if conditions != ("clean",)
                 else {r["abs"]: {"clean": audio[r["abs"]][0]} for r in test_rows})
        for recipe, seed in members:
            model_dir = os.path.join(workdir, f"fold-{spk}", model_dir_name(recipe, seed))
            if not os.path.isdir(model_dir):
                sys.exit(f"{model_dir} is missing: run benchmarks.emodb_accuracy "
                         f"--recipes {recipe} --train-seed {seed}")
            loaded = inference.load_model_dir(model_dir)
            if list(loaded.labels) != SENTIMENTS:
                sys.exit(f"{model_dir} reports {list(loaded.labels)}, not {SENTIMENTS}")
            parts = member_models(loaded) if split_members else []
            for cond in conditions:
                signals = [(noisy[r["abs"]][cond], audio[r["abs"]][1]) for r in test_rows]
                # as emodb_accuracy: a per-speaker model takes the test speaker's statistics
                group = inference.speaker_stats(loaded, signals)
                probs[cond][(recipe, seed)] += [
                    inference.predict_proba(loaded, y, sr, group=group) for y, sr in signals]
                for i, (arch, member) in enumerate(parts if cond == "clean" else []):
                    probs[cond].setdefault((recipe, seed, f"member {i} ({arch})"), []).extend(
                        inference.predict_proba(member, y, sr, group=group)
                        for y, sr in signals)
        print(f"fold {spk}: {len(test_rows)} clips scored by {len(members)} models in "
              f"{len(conditions)} condition(s)", file=sys.stderr, flush=True)
    return np.array(truth), {cond: {m: np.stack(p) for m, p in by_model.items()}
                             for cond, by_model in probs.items()}


def metrics(truth: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    got = evaluation.classification_metrics(truth, probabilities.argmax(axis=1), SENTIMENTS)
    return {k: round(got[k], 3) for k in ("accuracy", "uar", "macro_f1")}


def seed_windows(seeds: list[int], k: int) -> list[list[int]]:
    """The seed lists S..S+K-1 that ``train --ensemble K --seed S`` trains, for
    every S whose K seeds are all in ``seeds``."""
    return [list(range(s, s + k)) for s in seeds if set(range(s, s + k)) <= set(seeds)]


def combinations(recipes: list[str], seeds: list[int], *,
                 ensemble: int = 0) -> dict[str, list[tuple[str, int]]]:
    """name -> the members averaged: singles, per recipe, with ``ensemble`` K
    each ``--ensemble K`` run the seeds hold, per seed, all."""
    combos = {f"{r}, seed {s}": [(r, s)] for r in recipes for s in seeds}
    if len(seeds) > 1:
        combos.update({f"{r}, seeds {'+'.join(map(str, seeds))}": [(r, s) for s in seeds]
                       for r in recipes})
    if ensemble > 1:
        combos.update({f"{r}, --ensemble {ensemble} --seed {w[0]}": [(r, s) for s in w]
                       for r in recipes for w in seed_windows(seeds, ensemble)})
    if len(recipes) > 1:
        combos.update({f"{' + '.join(recipes)}, seed {s}": [(r, s) for r in recipes]
                       for s in seeds})
    if len(recipes) > 1 and len(seeds) > 1:
        combos["all"] = [(r, s) for r in recipes for s in seeds]
    return combos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=DATA_DIR)
    parser.add_argument("--workdir", default=WORK_DIR)
    parser.add_argument("--recipes", default="default_noise_speed,emotions_noise_speed")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--ensemble", type=int, default=0, metavar="K",
                        help="also average each K consecutive seeds (train --ensemble K)")
    parser.add_argument("--noise", action="store_true",
                        help="also score the test clips with white and babble-like noise")
    parser.add_argument("--members", action="store_true",
                        help="also each member of a model exported as an average, alone")
    parser.add_argument("--results", default="results-ensembles.json",
                        help="JSON file name, under --workdir")
    args = parser.parse_args()
    recipes = [r.strip() for r in args.recipes.split(",") if r.strip()]
    seeds = [int(s) for s in args.seeds.split(",")]
    members = [(r, s) for r in recipes for s in seeds]
    if args.ensemble > 1 and not seed_windows(seeds, args.ensemble):
        sys.exit(f"--ensemble {args.ensemble}: --seeds {args.seeds} hold no "
                 f"{args.ensemble} consecutive seeds")
    conds = CONDITIONS if args.noise else ("clean",)

    truth, probs = fold_probabilities(load_rows(args.data), args.workdir, members,
                                      split_members=args.members, conditions=conds)
    combos = combinations(recipes, seeds, ensemble=args.ensemble)
    results = {name: {cond: metrics(truth, sum(probs[cond][m] for m in group))
                      for cond in conds}
               for name, group in combos.items()}
    clean = probs["clean"]
    parts = sorted({(m[0], m[2]) for m in clean if len(m) == 3})
    for recipe, part in parts:
        for s in seeds:
            results[f"{recipe}, seed {s}, {part}"] = {
                "clean": metrics(truth, clean[(recipe, s, part)])}
        if len(seeds) > 1:
            results[f"{recipe}, seeds {'+'.join(map(str, seeds))}, {part}"] = {
                "clean": metrics(truth, sum(clean[(recipe, s, part)] for s in seeds))}
    with open(os.path.join(args.workdir, args.results), "w") as f:
        json.dump({"recipes": recipes, "seeds": seeds, "ensemble": args.ensemble,
                   "n": len(truth), "results": results}, f, indent=1)
    print("| models averaged | accuracy | UAR | macro-F1 |\n|---|---:|---:|---:|")
    for name, by_cond in results.items():
        m = by_cond["clean"]
        print(f"| {name} | {m['accuracy']:.3f} | {m['uar']:.3f} | {m['macro_f1']:.3f} |")
    if args.noise:
        print("\n| models averaged (3-class UAR) | " + " | ".join(conds) + " |")
        print("|---|" + "---:|" * len(conds))
        for name, by_cond in results.items():
            if "white_5" in by_cond:
                print(f"| {name} | " + " | ".join(f"{by_cond[c]['uar']:.3f}" for c in conds)
                      + " |")


if __name__ == "__main__":
    main()
