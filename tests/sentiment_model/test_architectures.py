import pytest

from sentiment_model import architectures
from sentiment_model.errors import ConfigError


def test_every_entry_is_buildable_and_its_facts_agree():
    from sentiment_model import models

    singles = {n for n, a in architectures.REGISTRY.items() if not a.members}
    assert singles == set(models.ARCHITECTURES)
    assert set(models.ENSEMBLES) == set(architectures.REGISTRY) - singles == {"bilstm_stats"}
    for name, entry in architectures.REGISTRY.items():
        assert entry.name == name and entry.summary
        assert entry.optimizer in ("adam", "rmsprop")
        for member in entry.members:
            assert member in singles
        if entry.members:
            assert len({architectures.get(m).input_kind for m in entry.members}) == 1
    assert architectures.DEFAULT == models.DEFAULT_ARCHITECTURE == "bilstm_stats"


def test_the_study_models_train_as_the_study_did():
    study = {n for n, a in architectures.REGISTRY.items() if a.study}
    assert study == {"seed_bilstm", "seed_lstm", "seed_cnn2d"}
    for name in study:
        entry = architectures.get(name)
        assert entry.optimizer == "rmsprop" and entry.schedule == architectures.STUDY_SCHEDULE
    assert architectures.get("bilstm_stats").schedule == {"epochs": 40, "patience": 8,
                                                          "min_epochs": 1}
    assert architectures.get("frame_stats").learning_rate == 1e-3
    assert architectures.members("bilstm_stats") == ("bilstm_attention", "frame_stats")
    assert architectures.members("seed_cnn2d") == ("seed_cnn2d",)
    with pytest.raises(ConfigError, match="unknown architecture 'cnn'; choose one of seed_"):
        architectures.get("cnn")
