import numpy as np
import pytest

from sentiment_model import calibration


def _overconfident(n: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities that are right 70 % of the time but claim ~97 %."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    guess = np.where(rng.random(n) < 0.7, y, (y + rng.integers(1, 3, n)) % 3)
    logits = rng.normal(0, 0.3, (n, 3))
    logits[np.arange(n), guess] += 4.0
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True), y


def test_temperature_keeps_the_ranking_and_sums_to_one():
    p, _ = _overconfident(50)
    for t in (0.5, 1.0, 3.0):
        q = calibration.apply_temperature(p, t)
        np.testing.assert_allclose(q.sum(axis=1), 1.0)
        np.testing.assert_array_equal(q.argmax(axis=1), p.argmax(axis=1))
    np.testing.assert_allclose(calibration.apply_temperature(p, 1.0), p, atol=1e-6)
    # the inverse temperature undoes it
    np.testing.assert_allclose(calibration.apply_temperature(
        calibration.apply_temperature(p, 2.5), 1 / 2.5), p, atol=1e-6)


def test_fitting_a_temperature_lowers_nll_and_ece_of_an_overconfident_model():
    p, y = _overconfident(4000)
    t = calibration.fit_temperature(p, y)
    assert t > 1.5  # softens
    q = calibration.apply_temperature(p, t)
    assert calibration.nll(q, y) < calibration.nll(p, y)
    before = calibration.expected_calibration_error(p, y)
    after = calibration.expected_calibration_error(q, y)
    assert before > 0.2 and after < 0.05
    assert calibration.fit_temperature(np.zeros((0, 3)), np.zeros(0, int)) == 1.0


def test_ece_is_the_weighted_gap_between_confidence_and_accuracy():
    # 4 examples at confidence 0.9, 3 right (0.75): gap 0.15; 1 at 0.6, right: gap 0.4
    p = np.array([[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.4, 0.6]])
    y = np.array([0, 0, 0, 1, 1])
    rel = calibration.reliability(p, y)
    assert rel["ece"] == pytest.approx(4 / 5 * 0.15 + 1 / 5 * 0.4)
    filled = [b for b in rel["bins"] if b["n"]]
    assert [(b["low"], b["n"]) for b in filled] == [(pytest.approx(0.5), 1),
                                                    (pytest.approx(0.8), 4)]
    assert filled[1]["accuracy"] == 0.75
    assert calibration.reliability(np.zeros((0, 2)), np.zeros(0, int))["ece"] is None


def test_the_reliability_diagram_is_a_png(tmp_path):
    p, y = _overconfident(300)
    path = str(tmp_path / "r.png")
    calibration.plot_reliability({"as trained": calibration.reliability(p, y)}, path,
                                 title="test")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
