"""The dev corpora in ``../shared/data`` and their channel conditions, for
the benchmarks (never copied into the repository, never needed by a test).

Each corpus folder has ``labels.csv`` with ``path`` (relative to the
folder), ``label`` (3-class sentiment), ``emotion``, ``speaker`` and
``gender``. A condition turns a clip into what a channel delivers:
``wideband`` (as recorded) or ``telephone`` (300-3400 Hz, 8 kHz, µ-law:
:func:`sentiment_model.channel.telephone`).
"""

from __future__ import annotations

import argparse
import csv
import os

import numpy as np
import soundfile

from sentiment_model.channel import TELEPHONE_RATE, telephone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_ROOT = os.path.join(ROOT, "..", "shared", "data")
CORPORA = ("emodb-dev", "ased", "turev")
CHANNELS = ("wideband", "telephone")


def load_rows(corpus: str, *, data_root: str = DATA_ROOT) -> list[dict]:
    """``labels.csv`` rows of a corpus, with ``path`` made absolute and
    ``corpus`` and ``speaker`` (prefixed with the corpus) added."""
    folder = os.path.join(data_root, corpus)
    with open(os.path.join(folder, "labels.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["path"] = os.path.abspath(os.path.join(folder, row["path"]))
        row["corpus"] = corpus
        row["speaker"] = f"{corpus}:{row['speaker']}"
    return rows


def read_mono(path: str) -> tuple[np.ndarray, int]:
    """float32 ``[n]`` (channels averaged) and its sample rate."""
    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    return samples.mean(axis=1), int(rate)


def in_channel(samples: np.ndarray, rate: int, channel: str) -> tuple[np.ndarray, int]:
    """A clip as ``channel`` delivers it: ``(samples [m], rate)``."""
    if channel == "wideband":
        return samples, rate
    if channel == "telephone":
        return telephone(samples, rate), TELEPHONE_RATE
    raise ValueError(f"unknown channel {channel!r}: {CHANNELS}")


def through(samples: np.ndarray, rate: int, channel: str) -> np.ndarray:
    """A clip as ``channel`` delivers it, resampled back to ``rate``: ``[n]``."""
    from sentiment_model.audio import resample

    heard, heard_rate = in_channel(samples, rate, channel)
    return resample(heard, heard_rate, rate)


def benchmark_parser(doc: str | None, *, work_dir: str) -> argparse.ArgumentParser:
    """A corpus benchmark's parser: its docstring as help, ``--data`` (the
    corpora's folder), ``--work`` (its results) and ``--corpora``."""
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=DATA_ROOT)
    parser.add_argument("--work", default=work_dir)
    parser.add_argument("--corpora", default=",".join(CORPORA))
    return parser
