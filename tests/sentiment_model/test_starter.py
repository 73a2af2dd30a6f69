"""The packaged starter model: loads like any model, carries a card a user
can trust, and is what score uses without --model-dir."""

from __future__ import annotations

import json
import logging
import os

import pandas as pd
import pytest

from sentiment_model import inference, starter, synth
from sentiment_model.errors import InputError
from sentiment_model.model_card import CARD_FILE, MODEL_FILE, ModelCard, model_digest
from tests.conftest import SCORE_ARGS, score_into, write_sentiment_clips


def test_the_packaged_model_loads_safely_and_its_card_is_signed():
    folder = starter.starter_dir()
    with open(os.path.join(folder, CARD_FILE)) as f:
        stored = json.load(f)
    assert model_digest(os.path.join(folder, MODEL_FILE), stored) == stored["model_version"]
    with open(os.path.join(folder, MODEL_FILE), "rb") as f:
        assert len(f.read()) < 5_000_000  # a few MB at most
    card = ModelCard.read(folder)
    loaded = inference.load_model_dir(folder)  # safe_mode and the digest check
    assert loaded.labels == ("negative", "neutral", "positive")
    assert card.calibration and card.calibration["method"] == "temperature"
    details = card.details
    assert [c["id"] for c in details["training_corpora"]] == ["emodb-dev", "ased"]
    assert all(c["citation"] and c["licence"] for c in details["training_corpora"])
    assert "never validated on real contact-centre calls" in details["limitations"]
    assert "audio-sentiment train" in details["limitations"]
    evaluation = details["evaluation"]
    assert evaluation["zero_shot"]["corpus"] == "turev"
    for figures in (evaluation["zero_shot"], *evaluation["held_out_speakers"].values()):
        for channel in ("wideband", "telephone"):
            assert 0.0 <= figures[channel]["uar"] <= 1.0
            assert 0.0 <= figures[channel]["ece"] <= 1.0
            assert figures[channel]["n"] > 0


def test_score_without_a_model_dir_uses_the_starter_model_and_says_so(tmp_path, caplog):
    audio = tmp_path / "audio"
    write_sentiment_clips(audio, synth.make_voices(2, seed=8)[1], duration_s=2.5)
    (audio / "broken.wav").write_text("not audio")
    out = str(tmp_path / "scores")
    with caplog.at_level(logging.INFO, logger="audio_sentiment"):
        record = score_into(out, "--input", str(audio), "--run-date", "2026-12-03",
                            *SCORE_ARGS)
    card = ModelCard.read(starter.starter_dir())
    first = next(r.getMessage() for r in caplog.records if r.name == "audio_sentiment")
    assert first.startswith("score: no --model-dir: scoring with the packaged "
                            "audio-sentiment starter model " + card.model_version[:12])
    assert "trained on EMO-DB (German) + ASED (Amharic)" in first
    assert record["model_version"] == card.model_version
    # the run names the starter model, which each worker resolves to its own copy
    assert record["config"]["model_dir"] == starter.REF
    assert record["accounting"] == {"matched": 4, "scored": 3, "rejected_only": 1, "lost": 0}
    tables = {t: pd.read_parquet(os.path.join(out, t, "run_date=2026-12-03"))
              for t in ("files", "segments", "errors")}
    assert len(tables["files"]) == 3 and set(tables["files"].model_version) == {
        card.model_version}
    assert set(tables["files"].label) <= {"negative", "neutral", "positive"}
    assert len(tables["segments"]) >= 3
    assert list(tables["errors"].error_type) == ["unreadable"]


def test_a_missing_starter_model_is_one_clear_line(monkeypatch):
    monkeypatch.setattr(starter, "FOLDER", "no_such_folder")
    with pytest.raises(InputError, match=r"no starter model; pass --model-dir .* make "
                                         r"starter-model"):
        starter.starter_dir()
