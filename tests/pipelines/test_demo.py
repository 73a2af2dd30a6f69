import os

from pipelines import demo
from tests.conftest import read_errors, read_examples


def test_demo_featurizes_generated_speech_and_reports_the_broken_files(tmp_path):
    metadata = demo.run(["--workdir", str(tmp_path)])
    features = os.path.join(tmp_path, "features")
    assert metadata["accounting"] == {"matched": 92, "written": 90, "rejected": 2, "lost": 0}
    assert metadata["label_vocabulary"] == ["negative", "neutral", "positive"]
    assert metadata["split_source"] == "speaker"
    assert {(os.path.basename(e["uri"]), e["error_type"]) for e in read_errors(features)} == {
        ("not_audio.wav", "unreadable"), ("empty.wav", "empty"),
        ("missing_file.wav", "missing_file")}
    examples = read_examples(features)
    assert len(examples) == 90
    assert sorted(metadata["speakers"]["train"] + metadata["speakers"]["eval"]
                  + metadata["speakers"]["test"]) == [f"spk{i:02d}" for i in range(6)]
