"""How ``frame_stats`` is fitted, on the feature screen's clip statistics:
its Keras training against variants and scikit-learn, over seeds.

    python -m benchmarks.frame_stats_training [--variants batch_norm,fixed_norm]
        [--calibrations raw,eval,cv,cv5] [--seeds 0,1,2] [--set voice] [--only within]

``frame_stats`` is multinomial logistic regression on clip statistics: the
statistics are standardised with their moments over the training data into
an L2-regularised (1e-3) softmax layer, fitted with Adam at 1e-3,
class-weighted, batch 32, early stopping on the eval speakers' loss
(patience 8, at most 40 epochs): ``fixed_norm``. Until 2026-12-07 they were
batch-normalised (``BatchNormalization``, momentum 0.9, with its learnt
scale and shift), with L2 0.05 and Adam at 1e-2: ``batch_norm``, the
variant the ``bn_*`` rows change one thing at a time. Here that head is
rebuilt on the statistics ``benchmarks.feature_screen`` keeps (run it first;
its folds, its train copies: each clip as recorded and as a phone line
records it) and fitted per fold and seed. ``sklearn`` is the screen's own
fit (train and eval speakers, C=0.1, no seed). Whole clips, not the score
path. Each head's temperature is fitted as ``--calibrations`` say: none
(``raw``), on the eval speakers (``eval``), or on out-of-fold probabilities
of three or five speaker groups of the train and eval speakers (``cv``,
``cv5``: ``train --calibration-folds``). Prints one line per fold, variant,
calibration and seed, then per corpus group its test clips pooled over its
folds: UAR, ECE and ECE's sampling floor, medians over seeds (wideband /
telephone, the range of the wideband seeds).
"""

from __future__ import annotations

import argparse
import statistics
import sys

import numpy as np

from benchmarks import corpora
from benchmarks import feature_screen as fs
from benchmarks.corpus_accuracy import make_folds

# name -> fit_head's options
VARIANTS = {
    "batch_norm": {},
    "bn_fixed": {"affine": False},  # batch statistics, no learnt scale or shift
    "bn_fixed_lr": {"affine": False, "lr": 1e-3},
    "bn_fixed_l2_lr": {"affine": False, "l2": 1e-3, "lr": 1e-3},
    # the product's fit, less its variance floor (models.STATISTICS_VARIANCE_FLOOR)
    "fixed_norm": {"norm": "fixed", "l2": 1e-3, "lr": 1e-3},
    "sklearn": {},
}
# how the temperature is fitted: none, on the eval speakers, or on out-of-fold
# probabilities of three (cv) or five (cv5) speaker groups of the train and eval speakers
CALIBRATIONS = ("raw", "eval", "cv", "cv5")


def fit_head(x_train, y_train, x_eval, y_eval, x_tests, *, seed: int, l2: float = 0.05,
             lr: float = 1e-2, affine: bool = True, norm: str = "batch",
             epochs: int | None = None):
    """The ``frame_stats`` head on statistics ``[n, k]``.

    Early-stopped on ``x_eval`` (at most 40 epochs), or ``epochs`` epochs
    without stopping when given (``x_eval`` then unused).

    Returns:
        (probabilities ``[m, 3]`` of each of ``x_tests``, the epochs kept).
    """
    import keras

    from sentiment_model.train import balanced_class_weights

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((x_train.shape[1],))
    if norm == "fixed":
        layer = keras.layers.Normalization()
        layer.adapt(x_train)
        x = layer(inputs)
    else:
        x = keras.layers.BatchNormalization(momentum=0.9, center=affine, scale=affine)(inputs)
    outputs = keras.layers.Dense(3, activation="softmax",
                                 kernel_regularizer=keras.regularizers.L2(l2))(x)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(lr), "sparse_categorical_crossentropy")
    weights = balanced_class_weights(y_train, 3)
    if epochs is not None:
        model.fit(x_train, y_train, batch_size=32, epochs=epochs, class_weight=weights,
                  verbose=0)
        return [model.predict(x, verbose=0) for x in x_tests], epochs
    stopper = keras.callbacks.EarlyStopping(patience=8, restore_best_weights=True)
    model.fit(x_train, y_train, validation_data=(x_eval, y_eval), batch_size=32, epochs=40,
              class_weight=weights, verbose=0, callbacks=[stopper])
    return [model.predict(x, verbose=0) for x in x_tests], int(stopper.best_epoch) + 1


