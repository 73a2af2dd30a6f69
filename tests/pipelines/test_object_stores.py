"""The jobs end to end on s3:// and gs:// (protocol servers on loopback,
tests/object_stores.py), against the same inputs run locally."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from pipelines import analysis, evaluate, report
from pipelines import train as train_job
from schemas import features as fk
from sentiment_model import storage
from sentiment_model.errors import ConfigError
from sentiment_model.model_card import CARD_FILE, MODEL_FILE
from tests.conftest import SCORE_ARGS, featurize_into, read_examples, score_into
from tests.object_stores import S3_KEY_ID, S3_SECRET, download, upload

RUN_DATE = "2026-11-23"  # the scored_calls fixture's partition
TRAIN_ARGS = ("--architecture", "frame_stats", "--epochs", "2", "--batch-size", "4",
              "--patience", "2", "--seed", "0")


def value(example: dict, key: str):
    v = example[key][0]
    return v.decode() if isinstance(v, bytes) else v


def by_name(examples: list[dict]) -> list[dict]:
    return sorted(examples, key=lambda e: (os.path.basename(value(e, fk.URI)),
                                           value(e, fk.CHANNEL), value(e, fk.AUGMENTATION)))


def assert_same_examples(remote: list[dict], local: list[dict]) -> None:
    assert len(remote) == len(local) > 0
    for r, here in zip(by_name(remote), by_name(local), strict=True):
        assert os.path.basename(value(r, fk.URI)) == os.path.basename(value(here, fk.URI))
        assert value(r, fk.URI).startswith(("s3://", "gs://"))
        assert [value(r, k) for k in (fk.LABEL, fk.SPEAKER)] == [
            value(here, k) for k in (fk.LABEL, fk.SPEAKER)]
        np.testing.assert_array_equal(r[fk.FRAMES], here[fk.FRAMES])


def scores_by_name(scores: str, table: str) -> pd.DataFrame:
    frame = analysis.read_table(scores, table, run_date=RUN_DATE)
    frame["name"] = frame["uri"].map(storage.basename)
    keys = ["name", "channel"] + (["start_s"] if "start_s" in frame.columns else [])
    return frame.sort_values(keys).reset_index(drop=True)


def every_object_text(bucket: str) -> str:
    return "\n".join(storage.read_bytes(f.uri).decode("latin-1")
                     for f in storage.match(f"{bucket}/**"))


def test_featurize_and_train_read_and_write_a_bucket(bucket, corpus, features_dir, tmp_path,
                                                     capsys):
    corpus_uri = upload(corpus, f"{bucket}/corpus")
    features = f"{bucket}/features"
    featurize_into(features, "--input", corpus_uri, "--labels", f"{corpus_uri}/labels.csv")
    local_copy = download(features, str(tmp_path / "features"))
    assert_same_examples(read_examples(local_copy), read_examples(features_dir))

    glob_out = f"{bucket}/features-glob"
    metadata = featurize_into(glob_out, "--input", f"{corpus_uri}/**/*.wav")
    assert sum(metadata["examples"].values()) == len(storage.match(f"{corpus_uri}/**/*.wav"))
    with pytest.raises(ConfigError, match="pass --overwrite"):
        featurize_into(glob_out, "--input", f"{corpus_uri}/**/*.wav")
    # a manifest in the bucket naming three files relative to itself, replacing that dataset
    wavs = sorted(f.uri for f in storage.match(f"{corpus_uri}/**/*.wav"))[:3]
    manifest = f"{corpus_uri}/three.txt"
    storage.write_text(manifest, "".join(u[len(corpus_uri) + 1:] + "\n" for u in wavs))
    metadata = featurize_into(glob_out, "--input", manifest, "--overwrite")
    assert sum(metadata["examples"].values()) == 3
    assert sorted(value(e, fk.URI) for e in read_examples(
        download(glob_out, str(tmp_path / "manifest-features")))) == wavs

    # train on the local features' shards in a bucket: the same bytes, the same model
    uploaded = upload(features_dir, f"{bucket}/features-local")
    model_dir = f"{bucket}/model"
    card = train_job.run(["--features", uploaded, "--model-dir", model_dir, *TRAIN_ARGS])
    local = train_job.run(["--features", features_dir, "--model-dir",
                           str(tmp_path / "local-model"), *TRAIN_ARGS])
    assert card.metrics["test"] == local.metrics["test"]
    assert card.metrics["test_score_path"]["n"] == local.metrics["test_score_path"]["n"] > 0
    assert card.details["data"]["features"] == uploaded
    names = {f.uri[len(model_dir) + 1:] for f in storage.match(f"{model_dir}/**")}
    assert {MODEL_FILE, CARD_FILE, "metrics.json", "history.csv",
            "plots/confusion_matrix.png"} <= names
    assert any(n.startswith("logs/") for n in names)
    out = capsys.readouterr()
    for secret in (S3_KEY_ID, S3_SECRET):
        assert secret not in out.out + out.err
        assert secret not in every_object_text(bucket)


def test_score_report_and_evaluate_read_and_write_a_bucket(bucket, scoring_model, calls_dir,
                                                           scored_calls, capsys, caplog):
    model_uri = upload(scoring_model, f"{bucket}/model")
    calls_uri = upload(calls_dir, f"{bucket}/calls")
    scores = f"{bucket}/scores"
    manifest = f"{bucket}/calls/tonight.txt"
    storage.write_text(manifest, "".join(f"calls/{storage.basename(f.uri)}\n"
                                         for f in storage.match(f"{calls_uri}/calls/*.wav")))
    record = score_into(scores, "--input", manifest, "--model-dir", model_uri,
                        "--run-date", RUN_DATE, *SCORE_ARGS)
    assert record["accounting"]["lost"] == 0
    for table in ("files", "segments"):
        remote, local = scores_by_name(scores, table), scores_by_name(scored_calls, table)
        assert len(remote) == len(local) > 0
        assert list(remote["name"]) == list(local["name"])
        assert list(remote["label"]) == list(local["label"])
        for column in [c for c in local.columns if c.startswith("p_")]:
            np.testing.assert_allclose(remote[column], local[column], atol=1e-6)

    # the same date again, from a glob: the partition is replaced, never doubled
    score_into(scores, "--input", f"{calls_uri}/calls/*.wav", "--model-dir", model_uri,
               "--run-date", RUN_DATE, *SCORE_ARGS)
    assert len(scores_by_name(scores, "files")) == len(scores_by_name(scored_calls, "files"))
    assert not storage.match(f"{scores}/_staging/**")

    found = report.run(["--scores", scores, "--output", f"{bucket}/report"])
    assert found["days"] == [RUN_DATE]
    assert storage.read_text(f"{bucket}/report/report.html").startswith("<!doctype html>")
    remote = evaluate.run(["--scores", scores, "--labels", f"{calls_uri}/expected.csv",
                           "--run-date", RUN_DATE, "--output", f"{bucket}/evaluation"])
    local = evaluate.run(["--scores", scored_calls, "--labels",
                          os.path.join(calls_dir, "expected.csv"), "--run-date", RUN_DATE])
    assert remote["uar"] == local["uar"] and remote["n"] == local["n"] > 0
    assert storage.match(f"{bucket}/evaluation/*")
    out = capsys.readouterr()
    logged = out.out + out.err + caplog.text
    for secret in (S3_KEY_ID, S3_SECRET):
        assert secret not in logged
        assert secret not in every_object_text(bucket)
