"""Progress of a job: counted by the workers, shown as one line.

On a local runner (FnApiRunner, in one process or several) every worker
process keeps its counts in a small JSON file of a shared folder (a
:class:`Progress` with ``board``), and the launching process prints one
line for the whole job from them (:class:`ProgressLine`): files done of the
total, hours of audio, audio-seconds per second, percent and ETA; redrawn in
place as a bar on a terminal, a plain line every interval in a log. On a
remote runner (Dataflow, Flink) there is no shared folder: the workers also
count in Beam metrics (namespace ``audio_sentiment``: ``files_done``,
``audio_ms``), which the launching process reads from the running job for
the same line (:meth:`ProgressLine.follow`), and each worker logs its own
counts, which the runner's logging collects.
"""

from __future__ import annotations

import glob
import json
import os
import sys
import tempfile
import threading
import time
from typing import NamedTuple, TextIO

from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter

BAR_WIDTH = 24
METRICS_NAMESPACE = "audio_sentiment"
FILES_DONE = "files_done"
AUDIO_MS = "audio_ms"


class Counts(NamedTuple):
    """What the workers have done so far."""

    files: int
    audio_s: float
    started: float | None  # time.time() of the first worker's start, None before


class Progress:
    """One worker process's counts.

    Args:
        job: ``featurize`` or ``score``.
        total: files the job matched, 0 when unknown.
        interval_s: seconds between this worker's own lines (no ``board``).
        board: the shared folder of a local run, or ``None``.
    """

    def __init__(self, job: str, total: int, *, interval_s: float = 10.0,
                 board: str | None = None) -> None:
        self._job, self._total, self._interval, self._board = job, total, interval_s, board
        self._files = 0
        self._audio_s = 0.0
        self._started = time.time()
        self._last = time.monotonic()
        self._path = (os.path.join(board, f"worker-{os.getpid()}-{id(self):x}.json")
                      if board else None)
        self._files_metric = Metrics.counter(METRICS_NAMESPACE, FILES_DONE)
        self._audio_metric = Metrics.counter(METRICS_NAMESPACE, AUDIO_MS)

    def update(self, *, audio_s: float) -> None:
        """One more file done (``audio_s``: its length, 0 for a rejected one)."""
        self._files += 1
        self._audio_s += audio_s
        self._files_metric.inc()
        self._audio_metric.inc(round(audio_s * 1000))
        now = time.monotonic()
        if self._path is not None and now - self._last >= 0.5:
            self._last = now
            self._write()
        elif self._path is None and now - self._last >= self._interval:
            self._last = now
            self.log()

    def close(self) -> None:
        """Leaves the final counts (on the board, or as a last line)."""
        if self._path is not None:
            self._write()
        else:
            self.log()

    def _write(self) -> None:
        temp = f"{self._path}.tmp"
        with open(temp, "w") as f:
            json.dump({"files": self._files, "audio_s": self._audio_s,
                       "started": self._started}, f)
        os.replace(temp, self._path)

    def log(self) -> None:
        elapsed = max(time.time() - self._started, 1e-9)
        total = f" (of {self._total} matched in all)" if self._total else ""
        # stderr, not logging: Beam's worker processes do not forward INFO logs
        print(f"{time.strftime('%H:%M:%S')} {self._job} [worker {os.getpid()}]: "
              f"{self._files} files done by this worker{total}, "
              f"{self._audio_s / 3600:.2f} h of audio, {self._audio_s / elapsed:.1f} audio-s/s",
              file=sys.stderr, flush=True)


def read_board(board: str) -> Counts:
    """The sum of every worker's counts on ``board`` (files being replaced
    or half-written are skipped until the next read)."""
    files, audio_s, started = 0, 0.0, None
    for path in glob.glob(os.path.join(board, "worker-*.json")):
        try:
            with open(path) as f:
                counts = json.load(f)
        except (OSError, ValueError):
            continue
        files += int(counts["files"])
        audio_s += float(counts["audio_s"])
        started = counts["started"] if started is None else min(started, counts["started"])
    return Counts(files, audio_s, started)


