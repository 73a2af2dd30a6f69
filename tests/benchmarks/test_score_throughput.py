from benchmarks.score_throughput import default_model_parameters
from sentiment_model import models
from sentiment_model.config import FeatureConfig
from sentiment_model.model_card import ModelCard


def card(frame_dims: int, pooled_dims: int, labels=("negative", "neutral", "positive")):
    return ModelCard(model_version="0" * 64, architecture="bilstm_stats", input_kind="frames",
                     labels=tuple(labels), feature=FeatureConfig(), schema_version=1,
                     normalization={"frames": {"mean": [0.0] * frame_dims},
                                    "pooled": {"mean": [0.0] * pooled_dims}})


def test_a_cached_model_is_compared_with_the_default_built_today():
    # the spectral preset's 54 columns: the BiLSTM and the nine-statistic linear member
    assert models.DEFAULT_ARCHITECTURE == "bilstm_stats"
    assert default_model_parameters(card(54, 108)) == 360_323 + 2_434
    # a model of the four-statistic linear member (1,084) is not the default any more
    assert default_model_parameters(card(54, 108)) != 360_323 + 1_084
    # the counts follow the card's shapes and classes
    assert default_model_parameters(card(40, 80)) == (
        models.bilstm_attention(3, frame_dims=40).count_params()
        + models.frame_stats(3, frame_dims=40).count_params())
    assert default_model_parameters(card(54, 108, ("a", "b"))) < default_model_parameters(
        card(54, 108))


def test_the_plain_loop_scores_what_score_recording_scores(tmp_path, scoring_model, calls_dir):
    import os

    import numpy as np
    import soundfile

    from benchmarks.score_throughput import plain_main, write_manifest
    from sentiment_model import scoring, segments, synth
    from sentiment_model.inference import load_model_dir

    call = os.path.join(calls_dir, "calls", "call_000.wav")
    clip = str(tmp_path / "clip.wav")
    voice = synth.make_voices(1, seed=4)[0]
    soundfile.write(clip, synth.synth_utterance(voice, "negative", duration_s=2.5,
                                                sample_rate=16000, seed=3), 16000)
    got = plain_main(write_manifest(str(tmp_path / "m.txt"), [call, clip]), scoring_model)
    assert sorted(got) == [(call, 0), (call, 1), (clip, -1)]
    loaded = load_model_dir(scoring_model)
    for path in (call, clip):
        samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
        for result in scoring.score_recording(samples, rate, loaded,
                                              segment=segments.SegmentConfig(), channels="auto"):
            mine = got[(path, result.channel)]
            assert mine["label"] == result.summary["label"]
            np.testing.assert_allclose(mine["probs"], result.summary["probs"], atol=1e-5)


def test_the_two_trees_files_tables_are_compared_row_by_row(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pytest

    from benchmarks.score_throughput import _to_baseline_output, files_difference

    def write(out, rows):
        part = tmp_path / out / "files"
        part.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows), part / "part-0.parquet")
        return str(tmp_path / out)

    rows = [{"uri": "a.wav", "channel": 0, "p_negative": 0.2, "p_positive": 0.8},
            {"uri": "a.wav", "channel": 1, "p_negative": None, "p_positive": None},
            {"uri": "b.wav", "channel": None, "p_negative": 0.5, "p_positive": 0.5}]
    out = write("out", rows)
    assert files_difference(out) is None  # no baseline output yet
    moved = [dict(r) for r in reversed(rows)]
    moved[0]["p_positive"] = 0.5 + 3e-6  # b.wav, now first
    write("out-baseline", moved)
    assert files_difference(out) == pytest.approx(3e-6)
    assert _to_baseline_output(["score", "--output", out, "--overwrite"]) == [
        "score", "--output", out + "-baseline", "--overwrite"]
    assert _to_baseline_output(["plain", "m.txt"]) == ["plain", "m.txt"]
