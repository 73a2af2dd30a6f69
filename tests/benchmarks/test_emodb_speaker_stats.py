"""The one-tone benchmark's helpers, on seeded synthetic features (no EMO-DB)."""

import numpy as np

from benchmarks import emodb_speaker_stats as bench

EMOTIONS = np.array(["anger", "neutral", "sadness", "happiness"] * 6)  # 24 clips, 4 kinds


def features(seed: int = 0) -> np.ndarray:
    """Clip features [24, 5] whose level depends on the emotion."""
    rng = np.random.default_rng(seed)
    level = {"anger": 3.0, "neutral": 0.0, "sadness": -2.0, "happiness": 1.5}
    return np.array([[level[e]] * 5 for e in EMOTIONS]) + rng.normal(size=(24, 5))


def test_random_subsets_are_all_one_or_a_few_emotions():
    rng = np.random.default_rng(0)
    subsets = bench.random_subsets(EMOTIONS, n=300, rng=rng)
    kinds = [len(set(EMOTIONS[s].tolist())) for s in subsets]
    assert set(kinds) == {1, 2, 3, 4}
    for subset in subsets:
        chosen = set(EMOTIONS[subset].tolist())
        # a subset holds every clip of the emotions it draws, nothing else
        np.testing.assert_array_equal(subset, np.flatnonzero(np.isin(EMOTIONS, list(chosen))))
    shares = np.bincount(kinds, minlength=5)[1:] / len(kinds)
    assert abs(shares[0] - bench.P_ONE) < 0.08
    assert abs(shares[3] - bench.P_ALL) < 0.08


def test_one_tone_statistics_remove_the_level_that_all_clips_keep():
    x = features()
    got = bench.test_relative(x, EMOTIONS, rng=np.random.default_rng(0))
    np.testing.assert_allclose(got["all"], bench.standardise(x, x))
    anger = EMOTIONS == "anger"
    # measured against the anger clips alone, anger sits at zero ...
    np.testing.assert_allclose(got["one_tone"][anger].mean(axis=0), 0.0, atol=1e-9)
    # ... while against all the speaker's clips it stands well above them
    assert (got["all"][anger].mean(axis=0) > 0.8).all()
    # mixed: the clip's own emotion and one or two others
    assert not np.allclose(got["mixed"][anger], got["one_tone"][anger])


def test_training_set_weights_each_speaker_by_its_clip_count():
    x = np.vstack([features(0), features(1)])
    y = np.tile(np.arange(3), 16)
    emotions = np.concatenate([EMOTIONS, EMOTIONS])
    speakers = np.array(["a"] * 24 + ["b"] * 24)
    rng = np.random.default_rng(0)
    for name in bench.INPUTS:
        tx, ty, tw = bench.training_set(name, x, y, emotions, speakers, rng=rng)
        assert tx.shape[1] == (10 if name.startswith("both") else 5)
        assert len(tx) == len(ty) == len(tw)
        np.testing.assert_allclose(tw.sum(), 48.0)
        if not name.endswith("_subsets"):
            np.testing.assert_array_equal(ty, y)
            np.testing.assert_allclose(tw, 1.0)
    absolute, _, _ = bench.training_set("absolute", x, y, emotions, speakers, rng=rng)
    np.testing.assert_array_equal(absolute, x)
