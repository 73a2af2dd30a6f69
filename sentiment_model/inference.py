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
from sentiment_model import dataset, storage
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


def load_model_dir(model_dir: str) -> LoadedModel:
    """Loads ``model.keras`` with ``safe_mode=True`` and its model card.

    Raises:
        InputError: a file is missing or the card is unreadable.
    """
    import keras
    import tensorflow as tf

    from sentiment_model import models  # noqa: F401  (registers the custom layer)
    from sentiment_model.train import CARD_FILE, MODEL_FILE

    for name in (MODEL_FILE, CARD_FILE):
        if not tf.io.gfile.exists(storage.join(model_dir, name)):
            raise InputError(f"--model-dir {model_dir}: {name} is missing")
    with tf.io.gfile.GFile(storage.join(model_dir, CARD_FILE)) as f:
        try:
            card = json.load(f)
        except json.JSONDecodeError as exc:
            raise InputError(f"--model-dir {model_dir}: {CARD_FILE} is not JSON: {exc}") from None
    model = keras.saving.load_model(storage.join(model_dir, MODEL_FILE), safe_mode=True)
    return LoadedModel(model, card, FeatureConfig.from_dict(card["feature_config"]),
                       tuple(card["label_vocabulary"]), card["input_kind"])


def model_input(loaded: LoadedModel, samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Model input of one mono signal ``[n_samples]`` at ``sample_rate`` Hz."""
    cfg = loaded.feature_config
    y = audio_lib.resample(np.asarray(samples, np.float32), sample_rate, cfg.sample_rate)
    feats = compute_features(y, cfg.sample_rate, cfg)
    return dataset.to_model_input(feats.frames, feats.pooled, input_kind=loaded.input_kind,
                                  norm=loaded.card["normalization"])


def predict_proba(loaded: LoadedModel, samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Class probabilities ``[n_classes]`` for one mono signal."""
    x = model_input(loaded, samples, sample_rate)
    return np.asarray(loaded.model.predict_on_batch(x[None, ...]))[0]
