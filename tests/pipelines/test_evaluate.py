import csv
import json
import os

import pytest

from pipelines import evaluate
from sentiment_model.errors import InputError


def test_evaluate_scored_calls_against_their_expected_labels(scored_calls, calls_dir,
                                                             tmp_path):
    out = str(tmp_path / "eval")
    metrics = evaluate.run(["--scores", scored_calls, "--labels",
                            os.path.join(calls_dir, "expected.csv"), "--output", out,
                            "--run-date", "2026-11-23"])
    assert metrics["counts"]["evaluated"] == 6
    assert metrics["counts"]["labelled_without_score"] == 0
    assert metrics["counts"]["scored_without_label"] == 0
    assert metrics["accuracy"] == 1.0 and metrics["uar"] == 1.0
    assert metrics["labels"] == ["negative", "neutral", "positive"]
    assert sum(map(sum, metrics["confusion_matrix"])) == 6
    assert metrics["per_class"]["neutral"]["support"] == 4  # 3 agents + 1 customer
    with open(os.path.join(out, "metrics.json")) as f:
        assert json.load(f) == metrics
    with open(os.path.join(out, "confusion_matrix.png"), "rb") as f:
        assert f.read(4) == b"\x89PNG"


def test_bare_names_without_channels_and_wrong_labels(scored_calls, calls_dir, tmp_path):
    labels = tmp_path / "labels.csv"
    with open(labels, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Filename", "Class"])
        writer.writerow(["call_000.wav", "negative"])  # applies to both channels
        writer.writerow(["call_999.wav", "neutral"])  # never scored
    metrics = evaluate.evaluate(scores=scored_calls, labels_uri=str(labels))
    assert metrics["counts"]["evaluated"] == 2
    assert metrics["counts"]["labelled_without_score"] == 1
    assert metrics["counts"]["scored_without_label"] == 4
    # the customer was negative overall, the agent neutral
    assert metrics["confusion_matrix"][0] == [1, 1, 0]
    with open(labels, "a", newline="") as f:
        f.write("call_001.wav,angry\n")
    with pytest.raises(InputError, match="angry are not classes"):
        evaluate.evaluate(scores=scored_calls, labels_uri=str(labels))
    with pytest.raises(InputError, match=r"has no rows for run_date=2020-01-01"):
        evaluate.evaluate(scores=scored_calls, labels_uri=str(labels), run_date="2020-01-01")
