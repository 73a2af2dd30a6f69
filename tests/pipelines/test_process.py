import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# gc.freeze is wrapped to count its calls; the report is registered first, so
# it runs last among the atexit callbacks: how often gc.freeze ran at exit and
# how many objects the collector had frozen by then.
PROBE = """
import atexit, gc
calls = []
real_freeze = gc.freeze
def counting_freeze():
    calls.append(1)
    real_freeze()
gc.freeze = counting_freeze
atexit.register(lambda: print("calls", len(calls), "frozen", gc.get_freeze_count()))
{arm}
"""


def exit_report(arm: str) -> dict[str, int]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(arm=arm)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=True)
    words = done.stdout.split()
    return {words[i]: int(words[i + 1]) for i in range(len(words) - 4, len(words), 2)}


def test_control_nothing_frozen_at_exit():
    assert exit_report("pass") == {"calls": 0, "frozen": 0}


def test_skip_gc_at_exit_freezes_once_however_often_called():
    report = exit_report("from pipelines.process import skip_gc_at_exit\n"
                         "skip_gc_at_exit()\nskip_gc_at_exit()")
    assert report["calls"] == 1
    assert report["frozen"] > 1000  # the interpreter's and the modules' objects


@pytest.mark.parametrize("arm", [
    "from pipelines.featurize_fns import ReadAudioFn\n"
    "ReadAudioFn(total=1, interval_s=10.0).setup()",
    "from pipelines.score_fns import SegmentAudioFn\n"
    "from sentiment_model.config import preset\n"
    "from sentiment_model.segments import SegmentConfig\n"
    "SegmentAudioFn(feature=preset('default'), segment=SegmentConfig(), channels='mix',\n"
    "               input_kind='frames', norm={}, total=1, interval_s=10.0).setup()",
    "from pipelines.cli import main\nmain(['make-demo-data', '--help'])",
], ids=["featurize-worker", "score-worker", "cli"])
def test_workers_and_cli_skip_gc_at_exit(arm):
    report = exit_report(f"try:\n    {arm.replace(chr(10), chr(10) + '    ')}\n"
                         "except SystemExit:\n    pass")
    assert report["calls"] == 1
    assert report["frozen"] > 1000
