import numpy as np
import pytest

from benchmarks import corpus_accuracy as ca
from sentiment_model.augment import RECOMMENDED


def _rows():
    rows = []
    for corpus, n_speakers in (("a", 7), ("b", 4)):
        for s in range(n_speakers):
            for label in ("negative", "neutral", "positive"):
                rows.append({"corpus": corpus, "speaker": f"{corpus}:{s}", "label": label,
                             "path": f"/{corpus}/{s}-{label}.wav"})
    return rows


def test_folds_never_share_a_speaker_and_cover_every_speaker_once():
    folds = ca.make_folds(_rows(), corpora_names=["a", "b"], n_folds=3)
    names = [f.name for f in folds]
    assert names == ["within-a-1", "within-a-2", "within-a-3", "within-b-1", "within-b-2",
                     "within-b-3", "loco-a", "loco-b"]
    for f in folds:
        sets = [set(f.train), set(f.eval), set(f.test)]
        assert all(sets) and not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    tested = [s for f in folds if f.name.startswith("within-a") for s in f.test]
    assert sorted(tested) == [f"a:{s}" for s in range(7)]
    loco = folds[6]
    assert set(loco.test) == {f"a:{s}" for s in range(7)}
    assert set(loco.train) | set(loco.eval) == {f"b:{s}" for s in range(4)}


def test_summarise_counts_rejections_and_scores_the_rest():
    probs = [np.array([0.8, 0.1, 0.1]), None, np.array([0.1, 0.2, 0.7]),
             np.array([0.2, 0.5, 0.3])]
    out = ca.summarise(["negative", "neutral", "positive", "positive"], probs,
                       ("negative", "neutral", "positive"))
    assert out["n"] == 4 and out["rejected"] == pytest.approx(0.25)
    assert out["accuracy"] == pytest.approx(2 / 3)
    assert out["uar"] == pytest.approx((1 + 0.5) / 2)  # neutral has no scored file


def test_the_telephone_recipes_use_the_products_recommended_copies():
    assert ca.RECIPES["stats_tel"][2] == ca.RECIPES["default_tel"][2] == RECOMMENDED
    assert ca.RECIPES["voice_tel"] == ("default", "frame_stats", RECOMMENDED, {})
    assert ca.RECIPES["stats_tel"][0] == "spectral"  # as measured before the voice columns
    assert ca.RECIPES["stats"][2] == ca.NOISE_SPEED and "telephone" not in ca.NOISE_SPEED


def test_the_ece_floor_is_the_sampling_noise_of_a_calibrated_model_and_shrinks_with_n():
    rng = np.random.default_rng(3)
    floors = []
    for n in (100, 2000):
        probs = rng.dirichlet([2.0, 1.0, 1.0], size=n)
        floors.append(ca.ece_floor(probs, draws=100))
        assert ca.ece_floor(probs, draws=100) == floors[-1]  # seeded
    assert 0.04 < floors[0] < 0.15 and floors[1] < 0.03 and floors[1] < floors[0] / 3
    sure = np.tile([1.0, 0.0, 0.0], (50, 1))  # certain and always right: no noise at all
    assert ca.ece_floor(sure) == pytest.approx(0.0)


def test_the_pooled_report_scores_every_fold_s_files_together():
    labels = ("negative", "neutral", "positive")
    right, wrong = [0.9, 0.05, 0.05], [0.05, 0.05, 0.9]

    def result(truth, probs):
        out = ca.summarise([labels[t] for t in truth], [None if p is None else np.array(p)
                                                        for p in probs], labels)
        return {"wideband": {"score": out}, "telephone": {"score": out}}

    results = {("r", "within-a-1", 0): result([0, 1], [right, None]),
               ("r", "within-a-2", 0): result([0, 2], [wrong, wrong])}
    text = ca.pooled_report(results, recipes=["r"], corpora_names=["a"])
    row = [line for line in text.splitlines() if line.startswith("| r | score")]
    # 3 files kept: negative right and wrong (recall 0.5), positive right (1); neutral rejected
    assert row and row[0].split(" | ")[2].startswith("0.750 / ")
