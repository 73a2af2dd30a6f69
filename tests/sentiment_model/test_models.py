import os

import keras
import numpy as np
import pytest

from sentiment_model import models
from sentiment_model.errors import ConfigError


@pytest.mark.parametrize(("builder", "expected"), [
    (models.seed_bilstm, 1_467_651),
    (models.seed_lstm, 645_123),
    (models.seed_cnn2d, 3_588_803),
])
def test_seed_models_have_the_studys_parameter_counts(builder, expected):
    model = builder(3)
    assert model.count_params() == expected
    assert model.output_shape == (None, 3)


def test_attention_model_ignores_padding_and_round_trips_with_safe_mode(tmp_path):
    keras.utils.set_random_seed(0)
    model = models.bilstm_attention(4, frame_dims=6, units=8)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 20, 6)).astype(np.float32)
    padded = np.concatenate([x, np.zeros((1, 15, 6), np.float32)], axis=1)
    a = model.predict_on_batch(x)
    b = model.predict_on_batch(padded)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.sum(), 1.0, rtol=1e-5)
    path = os.path.join(tmp_path, "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict_on_batch(padded), b, rtol=1e-6, atol=1e-7)


def _stats(dims: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {"mean": rng.normal(5.0, 3.0, dims).tolist(),
            "std": rng.uniform(0.5, 4.0, dims).tolist()}


@pytest.mark.parametrize(("architecture", "kind", "shape"), [
    ("bilstm_attention", "frames", (30, 6)),
    ("frame_stats", "frames", (30, 6)),
    ("seed_lstm", "pooled_sequence", (1, 12)),
    ("seed_cnn2d", "image", (128, 128, 1)),
])
def test_the_model_standardises_its_input_as_standardising_before_it_did(
        tmp_path, architecture, kind, shape):
    """Raw features into a model built with the train statistics give the
    outputs of the same weights fed features standardised first and then
    right-padded with zeros (the padding stays masked)."""
    dims = 128 if kind == "image" else shape[-1]
    norm = {"frames": _stats(dims, 1), "pooled": _stats(dims if kind != "pooled_sequence"
                                                         else shape[-1], 2)}
    feature_kind = "logmel_image" if kind == "image" else "mfcc"
    kwargs = {"n_classes": 3, "feature_kind": feature_kind, "frame_dims": dims,
              "pooled_dims": shape[-1], "image_frames": 128 if kind == "image" else 300}
    keras.utils.set_random_seed(0)
    inside = models.build_model(architecture, normalization=norm, **kwargs)
    before = models.build_model(architecture, **kwargs)
    before.set_weights(inside.get_weights())
    assert inside.count_params() == before.count_params()  # statistics, no weights
    stats = norm["pooled" if kind == "pooled_sequence" else "frames"]
    mean, std = np.asarray(stats["mean"]), np.asarray(stats["std"])
    rng = np.random.default_rng(3)
    raw = (rng.standard_normal((2, *shape)) * 3.0 + 5.0).astype(np.float32)
    if kind == "image":
        standardised = ((raw[..., 0] - mean) / std)[..., None]
    else:
        standardised = (raw - mean) / std
    if kind == "frames":  # the second example is 18 frames long, padded to 30
        raw[1, 18:] = 0.0
        standardised[1, 18:] = 0.0
    want = before.predict_on_batch(standardised.astype(np.float32))
    got = inside.predict_on_batch(raw)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    if kind == "frames":  # the padded example scores as its 18 real frames alone
        alone = inside.predict_on_batch(raw[1:, :18])
        np.testing.assert_allclose(alone, got[1:], rtol=1e-4, atol=1e-5)
    path = os.path.join(tmp_path, "m.keras")
    inside.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict_on_batch(raw), got, rtol=1e-6, atol=1e-7)
    assert loaded.get_layer("input_standardisation").mean == stats["mean"]


def test_build_model_checks_features_fit_the_architecture():
    kwargs = {"n_classes": 3, "frame_dims": 120, "pooled_dims": 240, "image_frames": 128}
    assert models.build_model("seed_bilstm", feature_kind="mfcc", **kwargs).input_shape == (
        None, 1, 240)
    assert models.build_model("bilstm_attention", feature_kind="mfcc", **kwargs).input_shape \
        == (None, None, 120)
    with pytest.raises(ConfigError, match="seed_cnn2d"):
        models.build_model("seed_cnn2d", feature_kind="mfcc", **kwargs)
    with pytest.raises(ConfigError, match="unknown architecture"):
        models.build_model("transformer", feature_kind="mfcc", **kwargs)


def test_masked_statistics_equal_numpy_over_the_real_frames():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 12, 5)).astype(np.float32)
    lengths = [12, 7, 0]
    for i, n in enumerate(lengths):
        x[i, n:] = 0.0
    x[1, 2, 0] = 0.0  # one zero value inside a real frame stays data
    stats = np.asarray(models.MaskedStatistics()(keras.ops.convert_to_tensor(x),
                                                 mask=keras.ops.convert_to_tensor(
                                                     np.abs(x).sum(-1) > 0)))
    assert stats.shape == (3, 20)
    for i, n in enumerate(lengths[:2]):
        real = x[i, :n]
        expected = np.concatenate([real.mean(0), np.sqrt(real.var(0) + 1e-6), real.min(0),
                                   real.max(0)])
        np.testing.assert_allclose(stats[i], expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(stats[2], np.r_[np.zeros(5), np.full(5, 1e-3), np.zeros(10)],
                               atol=1e-6)

    # frame_stats' set: also the 10th, 50th and 90th percentiles and the
    # frame-to-frame changes, over the real frames only
    rich = models.MaskedStatistics(percentiles=(10, 50, 90), deltas=True)
    assert rich.n_stats == 9
    got = np.asarray(rich(keras.ops.convert_to_tensor(x),
                          mask=keras.ops.convert_to_tensor(np.abs(x).sum(-1) > 0)))
    assert got.shape == (3, 45)
    np.testing.assert_allclose(got[:, :20], stats, rtol=1e-6)
    for i, n in enumerate(lengths[:2]):
        real = x[i, :n]
        pct = [np.sort(real, axis=0)[int(np.round(q / 100 * (n - 1)))] for q in (10, 50, 90)]
        np.testing.assert_allclose(pct, np.percentile(real, (10, 50, 90), axis=0,
                                                      method="nearest"))
        step = np.diff(real, axis=0)
        expected = np.concatenate([*pct, np.abs(step).mean(0),
                                   np.sqrt(np.square(step).mean(0) + 1e-6)])
        np.testing.assert_allclose(got[i, 20:], expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[2, 20:], np.r_[np.zeros(20), np.full(5, 1e-3)], atol=1e-6)
    # a saved layer keeps its statistics; one saved before the options had the four
    config = rich.get_config()
    assert models.MaskedStatistics.from_config(config).n_stats == 9
    del config["percentiles"], config["deltas"]
    assert models.MaskedStatistics.from_config(config).n_stats == 4


def test_frame_stats_is_a_padding_blind_linear_model_that_round_trips(tmp_path):
    model = models.frame_stats(3, frame_dims=54)
    assert model.count_params() == 9 * 54 * (3 + 2) + 3 + 1 == 2_434
    assert models.frame_stats(3, frame_dims=54, percentiles=(), deltas=False
                              ).count_params() == 4 * 54 * (3 + 2) + 3 + 1
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 30, 54)).astype(np.float32)
    padded = np.concatenate([x, np.zeros((2, 25, 54), np.float32)], axis=1)
    assert models.fit_statistics_moments(model, [3.0 * x + 1.0, padded])
    a, b = model.predict_on_batch(x), model.predict_on_batch(padded)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b.sum(axis=1), 1.0, rtol=1e-5)
    path = os.path.join(tmp_path, "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict_on_batch(padded), b, rtol=1e-6, atol=1e-7)


def test_fit_statistics_moments_standardises_the_statistics_of_the_data(tmp_path):
    rng = np.random.default_rng(1)
    frames = (2.0 * rng.standard_normal((24, 40, 4)) + 3.0).astype(np.float32)
    frames[:, :, 3] = 5.0  # a constant feature: its std, min-max spread... are constant
    frames[:6, 25:] = 0.0  # padding: the statistics are of the real frames only
    model = models.frame_stats(3, frame_dims=4)
    statistics = keras.Model(model.inputs[0], model.get_layer("statistics").output)
    raw = statistics(frames).numpy().astype(np.float64)  # [24, 36]
    batches = [(frames[:10], np.zeros(10)), (frames[10:], np.zeros(14), np.ones(14))]
    assert models.fit_statistics_moments(model, batches)
    layer = model.get_layer("standardise")
    np.testing.assert_allclose(layer.adapt_mean.numpy(), raw.mean(axis=0), rtol=1e-5,
                               atol=1e-5)
    floored = np.maximum(raw.var(axis=0), models.STATISTICS_VARIANCE_FLOOR)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), floored, rtol=1e-4, atol=1e-7)
    assert int(layer.count.numpy()) == 24
    out = keras.Model(model.inputs[0], layer.output)(frames).numpy()
    varying = raw.var(axis=0) > models.STATISTICS_VARIANCE_FLOOR
    assert 0 < varying.sum() < raw.shape[1]  # the constant feature's statistics are floored
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(out[:, varying].std(axis=0), 1.0, rtol=1e-3)
    assert np.abs(out[:, ~varying]).max() < 1e-2  # constant: not divided by ~0
    # the moments are weights: saved and loaded with the model
    path = os.path.join(tmp_path, "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict_on_batch(frames), model.predict_on_batch(frames),
                               rtol=1e-6, atol=1e-7)
    # other architectures have nothing to set; no data is an error
    assert not models.fit_statistics_moments(models.bilstm_attention(3, frame_dims=4, units=4),
                                             batches)
    with pytest.raises(ValueError, match="no examples"):
        models.fit_statistics_moments(model, [])


