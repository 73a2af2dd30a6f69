"""Keras model builders, one function per architecture.

Every builder returns an uncompiled ``keras.Model`` with named inputs:

* ``seed_bilstm`` / ``seed_lstm``: input ``pooled`` ``[batch, 1, dims]`` — the
  study's time-averaged MFCC vector as a length-1 sequence;
* ``seed_cnn2d``: input ``image`` ``[batch, 128, 128, 1]`` — the study's
  log-mel "spectrogram image";
* ``bilstm_attention`` (the product's default): input ``frames``
  ``[batch, time, dims]`` right-padded with zeros, plus ``mask``
  ``[batch, time]`` (1.0 for real frames).

LSTM layers use tanh/sigmoid, no recurrent dropout and right-padded masks, so
Keras picks the cuDNN kernel on a GPU. No Lambda layers: models load with
``safe_mode=True``.
"""

from __future__ import annotations

import keras
from keras import layers


def seed_bilstm(n_classes: int, *, input_dims: int = 128, dropout: float = 0.5) -> keras.Model:
    """The study's model: BiLSTM 256 -> BiLSTM 128 -> Dense 64/64/32 -> softmax.

    1,467,651 parameters for 128 inputs and 3 classes.
    """
    inputs = keras.Input(shape=(1, input_dims), name="pooled")
    x = layers.Bidirectional(layers.LSTM(256, return_sequences=True))(inputs)
    x = layers.Bidirectional(layers.LSTM(128))(x)
    x = layers.Dense(64, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(64, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(32, activation="relu")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="seed_bilstm")


def seed_lstm(n_classes: int, *, input_dims: int = 128, dropout: float = 0.2) -> keras.Model:
    """The study's unidirectional baseline, time-distributed over a length-1 sequence.

    645,123 parameters for 128 inputs and 3 classes.
    """
    inputs = keras.Input(shape=(1, input_dims), name="pooled")
    x = layers.LSTM(256, return_sequences=True)(inputs)
    x = layers.Dropout(dropout)(x)
    x = layers.LSTM(128, return_sequences=True)(x)
    x = layers.Dropout(dropout)(x)
    x = layers.LSTM(64, return_sequences=True)(x)
    x = layers.Dropout(dropout)(x)
    x = layers.TimeDistributed(layers.Dense(64, activation="relu"))(x)
    x = layers.Dropout(dropout)(x)
    x = layers.TimeDistributed(layers.Dense(n_classes, activation="softmax"))(x)
    outputs = layers.Flatten(name="probabilities")(x)  # [batch, 1, n] -> [batch, n]
    return keras.Model(inputs, outputs, name="seed_lstm")


def seed_cnn2d(n_classes: int, *, image_size: int = 128, dropout: float = 0.25) -> keras.Model:
    """The study's CNN on a log-mel image: three conv blocks, Dense 64, softmax.

    3,588,803 parameters for a 128 x 128 image and 3 classes.
    """
    inputs = keras.Input(shape=(image_size, image_size, 1), name="image")
    x = layers.Conv2D(256, 5, activation="relu")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv2D(128, 3, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="seed_cnn2d")


@keras.saving.register_keras_serializable(package="audio_sentiment")
class MaskedAttentionPooling(layers.Layer):
    """Attention pooling over time that ignores padded frames.

    Input ``[batch, time, features]`` with a Keras mask ``[batch, time]``;
    output ``[batch, features]``: a softmax-weighted sum of the frames, with
    weights from a learned scoring vector.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        self.score = layers.Dense(1, use_bias=False, name="score")
        self.score.build(input_shape)

    def call(self, inputs, mask=None):
        from keras import ops

        logits = ops.squeeze(self.score(inputs), axis=-1)  # [batch, time]
        if mask is not None:
            logits = ops.where(mask, logits, ops.full_like(logits, -1e9))
        weights = ops.softmax(logits, axis=-1)
        return ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


def bilstm_attention(n_classes: int, *, frame_dims: int, units: int = 128,
                     dropout: float = 0.3) -> keras.Model:
    """The product's default: masked BiLSTMs over the MFCC frame sequence with
    attention pooling.

    Input ``frames`` ``[batch, time, frame_dims]``, normalised, right-padded
    with exact zeros (the padding is masked).
    """
    inputs = keras.Input(shape=(None, frame_dims), name="frames")
    x = layers.Masking(mask_value=0.0)(inputs)
    x = layers.Bidirectional(layers.LSTM(units, return_sequences=True))(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Bidirectional(layers.LSTM(units // 2, return_sequences=True))(x)
    x = MaskedAttentionPooling(name="attention")(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities",
                           dtype="float32")(x)
    return keras.Model(inputs, outputs, name="bilstm_attention")


# name -> (builder, model input): "pooled_sequence" [1, dims], "image" [n, n, 1],
# "frames" [time, dims]
ARCHITECTURES = {
    "seed_bilstm": (seed_bilstm, "pooled_sequence"),
    "seed_lstm": (seed_lstm, "pooled_sequence"),
    "seed_cnn2d": (seed_cnn2d, "image"),
    "bilstm_attention": (bilstm_attention, "frames"),
}
DEFAULT_ARCHITECTURE = "bilstm_attention"


def check_features(architecture: str, *, feature_kind: str, frame_dims: int,
                   image_frames: int) -> str:
    """Returns the architecture's input kind if it can read these features.

    Raises:
        ConfigError: unknown architecture, or features it cannot read.
    """
    from sentiment_model.errors import ConfigError

    if architecture not in ARCHITECTURES:
        raise ConfigError(f"unknown architecture {architecture!r}; choose one of "
                          f"{', '.join(ARCHITECTURES)}")
    kind = ARCHITECTURES[architecture][1]
    if kind == "image":
        if feature_kind != "logmel_image" or image_frames != frame_dims:
            raise ConfigError(f"{architecture} needs square log-mel images: featurize with "
                              "--preset seed_cnn2d")
    elif feature_kind != "mfcc":
        raise ConfigError(f"{architecture} needs MFCC features, not {feature_kind}")
    return kind


def build_model(architecture: str, *, n_classes: int, feature_kind: str, frame_dims: int,
                pooled_dims: int, image_frames: int) -> keras.Model:
    """Builds ``architecture`` for features of the given shape (see check_features)."""
    kind = check_features(architecture, feature_kind=feature_kind, frame_dims=frame_dims,
                          image_frames=image_frames)
    builder = ARCHITECTURES[architecture][0]
    if kind == "image":
        return builder(n_classes, image_size=frame_dims)
    if kind == "pooled_sequence":
        return builder(n_classes, input_dims=pooled_dims)
    return builder(n_classes, frame_dims=frame_dims)
