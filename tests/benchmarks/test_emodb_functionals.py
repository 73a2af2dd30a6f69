"""The functionals screen's helpers, on seeded synthetic data (no EMO-DB)."""

import numpy as np
import pytest
from scipy import stats

from benchmarks import emodb_functionals as bench


def test_functionals_are_the_moments_percentiles_and_ranges_per_column():
    rng = np.random.default_rng(0)
    frames = np.stack([rng.normal(2.0, 3.0, 500), rng.exponential(1.0, 500)], axis=1)
    got = bench.functionals(frames).reshape(11, 2)  # grouped by functional
    np.testing.assert_allclose(got[0], frames.mean(axis=0))
    np.testing.assert_allclose(got[1], frames.std(axis=0))
    np.testing.assert_allclose(got[2], stats.skew(frames, axis=0))
    np.testing.assert_allclose(got[3], stats.kurtosis(frames, axis=0, fisher=False))
    q = np.percentile(frames, [1, 25, 50, 75, 99], axis=0)
    np.testing.assert_allclose(got[4:9], q)
    np.testing.assert_allclose(got[9], q[3] - q[1])
    np.testing.assert_allclose(got[10], q[4] - q[0])
    assert got[2, 1] > 1.5 and abs(got[2, 0]) < 0.3  # the exponential column is skewed


def test_frame_functionals_pool_the_presets_frames():
    rate = 8000  # resampled to the presets' 16 kHz first
    t = np.arange(rate) / rate
    y = (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    got = bench.frame_functionals(y, rate)
    assert got["mfcc40"].shape == (11 * 40,)
    assert got["spectral"].shape == (2 * 11 * 14,)  # the 14 columns and their deltas
    centroid_median_khz = got["spectral"][6 * 14]  # percentile 50 of column 0
    assert centroid_median_khz == pytest.approx(0.3, abs=0.05)


def _speakers_data(seed: int, *, separable: bool):
    """6 speakers x 30 clips, 3 classes; the class shifts column 0 when separable."""
    rng = np.random.default_rng(seed)
    y = np.tile(np.arange(3), 60)
    speakers = np.repeat(np.array([f"s{k}" for k in range(6)]), 30)
    x = rng.normal(size=(180, 8))
    if separable:
        x[:, 0] += 3.0 * y
    return x, y, speakers


def test_loso_separates_a_separable_signal_and_chooses_c_inside_each_fold():
    x, y, speakers = _speakers_data(0, separable=True)
    pred, chosen = bench.loso(x, y, speakers)
    assert pred.shape == y.shape
    assert bench.uar(y, pred) > 0.9
    assert len(chosen) == 6 and set(chosen) <= set(bench.C_GRID)


def test_loso_stays_near_chance_without_a_signal():
    x, y, speakers = _speakers_data(1, separable=False)
    pred, _ = bench.loso(x, y, speakers)
    assert bench.uar(y, pred) < 0.5


def test_uar_averages_the_recall_of_each_class():
    y = np.array([0, 0, 0, 0, 1, 1])
    pred = np.array([0, 0, 0, 1, 1, 0])
    assert bench.uar(y, pred) == pytest.approx((3 / 4 + 1 / 2) / 2)
