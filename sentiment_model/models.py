"""Keras model builders, one function per architecture.

Every builder returns an uncompiled ``keras.Model`` with named inputs:

* ``seed_bilstm`` / ``seed_lstm``: input ``pooled`` ``[batch, 1, dims]`` — the
  study's time-averaged MFCC vector as a length-1 sequence;
* ``seed_cnn2d``: input ``image`` ``[batch, 128, 128, 1]`` — the study's
  log-mel "spectrogram image";
* ``bilstm_attention`` and ``frame_stats``: input ``frames``
  ``[batch, time, dims]``, right-padded with exact zeros (the padding is
  masked).

Given the train statistics (``standardize``, see :func:`build_model`), a
model's first layer standardises its input (:class:`Standardize`): the
trained and exported models take features as featurize and score compute
them (after per-speaker standardisation, for models that use it).

``bilstm_stats``, the product's default, is not one builder but an ensemble
of two (``ENSEMBLES``): ``train`` trains a ``bilstm_attention`` and a
``frame_stats`` member and exports the average of their probabilities
(:func:`average_ensemble`).

LSTM layers use tanh/sigmoid, no recurrent dropout and right-padded masks, so
Keras picks the cuDNN kernel on a GPU. No Lambda layers: models load with
``safe_mode=True``.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from sentiment_model import architectures


@keras.saving.register_keras_serializable(package="audio_sentiment")
class Standardize(layers.Layer):
    """``(x - mean) / std`` per feature with the train statistics: the first
    layer of every trained model, so training and scoring standardise alike.

    ``mean``/``std``: one value per feature, along ``feature_axis`` (-1 for
    frames and pooled vectors, -2 for ``[n, n, 1]`` images). With
    ``keep_padding`` (frame sequences) a frame of exact zeros, the
    right-padding, stays exact zeros: the mask is taken from the input before
    standardising, and the ``Masking`` after this layer sees the same padding.
    Computed in float32.
    """

    def __init__(self, mean, std, *, feature_axis: int = -1, keep_padding: bool = False,
                 **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.mean = [float(v) for v in mean]
        self.std = [float(v) for v in std]
        if len(self.mean) != len(self.std) or min(self.std, default=1.0) <= 0:
            raise ValueError("Standardize needs as many positive stds as means")
        self.feature_axis, self.keep_padding = int(feature_axis), bool(keep_padding)

    def call(self, inputs):
        from keras import ops

        shape = (len(self.mean),) + (1,) * (-1 - self.feature_axis)
        mean = ops.reshape(ops.convert_to_tensor(self.mean, dtype=inputs.dtype), shape)
        std = ops.reshape(ops.convert_to_tensor(self.std, dtype=inputs.dtype), shape)
        x = (inputs - mean) / std
        if self.keep_padding:
            real = ops.any(ops.not_equal(inputs, 0.0), axis=-1, keepdims=True)
            x = ops.where(real, x, ops.zeros_like(x))
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "std": self.std,
                "feature_axis": self.feature_axis, "keep_padding": self.keep_padding}


def standardize_layer(normalization: dict, input_kind: str) -> Standardize:
    """The :class:`Standardize` layer for a model card's ``normalization``
    (``dataset.normalization``) and an input kind."""
    stats = normalization["pooled" if input_kind == "pooled_sequence" else "frames"]
    return Standardize(stats["mean"], stats["std"], name="input_standardisation",
                       feature_axis=-2 if input_kind == "image" else -1,
                       keep_padding=input_kind == "frames")


def _standardized(inputs, standardize: layers.Layer | None):
    return inputs if standardize is None else standardize(inputs)


def seed_bilstm(n_classes: int, *, input_dims: int = 128, dropout: float = 0.5,
                standardize: layers.Layer | None = None) -> keras.Model:
    """The study's model: BiLSTM 256 -> BiLSTM 128 -> Dense 64/64/32 -> softmax.

    1,467,651 parameters for 128 inputs and 3 classes.
    """
    inputs = keras.Input(shape=(1, input_dims), name="pooled")
    x = layers.Bidirectional(layers.LSTM(256, return_sequences=True))(
        _standardized(inputs, standardize))
    x = layers.Bidirectional(layers.LSTM(128))(x)
    x = layers.Dense(64, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(64, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(32, activation="relu")(x)
    # float32 softmax also under mixed precision (as Keras's guide recommends)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities",
                           dtype="float32")(x)
    return keras.Model(inputs, outputs, name="seed_bilstm")


def seed_lstm(n_classes: int, *, input_dims: int = 128, dropout: float = 0.2,
              standardize: layers.Layer | None = None) -> keras.Model:
    """The study's unidirectional baseline, time-distributed over a length-1 sequence.

    645,123 parameters for 128 inputs and 3 classes.
    """
    inputs = keras.Input(shape=(1, input_dims), name="pooled")
    x = layers.LSTM(256, return_sequences=True)(_standardized(inputs, standardize))
    x = layers.Dropout(dropout)(x)
    x = layers.LSTM(128, return_sequences=True)(x)
    x = layers.Dropout(dropout)(x)
    x = layers.LSTM(64, return_sequences=True)(x)
    x = layers.Dropout(dropout)(x)
    x = layers.TimeDistributed(layers.Dense(64, activation="relu"))(x)
    x = layers.Dropout(dropout)(x)
    x = layers.TimeDistributed(layers.Dense(n_classes, activation="softmax", dtype="float32"),
                               dtype="float32")(x)
    outputs = layers.Flatten(name="probabilities", dtype="float32")(x)  # [b, 1, n] -> [b, n]
    return keras.Model(inputs, outputs, name="seed_lstm")


def seed_cnn2d(n_classes: int, *, image_size: int = 128, dropout: float = 0.25,
               standardize: layers.Layer | None = None) -> keras.Model:
    """The study's CNN on a log-mel image: three conv blocks, Dense 64, softmax.

    3,588,803 parameters for a 128 x 128 image and 3 classes.
    """
    inputs = keras.Input(shape=(image_size, image_size, 1), name="image")
    x = layers.Conv2D(256, 5, activation="relu")(_standardized(inputs, standardize))
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
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities",
                           dtype="float32")(x)
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

        # softmax in float32: -1e9 for padded frames does not fit in float16
        logits = ops.cast(ops.squeeze(self.score(inputs), axis=-1), "float32")  # [batch, time]
        if mask is not None:
            logits = ops.where(mask, logits, ops.full_like(logits, -1e9))
        weights = ops.cast(ops.softmax(logits, axis=-1), inputs.dtype)
        return ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


@keras.saving.register_keras_serializable(package="audio_sentiment")
class SpecAugment(layers.Layer):
    """SpecAugment-style masking of ``[batch, time, features]``, in training only.

    Zeroes ``time_masks`` runs of up to ``time_width`` frames (zeroed frames
    are then masked like padding) and ``feature_masks`` runs of up to
    ``feature_width`` coefficients, at random positions per example.
    """

    def __init__(self, time_masks: int = 2, time_width: int = 20, feature_masks: int = 2,
                 feature_width: int = 8, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.time_masks, self.time_width = time_masks, time_width
        self.feature_masks, self.feature_width = feature_masks, feature_width
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _runs(self, batch, length, n, max_width, axis_shape):
        from keras import ops

        positions = ops.reshape(ops.arange(length), axis_shape)
        keep = None
        for _ in range(n):
            width = ops.floor(keras.random.uniform((batch, 1, 1), 0, max_width + 1,
                                                   seed=self.seed_generator))
            room = ops.maximum(ops.cast(length, "float32") - width, 1.0)
            start = ops.floor(keras.random.uniform((batch, 1, 1), seed=self.seed_generator)
                              * room)
            pos = ops.cast(positions, "float32")
            hit = ops.logical_and(pos >= start, pos < start + width)
            keep = ops.logical_not(hit) if keep is None else ops.logical_and(
                keep, ops.logical_not(hit))
        return keep

    def call(self, inputs, training=False):
        from keras import ops

        if not training:
            return inputs
        shape = ops.shape(inputs)
        batch, time, feats = shape[0], shape[1], shape[2]
        keep = ops.ones_like(inputs, dtype="bool")
        if self.time_masks:
            keep = ops.logical_and(keep, self._runs(batch, time, self.time_masks,
                                                    self.time_width, (1, -1, 1)))
        if self.feature_masks:
            keep = ops.logical_and(keep, self._runs(batch, feats, self.feature_masks,
                                                    self.feature_width, (1, 1, -1)))
        return ops.where(keep, inputs, ops.zeros_like(inputs))

    def get_config(self):
        return {**super().get_config(), "time_masks": self.time_masks,
                "time_width": self.time_width, "feature_masks": self.feature_masks,
                "feature_width": self.feature_width, "seed": self.seed}


def bilstm_attention(n_classes: int, *, frame_dims: int, units: int = 128,
                     dropout: float = 0.3, spec_augment: bool = False,
                     input_noise: float = 0.0,
                     standardize: layers.Layer | None = None) -> keras.Model:
    """Masked BiLSTMs over the MFCC frame sequence with attention pooling
    (optionally SpecAugment masking while training); the sequence member of
    the product's default, ``bilstm_stats``.

    Input ``frames`` ``[batch, time, frame_dims]``, right-padded with exact
    zeros (the padding is masked), standardised by ``standardize``
    (:class:`Standardize`) or before. ``input_noise``: standard
    deviation of Gaussian noise added to the (standardised) frames while
    training only (a regulariser).
    """
    inputs = keras.Input(shape=(None, frame_dims), name="frames")
    x = _standardized(inputs, standardize)
    x = SpecAugment(name="spec_augment")(x) if spec_augment else x
    x = layers.Masking(mask_value=0.0)(x)
    if input_noise > 0:
        x = layers.GaussianNoise(input_noise, name="input_noise")(x)
    x = layers.Bidirectional(layers.LSTM(units, return_sequences=True))(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Bidirectional(layers.LSTM(units // 2, return_sequences=True))(x)
    x = MaskedAttentionPooling(name="attention")(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities",
                           dtype="float32")(x)
    return keras.Model(inputs, outputs, name="bilstm_attention")


@keras.saving.register_keras_serializable(package="audio_sentiment")
class MaskedStatistics(layers.Layer):
    """Per-feature statistics over the real (unmasked) frames of each sequence.

    Input ``[batch, time, features]`` with a Keras mask ``[batch, time]``
    (real frames first, then padding); output ``[batch, n_stats * features]``,
    grouped by statistic, in this order:

    * the mean, the standard deviation (population, ``sqrt(var + 1e-6)``),
      the minimum and the maximum over time;
    * each of ``percentiles`` (in %, nearest rank: the sorted real frames'
      value at index ``round(q / 100 * (n - 1))``, ties to even);
    * with ``deltas``, the mean absolute frame-to-frame difference and its
      root mean square (``sqrt(mean(d ** 2) + 1e-6)``) over the pairs of
      consecutive real frames.

    ``n_stats = 4 + len(percentiles) + 2 * deltas``. A sequence with no real
    frame gives zeros (the two square roots give 1e-3).
    """

    def __init__(self, *, percentiles: tuple[float, ...] = (), deltas: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        self.percentiles = tuple(float(q) for q in percentiles)
        self.deltas = bool(deltas)
        self.supports_masking = True

    @property
    def n_stats(self) -> int:
        return 4 + len(self.percentiles) + 2 * self.deltas

    def call(self, inputs, mask=None):
        from keras import ops

        x = ops.cast(inputs, "float32")
        if mask is None:
            mask = ops.ones(ops.shape(x)[:2], dtype="bool")
        real = ops.expand_dims(mask, -1)
        weight = ops.cast(real, "float32")
        count = ops.maximum(ops.sum(weight, axis=1), 1.0)
        mean = ops.sum(x * weight, axis=1) / count
        var = ops.sum(ops.square(x - ops.expand_dims(mean, 1)) * weight, axis=1) / count
        any_real = ops.any(real, axis=1)
        low = ops.where(any_real, ops.min(ops.where(real, x, 3.0e38), axis=1), 0.0)
        high = ops.where(any_real, ops.max(ops.where(real, x, -3.0e38), axis=1), 0.0)
        out = [mean, ops.sqrt(var + 1e-6), low, high]
        if self.percentiles:
            ordered = ops.sort(ops.where(real, x, 3.0e38), axis=1)  # the padding sorts last
            last = ops.maximum(ops.sum(weight, axis=1, keepdims=True) - 1.0, 0.0)  # [b, 1, 1]
            for q in self.percentiles:
                at = ops.cast(ops.round(q / 100.0 * last), "int32")
                at = ops.broadcast_to(at, (ops.shape(x)[0], 1, ops.shape(x)[2]))
                value = ops.squeeze(ops.take_along_axis(ordered, at, axis=1), 1)
                out.append(ops.where(any_real, value, 0.0))
        if self.deltas:
            step = x[:, 1:] - x[:, :-1]
            pair = weight[:, 1:] * weight[:, :-1]
            pairs = ops.maximum(ops.sum(pair, axis=1), 1.0)
            out.append(ops.sum(ops.abs(step) * pair, axis=1) / pairs)
            out.append(ops.sqrt(ops.sum(ops.square(step) * pair, axis=1) / pairs + 1e-6))
        return ops.concatenate(out, axis=-1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n_stats * input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "percentiles": list(self.percentiles),
                "deltas": self.deltas}


STATISTICS_VARIANCE_FLOOR = 1e-4  # a statistic constant in training is not divided by ~0


def frame_stats(n_classes: int, *, frame_dims: int, l2: float = 1e-3,
                percentiles: tuple[float, ...] = (10.0, 50.0, 90.0),
                deltas: bool = True,
                standardize: layers.Layer | None = None) -> keras.Model:
    """A linear classifier of time statistics: per frame feature, its mean,
    standard deviation, minimum, maximum and ``percentiles`` over the clip,
    and with ``deltas`` the mean absolute and RMS frame-to-frame change
    (:class:`MaskedStatistics`), standardised with fixed moments (the
    ``standardise`` layer, a ``Normalization`` that
    :func:`fit_statistics_moments` sets from the training data before
    fitting; until then it passes values through), into an L2-regularised
    softmax layer: multinomial logistic regression on clip functionals.

    Input ``frames`` ``[batch, time, frame_dims]``, right-padded with exact
    zeros (masked), standardised by ``standardize`` or before. With
    ``n_stats = 4 + len(percentiles) + 2 * deltas`` (9 by default),
    ``n_stats * frame_dims * (n_classes + 2) + n_classes + 1`` parameters:
    the statistics' mean and variance and a count are not trained. Trained
    with Adam at 1e-3 (:func:`optimizer_for`).
    """
    inputs = keras.Input(shape=(None, frame_dims), name="frames")
    x = layers.Masking(mask_value=0.0)(_standardized(inputs, standardize))
    x = MaskedStatistics(percentiles=percentiles, deltas=deltas, name="statistics")(x)
    x = layers.Normalization(name="standardise")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities",
                           dtype="float32",
                           kernel_regularizer=keras.regularizers.L2(l2))(x)
    return keras.Model(inputs, outputs, name="frame_stats")


def fit_statistics_moments(model: keras.Model, batches) -> bool:
    """Sets a ``frame_stats`` model's ``standardise`` layer to the mean and
    variance (floored at :data:`STATISTICS_VARIANCE_FLOOR`) of its clip
    statistics over ``batches``: an iterable of ``frames`` batches
    ``[batch, time, frame_dims]`` or of ``(frames, labels[, weights])``
    tuples, e.g. the training dataset. Accumulated in float64, one batch at
    a time (memory does not grow with the data).

    Returns:
        whether ``model`` has such a layer (other architectures: nothing set).

    Raises:
        ValueError: ``batches`` holds no example.
    """
    try:
        layer = model.get_layer("standardise")
    except ValueError:
        return False
    if not isinstance(layer, layers.Normalization):
        return False
    statistics = keras.Model(model.inputs[0], model.get_layer("statistics").output)
    count, total, squares, shift = 0, 0.0, 0.0, None
    for batch in batches:
        frames = batch[0] if isinstance(batch, (tuple, list)) else batch
        values = np.asarray(statistics(frames, training=False), np.float64)
        if shift is None:
            shift = values.mean(axis=0)  # centred sums keep float64 exact enough
        centred = values - shift
        count += len(values)
        total = total + centred.sum(axis=0)
        squares = squares + np.square(centred).sum(axis=0)
    if not count:
        raise ValueError("fit_statistics_moments: no examples in the batches")
    mean = total / count
    variance = np.maximum(squares / count - np.square(mean), STATISTICS_VARIANCE_FLOOR)
    layer.adapt_mean.assign((shift + mean).astype(np.float32))
    layer.adapt_variance.assign(variance.astype(np.float32))
    layer.count.assign(count)
    layer.finalize_state()  # what Keras runs after adapt() and after loading the weights
    return True


def optimizer_for(architecture: str, learning_rate: float | None = None):
    """(optimizer, its name) that ``train`` compiles ``architecture`` with, as
    its registry entry says (:mod:`sentiment_model.architectures`);
    ``learning_rate`` replaces the entry's rate."""
    entry = architectures.get(architecture)
    optimizer = {"rmsprop": keras.optimizers.RMSprop, "adam": keras.optimizers.Adam}[
        entry.optimizer]
    return optimizer(learning_rate=learning_rate or entry.learning_rate), entry.optimizer


