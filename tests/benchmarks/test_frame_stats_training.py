import numpy as np
import pytest

from benchmarks import frame_stats_training as fst


def _blobs(n_per_class: int, *, seed: int, scale: float = 50.0):
    """Three Gaussian classes in 6 dimensions, far from standardised (offset
    and scale), as clip statistics are."""
    rng = np.random.default_rng(seed)
    centres = 4.0 * np.eye(3, 6)
    x = np.concatenate([rng.standard_normal((n_per_class, 6)) + c for c in centres])
    y = np.repeat(np.arange(3), n_per_class)
    return (x * scale + 100.0).astype(np.float32), y


@pytest.mark.parametrize("variant", ["batch_norm", "bn_fixed_l2_lr", "fixed_norm"])
def test_each_head_learns_separable_statistics_whatever_their_scale(variant):
    x_train, y_train = _blobs(400, seed=0)  # lr 1e-3 needs the steps
    x_eval, y_eval = _blobs(20, seed=1)
    x_test, y_test = _blobs(40, seed=2)
    (probs,), epochs = fst.fit_head(x_train, y_train, x_eval, y_eval, [x_test], seed=0,
                                    **fst.VARIANTS[variant])
    assert 1 <= epochs <= 40
    assert probs.shape == (120, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    recall = [np.mean(probs[y_test == k].argmax(axis=1) == k) for k in range(3)]
    assert min(recall) > 0.8


def test_groups_are_corpora_within_and_folds_left_out():
    assert fst._group("within-emodb-dev-2") == "within-emodb-dev"
    assert fst._group("loco-turev") == "loco-turev"


def test_the_cross_fitted_temperature_flattens_a_head_that_learnt_nothing():
    x, y = _blobs(60, seed=4)
    speakers = np.tile(np.arange(6), 30)
    options = fst.VARIANTS["fixed_norm"]
    separable = fst.cv_temperature(x, x, y, speakers, epochs=20, seed=0, options=options)
    shuffled = np.random.default_rng(0).permutation(y)
    noise = fst.cv_temperature(x, x, shuffled, speakers, epochs=20, seed=0, options=options)
    # labels it cannot predict: out of fold it is sure and wrong, so T flattens it
    assert noise > 2.0 and separable < noise
