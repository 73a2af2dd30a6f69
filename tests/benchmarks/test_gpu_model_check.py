"""benchmarks.gpu_model_check: the parts that compare numbers (run here on the CPU)."""

import json
import os

import numpy as np
import pytest

from benchmarks import gpu_model_check


def test_padded_frames_are_right_padded_with_zeros():
    x, lengths = gpu_model_check.padded_frames(np.random.default_rng(0), n=8, time_steps=20,
                                               dims=3)
    assert x.shape == (8, 20, 3) and x.dtype == np.float32
    assert lengths.min() >= 2 and lengths.max() <= 20
    for row, t in zip(x, lengths, strict=True):
        assert np.all(row[:t] != 0.0) and np.all(row[t:] == 0.0)


def test_statistics_check_agrees_with_numpy_on_this_backend():
    diffs = gpu_model_check.statistics_check()
    assert list(diffs) == ["mean", "std", "min", "max", "p10", "p50", "p90",
                           "mean_abs_change", "rms_change"]
    assert max(diffs.values()) < 1e-5
    # min, max and the nearest-rank percentiles pick values: exact
    assert all(diffs[k] == 0.0 for k in ("min", "max", "p10", "p50", "p90"))


def test_reference_round_trip_and_a_changed_model_is_caught(scoring_model, tmp_path):
    reference = str(tmp_path / "reference")
    gpu_model_check.prepare_reference(scoring_model, reference)
    assert sorted(os.listdir(reference)) == ["model.keras", "model_card.json", "reference.npz"]
    saved = np.load(os.path.join(reference, "reference.npz"))
    assert saved["x"].shape[:2] == (64, 301) and saved["probs"].shape == (64, 3)

    result = gpu_model_check.reference_check(reference)
    with open(os.path.join(scoring_model, "model_card.json")) as f:
        card = json.load(f)
    assert result["architecture"] == card["architecture"] == "bilstm_stats"
    assert result["parameters"] == card["parameters"]
    assert result["inputs"] == 64 and result["same_argmax"] == 64
    assert result["max_abs_diff"] < 1e-5

    # the saved probabilities stand for another machine's: shift them and the
    # check reports the difference
    probs = saved["probs"].copy()
    probs[:, 0] += 0.25
    np.savez(os.path.join(reference, "reference.npz"), x=saved["x"], probs=probs)
    assert gpu_model_check.reference_check(reference)["max_abs_diff"] == pytest.approx(
        0.25, abs=1e-5)