def _group(fold_name: str) -> str:
    return fold_name.rsplit("-", 1)[0] if fold_name.startswith("within") else fold_name


def cv_temperature(x_wide, x_tel, y, speakers, *, epochs: int, seed: int, options: dict,
                   groups: int = 3) -> float:
    """The temperature fitted on out-of-fold probabilities of the rows
    ``[n, k]`` (both channels) of these speakers: ``groups`` speaker groups,
    each predicted by a head fitted for ``epochs`` epochs on the others."""
    from sentiment_model.calibration import fit_temperature

    order = sorted(set(speakers))
    np.random.default_rng(seed).shuffle(order)
    probs, labels = [], []
    for g in range(min(groups, len(order))):
        held = np.isin(speakers, order[g::groups])
        x_fit = np.concatenate([x_wide[~held], x_tel[~held]])
        y_fit = np.concatenate([y[~held], y[~held]])
        (p_wide, p_tel), _ = fit_head(x_fit, y_fit, None, None, [x_wide[held], x_tel[held]],
                                      seed=seed, epochs=epochs, **options)
        probs += [p_wide, p_tel]
        labels += [y[held], y[held]]
    return fit_temperature(np.concatenate(probs), np.concatenate(labels))


def _fit_fold(x, y, speakers, fold, variant: str, seed: int, calibrations: list[str]
              ) -> dict[str, list[np.ndarray]]:
    """{calibration: the test clips' probabilities ``[m, 3]`` per channel}."""
    from sentiment_model.calibration import apply_temperature, fit_temperature

    keep = {part: np.isin(speakers, getattr(fold, part)) for part in ("train", "eval")}
    parts = {part: (np.concatenate([x["wideband"][k], x["telephone"][k]]),
                    np.concatenate([y[k], y[k]])) for part, k in keep.items()}
    test = np.isin(speakers, fold.test)
    x_tests = [x[ch][test] for ch in corpora.CHANNELS]
    if variant == "sklearn":
        probs = fs.fit_predict(np.concatenate([parts["train"][0], parts["eval"][0]]),
                               np.concatenate([parts["train"][1], parts["eval"][1]]),
                               x_tests, c=0.1)
        return {"raw": probs}
    options = VARIANTS[variant]
    (*probs, p_eval), best = fit_head(*parts["train"], *parts["eval"],
                                      [*x_tests, parts["eval"][0]], seed=seed, **options)
    out = {}
    for name in calibrations:
        if name == "raw":
            t = 1.0
        elif name == "eval":
            t = fit_temperature(p_eval, parts["eval"][1])
        else:
            known = keep["train"] | keep["eval"]
            t = cv_temperature(x["wideband"][known], x["telephone"][known], y[known],
                               speakers[known], epochs=best, seed=seed, options=options,
                               groups=5 if name == "cv5" else 3)
        out[name] = [apply_temperature(p, t) for p in probs]
    return out


