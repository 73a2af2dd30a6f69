import io
import os
import re
import time

import apache_beam as beam

from pipelines import featurize, progress
from tests.conftest import make_pipeline, tone, write_audio


def test_workers_counts_add_up_on_the_board(tmp_path):
    a = progress.Progress("score", 5, board=str(tmp_path))
    b = progress.Progress("score", 5, board=str(tmp_path))
    assert progress.read_board(str(tmp_path)) == progress.Counts(0, 0.0, None)
    for seconds in (2.0, 0.0, 3.5):  # a rejected file counts with no audio
        a.update(audio_s=seconds)
    b.update(audio_s=10.0)
    a.close()
    b.close()
    counts = progress.read_board(str(tmp_path))
    assert (counts.files, counts.audio_s) == (4, 15.5)
    assert abs(counts.started - time.time()) < 5
    (tmp_path / "worker-broken.json").write_text('{"files": 1')  # half-written: skipped
    assert progress.read_board(str(tmp_path)).files == 4


def test_progress_text_has_share_rate_and_eta():
    counts = progress.Counts(files=30, audio_s=7200.0, started=1000.0)
    assert progress.progress_text("score", counts, 120, now=1060.0, bar=False) == (
        "score: 30/120 files (25 %), 2.00 h of audio, 120.0 audio-s/s, ETA 0:03:00")
    assert progress.progress_text("score", counts, 120, now=1060.0, bar=True).startswith(
        "score [######..................] 30/120 files (25 %)")
    done = progress.Counts(files=120, audio_s=7200.0, started=1000.0)
    assert progress.progress_text("featurize", done, 120, now=1100.0, bar=False) == (
        "featurize: 120/120 files (100 %), 2.00 h of audio, 72.0 audio-s/s")
    assert progress.progress_text("score", progress.Counts(3, 1.0, 1000.0), 0, now=1001.0,
                                  bar=False) == "score: 3 files, 0.00 h of audio, 1.0 audio-s/s"


def test_a_worker_without_a_board_logs_its_own_line(capsys):
    worker = progress.Progress("featurize", 9, interval_s=3600)
    worker.update(audio_s=36.0)
    worker.close()
    line = capsys.readouterr().err
    assert re.fullmatch(rf"\d\d:\d\d:\d\d featurize \[worker {os.getpid()}\]: 1 files done "
                        r"by this worker \(of 9 matched in all\), 0.01 h of audio, "
                        r"[\d.]+ audio-s/s\n", line), line


def test_the_line_is_printed_every_interval_and_once_at_the_end():
    stream = io.StringIO()
    with progress.ProgressLine("score", 4, interval_s=0.05, stream=stream) as line:
        worker = progress.Progress("score", 4, board=line.board)
        worker.update(audio_s=60.0)
        worker.close()
        time.sleep(0.3)
        for _ in range(2):
            worker.update(audio_s=60.0)
        worker.close()
        board = line.board
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("score: 1/4 files (25 %), 0.02 h of audio, ")
    assert lines[-1].startswith("score: 3/4 files (75 %), 0.05 h of audio, ")
    assert not os.path.exists(board)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_on_a_terminal_the_bar_is_redrawn_in_place():
    stream = _Terminal()
    with progress.ProgressLine("score", 2, interval_s=0.05, stream=stream) as line:
        worker = progress.Progress("score", 2, board=line.board)
        worker.update(audio_s=1.0)
        worker.close()
        time.sleep(0.2)
    text = stream.getvalue()
    assert text.startswith("\rscore [############............] 1/2 files (50 %)")
    assert text.endswith("\x1b[K\n") and text.count("\n") == 1


def test_featurize_prints_the_whole_jobs_progress(tmp_path, capsys):
    for i in range(3):
        write_audio(str(tmp_path / "in" / f"c{i}.wav"),
                    tone(300 + 40 * i, seconds=0.5, sample_rate=16000), 16000)
    (tmp_path / "in" / "bad.wav").write_text("not audio")
    featurize.run(["--input", str(tmp_path / "in"), "--output", str(tmp_path / "out"),
                   "--progress-interval", "0.05"], test_pipeline=make_pipeline())
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith("featurize: ")]
    last = max(i for i, x in enumerate(lines) if " files (" in x)
    assert lines[last].startswith("featurize: 4/4 files (100 %), 0.00 h of audio, ")
    assert lines[last + 1] == ("featurize: 4 files matched -> 3 written (3 examples: train 3, "
                               "eval 0, test 0), 1 rejected, 0 unaccounted")


class _CountFiles(beam.DoFn):
    def setup(self):
        self._progress = progress.Progress("score", 3, interval_s=3600)

    def process(self, seconds):
        self._progress.update(audio_s=seconds)
        yield seconds


def test_workers_count_in_beam_metrics_that_the_launcher_reads():
    p = make_pipeline()
    _ = p | beam.Create([1.5, 2.0, 0.0]) | beam.ParDo(_CountFiles())
    result = p.run()
    result.wait_until_finish()
    assert progress.metric_counts(result, started=100.0) == progress.Counts(3, 3.5, 100.0)


class _RunningJob:
    """A remote runner's result whose metrics grow while it runs."""

    def __init__(self):
        self.files = 0

    def metrics(self):
        return self

    def query(self, _filter):
        from apache_beam.metrics.execution import MetricKey, MetricResult
        from apache_beam.metrics.metricbase import MetricName

        def counter(name, attempted, step):
            key = MetricKey(step, MetricName(progress.METRICS_NAMESPACE, name))
            return MetricResult(key, None, attempted)  # committed: not reported yet

        self.files = min(self.files + 1, 4)
        # two steps count: their figures add up
        return {"counters": [counter(progress.FILES_DONE, self.files, "ScoreA"),
                             counter(progress.AUDIO_MS, 30_000 * self.files, "ScoreA"),
                             counter(progress.FILES_DONE, 0, "ScoreB")],
                "distributions": [], "gauges": []}


def test_on_a_remote_runner_the_line_follows_the_jobs_metrics():
    stream = io.StringIO()
    job = _RunningJob()
    with progress.ProgressLine("score", 4, interval_s=0.05, stream=stream) as line:
        line.follow(job)
        time.sleep(0.4)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("score: 1/4 files (25 %), 0.01 h of audio, ")
    assert lines[-1].startswith("score: 4/4 files (100 %), 0.03 h of audio, ")
    assert all(x.startswith("score: ") for x in lines)
