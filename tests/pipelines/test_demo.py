import os

from pipelines import demo
from tests.conftest import read_errors, read_examples


def test_demo_featurizes_trains_scores_calls_and_reports(tmp_path):
    result = demo.run(["--workdir", str(tmp_path), "--epochs", "2", "--calls", "2"])
    metadata, card = result["features"], result["model_card"]
    assert card.details["epochs_run"] <= 2
    assert card.metrics["test"]["n"] == metadata["examples"]["test"]
    assert os.path.exists(os.path.join(tmp_path, "model", "model.keras"))
    features = os.path.join(tmp_path, "features")
    assert metadata["accounting"] == {"matched": 152, "written": 150, "rejected": 2, "lost": 0}
    assert metadata["label_vocabulary"] == ["negative", "neutral", "positive"]
    assert metadata["split_source"] == "speaker"
    assert {(os.path.basename(e["uri"]), e["error_type"]) for e in read_errors(features)} == {
        ("not_audio.wav", "unreadable"), ("empty.wav", "empty"),
        ("missing_file.wav", "missing_file")}
    # the default recipe's training copies: one noisy, two speed-perturbed and
    # one telephone copy per train clip
    n_train = metadata["examples"]["train"] - metadata["augmented_examples"]["train"]
    assert metadata["augmented_examples"] == {"train": 4 * n_train}
    assert metadata["augment"]["speed_factors"] == [0.9, 1.1]
    assert metadata["augment"]["telephone_copies"] == 1
    examples = read_examples(features)
    assert len(examples) == 150 + 4 * n_train
    assert sorted(metadata["speakers"]["train"] + metadata["speakers"]["eval"]
                  + metadata["speakers"]["test"]) == [f"spk{i:02d}" for i in range(10)]

    # scoring: two stereo calls, both channels scored, report and evaluation written
    assert result["score"]["accounting"] == {"matched": 2, "scored": 2, "rejected_only": 0,
                                             "lost": 0}
    assert result["score"]["rows"]["files"] == 4
    assert result["evaluation"]["counts"]["evaluated"] == 4
    (partition,) = os.listdir(os.path.join(tmp_path, "scores", "files"))
    assert partition.startswith("run_date=")
    for path in ("report/report.html", "report/calls/00.html", "evaluation/metrics.json",
                 "calls/expected.csv"):
        assert os.path.getsize(os.path.join(tmp_path, path)) > 0
    # and the same calls scored by the packaged starter model, evaluated alike
    assert result["starter_score"]["rows"]["files"] == 4
    assert result["starter_evaluation"]["counts"]["evaluated"] == 4
    assert result["starter_score"]["model_version"] != result["score"]["model_version"]
