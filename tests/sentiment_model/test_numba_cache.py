import fcntl
import os
import subprocess
import sys
import time

from sentiment_model import numba_cache

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# a child process: loads librosa through numba_cache, then YIN of a 200 Hz tone
_CHILD = """
import sys
import numpy as np
from sentiment_model import numba_cache
librosa = numba_cache.librosa()
print("loaded", all(m in sys.modules for m in numba_cache.KERNEL_MODULES), flush=True)
t = np.arange(16000) / 16000.0
f0 = librosa.yin(np.sin(2 * np.pi * 200.0 * t).astype(np.float32), fmin=60, fmax=500,
                 sr=16000, frame_length=1024, hop_length=160)
print("f0", float(np.median(f0)), flush=True)
"""


def _child(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _CHILD], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _env(tmp_path, **extra) -> dict:
    return {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": ROOT, **extra}


def test_lock_path_is_in_the_temporary_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    assert numba_cache.lock_path() == str(tmp_path / numba_cache.LOCK_NAME)


def test_a_process_waits_for_the_lock_before_loading_librosa(tmp_path):
    lock_file = tmp_path / numba_cache.LOCK_NAME
    with open(lock_file, "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        child = _child(_env(tmp_path))
        time.sleep(8.0)  # loading takes ~3 s with a warm cache
        assert child.poll() is None
        fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    lines = out.split("\n")
    assert lines[0] == "loaded True"
    assert abs(float(lines[1].split()[1]) - 200.0) < 3.0


def test_processes_that_compile_at_once_leave_a_cache_every_later_process_can_run(tmp_path):
    env = _env(tmp_path, NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    together = [_child(env) for _ in range(3)]  # a fresh cache: all compile at once
    for started in [*together, None]:
        child = started or _child(env)  # then one more, reading the cache they wrote
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err[-2000:]
        assert abs(float(out.split("\n")[1].split()[1]) - 200.0) < 3.0


def test_a_lock_file_that_cannot_be_opened_loads_librosa_without_it(tmp_path, monkeypatch):
    monkeypatch.setattr(numba_cache, "lock_path", lambda: str(tmp_path))  # a folder
    module = numba_cache.librosa.__wrapped__()
    assert module.__name__ == "librosa"
    assert all(name in sys.modules for name in numba_cache.KERNEL_MODULES)
