"""Loading an exported model and scoring audio with it, in plain numpy/Keras.

Features are computed from the feature config stored in the model card by
the same ``compute_features`` that featurize uses, so training and serving
cannot drift.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass

import numpy as np

from sentiment_model import audio as audio_lib
from sentiment_model import dataset, quiet, storage
from sentiment_model.config import FeatureConfig
from sentiment_model.errors import InputError
from sentiment_model.features import compute_features
from sentiment_model.model_card import MODEL_FILE, ModelCard


@dataclass(frozen=True)
class LoadedModel:
    """An exported model loaded for scoring: the Keras model and its card."""

    model: object  # keras.Model
    card: ModelCard

    @property
    def feature_config(self) -> FeatureConfig:
        return self.card.feature

    @property
    def labels(self) -> tuple[str, ...]:
        return self.card.labels

    @property
    def input_kind(self) -> str:
        return self.card.input_kind


def load_model_dir(model_dir: str) -> LoadedModel:
    """Checks the directory (:meth:`ModelCard.read`) and loads ``model.keras``
    with ``safe_mode=True``: no code from the file is ever run.

    Raises:
        InputError: see :meth:`ModelCard.read`, or Keras refuses the file.
    """
    quiet.import_tensorflow()
    import keras

    from sentiment_model import models  # noqa: F401  (registers the custom layers)

    card = ModelCard.read(model_dir)
    try:
        with _local_model_file(model_dir) as path:
            model = keras.saving.load_model(path, safe_mode=True)
    except Exception as exc:  # Keras raises ValueError/TypeError/... for unsafe or bad files
        raise InputError(f"--model-dir {model_dir}: cannot load {MODEL_FILE} safely: "
                         f"{str(exc)[:300]}") from None
    outputs = model.output_shape[-1]
    if outputs != len(card.labels):
        raise InputError(f"--model-dir {model_dir}: the model has {outputs} outputs, its card "
                         f"names {len(card.labels)} classes; retrain or restore the card")
    return LoadedModel(model, card)


@contextlib.contextmanager
def _local_model_file(model_dir: str):
    """``model.keras`` as a local path: the file itself, or a copy of one in
    an object store (Keras opens local files only)."""
    uri = storage.join(model_dir, MODEL_FILE)
    if storage.is_local(uri):
        yield uri
        return
    with tempfile.TemporaryDirectory(prefix="audio-sentiment-model-") as scratch:
        path = os.path.join(scratch, MODEL_FILE)
        storage.copy_to_local(uri, path)
        yield path


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
    if not loaded.card.speaker_normalised:
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
                                  norm=loaded.card.normalization, group=group)


def predict_proba(loaded: LoadedModel, samples: np.ndarray, sample_rate: int, *,
                  group: dict | None = None) -> np.ndarray:
    """Class probabilities ``[n_classes]`` for one mono signal (``group``: see
    :func:`model_input`)."""
    x = model_input(loaded, samples, sample_rate, group=group)
    return np.asarray(loaded.model.predict_on_batch(x[None, ...]))[0]
