"""Pieces every Beam job shares: runner choice, output checks, the errors
table and small helpers."""

from __future__ import annotations

import contextlib
import logging
import os
import uuid

import apache_beam as beam
from apache_beam.options.pipeline_options import (
    DirectOptions,
    PipelineOptions,
    StandardOptions,
)

from schemas import tables
from sentiment_model import publish, storage
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


# memory one local worker process of score holds at most: TensorFlow, the
# model, the speaker encoder and one 60-s block (1.6 GiB measured for an
# hour-long stereo call, benchmarks/README.md)
WORKER_MEMORY_GIB = 2.0
# channel-seconds of audio that pay for one more local score worker: each
# worker's start-up (a Beam harness, TensorFlow, the model traced) costs ~5 s,
# which a second worker won back only past about an hour of channel audio on
# 2 cores (benchmarks/README.md, 2026-12-08: 0.23 h of channel audio 16.0 s
# with one worker against 21.7 s with two, 1 h even, 2 h 66.9 s against 50.6 s)
AUDIO_S_PER_WORKER = 3600.0
# the worker processes' numeric libraries on one thread each: with a worker
# per core, more threads only contend
ONE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                  "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}


def _machine() -> tuple[int, float]:
    """(cores this process may run on, memory in GiB)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return cores or 1, memory


def local_workers(pipeline_args: list[str], *, n_inputs: int,
                  machine: tuple[int, float] | None = None,
                  audio_s: float | None = None) -> tuple[list[str], int]:
    """Beam options that run a local job on every core, and the worker count.

    Where the options name no runner and no ``--direct_num_workers`` or
    ``--direct_running_mode``, and more than one input file is to be read,
    adds ``--direct_num_workers N --direct_running_mode multi_processing``:
    one worker process per core, at most one per input file and one per
    :data:`WORKER_MEMORY_GIB` of memory (one share kept for the launching
    process) and, when ``audio_s`` is known, one per
    :data:`AUDIO_S_PER_WORKER` of it beyond the first. Otherwise returns the
    options unchanged, with the count they name (1 when none).

    Args:
        pipeline_args: the words for Beam's ``PipelineOptions``.
        n_inputs: the input files the job matched.
        machine: (cores, memory GiB); default: this machine's.
        audio_s: channel-seconds of audio to score, or ``None`` (unknown).
    """
    named = {a.split("=", 1)[0] for a in pipeline_args if a.startswith("--")}
    if named & {"--runner", "--direct_num_workers", "--direct_running_mode"}:
        options = PipelineOptions(pipeline_args).view_as(DirectOptions)
        return list(pipeline_args), options.direct_num_workers or 1
    cores, memory = machine or _machine()
    workers = max(1, min(cores, n_inputs, int(memory // WORKER_MEMORY_GIB) - 1))
    if audio_s is not None:
        workers = min(workers, 1 + int(audio_s // AUDIO_S_PER_WORKER))
    if workers == 1:
        return list(pipeline_args), 1
    return [*pipeline_args, "--direct_num_workers", str(workers),
            "--direct_running_mode", "multi_processing"], workers


@contextlib.contextmanager
def one_thread_workers(workers: int):
    """Within the block, worker processes started from here run their
    numeric libraries on one thread each (:data:`ONE_THREAD_ENV`, where the
    environment does not set them already), when ``workers`` > 1."""
    added = ({k: v for k, v in ONE_THREAD_ENV.items() if k not in os.environ}
             if workers > 1 else {})
    os.environ.update(added)
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)


def job_pipeline(pipeline_args: list[str], *, job: str, n_inputs: int,
                 audio_s: float | None = None,
                 test_pipeline: beam.Pipeline | None = None) -> tuple[beam.Pipeline, int]:
    """:func:`make_pipeline` with :func:`local_workers`' options: (the
    pipeline, its worker processes); run it within
    :func:`one_thread_workers` of that count. A ``test_pipeline`` is
    returned as it is, with one worker."""
    if test_pipeline is not None:
        return test_pipeline, 1
    args, workers = local_workers(pipeline_args, n_inputs=n_inputs, audio_s=audio_s)
    if len(args) > len(pipeline_args):
        LOG.info("%s: %d local worker processes, one per core (--direct_num_workers 1 for "
                 "one)", job, workers)
    elif audio_s is not None and local_workers(pipeline_args, n_inputs=n_inputs)[1] > workers:
        LOG.info("%s: one local worker process: %.0f channel-seconds of audio do not repay "
                 "another worker's start-up (--direct_num_workers N "
                 "--direct_running_mode multi_processing for N)", job, audio_s)
    return make_pipeline(args), workers


def local_audio_seconds(uris, *, enough: float | None = None) -> float | None:
    """Channel-seconds of audio in local files ``uris`` from their headers
    (``soundfile.info``), counted until ``enough`` is reached (default: as
    much as this machine's workers could use, :data:`AUDIO_S_PER_WORKER`
    for each core beyond the first); ``None`` when a file is not local or
    its header does not say (unknown: the caller decides without it)."""
    import soundfile

    if enough is None:
        enough = AUDIO_S_PER_WORKER * max(1, _machine()[0] - 1)
    total = 0.0
    for uri in uris:
        if total >= enough:
            break
        if not storage.is_local(uri):
            return None
        try:
            info = soundfile.info(uri)
        except (OSError, RuntimeError):  # soundfile's errors are RuntimeErrors
            return None
        if not info.samplerate or info.frames <= 0:
            return None
        total += info.frames / info.samplerate * info.channels
    return total


LOCAL_RUNNERS = ("FnApiRunner", "DirectRunner", "SwitchingDirectRunner",
                 "BundleBasedDirectRunner", "PrismRunner")


def is_local(p: beam.Pipeline) -> bool:
    """Whether ``p``'s workers run on this machine (they share its disk)."""
    name = type(p.runner).__name__ if getattr(p, "runner", None) is not None else None
    return name is None or name in LOCAL_RUNNERS or name.startswith("Test")


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
        storage.delete(probe)
    except Exception as exc:
        raise ConfigError(f"--output {output}: cannot write there ({exc})") from None


