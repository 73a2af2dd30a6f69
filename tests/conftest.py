"""Shared fixtures: generated audio only, never downloads."""

from __future__ import annotations

import contextlib
import csv
import glob
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import soundfile
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline

from sentiment_model import synth


def tone(freq_hz: float, *, seconds: float, sample_rate: int, amplitude: float = 0.5,
         channels: int = 1, seed: int = 0) -> np.ndarray:
    """A sine plus a little seeded noise; ``[n]`` or ``[n, channels]`` float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    mono = amplitude * np.sin(2 * np.pi * freq_hz * t) + 0.01 * rng.standard_normal(t.size)
    if channels == 1:
        return mono.astype(np.float32)
    return np.stack([mono * (c + 1) / channels for c in range(channels)], axis=1).astype(
        np.float32)


def with_long_list_chunk(wav: bytes, size: int = 100_000) -> bytes:
    """``wav`` with a ``size``-byte LIST chunk before its data chunk (which
    then starts past the first 64 KiB)."""
    import struct

    pos = wav.index(b"data")
    chunk = b"LIST" + struct.pack("<I", size) + b"INFO" + b"\0" * (size - 4)
    out = wav[:pos] + chunk + wav[pos:]
    return out[:4] + struct.pack("<I", len(out) - 8) + out[8:]


def write_audio(path: str, samples: np.ndarray, sample_rate: int, **kwargs) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    soundfile.write(path, samples, sample_rate, **kwargs)
    return path


def write_sentiment_clips(folder, voice, *, duration_s: float, sample_rate: int = 16000
                          ) -> list[str]:
    """``folder/clip{i}.wav``: one utterance of ``voice`` per sentiment (seed i)."""
    return [write_audio(os.path.join(str(folder), f"clip{i}.wav"),
                        synth.synth_utterance(voice, sentiment, duration_s=duration_s,
                                              sample_rate=sample_rate, seed=i), sample_rate)
            for i, sentiment in enumerate(synth.SENTIMENTS)]


class Killed(BaseException):
    """Stands for the process dying: raised from a monkeypatched step, nothing
    after it runs (no ``except Exception`` catches it)."""


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LOCK_HOLDER = """
import sys, time
sys.path.insert(0, {repo!r})
from sentiment_model import publish
publish.OutputLock({out!r}, {key!r}, run_id={run_id!r}, job="score").acquire()
print("held", flush=True)
time.sleep(300)
"""


@contextlib.contextmanager
def lock_held_by_another_process(out: str, key: str, *, run_id: str):
    """A second Python process holding ``out``'s lock on ``key``; yields it
    once it holds the lock, and kills it (SIGKILL) on exit."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _LOCK_HOLDER.format(repo=REPO, out=out, key=key, run_id=run_id)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()


def make_pipeline() -> TestPipeline:
    """A TestPipeline on the offline FnApiRunner (DirectRunner may pick Prism)."""
    return TestPipeline(runner=FnApiRunner(), blocking=True)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> str:
    """3 speakers x 3 sentiments x 2 utterances of generated speech at 16 kHz."""
    root = str(tmp_path_factory.mktemp("corpus"))
    synth.write_corpus(root, n_speakers=3, per_class=2, duration_s=1.0, seed=7)
    return root


def read_labels(path: str) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def shard_files(output: str, split: str) -> list[str]:
    return sorted(glob.glob(os.path.join(output, f"{split}-*-of-*.tfrecord*")))


def read_examples(output: str, split: str | None = None) -> list[dict]:
    """Reads featurize shards back through tfx-bsl's TFXIO with the written schema."""
    from tfx_bsl.public import tfxio

    from schemas import features as fk
    from schemas.metadata import SCHEMA_FILE

    with open(os.path.join(output, SCHEMA_FILE)) as f:
        schema = fk.schema_from_text(f.read())
    files = []
    for name in [split] if split else list(fk.SPLITS):
        files += shard_files(output, name)
    source = tfxio.TFExampleRecord(file_pattern=files, schema=schema,
                                   telemetry_descriptors=["tests"])
    options = tfxio.RecordBatchesOptions(batch_size=10_000, shuffle=False, num_epochs=1)
    examples = []
    for batch in source.RecordBatches(options):
        examples += fk.record_batch_to_examples(batch)
    return examples


def read_errors(output: str) -> list[dict]:
    import pyarrow.parquet as pq

    table = pq.read_table(os.path.join(output, "errors"))
    return table.to_pylist()


def without_copies(args) -> list[str]:
    """featurize arguments with ``--augment none`` added to a labelled run that
    names no ``--augment`` (the command's default makes the recommended
    training copies; the tests ask for them where they test them)."""
    args = list(args)
    if "--labels" in args and "--augment" not in args:
        args += ["--augment", "none"]
    return args


