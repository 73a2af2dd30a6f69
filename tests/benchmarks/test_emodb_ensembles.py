import numpy as np

from benchmarks.emodb_ensembles import combinations, member_models
from sentiment_model import inference, models


def loaded(model, runs):
    return inference.LoadedModel(model=model, card={"architecture": "bilstm_stats",
                                                    "ensemble": runs},
                                 feature_config=None, labels=("a", "b", "c"),
                                 input_kind="frames")


def test_member_models_are_the_members_of_an_exported_average():
    first, second = models.frame_stats(3, frame_dims=4), models.frame_stats(3, frame_dims=4)
    second.get_layer("probabilities").set_weights(
        [np.ones((16, 3), np.float32) * np.arange(3), np.zeros(3, np.float32)])
    both = loaded(models.average_ensemble([first, second]),
                  [{"seed": 0, "architecture": "bilstm_attention"},
                   {"seed": 0, "architecture": "frame_stats"}])
    parts = member_models(both)
    assert [arch for arch, _ in parts] == ["bilstm_attention", "frame_stats"]
    x = np.random.default_rng(0).standard_normal((2, 9, 4)).astype(np.float32)
    alone = [np.asarray(m.model.predict_on_batch(x)) for _, m in parts]
    np.testing.assert_allclose(alone[0], first.predict_on_batch(x), rtol=1e-6)
    np.testing.assert_allclose(alone[1], second.predict_on_batch(x), rtol=1e-6)
    assert not np.allclose(alone[0], alone[1])
    np.testing.assert_allclose(both.model.predict_on_batch(x), np.mean(alone, axis=0),
                               rtol=1e-5, atol=1e-6)
    assert member_models(loaded(first, [{"seed": 0, "epochs_run": 1}])) == []
    grouped = loaded(models.group_model(both.model, np.eye(3)), both.card["ensemble"])
    grouped.card["model_version"] = "ab" * 32
    assert member_models(grouped) == []


def test_combinations_name_every_average():
    combos = combinations(["r1", "r2"], [0, 1])
    assert combos["r1, seed 0"] == [("r1", 0)]
    assert combos["r2, seeds 0+1"] == [("r2", 0), ("r2", 1)]
    assert combos["r1 + r2, seed 1"] == [("r1", 1), ("r2", 1)]
    assert combos["all"] == [("r1", 0), ("r1", 1), ("r2", 0), ("r2", 1)]
    assert len(combos) == 4 + 2 + 2 + 1
