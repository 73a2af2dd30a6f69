"""End-to-end tests of the featurize job on generated audio."""

from __future__ import annotations

import glob
import json
import os
import shutil
import uuid

import fsspec
import numpy as np
import pyarrow.parquet as pq
import pytest
import soundfile
from apache_beam.testing.util import assert_that

from pipelines import cli, common, featurize, featurize_fns
from schemas import features as fk
from schemas import tables
from schemas.metadata import FEATURE_CONFIG_FILE, SCHEMA_FILE
from sentiment_model import audio as audio_lib
from sentiment_model import featurizing
from sentiment_model.augment import RECOMMENDED as RECOMMENDED_AUGMENT
from sentiment_model.augment import AugmentConfig
from sentiment_model.config import FeatureConfig, preset
from sentiment_model.errors import ConfigError, InputError
from sentiment_model.features import compute_features
from tests.conftest import (
    Killed,
    make_pipeline,
    read_errors,
    read_examples,
    read_labels,
    tone,
    without_copies,
    write_audio,
)


def run_featurize(*args: str) -> dict:
    return featurize.run([*without_copies(args), "--progress-interval", "0"],
                         test_pipeline=make_pipeline())


def expected_features(path: str, cfg: FeatureConfig, channel: int = -1):
    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    mono = samples.mean(axis=1) if channel == -1 else samples[:, channel]
    return compute_features(audio_lib.resample(mono.astype(np.float32), rate, cfg.sample_rate),
                            cfg.sample_rate, cfg)


def by_uri(examples):
    return {ex[fk.URI][0].decode(): ex for ex in examples}