def featurize_into(out: str, *args: str) -> dict:
    from pipelines import featurize

    return featurize.run([*without_copies(args), "--output", out, "--progress-interval", "0"],
                         test_pipeline=make_pipeline())


@pytest.fixture(scope="session")
def features_dir(corpus, tmp_path_factory) -> str:
    """The corpus featurized with the default preset (speaker splits)."""
    out = str(tmp_path_factory.mktemp("features"))
    featurize_into(out, "--input", corpus, "--labels", os.path.join(corpus, "labels.csv"),
                   "--overwrite")
    return out


@pytest.fixture(scope="session")
def scoring_model(tmp_path_factory) -> str:
    """A model of the default architecture trained on 6 generated voices (2-s
    utterances).

    On the MFCCs alone (``--preset mfcc``): the generated voices carry their
    tone in pitch, loudness and rate only, and with 24 clips per class and
    no training copies the spectral-shape columns (in the default and
    ``spectral`` presets) let the model fit nuisance detail (on the calls
    below the agent's windows then changed label twice). The scoring,
    evaluation and report tests need a model that has learnt the voices; the
    recipe itself is measured on real speech (benchmarks/README.md), and
    ``make demo`` (10 voices, training copies) still scores its calls
    perfectly with the default preset.
    """
    from pipelines import train

    root = tmp_path_factory.mktemp("scoring")
    audio = str(root / "audio")
    labels = synth.write_corpus(audio, n_speakers=6, per_class=4, seed=11)
    features = str(root / "features")
    featurize_into(features, "--input", audio, "--labels", labels, "--preset", "mfcc")
    model_dir = str(root / "model")
    train.run(["--features", features, "--model-dir", model_dir, "--epochs", "30",
               "--patience", "8", "--batch-size", "16", "--seed", "0"])
    return model_dir


@pytest.fixture(scope="session")
def calls_dir(tmp_path_factory) -> str:
    """3 stereo calls (4 x 8 s) spoken by the scoring model's voices, with
    ``expected.csv``."""
    from sentiment_model import calls

    root = str(tmp_path_factory.mktemp("calls"))
    voices = synth.make_voices(6, seed=11)
    calls.write_calls(root, n_calls=3, agent=voices[4], customers=voices[:3], section_s=8.0,
                      seed=2)
    return root


def score_into(out: str, *args: str) -> dict:
    from pipelines import score

    return score.run([*args, "--output", out, "--progress-interval", "0"],
                     test_pipeline=make_pipeline())


# The generated calls' expectations hold for the energy detector: Silero VAD,
# trained on real speech, takes some generated utterances for non-speech
# (its own tests use generated voices it does take for speech).
SCORE_ARGS = ("--segment-seconds", "2", "--hop-seconds", "1", "--vad", "energy")


@pytest.fixture(scope="session")
def scored_calls(scoring_model, calls_dir, tmp_path_factory) -> str:
    """The calls scored into the run_date=2026-11-23 partition."""
    out = str(tmp_path_factory.mktemp("scores"))
    score_into(out, "--input", os.path.join(calls_dir, "calls"), "--model-dir", scoring_model,
               "--run-date", "2026-11-23", *SCORE_ARGS)
    return out


@pytest.fixture(scope="session")
def _object_store_servers():
    """Moto's S3 server and a GCS emulator on loopback (tests/object_stores.py),
    started on first use and stopped at the end of the session."""
    from tests import object_stores

    with pytest.MonkeyPatch.context() as mp, contextlib.ExitStack() as stack:
        yield {"s3": stack.enter_context(object_stores.s3_server(mp)),
               "gs": stack.enter_context(object_stores.gcs_server(mp))}


@pytest.fixture(params=["s3", "gs"])
def bucket(request, _object_store_servers) -> str:
    """A fresh, empty bucket on each store: ``s3://t-...`` then ``gs://t-...``."""
    return _object_store_servers[request.param]()


@pytest.fixture(scope="session")
def _fake_gcs_server():
    from tests import object_stores

    with object_stores.fake_gcs_server() as server:
        yield server


@pytest.fixture(params=["s3", "gs"])
def conditional_bucket(request, _object_store_servers, monkeypatch) -> str:
    """A fresh bucket on a server that honours conditional writes as the
    store does: Moto for ``s3://``, fake-gcs-server for ``gs://`` (named by
    ``STORAGE_EMULATOR_HOST`` for this test)."""
    if request.param == "s3":
        return _object_store_servers["s3"]()
    url, make = request.getfixturevalue("_fake_gcs_server")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", url)
    return make()
