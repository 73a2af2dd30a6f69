import numpy as np

from benchmarks import feature_screen as fs


def test_pooled_statistics_are_frame_stats_statistics():
    from sentiment_model import models

    rng = np.random.default_rng(0)
    frames = rng.standard_normal((37, 5)).astype(np.float32)
    layer = models.MaskedStatistics(percentiles=fs.PERCENTILES, deltas=True)
    want = np.asarray(layer(frames[None]))[0].reshape(len(fs.STAT_NAMES), 5)
    np.testing.assert_allclose(fs.pooled_statistics(frames), want, rtol=1e-5, atol=1e-5)


def test_column_groups_cover_the_screened_frames_once_and_the_sets_pick_them():
    cfg = fs.screen_config()
    groups = fs.column_groups()
    cols = np.concatenate(list(groups.values()))
    np.testing.assert_array_equal(cols, np.arange(cfg.frame_dims))
    assert {k: len(v) for k, v in groups.items()} == {
        "mfcc": 40, "deltas": 40, "prosody": 3, "spectral": 14, "voice": 256}
    stats = np.arange(2 * len(fs.STAT_NAMES) * cfg.frame_dims, dtype=np.float32).reshape(
        2, len(fs.STAT_NAMES), cfg.frame_dims)
    x = fs.design({"stats": stats, "classical": np.zeros((2, 4))}, "voice")
    # the default preset's columns: MFCCs, spectral shape, voice, every statistic
    assert x.shape == (2, len(fs.STAT_NAMES) * (40 + 14 + 256))
    np.testing.assert_array_equal(x[0, :40], np.arange(40))
    np.testing.assert_array_equal(x[0, 40:54], np.arange(83, 97))
    assert fs.design({"stats": stats, "classical": np.ones((2, 4))}, "classical").shape == (2, 4)
