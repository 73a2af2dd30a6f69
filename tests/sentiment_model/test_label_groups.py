import csv
import json

import numpy as np
import pytest

from sentiment_model import label_groups
from sentiment_model.errors import ConfigError, InputError
from sentiment_model.label_groups import LabelGroups

EMOTIONS = ["anger", "boredom", "disgust", "fear", "happiness", "neutral", "sadness"]


def test_resolve_orders_groups_and_maps_class_ids():
    groups = LabelGroups.resolve(label_groups.EMOTION_SENTIMENT, EMOTIONS)
    assert groups.groups == ("negative", "neutral", "positive")
    assert groups.group_ids().tolist() == [0, 1, 0, 0, 2, 1, 0]


def test_weights_balance_the_groups_priors_only_for_class_weighted_models():
    groups = LabelGroups.resolve(label_groups.EMOTION_SENTIMENT, EMOTIONS)
    counts = np.array([84, 50, 22, 42, 46, 56, 39])
    balanced = groups.weights(balanced=True, class_counts=counts)
    assert balanced == {"negative": 0.25, "neutral": 0.5, "positive": 1.0}
    assert groups.weights(balanced=False, class_counts=counts) == {
        "negative": 1.0, "neutral": 1.0, "positive": 1.0}
    # a class absent from training does not count towards its group
    counts[2] = 0
    assert groups.weights(balanced=True, class_counts=counts)["negative"] == pytest.approx(1 / 3)
    matrix = groups.matrix(balanced)
    assert matrix.shape == (7, 3)
    np.testing.assert_array_equal(matrix[:, 0], [0.25, 0, 0.25, 0.25, 0, 0, 0.25])
    np.testing.assert_array_equal(matrix.sum(axis=1), [0.25, 0.5, 0.25, 0.25, 1, 0.5, 0.25])
    # equal class probabilities -> equal group probabilities (equal priors)
    scores = np.full(7, 1 / 7) @ matrix
    np.testing.assert_allclose(scores / scores.sum(), [1 / 3] * 3)


def test_a_group_without_training_examples_is_an_input_error():
    groups = LabelGroups.resolve({"a": "x", "b": "y", "c": "y"}, ["a", "b", "c"])
    with pytest.raises(InputError, match=r"no training example for group.*x"):
        groups.weights(balanced=True, class_counts=np.array([0, 3, 4]))


def test_parse_mapping_named_inline_and_json(tmp_path):
    assert label_groups.parse_mapping("emotion-sentiment")["boredom"] == "neutral"
    assert label_groups.parse_mapping(" a = x , b=y,", option="--o") == {"a": "x", "b": "y"}
    path = tmp_path / "groups.json"
    path.write_text(json.dumps({"a": "x", "b": "y"}))
    assert label_groups.parse_mapping(str(path)) == {"a": "x", "b": "y"}
    assert label_groups.parse_mapping(None) is None
    with pytest.raises(ConfigError, match="--o 'a=x,=y': '=y' is not LABEL=TARGET"):
        label_groups.parse_mapping("a=x,=y", option="--o")
    path.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="expected a JSON object"):
        label_groups.parse_mapping(str(path))


def test_emotion_sentiment_map_agrees_with_the_generated_corpus_labels(corpus):
    # every emotion name the map knows goes to one of the three sentiments
    assert set(label_groups.EMOTION_SENTIMENT.values()) == {"negative", "neutral", "positive"}
    with open(f"{corpus}/labels.csv", newline="") as f:
        sentiments = {row["label"] for row in csv.DictReader(f)}
    assert sentiments == set(label_groups.EMOTION_SENTIMENT.values())
