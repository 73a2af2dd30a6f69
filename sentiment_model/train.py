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
import io
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from sentiment_model import architectures, calibration, dataset, evaluation, label_groups, storage
from sentiment_model.config import FeatureConfig
from sentiment_model.errors import ConfigError, InputError
from sentiment_model.model_card import (
    CARD_FILE,
    HISTORY_FILE,
    METRICS_FILE,
    MODEL_FILE,
    ModelCard,
)


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters and paths of one training run (saved in the model card)."""

    features: str
    model_dir: str
    architecture: str = architectures.DEFAULT
    # None: the architecture's schedule (Architecture.schedule; see resolved())
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
    # fit a temperature and export it as the last layer
    calibrate: bool = True
    # fit it on out-of-fold probabilities of this many speaker groups of the
    # training speakers (_Members.cross_fit); 0: on the validation data
    calibration_folds: int = 3
    # score the test split's files again through score's path (sentiment_model.score_check)
    score_check: bool = True
    verbose: int = 2

    def resolved(self) -> TrainConfig:
        """This config with the architecture's early-stopping schedule
        (``Architecture.schedule``) in place of ``epochs``, ``patience`` and
        ``min_epochs`` left ``None``; values given are kept (an unknown
        architecture is left to :meth:`validate`)."""
        entry = architectures.REGISTRY.get(self.architecture)
        schedule = entry.schedule if entry else {}
        return dataclasses.replace(self, **{
            key: value for key, value in schedule.items() if getattr(self, key) is None})

    def validate(self) -> TrainConfig:
        """Checks the options (those left ``None`` as :meth:`resolved` fills
        them); returns ``self``.

        Raises:
            ConfigError: a one-line message naming the option.
        """
        if self.architecture not in architectures.REGISTRY:
            raise ConfigError(f"--architecture {self.architecture!r}: choose one of "
                              f"{', '.join(architectures.REGISTRY)}")
        # the options of a BiLSTM over frames: it must be one of the members
        sequence_model = any(architectures.get(m).sequence_training
                             for m in architectures.members(self.architecture))
        takers = ", ".join(name for name in architectures.REGISTRY
                           if any(architectures.get(m).sequence_training
                                  for m in architectures.members(name)))
        if self.spec_augment and not sequence_model:
            raise ConfigError(f"--spec-augment needs a frame-sequence architecture ({takers})")
        if self.input_noise < 0 or (self.input_noise > 0 and not sequence_model):
            raise ConfigError("--input-noise must be >= 0, and above 0 only for a "
                              f"frame-sequence architecture ({takers})")
        schedule = self.resolved()
        if (schedule.epochs < 1 or self.batch_size < 1 or schedule.patience < 1
                or self.ensemble < 1):
            raise ConfigError("--epochs, --batch-size, --patience and --ensemble must be "
                              "positive")
        if not 1 <= schedule.min_epochs <= schedule.epochs:
            raise ConfigError(f"--min-epochs {schedule.min_epochs}: must be between 1 and "
                              f"--epochs ({schedule.epochs})")
        if self.calibration_folds < 0 or self.calibration_folds == 1:
            raise ConfigError(f"--calibration-folds {self.calibration_folds}: 0 (fit the "
                              "temperature on the validation data) or at least 2")
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


def balanced_class_weights(y: np.ndarray, n_classes: int) -> dict[int, float]:
    """Keras ``class_weight`` for labels ``y [n]``: ``n / (n_classes * count)``
    per class, 0 for a class with no examples."""
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


def calibrate(model, early_stopped, val_ds, *, label_ids: np.ndarray | None, source: str,
              fit_on: tuple[np.ndarray, np.ndarray] | None = None) -> tuple:
    """Fits a temperature and appends it to both models.

    Args:
        fit_on: ``(labels [n], probabilities [n, k])`` to fit it on (the
            cross-fitted ones); None: the validation data's probabilities of
            the early-stopped model.
        source: where those come from, for the card.

    Returns:
        (calibrated model, calibrated early-stopped model, the card's
        ``calibration`` entry, with the validation data's ECE before and
        after).
    """
    from sentiment_model import models

    y_val, p_val = predictions(early_stopped, val_ds, label_ids=label_ids)
    y_fit, p_fit = fit_on if fit_on is not None else (y_val, p_val)
    temperature = calibration.fit_temperature(p_fit, y_fit)
    calibrated = models.temperature_model(model, temperature)
    calibrated_early = (calibrated if early_stopped is model
                        else models.temperature_model(early_stopped, temperature))
    info = {"method": "temperature", "temperature": temperature, "fitted_on": source,
            "examples": len(y_fit),
            "eval_ece_uncalibrated": calibration.expected_calibration_error(p_val, y_val),
            "eval_ece": calibration.expected_calibration_error(
                calibration.apply_temperature(p_val, temperature), y_val)}
    return calibrated, calibrated_early, info


@dataclass
class _TrainingData:
    """What one training run reads (built by :func:`_training_data`)."""

    features: dataset.FeatureSet
    labels: list[str]
    groups: label_groups.LabelGroups | None
    input_kind: str
    frame_dims: int
    pooled_dims: int
    validation: dict  # the model card's "validation": where the validation data came from
    val_ds: Any
    test_ds: Any | None
    train_only: dict  # make_dataset options that keep the validation data out of training
    batch_size: int
    y_train: np.ndarray  # label ids of the training examples
    weights: dict[int, float] | None  # class weights (None: unweighted)

    def train_ds(self, seed: int):
        """The training data, shuffled by ``seed``."""
        return dataset.make_dataset(self.features, "train", shuffle=True, seed=seed,
                                    input_kind=self.input_kind, batch_size=self.batch_size,
                                    **self.train_only)

    def group_weights(self, counts: np.ndarray) -> np.ndarray | None:
        return self.groups.weights(balanced=self.weights is not None,
                                   class_counts=counts) if self.groups else None


def _training_data(config: TrainConfig, *, local_copy: str | None = None) -> _TrainingData:
    """Reads and checks the features, and chooses the validation data: the
    eval split, else a speaker-disjoint slice of train, else ~15 % of train
    by recording id.

    Raises:
        InputError: no training examples, fewer than two classes, or
            features the architecture cannot read.
    """
    from sentiment_model import models

    features = dataset.load_feature_set(config.features, local_copy=local_copy)
    labels = features.labels
    if features.examples("train") == 0:
        raise InputError(f"--features {config.features}: the train split has no examples")
    if len(labels) < 2:
        raise InputError(f"--features {config.features}: {len(labels)} class(es) in the label "
                         "vocabulary; training needs at least two (featurize with --labels)")
    groups = (label_groups.LabelGroups.resolve(config.label_groups, labels)
              if config.label_groups else None)
    fc = features.feature_config
    stats = features.metadata["train_stats"]
    input_kind = models.check_features(config.architecture, feature_kind=fc["kind"],
                                       frame_dims=len(stats["frames"]["mean"]),
                                       image_frames=fc["image_frames"],
                                       normalize=fc.get("normalize", "none"))
    common = {"input_kind": input_kind, "batch_size": config.batch_size}
    if features.examples("eval") > 0:
        validation, train_only = {"source": "eval split"}, {}
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
    test_ds = (dataset.make_dataset(features, "test", **common)
               if features.examples("test") > 0 else None)
    y_train = _labels_of(dataset.make_dataset(features, "train", shuffle=True,
                                              seed=config.seed, **train_only, **common))
    if len(np.unique(y_train)) < 2:
        raise InputError(f"--features {config.features}: the training data holds a single "
                         "class; training needs at least two")
    return _TrainingData(
        features=features, labels=labels, groups=groups, input_kind=input_kind,
        frame_dims=len(stats["frames"]["mean"]), pooled_dims=len(stats["pooled"]["mean"]),
        validation=validation, val_ds=val_ds, test_ds=test_ds, train_only=train_only,
        batch_size=config.batch_size, y_train=y_train,
        weights=balanced_class_weights(y_train, len(labels)) if config.class_weights else None)


class _Members:
    """Builds, compiles and fits the members of one run (``--ensemble`` K
    times each member architecture), each from its own seed."""

    def __init__(self, config: TrainConfig, data: _TrainingData, strategy) -> None:
        self._config, self._data, self._strategy = config, data, strategy
        self.plan = [(config.seed + i, arch) for i in range(config.ensemble)
                     for arch in architectures.members(config.architecture)]

    def new(self, seed: int, architecture: str):
        import keras

        from sentiment_model import models

        config, data = self._config, self._data
        fc = data.features.feature_config
        keras.utils.set_random_seed(seed)
        with self._strategy.scope():
            member = models.build_model(
                architecture, n_classes=len(data.labels), feature_kind=fc["kind"],
                frame_dims=data.frame_dims, pooled_dims=data.pooled_dims,
                image_frames=fc["image_frames"], spec_augment=config.spec_augment,
                input_noise=config.input_noise,
                normalization=dataset.normalization(data.features.metadata))
            member.compile(optimizer=models.optimizer_for(architecture, config.learning_rate)[0],
                           loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return member

    def fit_all(self, log_dir: str) -> tuple[list, list[dict], dict]:
        """Fits every member with early stopping on the validation loss.

        Returns:
            (the members, their runs for the card's ``ensemble``, the first
            member's history for the learning curves).
        """
        import keras

        from sentiment_model import models

        config, data = self._config, self._data
        members, runs, hist = [], [], {}
        for i, (seed, arch) in enumerate(self.plan):
            member = self.new(seed, arch)
            train_ds = data.train_ds(seed)
            models.fit_statistics_moments(member, train_ds)  # frame_stats: from its data
            if len(self.plan) > 1 and config.verbose:
                print(f"train: ensemble member {i + 1}/{len(self.plan)} ({arch})",
                      file=sys.stderr)
            stopper = keras.callbacks.EarlyStopping(monitor="val_loss",
                                                    patience=config.patience,
                                                    restore_best_weights=True,
                                                    start_from_epoch=config.min_epochs - 1)
            board = keras.callbacks.TensorBoard(
                log_dir=log_dir if len(self.plan) == 1 else storage.join(log_dir, f"m{i}"))
            # shuffle=False: the dataset shuffles itself (by seed); Keras cannot
            history = member.fit(train_ds, validation_data=data.val_ds,
                                 shuffle=False, epochs=config.epochs,
                                 class_weight=data.weights, verbose=config.verbose,
                                 callbacks=[stopper, board])
            h = {k: [float(v) for v in vals] for k, vals in history.history.items()}
            hist = hist or h
            members.append(member)
            runs.append({"seed": seed, "architecture": arch, "epochs_run": len(h["loss"]),
                         "best_epoch": int(stopper.best_epoch) + 1})
        return members, runs, hist

    def fit_for_epochs(self, runs: list[dict], ds_for_seed, y: np.ndarray, *, what: str
                       ) -> tuple[list, dict[int, float] | None]:
        """Each run's member again from its seed, fitted for its best epoch
        count on ``ds_for_seed(seed)`` (labels ``y [n]``).

        Returns:
            (the members, the class weights used).
        """
        from sentiment_model import models

        config, data = self._config, self._data
        weights = (balanced_class_weights(y, len(data.labels)) if config.class_weights
                   else None)
        members = []
        for run in runs:
            if config.verbose:
                print(f"train: {what} on {len(y)} examples for {run['best_epoch']} epochs",
                      file=sys.stderr)
            member = self.new(run["seed"], run["architecture"])
            ds = ds_for_seed(run["seed"])
            models.fit_statistics_moments(member, ds)
            member.fit(ds, epochs=run["best_epoch"], shuffle=False,
                       class_weight=weights, verbose=config.verbose)
            members.append(member)
        return members, weights

    def _known_splits(self) -> tuple[str, ...]:
        """The splits trained on or validated with: train, and eval when it
        is the validation data."""
        by_eval = self._data.validation["source"] == "eval split"
        return ("train", "eval") if by_eval else ("train",)

    def refit(self, runs: list[dict]) -> tuple[list, dict, np.ndarray]:
        """Each member again from its seed, for its best epoch count, on all
        labelled data but the test split.

        Returns:
            (the members, the card's ``refit``, the label ids trained on).
        """
        config, data = self._config, self._data
        splits = self._known_splits()

        def refit_ds(seed: int):
            return dataset.make_dataset(data.features, splits, shuffle=True, seed=seed,
                                        input_kind=data.input_kind,
                                        batch_size=data.batch_size)

        y_refit = _labels_of(refit_ds(config.seed))
        members, weights = self.fit_for_epochs(runs, refit_ds, y_refit, what="refit")
        info = {"examples": len(y_refit),
                "data": "train + eval splits" if len(splits) == 2 else "all of the train split",
                "epochs": [run["best_epoch"] for run in runs],
                "class_weight_values": weights}
        return members, info, y_refit

    def cross_fit(self, runs: list[dict], folds: int) -> dict | None:
        """Out-of-fold probabilities to fit the temperature on.

        The training speakers (the train split's, and the eval split's when
        it is the validation data) are dealt into ``folds`` groups by a hash
        of the seed and speaker. Each group's original recordings and their
        telephone copies (the channels ``score`` meets) are predicted by the
        members fitted as :meth:`refit` fits them, for their best epoch
        counts, on the other groups with every copy. ``folds`` more fits
        of each member, each on about ``1 - 1/folds`` of the data.

        Returns:
            ``{"y": [n] label ids, "probs": [n, n_labels], "groups",
            "speakers"}``, or None with fewer than two speakers known.
        """
        config, data = self._config, self._data
        splits = self._known_splits()
        known = data.features.metadata.get("speakers", {})
        speakers = sorted({s for split in splits for s in known.get(split, []) if s})
        if len(speakers) < 2:
            return None
        order = dataset.speaker_order(speakers, seed=config.seed)
        k = min(folds, len(speakers))
        common = {"input_kind": data.input_kind, "batch_size": data.batch_size}
        ys, probs = [], []
        for g in range(k):
            held = order[g::k]

            def fit_ds(seed: int, held=held):
                return dataset.make_dataset(data.features, splits, shuffle=True, seed=seed,
                                            drop_speakers=held, **common)

            fitted, _ = self.fit_for_epochs(runs, fit_ds, _labels_of(fit_ds(config.seed)),
                                            what=f"calibration fold {g + 1}/{k}: fit")
            held_ds = dataset.make_dataset(data.features, splits, keep_speakers=held,
                                           keep_copies=CALIBRATION_COPIES, **common)
            y, p = predictions(_one_model(fitted), held_ds)
            if len(y):
                ys.append(y)
                probs.append(p)
        if not ys:
            return None
        return {"y": np.concatenate(ys), "probs": np.concatenate(probs), "groups": k,
                "speakers": len(speakers)}


# the copies of held-out speakers whose probabilities the temperature is fitted on
CALIBRATION_COPIES = ("telephone",)


def _one_model(members: list):
    from sentiment_model import models

    return members[0] if len(members) == 1 else models.average_ensemble(members)


def _fit(config: TrainConfig, data: _TrainingData, *, out_dir: str) -> dict[str, Any]:
    """Fits the members (and refits them with ``--refit``).

    Returns:
        ``model`` (to export), ``early_stopped`` (for the eval metrics),
        ``runs``, ``history``, ``refit`` (or ``None``), ``trained_ids`` (the
        label ids the exported model was trained on), ``cross_fitted``
        (:meth:`_Members.cross_fit`'s, or ``None``), ``device``,
        ``seconds``.
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    if config.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    strategy, device = distribution_strategy()
    os.makedirs(out_dir, exist_ok=True)
    members = _Members(config, data, strategy)
    started = time.monotonic()
    try:
        fitted, runs, hist = members.fit_all(os.path.join(out_dir, "logs"))
        cross_fitted = (members.cross_fit(runs, config.calibration_folds)
                        if config.calibrate and config.calibration_folds else None)
        model = early_stopped = _one_model(fitted)
        refit, trained_ids = None, data.y_train
        if config.refit:
            refitted, refit, trained_ids = members.refit(runs)
            model = _one_model(refitted)
    finally:
        if config.mixed_precision:  # do not leak the policy into later models
            keras.mixed_precision.set_global_policy("float32")
    return {"model": model, "early_stopped": early_stopped, "runs": runs, "history": hist,
            "refit": refit, "cross_fitted": cross_fitted, "trained_ids": trained_ids,
            "device": device, "seconds": time.monotonic() - started}


def _finish(config: TrainConfig, data: _TrainingData, fit: dict[str, Any]) -> dict[str, Any]:
    """The exported model: label groups and calibration as the last layers,
    and the metrics (eval: the early-stopped model, held out even after a
    refit; test: the exported model).

    Returns:
        ``model``, ``early_stopped``, ``labels`` (reported), ``label_ids``
        (their ids for the metrics), ``grouping`` and ``calibration`` (card
        fields) and ``metrics``.
    """
    from sentiment_model import models

    model, early_stopped = fit["model"], fit["early_stopped"]
    groups, val_ds, test_ds = data.groups, data.val_ds, data.test_ds
    grouping = matrix = None
    if groups:
        weights = data.group_weights(np.bincount(fit["trained_ids"],
                                                 minlength=len(data.labels)))
        # metrics of the trained classes, then the models that report groups
        grouping = {**groups.to_dict(weights), "class_metrics": {
            "eval": evaluate(early_stopped, val_ds, data.labels),
            "test": evaluate(model, test_ds, data.labels) if test_ds is not None else None}}
        matrix = groups.matrix(weights)
        exported = models.group_model(model, matrix)
        early_stopped = (exported if fit["refit"] is None
                         else models.group_model(early_stopped, matrix))
        model = exported
    reported = list(groups.groups) if groups else data.labels
    ids = groups.group_ids() if groups else None
    calibration_info = None
    if config.calibrate:
        fit_on, source = None, data.validation["source"]
        cross = fit["cross_fitted"]
        if cross is not None:
            fit_on = (cross["y"] if ids is None else ids[cross["y"]],
                      cross["probs"] if matrix is None  # as the exported model's layer does
                      else np.asarray(models.GroupProbabilities(matrix)(cross["probs"])))
            source = (f"out-of-fold probabilities of {cross['groups']} groups of the "
                      f"{cross['speakers']} training speakers (their recordings and telephone "
                      "copies)")
        model, early_stopped, calibration_info = calibrate(
            model, early_stopped, val_ds, label_ids=ids, source=source, fit_on=fit_on)
    metrics = {"eval": evaluate(early_stopped, val_ds, reported, label_ids=ids),
               "test": (evaluate(model, test_ds, reported, label_ids=ids)
                        if test_ds is not None else None)}
    return {"model": model, "early_stopped": early_stopped, "labels": reported,
            "label_ids": ids, "grouping": grouping, "calibration": calibration_info,
            "metrics": metrics}


def _card(config: TrainConfig, data: _TrainingData, fit: dict[str, Any],
          done: dict[str, Any]) -> ModelCard:
    """The model card of the exported model (unsigned)."""
    import keras
    import tensorflow as tf

    runs = fit["runs"]
    return ModelCard(
        model_version="",
        architecture=config.architecture,
        input_kind=data.input_kind,
        labels=tuple(done["labels"]),
        feature=FeatureConfig.from_dict(data.features.feature_config),
        normalization=dataset.normalization(data.features.metadata),
        schema_version=data.features.metadata["schema_version"],
        calibration=done["calibration"],
        label_groups=done["grouping"],
        metrics=done["metrics"],
        details={
            "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "parameters": int(done["model"].count_params()),
            "data": {"features": config.features,
                     "input_fingerprint": data.features.metadata["input_fingerprint"],
                     "examples": data.features.metadata["examples"]},
            "validation": data.validation,
            "refit": fit["refit"],
            "hyperparameters": {**config.to_dict(),
                                "optimizer": architectures.get(runs[0]["architecture"]).optimizer,
                                "class_weight_values": data.weights},
            "device": fit["device"],
            "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
            "epochs_run": runs[0]["epochs_run"],
            "best_epoch": runs[0]["best_epoch"],
            "ensemble": runs,
            "train_seconds": round(fit["seconds"], 1),
        },
    )


def train(config: TrainConfig) -> ModelCard:
    """Trains, evaluates and exports one model; returns its model card.

    Steps: read and check the features and choose the validation data
    (:func:`_training_data`), fit the members (and refit them:
    :func:`_fit`), add label groups and calibration and measure
    (:func:`_finish`), then save ``model.keras``, the signed card and the
    plots.
    """
    config = config.resolved().validate()
    with tempfile.TemporaryDirectory(prefix="audio-sentiment-train-") as scratch:
        local = storage.is_local(config.model_dir)
        out_dir = config.model_dir if local else os.path.join(scratch, "model")
        data = _training_data(config, local_copy=os.path.join(scratch, "features"))
        fit = _fit(config, data, out_dir=out_dir)
        done = _finish(config, data, fit)
        model_path = os.path.join(out_dir, MODEL_FILE)
        done["model"].save(model_path)
        card = _card(config, data, fit, done).signed(model_path)
        if config.score_check and data.test_ds is not None:
            card = _with_score_path(card, done["model"], data.features)
        headline = (done["model"], data.test_ds) if data.test_ds is not None else (
            done["early_stopped"], data.val_ds)
        _write_outputs(out_dir, card, fit["history"], card.details["best_epoch"],
                       reliability_curves(card, *headline, label_ids=done["label_ids"]))
        if not local:
            # the card last: score refuses a model directory without one
            storage.upload_tree(out_dir, config.model_dir, last=(CARD_FILE,))
    return card


def _with_score_path(card: ModelCard, model, features) -> ModelCard:
    """The card with ``metrics["test_score_path"]``: the test split's files
    through score's path (unsigned: predictions do not depend on it)."""
    from sentiment_model import score_check
    from sentiment_model.inference import LoadedModel

    metrics = score_check.score_path_metrics(LoadedModel(model=model, card=card), features)
    if metrics is None:
        return card
    return dataclasses.replace(card, metrics={**card.metrics, "test_score_path": metrics})


def reliability_curves(card: ModelCard, model, ds, *, label_ids) -> dict[str, dict]:
    """The reliability of the headline split's probabilities: as exported,
    and as trained (before the temperature) when the model is calibrated."""
    y, probs = predictions(model, ds, label_ids=label_ids)
    if len(y) == 0:
        return {}
    info = card.calibration
    if info is None:
        return {"as trained": calibration.reliability(probs, y)}
    raw = calibration.apply_temperature(probs, 1.0 / info["temperature"])
    return {"as trained": calibration.reliability(raw, y),
            f"calibrated (T={info['temperature']:.2f})": calibration.reliability(probs, y)}


def _write_outputs(model_dir: str, card: ModelCard, hist: dict, best_epoch: int,
                   curves: dict[str, dict]) -> None:
    import tensorflow as tf

    def write(name: str, text: str) -> None:
        with tf.io.gfile.GFile(storage.join(model_dir, name), "w") as f:
            f.write(text)

    write(CARD_FILE, json.dumps(card.to_dict(), indent=2) + "\n")
    write(METRICS_FILE, json.dumps(card.metrics, indent=2) + "\n")
    buf = io.StringIO()
    writer = csv.writer(buf)
    keys = sorted(hist)
    writer.writerow(["epoch", *keys])
    for i in range(len(hist["loss"])):
        writer.writerow([i + 1, *(f"{hist[k][i]:.6g}" for k in keys)])
    write(HISTORY_FILE, buf.getvalue())
    plots = storage.join(model_dir, "plots")
    tf.io.gfile.makedirs(plots)
    split, best = card.headline_metrics()
    # matplotlib writes local files; render in a scratch folder, copy anywhere gfile reaches
    with tempfile.TemporaryDirectory() as scratch:
        evaluation.plot_confusion_matrix(
            best["confusion_matrix"], list(card.labels),
            os.path.join(scratch, "confusion_matrix.png"),
            title=f"{card.architecture}: {SPLIT_NAMES[split]} confusion "
                  f"(UAR {best['uar']:.2f})")
        evaluation.plot_learning_curves(
            hist, os.path.join(scratch, "learning_curves.png"), best_epoch=best_epoch,
            title=f"{card.architecture}: learning curves")
        names = ["confusion_matrix.png", "learning_curves.png"]
        if curves:
            calibration.plot_reliability(
                curves, os.path.join(scratch, "reliability.png"),
                title=f"{card.architecture}: {SPLIT_NAMES[split]} reliability")
            names.append("reliability.png")
        for name in names:
            tf.io.gfile.copy(os.path.join(scratch, name), storage.join(plots, name),
                             overwrite=True)


SPLIT_NAMES = {"test": "test", "eval": "validation"}


def summary_line(card: ModelCard) -> str:
    split, evaluated = card.headline_metrics()
    which = SPLIT_NAMES[split]
    grouped = card.label_groups
    trained = (f", {len(grouped['classes'])} labels reported as {len(grouped['groups'])} "
               "groups" if grouped else "")
    refit = card.details.get("refit")
    if refit:
        trained += f", refit on {refit['examples']} examples"
    line = (f"train: {card.architecture} ({card.parameters:,} parameters{trained}) stopped "
            f"after {card.details['epochs_run']} epochs, best epoch "
            f"{card.details['best_epoch']}; {which}: "
            f"accuracy {evaluated['accuracy']:.3f}, UAR {evaluated['uar']:.3f}, "
            f"macro-F1 {evaluated['macro_f1']:.3f}, ECE {evaluated['ece']:.3f} "
            f"(n={evaluated['n']})")
    scored = card.metrics.get("test_score_path")
    if split == "test" and scored and scored.get("n"):
        line += (f"\ntrain: the test files through score's path (what score + evaluate "
                 f"give): accuracy {scored['accuracy']:.3f}, UAR {scored['uar']:.3f}, "
                 f"macro-F1 {scored['macro_f1']:.3f}, ECE {scored['ece']:.3f} "
                 f"(n={scored['n']}, {scored['rejected']} rejected, {scored['unreadable']} "
                 "unreadable)")
    return line