def check_output_dir(output: str, *, overwrite: bool, owned: tuple[str, ...]) -> None:
    """Checks that ``output`` can be written, before any work starts.

    Args:
        output: the output directory (local path or Beam URL).
        overwrite: whether the job may replace its own earlier outputs
            (``owned`` glob patterns relative to ``output``); they are
            replaced only when the new run publishes.
        owned: patterns of the files this job writes.

    Raises:
        ConfigError: the directory holds earlier outputs (without
            ``overwrite``), or cannot be created or written.
    """
    check_writable(output)
    existing = owned_files(output, owned)
    if existing and not overwrite:
        raise ConfigError(f"--output {output} already holds {len(existing)} output file(s) "
                          "of an earlier run; pass --overwrite to replace them")


def owned_files(output: str, owned: tuple[str, ...]) -> list[str]:
    """The files in ``output`` matching the ``owned`` patterns, sorted."""
    return sorted({f.uri for pattern in owned
                   for f in storage.match(storage.join(output, pattern))})


def recover_output(output: str, *, key: str, run_id: str, job: str) -> None:
    """Finishes or removes what dead runs left in ``output``'s staging folder
    (:func:`sentiment_model.publish.recover`, holding the lock on ``key``),
    before this run checks the output: an interrupted ``featurize
    --overwrite`` is completed, not mistaken for old outputs. Writes nothing
    when there is no staging folder."""
    if not publish.staged_runs(output):
        return
    with publish.OutputLock(output, key, run_id=run_id, job=job):
        for line in publish.recover(output, job=job, key=key, run_id=run_id):
            LOG.warning("%s", line)


@contextlib.contextmanager
def locked_output(output: str, *, key: str, run_id: str, job: str):
    """Holds ``output``'s lock on ``key`` while the run writes and publishes.

    On entry: takes the lock (a running run with the same key stops this one
    with one line) and claims the run's staging folder. A run that fails
    before publishing removes its staging folder; one that fails while
    publishing leaves it for the next run to finish (:func:`recover_output`).
    """
    lock = publish.OutputLock(output, key, run_id=run_id, job=job).acquire()
    try:
        if lock.taken_over:
            LOG.info("%s: took over the lock of run %s (pid %s on %s), which is no longer "
                     "running", job, lock.taken_over.get("run_id"), lock.taken_over.get("pid"),
                     lock.taken_over.get("host"))
        folder = publish.claim(output, run_id=run_id, key=key, job=job)
        try:
            yield folder
        except BaseException:
            if not storage.exists(storage.join(folder, publish.RECORD_FILE)):
                storage.delete_tree(folder)
                storage.remove_empty_dir(storage.dirname(folder))
            raise
    finally:
        lock.release()


PARQUET_CODEC = "zstd"  # every Parquet file the jobs write


def project_version() -> str:
    """The installed audio-sentiment's version (``0+unknown`` when run from a
    source tree that was never installed)."""
    import importlib.metadata

    try:
        return importlib.metadata.version("audio-sentiment")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def redacted(row: dict) -> dict:
    """A table row with credentials hidden in its ``uri`` and ``message``
    (:func:`sentiment_model.storage.redact`): applied to every row a job
    writes."""
    out = dict(row)
    for key in ("uri", "message"):
        if isinstance(out.get(key), str):
            out[key] = storage.redact(out[key])
    return out


class WriteErrors(beam.PTransform):
    """Writes error rows (schemas.tables.ERRORS_SCHEMA), credentials redacted,
    as one Parquet file."""

    def __init__(self, errors_dir: str) -> None:
        super().__init__()
        self._prefix = storage.join(errors_dir, "errors")

    def expand(self, rows):
        return rows | "Redact" >> beam.Map(redacted) | "WriteParquet" >> beam.io.WriteToParquet(
            self._prefix,
            schema=tables.with_metadata(tables.ERRORS_SCHEMA, table=tables.ERRORS_TABLE,
                                        project_version=project_version()),
            codec=PARQUET_CODEC,
            num_shards=1,
            shard_name_template="-SSSSS-of-NNNNN",
            file_name_suffix=".parquet",
        )


def format_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
