import dataclasses

import numpy as np
import pytest

from benchmarks.emodb_accuracy import CONDITIONS, noisy_test_audio
from benchmarks.emodb_ensembles import combinations, member_models, seed_windows
from sentiment_model import inference, models
from sentiment_model.config import FeatureConfig
from sentiment_model.model_card import ModelCard


def loaded(model, runs):
    card = ModelCard(model_version="0" * 64, architecture="bilstm_stats", input_kind="frames",
                     labels=("a", "b", "c"), feature=FeatureConfig(), normalization={},
                     schema_version=1, details={"ensemble": runs})
    return inference.LoadedModel(model=model, card=card)


def test_member_models_are_the_members_of_an_exported_average():
    first, second = models.frame_stats(3, frame_dims=4), models.frame_stats(3, frame_dims=4)
    kernel, bias = second.get_layer("probabilities").get_weights()
    second.get_layer("probabilities").set_weights(
        [np.ones_like(kernel) * np.arange(3), np.zeros_like(bias)])
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
    grouped = loaded(models.group_model(both.model, np.eye(3)), both.card.details["ensemble"])
    grouped = dataclasses.replace(grouped, card=dataclasses.replace(grouped.card,
                                                                    model_version="ab" * 32))
    assert member_models(grouped) == []


def test_combinations_name_every_average():
    combos = combinations(["r1", "r2"], [0, 1])
    assert combos["r1, seed 0"] == [("r1", 0)]
    assert combos["r2, seeds 0+1"] == [("r2", 0), ("r2", 1)]
    assert combos["r1 + r2, seed 1"] == [("r1", 1), ("r2", 1)]
    assert combos["all"] == [("r1", 0), ("r1", 1), ("r2", 0), ("r2", 1)]
    assert len(combos) == 4 + 2 + 2 + 1


def test_seed_windows_are_the_members_of_each_ensemble_run():
    assert seed_windows([0, 1, 2, 3, 4], 3) == [[0, 1, 2], [1, 2, 3], [2, 3, 4]]
    assert seed_windows([0, 1, 3, 4], 2) == [[0, 1], [3, 4]]
    assert seed_windows([0, 2, 4], 2) == []
    combos = combinations(["r"], [0, 1, 2, 3], ensemble=3)
    assert combos["r, --ensemble 3 --seed 0"] == [("r", 0), ("r", 1), ("r", 2)]
    assert combos["r, --ensemble 3 --seed 1"] == [("r", 1), ("r", 2), ("r", 3)]
    assert "r, --ensemble 3 --seed 2" not in combos
    assert len(combos) == 4 + 1 + 2


def test_noisy_test_audio_mixes_babble_from_training_speakers_only():
    rng = np.random.default_rng(0)
    counts = {"a": 3, "b": 8, "c": 40}  # test speaker a, eval speaker b (the next one)
    rows = [{"abs": f"/{spk}{i}.wav", "path": f"{spk}{i}.wav", "speaker": spk}
            for spk, n in counts.items() for i in range(n)]
    audio = {r["abs"]: (0.01 * rng.standard_normal(800).astype(np.float32), 16000)
             for r in rows if r["speaker"] == "c"}
    # the eval speaker's clips are a constant offset: none may reach the babble
    audio.update({r["abs"]: (np.full(800, 0.5, np.float32), 16000)
                  for r in rows if r["speaker"] == "b"})
    test = {r["abs"]: (np.sin(np.arange(800) / (5 + i)).astype(np.float32), 16000)
            for i, r in enumerate(rows[:3])}
    audio.update(test)
    got = noisy_test_audio(rows, audio, test_spk="a", speakers=["a", "b", "c"])
    assert sorted(got) == sorted(test)
    for path, by_cond in got.items():
        assert list(by_cond) == list(CONDITIONS)
        clean = test[path][0]
        np.testing.assert_array_equal(by_cond["clean"], clean)
        for cond in CONDITIONS[1:]:
            noise = by_cond[cond] - clean
            snr = 10 * np.log10(np.mean(clean.astype(np.float64) ** 2) / np.mean(noise ** 2))
            assert snr == pytest.approx(int(cond.split("_")[1]), abs=0.05)
        babble = by_cond["babble_5"] - clean
        assert abs(np.mean(babble)) < 0.1 * np.std(babble)
    # the same clip gets the same noise in every call (seeded by its path)
    again = noisy_test_audio(rows, audio, test_spk="a", speakers=["a", "b", "c"])
    np.testing.assert_array_equal(again["/a1.wav"]["white_10"], got["/a1.wav"]["white_10"])
