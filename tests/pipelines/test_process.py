import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile
from apache_beam.internal import pickler

from pipelines.featurize_fns import ComputeFeaturesFn, ReadAudioFn
from pipelines.score_fns import SegmentAudioFn
from sentiment_model import synth
from sentiment_model.config import preset
from sentiment_model.features import compute_frames
from sentiment_model.segments import SegmentConfig

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


# A worker process un-pickles the job's DoFns and runs them on one file; it
# prints the first feature values it computed and which of the heavy modules
# behind librosa's filter bank and MFCC path it had to import.
WORKER = """
import json, sys
import numpy as np
from apache_beam.internal import pickler
from schemas import features as fk
with open(sys.argv[1], "rb") as f:
    fns = pickler.loads(f.read())
for fn in fns:
    fn.setup()
if len(fns) == 2:  # featurize: ReadAudioFn, ComputeFeaturesFn
    from pipelines.featurize_fns import AudioItem
    decoded = next(iter(fns[0].process(AudioItem(uri=sys.argv[2], split="train"))))
    values = next(iter(fns[1].process(decoded))).features[fk.FRAMES]
else:  # score: SegmentAudioFn; its main output is (SegmentKey, model input)
    values = next(out for out in fns[0].process(sys.argv[2]) if isinstance(out, tuple))[1]
heavy = ("numba", "scipy.signal", "librosa.filters", "librosa.core.spectrum",
         "librosa.feature.spectral")
print(json.dumps({"values": np.asarray(values)[:3].tolist(),
                  "imported": [m for m in heavy if m in sys.modules]}))
"""


def run_worker(tmp_path, fns, wav: str) -> dict:
    payload = tmp_path / "fns.pickle"
    payload.write_bytes(pickler.dumps(fns))
    done = subprocess.run([sys.executable, "-c", WORKER, str(payload), wav], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture
def speech_wav(tmp_path):
    voice = synth.make_voices(1, seed=3)[0]
    y = synth.synth_utterance(voice, "positive", duration_s=2.0, sample_rate=16000, seed=7)
    path = tmp_path / "clip.wav"
    soundfile.write(path, y, 16000, subtype="FLOAT")
    return str(path), y.astype("float32")


def test_featurize_worker_computes_mfccs_without_librosas_filter_imports(tmp_path, speech_wav):
    # the DoFn carries the filter bank built at pipeline construction
    path, y = speech_wav
    cfg = preset("default")
    fns = [ReadAudioFn(total=1, interval_s=10.0), ComputeFeaturesFn(feature=cfg, channels="mix")]
    report = run_worker(tmp_path, fns, path)
    assert report["imported"] == []
    np.testing.assert_allclose(report["values"], compute_frames(y, 16000, cfg)[:3], rtol=1e-5,
                               atol=1e-4)


def test_score_worker_computes_mfccs_without_librosas_filter_imports(tmp_path, speech_wav):
    path, y = speech_wav
    cfg = preset("default")
    norm = {"group": "none", "frames": {"mean": [0.0] * cfg.frame_dims,
                                        "std": [1.0] * cfg.frame_dims}}
    fn = SegmentAudioFn(feature=cfg, segment=SegmentConfig(trim_to_speech=False),
                        channels="mix", input_kind="frames", norm=norm, total=1,
                        interval_s=10.0)
    report = run_worker(tmp_path, [fn], path)
    assert report["imported"] == []
    # the first window starts at the file's start: its first frames are the file's
    np.testing.assert_allclose(report["values"], compute_frames(y, 16000, cfg)[:3], rtol=1e-4,
                               atol=1e-3)
