"""How ``frame_stats`` is fitted, on the feature screen's clip statistics:
its Keras training against variants and scikit-learn, over seeds.

    python -m benchmarks.frame_stats_training [--variants batch_norm,fixed_norm]
        [--seeds 0,1,2] [--set voice]

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
path. Prints one line per fold, variant and seed, then UAR medians over
seeds per corpus group (wideband / telephone, the range of the wideband
seeds).
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


def fit_head(x_train, y_train, x_eval, y_eval, x_tests, *, seed: int, l2: float = 0.05,
             lr: float = 1e-2, affine: bool = True, norm: str = "batch"):
    """The ``frame_stats`` head on statistics ``[n, k]``; probabilities ``[m, 3]``
    of each of ``x_tests``."""
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
    stopper = keras.callbacks.EarlyStopping(patience=8, restore_best_weights=True)
    model.fit(x_train, y_train, validation_data=(x_eval, y_eval), batch_size=32, epochs=40,
              class_weight=weights, verbose=0, callbacks=[stopper])
    return [model.predict(x, verbose=0) for x in x_tests]


def _group(fold_name: str) -> str:
    return fold_name.rsplit("-", 1)[0] if fold_name.startswith("within") else fold_name


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--set", default="voice", choices=[*fs.FEATURE_SETS, "classical"])
    parser.add_argument("--work", default=fs.WORK_DIR)
    args = parser.parse_args(argv)
    variants = args.variants.split(",")
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; choose from {', '.join(VARIANTS)}")
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
    results: dict = {}
    for fold in folds:
        parts = {}
        for part in ("train", "eval"):
            keep = np.isin(speakers, getattr(fold, part))
            parts[part] = (np.concatenate([x["wideband"][keep], x["telephone"][keep]]),
                           np.concatenate([y[keep], y[keep]]))
        test = np.isin(speakers, fold.test)
        x_tests = [x[ch][test] for ch in corpora.CHANNELS]
        for variant in variants:
            for seed in ([0] if variant == "sklearn" else seeds):
                if variant == "sklearn":
                    probs = fs.fit_predict(np.concatenate([parts["train"][0], parts["eval"][0]]),
                                           np.concatenate([parts["train"][1], parts["eval"][1]]),
                                           x_tests, c=0.1)
                else:
                    probs = fit_head(*parts["train"], *parts["eval"], x_tests, seed=seed,
                                     **VARIANTS[variant])
                uars = [fs.uar(y[test], p) for p in probs]
                results.setdefault((variant, _group(fold.name), seed), []).append(uars)
                print(f"{fold.name} {variant} seed {seed}: "
                      + " / ".join(f"{u:.3f}" for u in uars), file=sys.stderr, flush=True)
    groups = list(dict.fromkeys(_group(f.name) for f in folds))
    print("| variant | " + " | ".join(groups) + " | mean of groups |")
    print("|---|" + "---|" * (len(groups) + 1))
    for variant in variants:
        cells, means = [], []
        for group in groups:
            per_seed = [np.mean(v, axis=0) for (var, g, _), v in results.items()
                        if var == variant and g == group]
            wide = [p[0] for p in per_seed]
            med = [statistics.median(wide), statistics.median(p[1] for p in per_seed)]
            means.append(med)
            cells.append(f"{med[0]:.3f} / {med[1]:.3f} ({min(wide):.3f}-{max(wide):.3f})")
        mean = np.mean(means, axis=0)
        print(f"| {variant} | " + " | ".join(cells) + f" | {mean[0]:.3f} / {mean[1]:.3f} |")


if __name__ == "__main__":
    main()
