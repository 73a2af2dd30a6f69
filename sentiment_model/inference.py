"""Loading an exported model and scoring audio with it, in plain numpy/Keras.

Features are computed from the feature config stored in the model card by
the same ``compute_features`` that featurize uses, so training and serving
cannot drift.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from sentiment_model import audio as audio_lib
from sentiment_model import dataset, quiet, storage
from sentiment_model.config import FeatureConfig
from sentiment_model.errors import InputError
from sentiment_model.features import compute_features


@dataclass(frozen=True)
class LoadedModel:
    model: object  # keras.Model
    card: dict
    feature_config: FeatureConfig
    labels: tuple[str, ...]
    input_kind: str


CARD_KEYS = ("card_version", "model_version", "architecture", "input_kind",
             "label_vocabulary", "feature_config", "normalization", "schema_version")


def read_model_card(model_dir: str) -> dict:
    """Checks an exported model directory without loading the model.

    Returns:
        the model card.

    Raises:
        InputError: a file is missing, the card is unreadable or incomplete,
            it comes from another schema or card version, or ``model.keras``
            or a card field that changes predictions is not what was
            exported (``model_version`` signs both).
    """
    quiet.import_tensorflow()
    import tensorflow as tf

    from schemas.features import SCHEMA_VERSION
    from sentiment_model.train import (
        CARD_FILE,
        CARD_VERSION,
        MODEL_FILE,
        SIGNED_CARD_KEYS,
        model_digest,
    )

    where = f"--model-dir {model_dir}"
    for name in (MODEL_FILE, CARD_FILE):
        if not tf.io.gfile.exists(storage.join(model_dir, name)):
            raise InputError(f"{where}: {name} is missing (is this a directory written by "
                             "`audio-sentiment train`?)")
    with tf.io.gfile.GFile(storage.join(model_dir, CARD_FILE)) as f:
        try:
            card = json.load(f)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: {CARD_FILE} is not JSON: {exc}") from None
    missing = [key for key in CARD_KEYS if key not in card]
    if missing:
        raise InputError(f"{where}: {CARD_FILE} lacks {', '.join(missing)}")
    if card["card_version"] != CARD_VERSION:
        raise InputError(f"{where}: model card version {card['card_version']}, this release "
                         f"reads version {CARD_VERSION}; retrain or use a matching release")
    if card["schema_version"] != SCHEMA_VERSION:
        raise InputError(f"{where}: trained on feature schema version {card['schema_version']},"
                         f" this release computes version {SCHEMA_VERSION}; retrain the model")
    digest = model_digest(storage.join(model_dir, MODEL_FILE), card)
    if digest != card["model_version"]:
        raise InputError(f"{where}: {MODEL_FILE} does not match its model card (sha256 "
                         f"{digest[:12]}..., card says {str(card['model_version'])[:12]}...): "
                         f"the model file or the card's {', '.join(SIGNED_CARD_KEYS)} "
                         "changed after export - restore them or retrain")
    FeatureConfig.from_dict(card["feature_config"]).validate()
    return card


def load_model_dir(model_dir: str) -> LoadedModel:
    """Checks the directory (:func:`read_model_card`) and loads ``model.keras``
    with ``safe_mode=True``: no code from the file is ever run.

    Raises:
        InputError: see :func:`read_model_card`, or Keras refuses the file.
    """
    quiet.import_tensorflow()
    import keras

    from sentiment_model import models  # noqa: F401  (registers the custom layers)
    from sentiment_model.train import MODEL_FILE

    card = read_model_card(model_dir)
    try:
        model = keras.saving.load_model(storage.join(model_dir, MODEL_FILE), safe_mode=True)
    except Exception as exc:  # Keras raises ValueError/TypeError/... for unsafe or bad files
        raise InputError(f"--model-dir {model_dir}: cannot load {MODEL_FILE} safely: "
                         f"{str(exc)[:300]}") from None
    return LoadedModel(model, card, FeatureConfig.from_dict(card["feature_config"]),
                       tuple(card["label_vocabulary"]), card["input_kind"])


def features_of(loaded: LoadedModel, samples: np.ndarray, sample_rate: int):
    """``compute_features`` of one mono signal ``[n_samples]`` at ``sample_rate`` Hz,
    as the model's feature config says."""
    cfg = loaded.feature_config
    y = audio_lib.resample(np.asarray(samples, np.float32), sample_rate, cfg.sample_rate)
    return compute_features(y, cfg.sample_rate, cfg)


def speaker_stats(loaded: LoadedModel, signals) -> dict[str, list[float]] | None:
    """Feature statistics ``{"mean", "std"}`` of one speaker over several of
    their signals (``(samples, sample_rate)`` pairs; unlabelled audio is
    enough), for models trained with ``normalize="speaker"``; ``None`` for
    other models."""
    if loaded.card["normalization"].get("group", "none") != "speaker":
        return None
    frames = [features_of(loaded, y, rate).frames for y, rate in signals]
    return dataset.group_stats(np.concatenate(frames))


def model_input(loaded: LoadedModel, samples: np.ndarray, sample_rate: int, *,
                group: dict | None = None) -> np.ndarray:
    """Model input of one mono signal ``[n_samples]`` at ``sample_rate`` Hz.

    ``group``: the speaker's statistics (:func:`speaker_stats`) for
    speaker-normalised models; without them the signal's own are used.
    """
    feats = features_of(loaded, samples, sample_rate)
    return dataset.to_model_input(feats.frames, feats.pooled, input_kind=loaded.input_kind,
                                  norm=loaded.card["normalization"], group=group)


def predict_proba(loaded: LoadedModel, samples: np.ndarray, sample_rate: int, *,
                  group: dict | None = None) -> np.ndarray:
    """Class probabilities ``[n_classes]`` for one mono signal (``group``: see
    :func:`model_input`)."""
    x = model_input(loaded, samples, sample_rate, group=group)
    return np.asarray(loaded.model.predict_on_batch(x[None, ...]))[0]