def metric_counts(result, *, started: float) -> Counts:
    """The job's counts from a running pipeline's Beam metrics (``result``:
    its ``PipelineResult``; ``started``: when it was launched). A runner that
    cannot report them yet counts as nothing done."""
    try:
        counters = result.metrics().query(
            MetricsFilter().with_namespace(METRICS_NAMESPACE))["counters"]
    except Exception:  # a runner without metrics, or a transient query failure
        counters = []
    sums = {FILES_DONE: 0, AUDIO_MS: 0}
    for counter in counters:  # one per step that counts; attempted is the live figure
        value = counter.attempted if counter.attempted is not None else counter.committed
        if counter.key.metric.name in sums and value:
            sums[counter.key.metric.name] += int(value)
    return Counts(sums[FILES_DONE], sums[AUDIO_MS] / 1000, started)


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def progress_text(job: str, counts: Counts, total: int, *, now: float, bar: bool) -> str:
    """``score: 75/152 files (49 %), 0.04 h of audio, 27.1 audio-s/s, ETA 0:00:08``
    (``bar``: with a bar after the job name)."""
    done = f"{counts.files}/{total} files" if total else f"{counts.files} files"
    share = min(counts.files / total, 1.0) if total else None
    parts = [done + (f" ({100 * share:.0f} %)" if share is not None else ""),
             f"{counts.audio_s / 3600:.2f} h of audio"]
    if counts.started is not None and counts.files:
        elapsed = max(now - counts.started, 1e-9)
        parts.append(f"{counts.audio_s / elapsed:.1f} audio-s/s")
        if total and counts.files < total:
            parts.append(f"ETA {_clock((total - counts.files) * elapsed / counts.files)}")
    head = f"{job}:"
    if bar and share is not None:
        filled = round(BAR_WIDTH * share)
        head = f"{job} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}]"
    return f"{head} {', '.join(parts)}"


class ProgressLine:
    """The launching process's progress line.

    ``with ProgressLine(...) as line:`` runs the pipeline; on a local runner
    ``line.board`` goes to the workers' :class:`Progress`; on a remote one
    :meth:`follow` reads the running job's metrics instead. Every
    ``interval_s`` (not at all when 0) the line is printed: redrawn in place
    on a terminal, a new line in a log. The folder is removed on exit.
    """

    def __init__(self, job: str, total: int, *, interval_s: float,
                 stream: TextIO | None = None) -> None:
        self._job, self._total, self._interval = job, total, interval_s
        self._stream = stream or sys.stderr
        self._tty = bool(getattr(self._stream, "isatty", lambda: False)())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.board = ""
        self._counts = lambda: read_board(self.board)

    def follow(self, result) -> None:
        """Counts from now on come from ``result``'s Beam metrics (a remote
        runner's ``PipelineResult``, just launched)."""
        started = time.time()
        self._counts = lambda: metric_counts(result, started=started)

    def wait(self, result, *, remote: bool) -> None:
        """Waits for the launched pipeline (``result``), following its
        metrics when its workers share no board (``remote``)."""
        if remote:
            self.follow(result)
        result.wait_until_finish()

    def __enter__(self) -> ProgressLine:
        self.board = tempfile.mkdtemp(prefix=f"audio-sentiment-{self._job}-progress-")
        if self._interval > 0:
            self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._print()

    def _print(self) -> None:
        counts = self._counts()
        if counts.started is None or not counts.files:
            return
        text = progress_text(self._job, counts, self._total, now=time.time(), bar=self._tty)
        self._stream.write(f"\r{text}\x1b[K" if self._tty else text + "\n")
        self._stream.flush()

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._print()  # the final counts
            if self._tty:
                self._stream.write("\n")
        import shutil

        shutil.rmtree(self.board, ignore_errors=True)