@pytest.mark.parametrize("architecture, kind, rate", [
    ("seed_bilstm", keras.optimizers.RMSprop, 1e-3),
    ("seed_cnn2d", keras.optimizers.RMSprop, 1e-3),
    ("bilstm_attention", keras.optimizers.Adam, 1e-3),
    ("frame_stats", keras.optimizers.Adam, 1e-3),
])
def test_optimizer_for_each_architecture_and_a_given_rate(architecture, kind, rate):
    optimizer, name = models.optimizer_for(architecture)
    assert type(optimizer) is kind and name == kind.__name__.lower()
    assert float(optimizer.learning_rate) == pytest.approx(rate)
    assert float(models.optimizer_for(architecture, 3e-4)[0].learning_rate) == (
        pytest.approx(3e-4))


def test_an_ensemble_architecture_names_members_of_one_input():
    assert models.member_architectures("bilstm_stats") == ("bilstm_attention", "frame_stats")
    assert models.member_architectures("seed_lstm") == ("seed_lstm",)
    assert models.check_features("bilstm_stats", feature_kind="mfcc", frame_dims=54,
                                 image_frames=128) == "frames"
    with pytest.raises(ConfigError, match="needs MFCC features"):
        models.check_features("bilstm_stats", feature_kind="logmel_image", frame_dims=128,
                              image_frames=128)
    with pytest.raises(ConfigError, match="build its members"):
        models.build_model("bilstm_stats", n_classes=3, feature_kind="mfcc", frame_dims=54,
                           pooled_dims=108, image_frames=128)


