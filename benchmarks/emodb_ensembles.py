"""Ensembles of the fold models that ``emodb_accuracy`` trained, on EMO-DB.

    python -m benchmarks.emodb_ensembles [--recipes default_noise_speed,emotions_noise_speed]
        [--seeds 0,1,2] [--members] [--data ../shared/data/emodb-dev]

Reads, for every leave-one-speaker-out fold, the exported models
``fold-SPK/model-RECIPE[-seedN]`` written by ``emodb_accuracy`` runs with
``--recipes RECIPE --train-seed N`` (it trains nothing itself), scores each
fold's clean test clips with every model through the serving path
(``sentiment_model.inference``) and reports the 3-class accuracy, UAR and
macro-F1 of:

* each model alone (equal to ``emodb_accuracy``'s figures for it);
* each recipe's seeds averaged (an ensemble over training seeds);
* each seed's recipes averaged (an ensemble over recipes, e.g. one model
  trained on the 3 classes and one on the 7 emotions reporting sentiment);
* all the models averaged;
* with ``--members``, each member of a model that ``train`` exported as an
  average (``--ensemble K``, ``--architecture bilstm_stats``) alone, and
  each member averaged over the seeds.

Averaging is of the class probabilities, which every model reports over the
same three sentiments. It answers what an ensemble would give before one is
built into ``train``; every combination is printed, none is picked.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

import numpy as np

from benchmarks.emodb_accuracy import (
    DATA_DIR,
    SENTIMENTS,
    WORK_DIR,
    load_rows,
    model_dir_name,
    read_mono,
)
from sentiment_model import evaluation, inference


def member_models(loaded: inference.LoadedModel) -> list[tuple[str, inference.LoadedModel]]:
    """(architecture, model) of each member of an exported average
    (``models.average_ensemble``: layers ``member_0`` ...), in training order;
    empty for a single model, and for a model that reports label groups (its
    members sit one level deeper; said on stderr)."""
    runs = loaded.card.get("ensemble") or []
    if len(runs) < 2:
        return []
    if "member_0" not in {layer.name for layer in loaded.model.layers}:
        print(f"{loaded.card['architecture']} model {loaded.card['model_version'][:12]}: "
              "members not split (it reports label groups)", file=sys.stderr)
        return []
    return [(run.get("architecture", loaded.card["architecture"]),
             dataclasses.replace(loaded, model=loaded.model.get_layer(f"member_{i}")))
            for i, run in enumerate(runs)]


def fold_probabilities(rows: list[dict], workdir: str, members: list[tuple[str, int]], *,
                       split_members: bool = False):
    """Returns (truth [n_clips], {model: probabilities [n_clips, 3]}) over all
    folds; the models are ``members`` (recipe, seed), and with
    ``split_members`` also (recipe, seed, "member I (ARCH)") for each member
    of an exported average."""
    truth: list[int] = []
    probs: dict[tuple, list[np.ndarray]] = {m: [] for m in members}
    folds = sorted(d[len("fold-"):] for d in os.listdir(workdir) if d.startswith("fold-"))
    if not folds:
        sys.exit(f"no fold-* directories in {workdir}: run benchmarks.emodb_accuracy first")
    for spk in folds:
        test_rows = [r for r in rows if r["speaker"] == spk]
        truth += [SENTIMENTS.index(r["label"]) for r in test_rows]
        signals = [read_mono(r["abs"]) for r in test_rows]
        for recipe, seed in members:
            model_dir = os.path.join(workdir, f"fold-{spk}", model_dir_name(recipe, seed))
            if not os.path.isdir(model_dir):
                sys.exit(f"{model_dir} is missing: run benchmarks.emodb_accuracy "
                         f"--recipes {recipe} --train-seed {seed}")
            loaded = inference.load_model_dir(model_dir)
            if list(loaded.labels) != SENTIMENTS:
                sys.exit(f"{model_dir} reports {list(loaded.labels)}, not {SENTIMENTS}")
            probs[(recipe, seed)] += [inference.predict_proba(loaded, y, sr)
                                      for y, sr in signals]
            for i, (arch, member) in enumerate(member_models(loaded) if split_members else []):
                probs.setdefault((recipe, seed, f"member {i} ({arch})"), []).extend(
                    inference.predict_proba(member, y, sr) for y, sr in signals)
        print(f"fold {spk}: {len(test_rows)} clips scored by {len(members)} models",
              file=sys.stderr, flush=True)
    return np.array(truth), {m: np.stack(p) for m, p in probs.items()}


def metrics(truth: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    got = evaluation.classification_metrics(truth, probabilities.argmax(axis=1), SENTIMENTS)
    return {k: round(got[k], 3) for k in ("accuracy", "uar", "macro_f1")}


def combinations(recipes: list[str], seeds: list[int]) -> dict[str, list[tuple[str, int]]]:
    """name -> the members averaged: singles, per recipe, per seed, all."""
    combos = {f"{r}, seed {s}": [(r, s)] for r in recipes for s in seeds}
    if len(seeds) > 1:
        combos.update({f"{r}, seeds {'+'.join(map(str, seeds))}": [(r, s) for s in seeds]
                       for r in recipes})
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
    parser.add_argument("--members", action="store_true",
                        help="also each member of a model exported as an average, alone")
    parser.add_argument("--results", default="results-ensembles.json",
                        help="JSON file name, under --workdir")
    args = parser.parse_args()
    recipes = [r.strip() for r in args.recipes.split(",") if r.strip()]
    seeds = [int(s) for s in args.seeds.split(",")]
    members = [(r, s) for r in recipes for s in seeds]

    truth, probs = fold_probabilities(load_rows(args.data), args.workdir, members,
                                      split_members=args.members)
    results = {name: metrics(truth, sum(probs[m] for m in group))
               for name, group in combinations(recipes, seeds).items()}
    parts = sorted({(m[0], m[2]) for m in probs if len(m) == 3})
    for recipe, part in parts:
        for s in seeds:
            results[f"{recipe}, seed {s}, {part}"] = metrics(truth, probs[(recipe, s, part)])
        if len(seeds) > 1:
            results[f"{recipe}, seeds {'+'.join(map(str, seeds))}, {part}"] = metrics(
                truth, sum(probs[(recipe, s, part)] for s in seeds))
    with open(os.path.join(args.workdir, args.results), "w") as f:
        json.dump({"recipes": recipes, "seeds": seeds, "n": len(truth),
                   "results": results}, f, indent=1)
    print("| models averaged | accuracy | UAR | macro-F1 |\n|---|---:|---:|---:|")
    for name, m in results.items():
        print(f"| {name} | {m['accuracy']:.3f} | {m['uar']:.3f} | {m['macro_f1']:.3f} |")


if __name__ == "__main__":
    main()
