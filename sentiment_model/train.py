"""Training: featurize shards -> a versioned Keras model with its model card.

:func:`train` runs one :class:`TrainConfig` (the ``audio-sentiment train``
job, :mod:`pipelines.train`, builds it from the command line). Writes
``model.keras``, ``model_card.json``, ``metrics.json``, ``history.csv``,
``plots/confusion_matrix.png``, ``plots/learning_curves.png`` and
TensorBoard logs under ``logs/``.
Runs on a CPU; unchanged on one or several GPUs (MirroredStrategy).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import hashlib
import io
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np

from sentiment_model import calibration, dataset, evaluation, label_groups, storage
from sentiment_model.errors import ConfigError, InputError

MODEL_FILE = "model.keras"
CARD_FILE = "model_card.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.csv"
CARD_VERSION = 2
# card fields that change what the model predicts: model_version signs them
# together with model.keras, so that an edit to any of them is caught
SIGNED_CARD_KEYS = ("architecture", "input_kind", "label_vocabulary", "label_groups",
                    "feature_config", "normalization", "schema_version", "calibration")


# the early-stopping schedule train uses where its options leave it open: the
# study's models as the study trained them, the others as benchmarks/emodb_accuracy
# measured the default recipe (benchmarks/README.md)
STUDY_SCHEDULE = {"epochs": 200, "patience": 20, "min_epochs": 1}
PRODUCT_SCHEDULE = {"epochs": 40, "patience": 8, "min_epochs": 1}


def schedule_for(architecture: str) -> dict[str, int]:
    """``{"epochs", "patience", "min_epochs"}`` that ``train`` uses for
    ``architecture`` unless given: :data:`STUDY_SCHEDULE` for the ``seed_*``
    models, :data:`PRODUCT_SCHEDULE` for the others."""
    return dict(STUDY_SCHEDULE if architecture.startswith("seed_") else PRODUCT_SCHEDULE)


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters and paths of one training run (saved in the model card)."""

    features: str
    model_dir: str
    architecture: str = "bilstm_stats"  # models.DEFAULT_ARCHITECTURE
    # None: the architecture's schedule (schedule_for; see resolved())
    epochs: int | None = None
    batch_size: int = 32
    learning_rate: float | None = None  # None: the architecture's default
    patience: int | None = None
    # early stopping keeps no epoch before this one (1: any epoch)
    min_epochs: int | None = None
    class_weights: bool = True
    seed: int = 0
    mixed_precision: bool = False
    spec_augment: bool = False
    input_noise: float = 0.0
    ensemble: int = 1
    # after early stopping, retrain on train + validation data for the best epoch count
    refit: bool = False
    # train on the feature labels, report their groups (label -> group); see label_groups
    label_groups: dict[str, str] | None = None
    # fit a temperature on the validation data and export it as the last layer
    calibrate: bool = True
    verbose: int = 2

    def resolved(self) -> TrainConfig:
        """This config with the architecture's early-stopping schedule
        (:func:`schedule_for`) in place of ``epochs``, ``patience`` and
        ``min_epochs`` left ``None``; values given are kept."""
        return dataclasses.replace(self, **{
            key: value for key, value in schedule_for(self.architecture).items()
            if getattr(self, key) is None})

    def validate(self) -> TrainConfig:
        """Checks the options (those left ``None`` as :meth:`resolved` fills
        them); returns ``self``.

        Raises:
            ConfigError: a one-line message naming the option.
        """
        from sentiment_model.models import ARCHITECTURES, ENSEMBLES, member_architectures

        if self.architecture not in ARCHITECTURES and self.architecture not in ENSEMBLES:
            raise ConfigError(f"--architecture {self.architecture!r}: choose one of "
                              f"{', '.join([*ARCHITECTURES, *ENSEMBLES])}")
        # the options of the BiLSTM: it must be one of the members
        sequence_model = "bilstm_attention" in member_architectures(self.architecture)
        if self.spec_augment and not sequence_model:
            raise ConfigError("--spec-augment needs a frame-sequence architecture "
                              "(bilstm_attention, bilstm_stats)")
        if self.input_noise < 0 or (self.input_noise > 0 and not sequence_model):
            raise ConfigError("--input-noise must be >= 0, and above 0 only for a "
                              "frame-sequence architecture (bilstm_attention, bilstm_stats)")
        schedule = self.resolved()
        if (schedule.epochs < 1 or self.batch_size < 1 or schedule.patience < 1
                or self.ensemble < 1):
            raise ConfigError("--epochs, --batch-size, --patience and --ensemble must be "
                              "positive")
        if not 1 <= schedule.min_epochs <= schedule.epochs:
            raise ConfigError(f"--min-epochs {schedule.min_epochs}: must be between 1 and "
                              f"--epochs ({schedule.epochs})")
        if self.label_groups is not None and (
                not self.label_groups
                or not all(isinstance(k, str) and isinstance(v, str) and k and v
                           for k, v in self.label_groups.items())):
            raise ConfigError("--label-groups: expected a non-empty map of label -> group")
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def distribution_strategy():
    """MirroredStrategy over several GPUs, else the default (one GPU or the CPU)."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy(), f"{len(gpus)} GPUs (MirroredStrategy)"
    return tf.distribute.get_strategy(), ("1 GPU" if gpus else "CPU")


def _labels_of(ds) -> np.ndarray:
    return np.concatenate([y.numpy() for _, y in ds]) if ds is not None else np.zeros(0, int)


def _class_weights(y: np.ndarray, n_classes: int) -> dict[int, float]:
    counts = np.bincount(y, minlength=n_classes).astype(float)
    weights = np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 0.0)
    return {i: float(w) for i, w in enumerate(weights)}


def predictions(model, ds, *, label_ids: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """``(labels [n], probabilities [n, k])`` of ``model`` on a dataset of
    (input, label) batches (``label_ids``: see :func:`evaluate`)."""
    y_true, probs = [], []
    for x, y in ds if ds is not None else ():
        y_true.append(y.numpy() if label_ids is None else label_ids[y.numpy()])
        probs.append(np.asarray(model.predict_on_batch(x), np.float64))
    if not y_true:
        return np.zeros(0, int), np.zeros((0, 0))
    return np.concatenate(y_true), np.concatenate(probs)


def evaluate(model, ds, labels: list[str], *, label_ids: np.ndarray | None = None
             ) -> dict | None:
    """Metrics of ``model`` on a dataset of (input, label) batches, with the
    expected calibration error (``ece``, 10 bins), or None if empty.

    ``label_ids``: maps the dataset's label ids to the ids of ``labels`` (the
    model's outputs), for a model that reports groups of the labels.
    """
    y_true, probs = predictions(model, ds, label_ids=label_ids)
    if len(y_true) == 0:
        return None
    metrics = evaluation.classification_metrics(y_true, probs.argmax(axis=1), labels)
    metrics["ece"] = calibration.expected_calibration_error(probs, y_true)
    return metrics


def calibrate(model, early_stopped, val_ds, *, label_ids: np.ndarray | None,
              source: str) -> tuple:
    """Fits a temperature on the validation data's probabilities of the
    early-stopped model and appends it to both models.

    Returns:
        (calibrated model, calibrated early-stopped model, the card's
        ``calibration`` entry).
    """
    from sentiment_model import models

    y_val, p_val = predictions(early_stopped, val_ds, label_ids=label_ids)
    temperature = calibration.fit_temperature(p_val, y_val)
    calibrated = models.temperature_model(model, temperature)
    calibrated_early = (calibrated if early_stopped is model
                        else models.temperature_model(early_stopped, temperature))
    info = {"method": "temperature", "temperature": temperature, "fitted_on": source,
            "examples": len(y_val),
            "eval_ece_uncalibrated": calibration.expected_calibration_error(p_val, y_val),
            "eval_ece": calibration.expected_calibration_error(
                calibration.apply_temperature(p_val, temperature), y_val)}
    return calibrated, calibrated_early, info


def model_digest(model_path: str, card: dict) -> str:
    """``model_version``: hex sha256 of ``model.keras`` followed by the card's
    :data:`SIGNED_CARD_KEYS` as canonical JSON."""
    import tensorflow as tf

    digest = hashlib.sha256()
    with tf.io.gfile.GFile(model_path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    signed = {key: card.get(key) for key in SIGNED_CARD_KEYS}
    digest.update(json.dumps(signed, sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()


def train(config: TrainConfig) -> dict:
    """Trains, evaluates and exports one model; returns the model card."""
    import keras
    import tensorflow as tf

    from sentiment_model import models

    config = config.resolved().validate()
    features = dataset.load_feature_set(config.features)
    labels = features.labels
    if features.examples("train") == 0:
        raise InputError(f"--features {config.features}: the train split has no examples")
    if len(labels) < 2:
        raise InputError(f"--features {config.features}: {len(labels)} class(es) in the label "
                         "vocabulary; training needs at least two (featurize with --labels)")
    groups = (label_groups.LabelGroups.resolve(config.label_groups, labels)
              if config.label_groups else None)
    fc = features.feature_config
    frame_dims = len(features.metadata["train_stats"]["frames"]["mean"])
    pooled_dims = len(features.metadata["train_stats"]["pooled"]["mean"])
    input_kind = models.check_features(config.architecture, feature_kind=fc["kind"],
                                       frame_dims=frame_dims, image_frames=fc["image_frames"],
                                       normalize=fc.get("normalize", "none"))

    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    if config.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")

    # validation: the eval split, else a speaker-disjoint slice of train; the
    # training data of each member is shuffled by that member's seed
    common = {"input_kind": input_kind, "batch_size": config.batch_size}
    if features.examples("eval") > 0:
        validation = {"source": "eval split"}
        train_only = {}
        val_ds = dataset.make_dataset(features, "eval", **common)
    else:
        held = dataset.holdout_speakers(features.metadata.get("speakers", {}).get("train", []),
                                        seed=config.seed)
        if held:
            validation = {"source": "train speakers held out", "speakers": held}
            train_only = {"drop_speakers": held}
            val_ds = dataset.make_dataset(features, "train", keep_speakers=held, **common)
        else:
            validation = {"source": "train recordings held out by id hash (15%)"}
            train_only = {"holdout_hash": "drop"}
            val_ds = dataset.make_dataset(features, "train", holdout_hash="keep", **common)

    def training_data(seed: int):
        return dataset.make_dataset(features, "train", shuffle=True, seed=seed, **train_only,
                                    **common)

    train_ds = training_data(config.seed)
    test_ds = (dataset.make_dataset(features, "test", **common)
               if features.examples("test") > 0 else None)

    y_train = _labels_of(train_ds)
    if len(np.unique(y_train)) < 2:
        raise InputError(f"--features {config.features}: the training data holds a single "
                         "class; training needs at least two")
    weights = _class_weights(y_train, len(labels)) if config.class_weights else None
    group_weights = (groups.weights(balanced=config.class_weights,
                                    class_counts=np.bincount(y_train, minlength=len(labels)))
                     if groups else None)

    strategy, device = distribution_strategy()
    tf.io.gfile.makedirs(config.model_dir)
    log_dir = storage.join(config.model_dir, "logs")
    members, member_runs, hist = [], [], {}
    # one member per --ensemble index and member architecture (bilstm_stats: two)
    plan = [(config.seed + i, arch) for i in range(config.ensemble)
            for arch in models.member_architectures(config.architecture)]
    optimizer_name = models.optimizer_for(plan[0][1], config.learning_rate)[1]

    def new_member(seed: int, architecture: str):
        keras.utils.set_random_seed(seed)
        with strategy.scope():
            member = models.build_model(
                architecture, n_classes=len(labels), feature_kind=fc["kind"],
                frame_dims=frame_dims, pooled_dims=pooled_dims,
                image_frames=fc["image_frames"], spec_augment=config.spec_augment,
                input_noise=config.input_noise)
            member.compile(optimizer=models.optimizer_for(architecture, config.learning_rate)[0],
                           loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return member

    started = time.monotonic()
    refit = None
    try:
        for i, (seed, arch) in enumerate(plan):
            member = new_member(seed, arch)
            if len(plan) > 1 and config.verbose:
                print(f"train: ensemble member {i + 1}/{len(plan)} ({arch})", file=sys.stderr)
            stopper = keras.callbacks.EarlyStopping(monitor="val_loss",
                                                    patience=config.patience,
                                                    restore_best_weights=True,
                                                    start_from_epoch=config.min_epochs - 1)
            board = keras.callbacks.TensorBoard(
                log_dir=log_dir if len(plan) == 1 else storage.join(log_dir, f"m{i}"))
            # shuffle=False: the dataset shuffles itself (by seed); Keras cannot
            history = member.fit(training_data(seed), validation_data=val_ds, shuffle=False,
                                 epochs=config.epochs, class_weight=weights,
                                 verbose=config.verbose, callbacks=[stopper, board])
            h = {k: [float(v) for v in vals] for k, vals in history.history.items()}
            hist = hist or h  # learning curves and history.csv: the first member
            members.append(member)
            member_runs.append({"seed": seed, "architecture": arch,
                                "epochs_run": len(h["loss"]),
                                "best_epoch": int(stopper.best_epoch) + 1})
        model = members[0] if len(members) == 1 else models.average_ensemble(members)
        early_stopped = model
        if config.refit:
            # the same seeds, for each member's best epoch count, on all labelled data
            # but the test split; eval metrics stay those of the early-stopped model
            refit_splits = (("train", "eval") if validation["source"] == "eval split"
                            else "train")

            def refit_data(seed: int):
                return dataset.make_dataset(features, refit_splits, shuffle=True, seed=seed,
                                            **common)

            refit_ds = refit_data(config.seed)
            y_refit = _labels_of(refit_ds)
            refit_weights = (_class_weights(y_refit, len(labels)) if config.class_weights
                             else None)
            if groups:
                group_weights = groups.weights(
                    balanced=config.class_weights,
                    class_counts=np.bincount(y_refit, minlength=len(labels)))
            refit_members = []
            for run in member_runs:
                if config.verbose:
                    print(f"train: refit on {len(y_refit)} examples for {run['best_epoch']} "
                          "epochs", file=sys.stderr)
                member = new_member(run["seed"], run["architecture"])
                member.fit(refit_data(run["seed"]), epochs=run["best_epoch"], shuffle=False,
                           class_weight=refit_weights, verbose=config.verbose)
                refit_members.append(member)
            refit = {"examples": len(y_refit),
                     "data": ("train + eval splits" if validation["source"] == "eval split"
                              else "all of the train split"),
                     "epochs": [run["best_epoch"] for run in member_runs],
                     "class_weight_values": refit_weights}
            model = (refit_members[0] if len(refit_members) == 1
                     else models.average_ensemble(refit_members))
    finally:
        if config.mixed_precision:  # do not leak the policy into later models
            keras.mixed_precision.set_global_policy("float32")
    train_seconds = time.monotonic() - started
    epochs_run = member_runs[0]["epochs_run"]
    best_epoch = member_runs[0]["best_epoch"]

    # eval metrics: the early-stopped model (held-out data even after a refit);
    # test metrics: the exported model
    grouping = None
    if groups:
        # metrics of the trained classes, then the models that report groups
        grouping = {**groups.to_dict(group_weights), "class_metrics": {
            "eval": evaluate(early_stopped, val_ds, labels),
            "test": evaluate(model, test_ds, labels) if test_ds is not None else None}}
        matrix = groups.matrix(group_weights)
        exported = models.group_model(model, matrix)
        early_stopped = (exported if refit is None
                         else models.group_model(early_stopped, matrix))
        model = exported
    reported = list(groups.groups) if groups else labels
    ids = groups.group_ids() if groups else None
    calibration_info = None
    if config.calibrate:
        model, early_stopped, calibration_info = calibrate(
            model, early_stopped, val_ds, label_ids=ids, source=validation["source"])
    metrics = {"eval": evaluate(early_stopped, val_ds, reported, label_ids=ids),
               "test": (evaluate(model, test_ds, reported, label_ids=ids)
                        if test_ds is not None else None)}
    model_path = storage.join(config.model_dir, MODEL_FILE)
    model.save(model_path)
    card = {
        "card_version": CARD_VERSION,
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "model_version": None,  # model_digest below
        "architecture": config.architecture,
        "input_kind": input_kind,
        "parameters": int(model.count_params()),
        "label_vocabulary": reported,
        "label_groups": grouping,
        "feature_config": fc,
        "normalization": dataset.normalization(features.metadata),
        "schema_version": features.metadata["schema_version"],
        "data": {"features": config.features,
                 "input_fingerprint": features.metadata["input_fingerprint"],
                 "examples": features.metadata["examples"]},
        "validation": validation,
        "refit": refit,
        "calibration": calibration_info,
        "hyperparameters": {**config.to_dict(), "optimizer": optimizer_name,
                            "class_weight_values": weights},
        "device": device,
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "epochs_run": epochs_run,
        "best_epoch": best_epoch,
        "ensemble": member_runs,
        "train_seconds": round(train_seconds, 1),
        "metrics": metrics,
    }
    card["model_version"] = model_digest(model_path, card)
    _write_outputs(config.model_dir, card, hist, best_epoch,
                   reliability_curves(card, model if test_ds is not None else early_stopped,
                                      test_ds if test_ds is not None else val_ds,
                                      label_ids=ids))
    return card


def reliability_curves(card: dict, model, ds, *, label_ids) -> dict[str, dict]:
    """The reliability of the headline split's probabilities: as exported,
    and as trained (before the temperature) when the model is calibrated."""
    y, probs = predictions(model, ds, label_ids=label_ids)
    if len(y) == 0:
        return {}
    info = card["calibration"]
    if info is None:
        return {"as trained": calibration.reliability(probs, y)}
    raw = calibration.apply_temperature(probs, 1.0 / info["temperature"])
    return {"as trained": calibration.reliability(raw, y),
            f"calibrated (T={info['temperature']:.2f})": calibration.reliability(probs, y)}


def _write_outputs(model_dir: str, card: dict, hist: dict, best_epoch: int,
                   curves: dict[str, dict]) -> None:
    import tensorflow as tf

    def write(name: str, text: str) -> None:
        with tf.io.gfile.GFile(storage.join(model_dir, name), "w") as f:
            f.write(text)

    write(CARD_FILE, json.dumps(card, indent=2) + "\n")
    write(METRICS_FILE, json.dumps(card["metrics"], indent=2) + "\n")
    buf = io.StringIO()
    writer = csv.writer(buf)
    keys = sorted(hist)
    writer.writerow(["epoch", *keys])
    for i in range(len(hist["loss"])):
        writer.writerow([i + 1, *(f"{hist[k][i]:.6g}" for k in keys)])
    write(HISTORY_FILE, buf.getvalue())
    plots = storage.join(model_dir, "plots")
    tf.io.gfile.makedirs(plots)
    split, best = headline_metrics(card)
    # matplotlib writes local files; render in a scratch folder, copy anywhere gfile reaches
    with tempfile.TemporaryDirectory() as scratch:
        evaluation.plot_confusion_matrix(
            best["confusion_matrix"], card["label_vocabulary"],
            os.path.join(scratch, "confusion_matrix.png"),
            title=f"{card['architecture']}: {SPLIT_NAMES[split]} confusion "
                  f"(UAR {best['uar']:.2f})")
        evaluation.plot_learning_curves(
            hist, os.path.join(scratch, "learning_curves.png"), best_epoch=best_epoch,
            title=f"{card['architecture']}: learning curves")
        names = ["confusion_matrix.png", "learning_curves.png"]
        if curves:
            calibration.plot_reliability(
                curves, os.path.join(scratch, "reliability.png"),
                title=f"{card['architecture']}: {SPLIT_NAMES[split]} reliability")
            names.append("reliability.png")
        for name in names:
            tf.io.gfile.copy(os.path.join(scratch, name), storage.join(plots, name),
                             overwrite=True)


SPLIT_NAMES = {"test": "test", "eval": "validation"}


def headline_metrics(card: dict) -> tuple[str, dict]:
    """``("test", metrics)`` when there is a test split, else ``("eval", metrics)``."""
    test = card["metrics"]["test"]
    return ("test", test) if test else ("eval", card["metrics"]["eval"])


def summary_line(card: dict) -> str:
    split, evaluated = headline_metrics(card)
    which = SPLIT_NAMES[split]
    grouped = card.get("label_groups")
    trained = (f", {len(grouped['classes'])} labels reported as {len(grouped['groups'])} "
               "groups" if grouped else "")
    if card.get("refit"):
        trained += f", refit on {card['refit']['examples']} examples"
    return (f"train: {card['architecture']} ({card['parameters']:,} parameters{trained}) "
            f"stopped after {card['epochs_run']} epochs, best epoch {card['best_epoch']}; {which}: "
            f"accuracy {evaluated['accuracy']:.3f}, UAR {evaluated['uar']:.3f}, "
            f"macro-F1 {evaluated['macro_f1']:.3f}, ECE {evaluated['ece']:.3f} "
            f"(n={evaluated['n']})")
