"""Pieces every Beam job shares: runner choice, output checks, the errors
table, progress logging and small combiners."""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from schemas.tables import ERRORS_SCHEMA
from sentiment_model import storage
from sentiment_model.errors import ConfigError

LOG = logging.getLogger("audio_sentiment")


def make_pipeline(pipeline_args: list[str]) -> beam.Pipeline:
    """A pipeline on the runner the options name, else Beam's FnApiRunner.

    The FnApiRunner runs everything locally and offline (the DirectRunner can
    switch to Prism, which downloads a binary). ``--direct_num_workers N
    --direct_running_mode multi_processing`` use several cores.
    """
    options = PipelineOptions(pipeline_args)
    if options.view_as(StandardOptions).runner is None:
        from apache_beam.runners.portability.fn_api_runner import FnApiRunner

        return beam.Pipeline(runner=FnApiRunner(), options=options)
    return beam.Pipeline(options=options)


def check_writable(output: str) -> None:
    """Checks that Beam can write files into ``output`` (creating it locally).

    Raises:
        ConfigError: not a path Beam writes to, or writing there fails.
    """
    if not storage.is_beam_path(output):
        raise ConfigError(f"--output {output}: Beam cannot write there; use a local path, "
                          "gs:// or s3://")
    try:
        storage.makedirs(output)
        probe = storage.join(output, f".write-check-{uuid.uuid4().hex}")
        storage.write_text(probe, "ok")
        FileSystems.delete([probe])
    except Exception as exc:
        raise ConfigError(f"--output {output}: cannot write there ({exc})") from None


def prepare_output_dir(output: str, *, overwrite: bool, owned: tuple[str, ...]) -> None:
    """Checks that ``output`` can be written, before any work starts.

    Args:
        output: the output directory (local path or Beam URL).
        overwrite: delete the job's own earlier outputs (``owned`` glob
            patterns relative to ``output``) instead of refusing to run.
        owned: patterns of the files this job writes.

    Raises:
        ConfigError: the directory holds earlier outputs (without
            ``overwrite``), or cannot be created or written.
    """
    check_writable(output)
    existing = [m.path for pattern in owned
                for m in FileSystems.match([storage.join(output, pattern)])[0].metadata_list]
    if existing and not overwrite:
        raise ConfigError(f"--output {output} already holds {len(existing)} output file(s) "
                          "of an earlier run; pass --overwrite to replace them")
    if existing:
        try:
            FileSystems.delete(existing)
        except Exception as exc:
            raise ConfigError(f"--output {output}: cannot replace the earlier outputs "
                              f"({exc})") from None


class WriteErrors(beam.PTransform):
    """Writes error rows (schemas.tables.ERRORS_SCHEMA) as one Parquet file."""

    def __init__(self, errors_dir: str) -> None:
        super().__init__()
        self._prefix = storage.join(errors_dir, "errors")

    def expand(self, rows):
        return rows | "WriteParquet" >> beam.io.WriteToParquet(
            self._prefix,
            schema=ERRORS_SCHEMA,
            num_shards=1,
            shard_name_template="-SSSSS-of-NNNNN",
            file_name_suffix=".parquet",
        )


class Progress:
    """Per-worker progress lines on stderr, at most one every ``interval_s``.

    Each worker process counts what it did itself; with several workers each
    prints its own share.
    """

    def __init__(self, job: str, total: int, *, interval_s: float = 10.0) -> None:
        self._job, self._total, self._interval = job, total, interval_s
        self._files = 0
        self._audio_s = 0.0
        self._start = time.monotonic()
        self._last = self._start

    def update(self, *, audio_s: float) -> None:
        self._files += 1
        self._audio_s += audio_s
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self.log()

    def log(self) -> None:
        elapsed = max(time.monotonic() - self._start, 1e-9)
        total = f" (of {self._total} matched in all)" if self._total else ""
        # stderr, not logging: Beam's worker processes do not forward INFO logs
        print(f"{time.strftime('%H:%M:%S')} {self._job} [worker {os.getpid()}]: "
              f"{self._files} files read by this worker{total}, "
              f"{self._audio_s / 3600:.2f} h of audio, {self._audio_s / elapsed:.1f} audio-s/s",
              file=sys.stderr, flush=True)


def format_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
