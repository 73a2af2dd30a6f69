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