def test_round_trip_arrays_labels_counts_and_stats(corpus, tmp_path):
    out = str(tmp_path / "features")
    labels_csv = os.path.join(corpus, "labels.csv")
    metadata = run_featurize("--input", corpus, "--labels", labels_csv, "--output", out)
    rows = read_labels(labels_csv)
    cfg = preset("default")

    assert metadata["accounting"] == {"matched": 18, "written": 18, "rejected": 0, "lost": 0}
    assert metadata["label_vocabulary"] == ["negative", "neutral", "positive"]
    assert metadata["split_source"] == "speaker"
    assert sum(metadata["examples"].values()) == 18
    assert metadata["errors"] == {}
    assert read_errors(out) == []

    examples = read_examples(out)
    assert len(examples) == 18
    got = by_uri(examples)
    for row in rows:
        path = os.path.join(corpus, row["path"])
        ex = got[path]
        assert ex[fk.LABEL][0].decode() == row["label"]
        assert ex[fk.LABEL_ID][0] == metadata["label_vocabulary"].index(row["label"])
        assert ex[fk.SPEAKER][0].decode() == row["speaker"]
        assert ex[fk.CHANNEL][0] == -1 and ex[fk.SOURCE_SAMPLE_RATE][0] == 16000
        want = expected_features(path, cfg)
        n = ex[fk.N_FRAMES][0]
        assert n == want.frames.shape[0]
        np.testing.assert_allclose(ex[fk.FRAMES].reshape(n, cfg.frame_dims), want.frames,
                                   rtol=1e-6, atol=1e-5)
        np.testing.assert_allclose(ex[fk.POOLED], want.pooled, rtol=1e-6, atol=1e-5)

    # speakers never cross splits; counts in metadata match the shards
    split_of = {}
    for ex in examples:
        speaker, split = ex[fk.SPEAKER][0], ex[fk.SPLIT][0].decode()
        assert split_of.setdefault(speaker, split) == split
    assert set(split_of.values()) == {"train", "eval", "test"}
    for split in fk.SPLITS:
        in_split = [ex for ex in examples if ex[fk.SPLIT][0].decode() == split]
        assert metadata["examples"].get(split, 0) == len(read_examples(out, split)) == len(
            in_split)

    # train statistics are the per-coefficient mean/std over all train frames
    train = [ex for ex in examples if ex[fk.SPLIT][0] == b"train"]
    frames = np.concatenate([ex[fk.FRAMES].reshape(-1, cfg.frame_dims) for ex in train])
    stats = metadata["train_stats"]["frames"]
    assert stats["count"] == frames.shape[0]
    np.testing.assert_allclose(stats["mean"], frames.mean(axis=0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(stats["std"], frames.std(axis=0), rtol=1e-4, atol=1e-4)
    assert metadata["total_audio_seconds"] == pytest.approx(
        sum(soundfile.info(os.path.join(corpus, r["path"])).duration for r in rows), abs=1e-2)

    # the config and schema travel with the data
    with open(os.path.join(out, FEATURE_CONFIG_FILE)) as f:
        assert FeatureConfig.from_dict(json.load(f)) == cfg
    with open(os.path.join(out, SCHEMA_FILE)) as f:
        assert fk.schema_from_text(f.read()) == fk.build_schema(
            frame_dims=310, pooled_dims=620, labels=["negative", "neutral", "positive"])

    # same inputs -> same fingerprint; a changed file -> another one
    again = run_featurize("--input", corpus, "--labels", labels_csv, "--output", out,
                          "--overwrite")
    assert again["input_fingerprint"] == metadata["input_fingerprint"]
    copy = shutil.copytree(corpus, str(tmp_path / "copy"))
    first = os.path.join(copy, rows[0]["path"])
    write_audio(first, tone(500, seconds=1.0, sample_rate=16000), 16000)
    changed = run_featurize("--input", copy, "--labels", os.path.join(copy, "labels.csv"),
                            "--output", str(tmp_path / "f2"))
    assert changed["input_fingerprint"] != metadata["input_fingerprint"]


def test_every_bad_input_lands_in_errors_and_good_files_are_all_written(tmp_path):
    data = tmp_path / "data"
    good = [write_audio(str(data / f"good{i}.wav"),
                        tone(200 + 100 * i, seconds=0.6, sample_rate=16000, seed=i), 16000)
            for i in range(3)]
    bad = {
        "not_audio.wav": "unreadable",
        "empty.wav": "empty",
        "truncated.wav": "truncated",
        "silent.wav": "silent",
        "short.wav": "too_short",
        "nan.wav": "non_finite",
        "unlabelled.wav": "unlabelled",
        "odd_label.wav": "unknown_label",
        "fifo.wav": "not_a_file",
        "dangling.wav": "broken_link",
    }
    data.mkdir(parents=True, exist_ok=True)
    os.mkfifo(data / "fifo.wav")  # opening it for reading would block forever
    os.symlink(data / "gone.wav", data / "dangling.wav")
    (data / "not_audio.wav").write_text("hello, I am text\n" * 20)
    (data / "empty.wav").write_bytes(b"")
    write_audio(str(data / "full.wav"), tone(300, seconds=1.0, sample_rate=16000), 16000)
    full = (data / "full.wav").read_bytes()
    (data / "truncated.wav").write_bytes(full[: len(full) // 2])
    os.remove(data / "full.wav")
    write_audio(str(data / "silent.wav"), np.zeros(16000, np.float32), 16000)
    write_audio(str(data / "short.wav"), tone(300, seconds=0.1, sample_rate=16000), 16000)
    nan = tone(300, seconds=0.5, sample_rate=16000)
    nan[10] = np.nan
    write_audio(str(data / "nan.wav"), nan, 16000, subtype="FLOAT")
    write_audio(str(data / "unlabelled.wav"), tone(250, seconds=0.5, sample_rate=16000), 16000)
    write_audio(str(data / "odd_label.wav"), tone(250, seconds=0.5, sample_rate=16000), 16000)
    labelled = [*(os.path.basename(g) for g in good), *(n for n in bad if n not in (
        "unlabelled.wav", "odd_label.wav"))]
    lines = ["path,label"] + [f"{name},pos" for name in labelled]
    lines += ["odd_label.wav,confused", "missing.wav,neg", "good0.wav,neg"]
    (data / "labels.csv").write_text("\n".join(lines) + "\n")

    out = str(tmp_path / "out")
    metadata = run_featurize("--input", str(data), "--labels", str(data / "labels.csv"),
                             "--output", out, "--classes", "neg,pos")

    errors = read_errors(out)
    got = {(os.path.basename(e["uri"]), e["error_type"]) for e in errors}
    expected = set(bad.items())
    # the label row with an unknown label is rejected, and so its file has no label
    # a labelled link to nothing is also a label row without its file
    expected |= {("missing.wav", "missing_file"), ("good0.wav", "duplicate"),
                 ("odd_label.wav", "unlabelled"), ("dangling.wav", "missing_file")}
    assert got == expected
    assert all(e["message"] and e["stage"] for e in errors)
    assert {e["stage"] for e in errors} == {"labels", "match", "read", "decode", "features"}
    (errors_file,) = glob.glob(os.path.join(out, "errors", "*.parquet"))
    parquet = pq.ParquetFile(errors_file)
    assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"
    assert parquet.schema_arrow.metadata[b"audio_sentiment.table"] == b"errors"
    assert parquet.schema_arrow.field("stage").metadata[b"description"].decode() \
        == tables.description("stage")
    written = by_uri(read_examples(out))
    assert sorted(written) == sorted(good)
    assert written[good[0]][fk.LABEL][0] == b"pos"  # the first row wins over the duplicate
    assert metadata["accounting"] == {"matched": 12, "written": 3, "rejected": 9, "lost": 0}
    assert metadata["errors"] == {**dict.fromkeys([*bad.values(), "duplicate"], 1),
                                  "unlabelled": 2, "missing_file": 2}


def test_memory_url_input_without_labels(tmp_path):
    root = f"memory://featurize-{uuid.uuid4().hex}"
    for i in range(4):
        with fsspec.open(f"{root}/clips/c{i}.flac", "wb") as f:
            soundfile.write(f, tone(300 + 50 * i, seconds=0.5, sample_rate=8000), 8000,
                            format="FLAC")
    out = str(tmp_path / "out")
    metadata = run_featurize("--input", f"{root}/clips", "--output", out,
                             "--split-ratios", "1,0,0", "--compression", "none")
    assert metadata["shards"] == {"eval": ["eval-00000-of-00001.tfrecord"],
                                  "test": ["test-00000-of-00001.tfrecord"],
                                  "train": ["train-00000-of-00001.tfrecord"]}
    assert metadata["accounting"]["written"] == 4 and metadata["label_vocabulary"] == []
    examples = read_examples(out, "train")
    assert len(examples) == 4
    for ex in examples:
        assert ex[fk.URI][0].decode().startswith("memory:///featurize-")
        assert ex[fk.LABEL][0] == b"" and ex[fk.LABEL_ID][0] == fk.UNLABELLED_ID
        assert ex[fk.SOURCE_SAMPLE_RATE][0] == 8000 and ex[fk.POOLED].shape == (620,)


def test_seed_presets_give_the_study_shapes(corpus, tmp_path):
    out = str(tmp_path / "seed")
    run_featurize("--input", corpus, "--labels", os.path.join(corpus, "labels.csv"),
                  "--output", out, "--preset", "seed")
    examples = read_examples(out)
    assert len(examples) == 18
    path = next(iter(by_uri(examples)))
    ex = by_uri(examples)[path]
    assert ex[fk.POOLED].shape == (128,)
    np.testing.assert_allclose(ex[fk.POOLED], expected_features(path, preset("seed")).pooled,
                               rtol=1e-5, atol=1e-4)

    out = str(tmp_path / "cnn")
    run_featurize("--input", corpus, "--output", out, "--preset", "seed_cnn2d")
    for ex in read_examples(out):
        assert ex[fk.N_FRAMES][0] == 128 and ex[fk.FRAMES].shape == (128 * 128,)


def test_default_preset_writes_the_spectral_and_voice_columns_after_the_mfccs(corpus,
                                                                            tmp_path):
    out = str(tmp_path / "spectral")
    meta = run_featurize("--input", corpus, "--labels", os.path.join(corpus, "labels.csv"),
                         "--output", out, "--preset", "default")
    examples = read_examples(out)
    assert len(examples) == 18
    cfg = preset("default")
    for path, ex in list(by_uri(examples).items())[:3]:
        want = expected_features(path, cfg)
        frames = ex[fk.FRAMES].reshape(ex[fk.N_FRAMES][0], 310)
        np.testing.assert_allclose(frames, want.frames, rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(ex[fk.POOLED], want.pooled, rtol=1e-5, atol=1e-4)
    assert meta["accounting"] == {"matched": 18, "written": 18, "rejected": 0, "lost": 0}
    with open(os.path.join(out, "metadata.json")) as f:
        assert json.load(f) == meta  # the file says the same
    assert meta["feature_config"]["spectral"] is True and meta["feature_config"]["voice"] is True
    assert len(meta["train_stats"]["frames"]["mean"]) == 310


def test_split_channels_and_split_column_from_a_manifest(tmp_path):
    data = tmp_path / "calls"
    for i in range(2):
        write_audio(str(data / f"call{i}.wav"),
                    tone(220, seconds=0.8, sample_rate=8000, channels=2, seed=i), 8000)
    (data / "manifest.txt").write_text("call0.wav\ncall1.wav\n")
    (data / "labels.csv").write_text("path,label,split\ncall0.wav,a,train\ncall1.wav,b,test\n")
    out = str(tmp_path / "out")
    metadata = run_featurize("--input", str(data / "manifest.txt"), "--labels",
                             str(data / "labels.csv"), "--output", out, "--channels", "split")
    examples = read_examples(out)
    assert sorted((os.path.basename(ex[fk.URI][0].decode()), int(ex[fk.CHANNEL][0]),
                   ex[fk.SPLIT][0].decode()) for ex in examples) == [
        ("call0.wav", 0, "train"), ("call0.wav", 1, "train"),
        ("call1.wav", 0, "test"), ("call1.wav", 1, "test")]
    assert metadata["split_source"] == "column"
    assert metadata["accounting"] == {"matched": 2, "written": 2, "rejected": 0, "lost": 0}
    ex = next(e for e in examples if e[fk.CHANNEL][0] == 1)
    want = expected_features(ex[fk.URI][0].decode(), preset("default"), channel=1)
    np.testing.assert_allclose(ex[fk.POOLED], want.pooled, rtol=1e-6, atol=1e-5)


def test_wrong_arguments_fail_fast_with_one_line(tmp_path, capsys, corpus):
    with pytest.raises(InputError, match="no audio files matched"):
        run_featurize("--input", f"{tmp_path}/*.wav", "--output", str(tmp_path / "o"))
    out = str(tmp_path / "o2")
    run_featurize("--input", corpus, "--output", out)
    with pytest.raises(ConfigError, match="--overwrite"):
        run_featurize("--input", corpus, "--output", out)
    mine = [os.path.join(out, "notes.tfrecord"), os.path.join(out, "errors", "readme.txt")]
    for path in mine:
        with open(path, "w") as f:
            f.write("not featurize's")
    before = sorted(os.listdir(out))
    run_featurize("--input", corpus, "--output", out, "--overwrite")
    assert sorted(os.listdir(out)) == before
    for path in mine:
        with open(path) as f:
            assert f.read() == "not featurize's"
    status = cli.main(["featurize", "--input", str(tmp_path / "missing"), "--output", out])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert err[-1].startswith("audio-sentiment: error: --input") and "Traceback" not in err
    status = cli.main(["featurize", "--input", corpus, "--output", out, "--set", "n_mfcc=500"])
    assert status == 2 and "n_mfcc" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="cannot write"):
        run_featurize("--input", corpus, "--output", str(blocker / "sub"))


def top_level_files(folder: str) -> dict[str, bytes]:
    """The files directly in ``folder`` -> their bytes (lock files are not data)."""
    out = {}
    for name in os.listdir(folder):
        if os.path.isfile(os.path.join(folder, name)):
            with open(os.path.join(folder, name), "rb") as f:
                out[name] = f.read()
    return out


def test_overwrite_keeps_the_old_dataset_until_the_new_one_is_complete(
        corpus, tmp_path, monkeypatch):
    from sentiment_model import dataset, publish, storage

    out = str(tmp_path / "features")
    labels_csv = os.path.join(corpus, "labels.csv")
    first = run_featurize("--input", corpus, "--labels", labels_csv, "--output", out)
    mine = os.path.join(out, "errors", "readme.txt")
    with open(mine, "w") as f:
        f.write("not featurize's")
    before = top_level_files(out)

    def worker_dies(*args, **kwargs):
        raise RuntimeError("worker died")

    with monkeypatch.context() as m:
        m.setattr(featurize_fns.WriteMetadataFn, "process", worker_dies)
        with pytest.raises(Exception, match="worker died"):
            run_featurize("--input", corpus, "--output", out, "--overwrite")
    assert top_level_files(out) == before  # the old dataset, byte for byte
    assert not os.path.exists(os.path.join(out, publish.STAGING_DIR))
    assert dataset.load_feature_set(out).examples("train") == first["examples"]["train"]

    # killed while publishing: train refuses the mix, the next run finishes it
    real_move, moves = storage.move, []

    def dies_on_the_third_move(src, dst):
        if len(moves) == 2:
            raise Killed
        moves.append(dst)
        real_move(src, dst)

    with monkeypatch.context() as m:
        m.setattr(storage, "move", dies_on_the_third_move)
        with pytest.raises(Killed):
            run_featurize("--input", corpus, "--output", out, "--overwrite")
    with pytest.raises(ConfigError, match="is publishing its outputs or stopped"):
        dataset.load_feature_set(out)
    with pytest.raises(ConfigError, match="--overwrite"):  # any next run finishes it first
        run_featurize("--input", corpus, "--output", out)
    assert not os.path.exists(os.path.join(out, publish.STAGING_DIR))
    features = dataset.load_feature_set(out)
    assert features.metadata["label_vocabulary"] == []  # the killed run's dataset, whole
    shards = sorted(n for n in os.listdir(out) if ".tfrecord" in n)
    assert shards == sorted(n for names in features.metadata["shards"].values() for n in names)
    assert sum(features.examples(s) for s in fk.SPLITS) == first["accounting"]["written"]
    with open(mine) as f:
        assert f.read() == "not featurize's"


class _ChannelsMatch:
    """assert_that matcher: examples are channels 0 and 1 with the expected pooled values."""

    def __init__(self, expected_pooled):
        self._expected = expected_pooled

    def __call__(self, actual):
        got = {ex.features[fk.CHANNEL]: ex.features[fk.POOLED] for ex in actual}
        assert sorted(got) == [0, 1], got.keys()
        for channel, pooled in got.items():
            np.testing.assert_allclose(pooled, self._expected[channel], rtol=1e-6, atol=1e-5)


def test_compute_features_transform_splits_channels():
    import apache_beam as beam

    x = tone(300, seconds=0.5, sample_rate=16000, channels=2)
    cfg = preset("default")
    item = featurizing.DecodedItem(
        featurizing.AudioItem(uri="/x/call.wav", split="train"),
        audio_lib.DecodedAudio(x, 16000, "WAV", "FLOAT"), "0" * 64)
    expected = {c: compute_features(x[:, c].copy(), 16000, cfg).pooled for c in (0, 1)}
    p = make_pipeline()
    result = (p | beam.Create([item])
              | "ComputeFeatures" >> beam.ParDo(featurize_fns.ComputeFeaturesFn(
                  feature=cfg, channels="split")).with_outputs("errors", main="examples"))
    assert_that(result.examples, _ChannelsMatch(expected))
    p.run()


def test_runs_as_a_module_with_beam_options(corpus, tmp_path):
    import subprocess
    import sys

    out = str(tmp_path / "out")
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.featurize", "--input", corpus, "--output", out,
         "--direct_num_workers", "1", "--num-shards", "2"],
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "18 files matched -> 18 written" in proc.stderr
    with open(os.path.join(out, "metadata.json")) as f:
        shards = json.load(f)["shards"]
    assert shards["train"] == ["train-00000-of-00002.tfrecord.gz",
                               "train-00001-of-00002.tfrecord.gz"]
    assert len(read_examples(out)) == 18


class _ExplodingDecoder:
    def __call__(self, data):
        raise MemoryError("simulated decoder failure")


def test_unexpected_decoder_failure_is_an_error_row_not_a_crash(monkeypatch, tmp_path):
    data = tmp_path / "data"
    write_audio(str(data / "a.wav"), tone(300, seconds=0.5, sample_rate=16000), 16000)
    monkeypatch.setattr(audio_lib, "decode_audio", _ExplodingDecoder())
    out = str(tmp_path / "out")
    metadata = run_featurize("--input", str(data), "--output", out)
    assert metadata["accounting"] == {"matched": 1, "written": 0, "rejected": 1, "lost": 0}
    [row] = read_errors(out)
    assert (row["stage"], row["error_type"]) == ("decode", "decode_failed")
    assert "simulated decoder failure" in row["message"]


def test_augment_adds_copies_to_the_train_split_only(corpus, tmp_path):
    out = str(tmp_path / "aug")
    metadata = run_featurize("--input", corpus, "--labels", os.path.join(corpus, "labels.csv"),
                             "--output", out, "--augment", "noise=1,speed=0.9")
    n_train = metadata["examples"]["train"] // 3
    assert metadata["augmented_examples"] == {"train": 2 * n_train}
    assert metadata["augment"]["speed_factors"] == [0.9]
    assert metadata["accounting"]["written"] == 18
    train = read_examples(out, "train")
    kinds = sorted({ex[fk.AUGMENTATION][0].decode().split("@")[0] for ex in train})
    assert kinds == ["", "noise1", "speed0.9"]
    originals = {ex[fk.RECORDING_ID][0]: ex for ex in train if not ex[fk.AUGMENTATION][0]}
    for ex in train:
        name = ex[fk.AUGMENTATION][0].decode()
        if name.startswith("speed"):
            base = originals[ex[fk.RECORDING_ID][0].decode().split("#")[0].encode()]
            assert ex[fk.DURATION_S][0] == pytest.approx(base[fk.DURATION_S][0] / 0.9, rel=1e-3)
    for split in ("eval", "test"):
        assert all(not ex[fk.AUGMENTATION][0] for ex in read_examples(out, split))
    # training reads the originals with only the copies it names
    from sentiment_model import dataset

    fs = dataset.load_feature_set(out)
    for keep, n in ((None, 3 * n_train), ((), n_train), (("noise",), 2 * n_train),
                    (("speed", "noise"), 3 * n_train), (("telephone",), n_train)):
        ds = dataset.make_dataset(fs, "train", input_kind="frames", batch_size=4,
                                  keep_copies=keep)
        assert sum(len(y) for _, y in ds) == n, keep


@pytest.mark.parametrize("extra, labelled, expected", [
    ((), True, RECOMMENDED_AUGMENT),
    (("--augment", "none"), True, None),
    (("--augment", "NONE"), True, None),
    (("--augment", ""), True, None),
    (("--augment", "speed=0.9"), True, "speed=0.9"),
    ((), False, None),
])
def test_a_labelled_run_makes_the_recommended_copies_unless_told_otherwise(
        corpus, tmp_path, extra, labelled, expected):
    argv = ["--input", corpus, "--output", str(tmp_path / "out"), *extra]
    if labelled:
        argv += ["--labels", os.path.join(corpus, "labels.csv")]
    args, _ = featurize.parse_known_args(argv)
    config = featurize.config_from_args(args)
    assert config.augment == AugmentConfig.parse(expected, seed=0)
    assert config.augment.enabled == (expected is not None)
    if expected == RECOMMENDED_AUGMENT:
        assert config.augment.telephone_copies == 1
        assert config.augment.speed_factors == (0.9, 1.1)


def test_augment_without_labels_fails_fast(corpus, tmp_path):
    out = tmp_path / "aug"
    with pytest.raises(ConfigError, match="--augment needs --labels"):
        run_featurize("--input", corpus, "--output", str(out), "--augment", "speed=0.9")
    assert not out.exists()


def normalised_test_inputs(fs, test: list[dict]) -> list[tuple]:
    """(training input, example, its speaker's statistics) for each test example."""
    from sentiment_model import dataset

    got = [x.numpy()[0] for x, _ in dataset.make_dataset(fs, "test", input_kind="frames",
                                                          batch_size=1)]
    assert len(got) == len(test) == 6
    speaker_stats = fs.metadata["speaker_stats"]
    return [(x, e, speaker_stats[e[fk.SPEAKER][0].decode()])
            for x, e in zip(got, test, strict=True)]


def test_speaker_normalisation_stats_reach_the_training_input(corpus, tmp_path):
    from sentiment_model import dataset

    out = str(tmp_path / "features")
    metadata = run_featurize("--input", corpus, "--labels", os.path.join(corpus, "labels.csv"),
                             "--output", out, "--preset", "speaker_norm")
    cfg = preset("speaker_norm")
    examples = read_examples(out)
    # the shards keep raw frames; metadata holds each speaker's frame statistics
    assert metadata["feature_config"] == cfg.to_dict()
    ex = examples[0]
    want = expected_features(ex[fk.URI][0].decode(), cfg)
    np.testing.assert_allclose(ex[fk.FRAMES].reshape(-1, 43), want.frames, rtol=1e-6, atol=1e-5)
    speakers = sorted({e[fk.SPEAKER][0].decode() for e in examples})
    assert sorted(metadata["speaker_stats"]) == speakers and len(speakers) == 3
    frames_of = {s: np.concatenate([e[fk.FRAMES].reshape(-1, 43) for e in examples
                                    if e[fk.SPEAKER][0].decode() == s]) for s in speakers}
    for s in speakers:
        got = metadata["speaker_stats"][s]
        assert got["count"] == len(frames_of[s])
        np.testing.assert_allclose(got["mean"], frames_of[s].mean(axis=0), rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(got["std"], frames_of[s].std(axis=0), rtol=1e-4, atol=1e-3)

    # training reads each example standardised with its speaker's statistics
    fs = dataset.load_feature_set(out)
    norm = dataset.normalization(fs.metadata)
    assert norm["group"] == "speaker" and norm["frames"]["mean"] == [0.0] * 43
    test = read_examples(out, "test")
    for x, e, stats in normalised_test_inputs(fs, test):
        frames = e[fk.FRAMES].reshape(-1, 43)
        expected = (frames - np.asarray(stats["mean"])) / np.asarray(stats["std"])
        np.testing.assert_allclose(x, expected, rtol=1e-4, atol=1e-4)
        # the numpy scoring path computes the same input from the same statistics
        np.testing.assert_allclose(
            dataset.to_model_input(frames, e[fk.POOLED], input_kind="frames", norm=norm,
                                   group=stats), expected, rtol=1e-5, atol=1e-5)

    # serving computes the same statistics from a speaker's unlabelled audio
    from sentiment_model import inference
    from sentiment_model.model_card import ModelCard

    card = ModelCard(model_version="", architecture="bilstm_attention", input_kind="frames",
                     labels=("a", "b"), feature=cfg, normalization=norm,
                     schema_version=fk.SCHEMA_VERSION)
    loaded = inference.LoadedModel(model=None, card=card)
    speaker = speakers[0]
    signals = [soundfile.read(e[fk.URI][0].decode(), dtype="float32")[::-1] for e in examples
               if e[fk.SPEAKER][0].decode() == speaker]
    got = inference.speaker_stats(loaded, [(y, rate) for rate, y in signals])
    np.testing.assert_allclose(got["mean"], metadata["speaker_stats"][speaker]["mean"],
                               rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(got["std"], metadata["speaker_stats"][speaker]["std"],
                               rtol=1e-4, atol=1e-3)

    # an unknown speaker falls back to the example's own statistics
    standardise = dataset._speaker_lookup(fs.metadata)
    frames = test[0][fk.FRAMES].reshape(-1, 43)
    import tensorflow as tf

    own = standardise(tf.constant(frames, tf.float32), tf.constant(b"")).numpy()
    np.testing.assert_allclose(own.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(
        own, dataset.to_model_input(frames, test[0][fk.POOLED], input_kind="frames", norm=norm),
        rtol=1e-4, atol=1e-4)


def test_partial_speaker_normalisation_keeps_tone_columns_absolute(corpus, tmp_path):
    from sentiment_model import dataset

    out = str(tmp_path / "features")
    metadata = run_featurize("--input", corpus, "--labels", os.path.join(corpus, "labels.csv"),
                             "--output", out, "--preset", "speaker_norm",
                             "--set", "speaker_from=4")
    assert metadata["feature_config"]["speaker_from"] == 4
    columns = np.array([4 <= k < 40 for k in range(43)])  # c4..c39; not c0..c3 nor prosody
    fs = dataset.load_feature_set(out)
    norm = dataset.normalization(fs.metadata)
    assert norm["speaker_columns"] == columns.tolist()
    train_mean = np.asarray(metadata["train_stats"]["frames"]["mean"])
    train_std = np.asarray(metadata["train_stats"]["frames"]["std"])
    from sentiment_model import models

    standardize = models.standardize_layer(norm, "frames")  # the model's first layer
    for x, e, stats in normalised_test_inputs(fs, read_examples(out, "test")):
        frames = e[fk.FRAMES].reshape(-1, 43)
        by_speaker = (frames - np.asarray(stats["mean"])) / np.asarray(stats["std"])
        # outside the model: the speaker columns only; the rest stay as featurized
        np.testing.assert_allclose(x, np.where(columns, by_speaker, frames), rtol=1e-4,
                                   atol=1e-4)
        scored = dataset.to_model_input(frames, e[fk.POOLED], input_kind="frames", norm=norm,
                                        group=stats)
        np.testing.assert_allclose(scored, x, rtol=1e-5, atol=1e-4)
        # inside: the train statistics on the other columns, the identity on these
        expected = np.where(columns, by_speaker, (frames - train_mean) / train_std)
        np.testing.assert_allclose(np.asarray(standardize(scored[None]))[0], expected,
                                   rtol=1e-5, atol=1e-4)


def test_credentials_in_input_urls_are_never_stored(tmp_path):
    good = write_audio(str(tmp_path / "good.wav"), tone(300, seconds=0.6, sample_rate=16000),
                       16000)
    manifest = tmp_path / "list.txt"
    manifest.write_text(f"{good}\nftp://AKIAKEYID:s3cr3tPASS@127.0.0.1:1/a.wav\n")
    out = tmp_path / "out"
    metadata = run_featurize("--input", str(manifest), "--output", str(out),
                             "--split-ratios", "1,0,0", "--compression", "none")
    assert metadata["accounting"] == {"matched": 2, "written": 1, "rejected": 1, "lost": 0}
    errors = pq.read_table(glob.glob(str(out / "errors" / "*.parquet"))[0]).to_pylist()
    assert [(e["uri"], e["error_type"]) for e in errors] == [
        ("ftp://***@127.0.0.1:1/a.wav", "read_failed")]
    written = [p for p in out.rglob("*") if p.is_file()]
    assert len(written) >= 5  # shards, metadata, schema, feature config, errors
    for path in written:
        data = path.read_bytes()
        assert b"s3cr3tPASS" not in data and b"AKIAKEYID" not in data, path


def test_a_local_run_of_several_files_uses_a_worker_process_per_core_with_the_same_examples(
        corpus, features_dir, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(common, "_machine", lambda: (2, 24.0))  # whatever runs the tests
    out = str(tmp_path / "two")
    with caplog.at_level("INFO", logger="audio_sentiment"):
        metadata = featurize.run(["--input", corpus, "--labels",
                                  os.path.join(corpus, "labels.csv"), "--output", out,
                                  "--augment", "none", "--progress-interval", "0"])
    assert "featurize: 2 local worker processes, one per core" in caplog.text
    assert metadata["accounting"]["lost"] == 0
    one = {ex["recording_id"][0]: ex for ex in read_examples(features_dir)}
    two = {ex["recording_id"][0]: ex for ex in read_examples(out)}
    assert sorted(two) == sorted(one) and len(one) == 18
    for key, ex in two.items():
        assert ex.keys() == one[key].keys()
        for name, value in ex.items():
            assert list(value) == list(one[key][name]), (key, name)
