"""train's second number: the test files through score's path equal what
score + evaluate give on the same files."""

from __future__ import annotations

import csv
import os

import pytest

from pipelines import evaluate
from sentiment_model import dataset, score_check
from sentiment_model.model_card import ModelCard
from tests.conftest import score_into


def test_the_score_path_uar_train_records_is_what_score_and_evaluate_give(scoring_model,
                                                                          tmp_path):
    card = ModelCard.read(scoring_model)
    recorded = card.metrics["test_score_path"]
    features = dataset.load_feature_set(os.path.join(os.path.dirname(scoring_model),
                                                     "features"))
    recordings = score_check.labelled_recordings(features, "test")
    assert len(recordings) == features.examples("test") == recorded["n"] + recorded["rejected"]
    assert all(channel == -1 for _, channel, _ in recordings)  # mono mixes
    manifest, labels_csv = tmp_path / "test.txt", tmp_path / "labels.csv"
    manifest.write_text("".join(f"{uri}\n" for uri, _, _ in recordings))
    vocabulary = card.labels
    with open(labels_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label"])
        w.writerows([uri, vocabulary[label]] for uri, _, label in recordings)
    out = str(tmp_path / "scores")
    score_into(out, "--input", str(manifest), "--model-dir", scoring_model)  # score's defaults
    got = evaluate.evaluate(scores=out, labels_uri=str(labels_csv))
    assert got["counts"]["evaluated"] == recorded["n"]
    assert got["uar"] == pytest.approx(recorded["uar"], abs=1e-9)
    assert got["accuracy"] == pytest.approx(recorded["accuracy"], abs=1e-9)
    assert recorded["unreadable"] == 0


def test_models_reporting_label_groups_or_splits_without_labels_have_no_score_path(
        scoring_model):
    import dataclasses

    from sentiment_model.inference import load_model_dir

    loaded = load_model_dir(scoring_model)
    features = dataset.load_feature_set(os.path.join(os.path.dirname(scoring_model),
                                                     "features"))
    grouped = dataclasses.replace(loaded, card=dataclasses.replace(
        loaded.card, label_groups={"classes": ["a"], "groups": ["b"]}))
    assert score_check.score_path_metrics(grouped, features) is None
    assert score_check.score_path_metrics(loaded, features, split="no-such-split") is None