def _table(results: dict, groups: list[str], runs: list[tuple[str, str]], *,
           metric, title: str) -> None:
    """One row per (variant, calibration): ``metric(y, probs)`` of each
    group's pooled test clips per channel, median over seeds (their range)."""
    print(f"\n{title}\n")
    print("| variant | calibration | " + " | ".join(groups) + " | mean of groups |")
    print("|---|---|" + "---|" * (len(groups) + 1))
    for variant, calib in runs:
        cells, means = [], []
        for group in groups:
            per_seed = []
            for (var, cal, g, _), folds in results.items():
                if (var, cal, g) != (variant, calib, group):
                    continue
                y_all = np.concatenate([f[0] for f in folds])
                per_seed.append([metric(y_all, np.concatenate([f[1][c] for f in folds]))
                                 for c in range(len(corpora.CHANNELS))])
            wide = [p[0] for p in per_seed]
            med = [statistics.median(wide), statistics.median(p[1] for p in per_seed)]
            means.append(med)
            cells.append(f"{med[0]:.3f} / {med[1]:.3f} ({min(wide):.3f}-{max(wide):.3f})")
        mean = np.mean(means, axis=0)
        print(f"| {variant} | {calib} | " + " | ".join(cells)
              + f" | {mean[0]:.3f} / {mean[1]:.3f} |")


def main(argv: list[str] | None = None) -> None:
    from benchmarks.corpus_accuracy import ece_floor
    from sentiment_model.calibration import expected_calibration_error

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--calibrations", default="eval",
                        help=f"comma-separated, of {', '.join(CALIBRATIONS)}")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--set", default="voice", choices=[*fs.FEATURE_SETS, "classical"])
    parser.add_argument("--only", default="", help="fold-name prefixes, comma-separated")
    parser.add_argument("--work", default=fs.WORK_DIR)
    args = parser.parse_args(argv)
    variants = args.variants.split(",")
    calibrations = args.calibrations.split(",")
    unknown = [v for v in variants if v not in VARIANTS]
    unknown += [c for c in calibrations if c not in CALIBRATIONS]
    if unknown:
        parser.error(f"unknown variant(s) or calibration(s) {unknown}")
    seeds = [int(s) for s in args.seeds.split(",")]
    names = ["emodb-dev", "ased", "turev"]
    rows = [r for c in names for r in corpora.load_rows(c)]
    x = {}
    for channel in corpora.CHANNELS:
        parts = [fs.corpus_features([r for r in rows if r["corpus"] == c], c, channel,
                                    args.work, 2) for c in names]
        x[channel] = fs.design({k: np.concatenate([p[k] for p in parts]) for k in parts[0]},
                               args.set)
    y = np.array([fs.LABELS.index(r["label"]) for r in rows])
    speakers = np.array([r["speaker"] for r in rows])
    folds = make_folds(rows, corpora_names=names, n_folds=3)
    if args.only:
        folds = [f for f in folds if f.name.startswith(tuple(args.only.split(",")))]
    results: dict = {}  # (variant, calibration, group, seed) -> [(y_test, probs per channel)]
    for fold in folds:
        y_test = y[np.isin(speakers, fold.test)]
        for variant in variants:
            for seed in ([0] if variant == "sklearn" else seeds):
                for calib, probs in _fit_fold(x, y, speakers, fold, variant, seed,
                                              calibrations).items():
                    results.setdefault((variant, calib, _group(fold.name), seed),
                                       []).append((y_test, probs))
                    print(f"{fold.name} {variant} {calib} seed {seed}: UAR "
                          + " / ".join(f"{fs.uar(y_test, p):.3f}" for p in probs) + ", ECE "
                          + " / ".join(f"{expected_calibration_error(p, y_test):.3f}"
                                       for p in probs), file=sys.stderr, flush=True)
    groups = list(dict.fromkeys(_group(f.name) for f in folds))
    runs = list(dict.fromkeys((v, c) for v, c, _, _ in results))
    _table(results, groups, runs, metric=fs.uar,
           title="UAR of each group's test clips pooled over its folds, wideband / telephone")
    _table(results, groups, runs, metric=lambda y_true, p: expected_calibration_error(p, y_true),
           title="ECE (10 bins) of each group's test clips pooled over its folds")
    _table(results, groups, runs, metric=lambda _, p: ece_floor(p),
           title="the ECE a perfectly calibrated model with these probabilities would show "
                 "(sampling noise; corpus_accuracy.ece_floor)")


if __name__ == "__main__":
    main()