def _input_like(model: keras.Model):
    """A new input of ``model``'s shape and name, for a model that wraps it."""
    return keras.Input(shape=model.input_shape[1:], name=model.inputs[0].name.split(":")[0])


def average_ensemble(members: list[keras.Model]) -> keras.Model:
    """One model whose output is the mean of ``members``' class probabilities
    (same input; each member keeps its own layers and masking)."""
    first = members[0]
    inputs = _input_like(first)
    outputs = [keras.Model(m.inputs[0], m.outputs[0], name=f"member_{i}")(inputs)
               for i, m in enumerate(members)]
    mean = layers.Average(name="probabilities", dtype="float32")(outputs)
    return keras.Model(inputs, mean, name=f"{first.name}_x{len(members)}")


@keras.saving.register_keras_serializable(package="audio_sentiment")
class GroupProbabilities(layers.Layer):
    """Class probabilities ``[..., n_classes]`` -> group probabilities
    ``[..., n_groups]``: ``p(g) ∝ Σ_c p(c) · matrix[c, g]``, renormalised to
    sum to 1 (see :mod:`sentiment_model.label_groups`)."""

    def __init__(self, matrix, **kwargs):
        super().__init__(**kwargs)
        self.matrix = [[float(v) for v in row] for row in np.asarray(matrix).tolist()]

    def call(self, inputs):
        from keras import ops

        scores = ops.matmul(inputs, ops.convert_to_tensor(self.matrix, dtype=inputs.dtype))
        return scores / ops.maximum(ops.sum(scores, axis=-1, keepdims=True), 1e-12)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], len(self.matrix[0]))

    def get_config(self):
        return {**super().get_config(), "matrix": self.matrix}