def test_spec_augment_masks_only_in_training_and_serialises(tmp_path):
    layer = models.SpecAugment(time_masks=2, time_width=5, feature_masks=1, feature_width=3,
                               seed=1)
    x = np.ones((4, 50, 12), np.float32)
    np.testing.assert_array_equal(layer(x, training=False), x)
    y = np.asarray(layer(x, training=True))
    assert set(np.unique(y)) <= {0.0, 1.0}
    zero_frames = (y == 0).all(axis=2).sum(axis=1)
    assert (zero_frames <= 10).all() and zero_frames.sum() > 0
    zero_cols = (y == 0).all(axis=1).sum(axis=1)
    assert (zero_cols <= 3).all()
    model = models.bilstm_attention(3, frame_dims=12, units=8, spec_augment=True)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict_on_batch(x), model.predict_on_batch(x),
                               rtol=1e-6)


def test_input_noise_is_training_only_and_serialises(tmp_path):
    from sentiment_model.errors import ConfigError
    from sentiment_model.train import TrainConfig

    x = np.random.default_rng(1).standard_normal((2, 30, 12)).astype(np.float32)
    model = models.bilstm_attention(3, frame_dims=12, units=8, input_noise=0.5)
    assert model.get_layer("input_noise").stddev == 0.5
    np.testing.assert_array_equal(model.predict_on_batch(x), model.predict_on_batch(x))
    assert not np.allclose(model(x, training=True), model(x, training=False))
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-6)
    off = models.bilstm_attention(3, frame_dims=12, units=8, input_noise=0.0)
    assert "input_noise" not in [layer.name for layer in off.layers]
    with pytest.raises(ConfigError, match="--input-noise"):
        TrainConfig(features="f", model_dir="m", architecture="seed_bilstm",
                    input_noise=0.1).validate()
    with pytest.raises(ConfigError, match="--input-noise"):
        TrainConfig(features="f", model_dir="m", input_noise=-1.0).validate()


def test_every_model_outputs_float32_probabilities_under_mixed_precision():
    cases = [("seed_bilstm", "mfcc", 128, (1, 128)), ("seed_lstm", "mfcc", 128, (1, 128)),
             ("seed_cnn2d", "logmel_image", 32, (32, 32, 1)),
             ("bilstm_attention", "mfcc", 40, (50, 40)), ("frame_stats", "mfcc", 40, (50, 40))]
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        for arch, kind, dims, shape in cases:
            model = models.build_model(arch, n_classes=3, feature_kind=kind, frame_dims=dims,
                                       pooled_dims=dims, image_frames=dims)
            x = np.random.default_rng(0).standard_normal((4, *shape)).astype("float32")
            if shape == (50, 40):
                x[1, 10:] = 0.0  # padding: masked with a large negative logit
            p = np.asarray(model.predict_on_batch(x))
            assert p.dtype == np.float32, arch
            np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    finally:
        keras.mixed_precision.set_global_policy("float32")