def group_model(model: keras.Model, matrix) -> keras.Model:
    """``model`` followed by :class:`GroupProbabilities` (``matrix``
    ``[n_classes, n_groups]``): one model that outputs group probabilities."""
    inputs = _input_like(model)
    inner = keras.Model(model.inputs[0], model.outputs[0], name="classes")(inputs)
    outputs = GroupProbabilities(matrix, name="group_probabilities", dtype="float32")(inner)
    return keras.Model(inputs, outputs, name=f"{model.name}_grouped")


@keras.saving.register_keras_serializable(package="audio_sentiment")
class Temperature(layers.Layer):
    """Probabilities ``[..., k]`` -> ``softmax(log(p) / temperature)``: temperature
    scaling (:mod:`sentiment_model.calibration`); the most probable class
    stays the same."""

    def __init__(self, temperature: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.temperature = float(temperature)

    def call(self, inputs):
        from keras import ops

        logits = ops.log(ops.clip(inputs, 1e-7, 1.0)) / self.temperature
        return ops.softmax(logits, axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature}


def temperature_model(model: keras.Model, temperature: float) -> keras.Model:
    """``model``'s graph followed by :class:`Temperature`: one model whose
    outputs are the calibrated probabilities (its layers stay reachable by
    name, e.g. an ensemble's ``member_0``)."""
    outputs = Temperature(temperature, name="calibrated", dtype="float32")(model.outputs[0])
    return keras.Model(model.inputs[0], outputs, name=f"{model.name}_calibrated")


# name -> (builder, model input: "pooled_sequence" [1, dims], "image" [n, n, 1],
# "frames" [time, dims]); the facts are in sentiment_model.architectures
_BUILDERS = {"seed_bilstm": seed_bilstm, "seed_lstm": seed_lstm, "seed_cnn2d": seed_cnn2d,
             "bilstm_attention": bilstm_attention, "frame_stats": frame_stats}
ARCHITECTURES = {name: (_BUILDERS[name], entry.input_kind)
                 for name, entry in architectures.REGISTRY.items() if not entry.members}
# name -> the architectures of its members, trained one after the other and
# exported as the average of their probabilities
ENSEMBLES = {name: entry.members for name, entry in architectures.REGISTRY.items()
             if entry.members}
DEFAULT_ARCHITECTURE = architectures.DEFAULT
member_architectures = architectures.members


def check_features(architecture: str, *, feature_kind: str, frame_dims: int,
                   image_frames: int, normalize: str = "none") -> str:
    """Returns the architecture's input kind if it can read these features.

    Raises:
        ConfigError: unknown architecture, or features it cannot read.
    """
    from sentiment_model.errors import ConfigError

    if architecture in ENSEMBLES:
        kinds = {check_features(member, feature_kind=feature_kind, frame_dims=frame_dims,
                                image_frames=image_frames, normalize=normalize)
                 for member in ENSEMBLES[architecture]}
        if len(kinds) != 1:  # members read one input, as average_ensemble needs
            raise ConfigError(f"{architecture}: members read different inputs {sorted(kinds)}")
        return kinds.pop()
    if architecture not in ARCHITECTURES:
        raise ConfigError(f"unknown architecture {architecture!r}; choose one of "
                          f"{', '.join([*ARCHITECTURES, *ENSEMBLES])}")
    kind = ARCHITECTURES[architecture][1]
    if kind == "image":
        if feature_kind != "logmel_image" or image_frames != frame_dims:
            raise ConfigError(f"{architecture} needs square log-mel images: featurize with "
                              "--preset seed_cnn2d")
    elif feature_kind != "mfcc":
        raise ConfigError(f"{architecture} needs MFCC features, not {feature_kind}")
    if normalize == "speaker" and kind != "frames":
        raise ConfigError(f"{architecture} reads pooled vectors, which speaker normalisation "
                          "does not cover: use a frame-sequence architecture "
                          "(bilstm_attention) or featurize with --set normalize=none")
    return kind


def build_model(architecture: str, *, n_classes: int, feature_kind: str, frame_dims: int,
                pooled_dims: int, image_frames: int, spec_augment: bool = False,
                input_noise: float = 0.0, normalization: dict | None = None) -> keras.Model:
    """Builds ``architecture`` for features of the given shape (see
    check_features); an ``ENSEMBLES`` name has no single builder: build each
    of :func:`member_architectures` instead. With ``normalization`` (the
    train statistics, ``dataset.normalization``) the model standardises its
    input itself (:class:`Standardize`); without, it expects standardised
    input."""
    from sentiment_model.errors import ConfigError

    if architecture in ENSEMBLES:
        raise ConfigError(f"{architecture} is an ensemble of "
                          f"{', '.join(ENSEMBLES[architecture])}: build its members")
    kind = check_features(architecture, feature_kind=feature_kind, frame_dims=frame_dims,
                          image_frames=image_frames)
    builder = ARCHITECTURES[architecture][0]
    standardize = None if normalization is None else standardize_layer(normalization, kind)
    if kind == "image":
        return builder(n_classes, image_size=frame_dims, standardize=standardize)
    if kind == "pooled_sequence":
        return builder(n_classes, input_dims=pooled_dims, standardize=standardize)
    if not architectures.get(architecture).sequence_training:
        return builder(n_classes, frame_dims=frame_dims, standardize=standardize)
    return builder(n_classes, frame_dims=frame_dims, spec_augment=spec_augment,
                   input_noise=input_noise, standardize=standardize)
