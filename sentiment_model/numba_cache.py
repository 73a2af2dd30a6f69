"""librosa, loaded once per process under a machine-wide file lock.

librosa compiles its numba kernels when a submodule that defines them is
first imported, and caches them on disk (``cache=True``). numba writes a
vectorised kernel (``guvectorize``) as two cache files, and processes that
compile it at the same moment can leave a pair from different compilations:
every later process that loads the pair crashes with a segmentation fault
on the kernel's first call (numba issue 10128; seen here when the feature
screen's two worker processes started on a fresh install: YIN then crashed
in every process). The
first :func:`librosa` call of a process imports those submodules while it
holds :func:`lock_path`, so the first process compiles and writes a whole
cache and the others read it. Everything in this package that calls
librosa goes through :func:`librosa`.
"""

from __future__ import annotations

import functools
import importlib
import os
import tempfile
from types import ModuleType

# librosa's submodules with cached vectorised kernels that this package reaches
KERNEL_MODULES = ("librosa.util.utils", "librosa.core.audio", "librosa.core.pitch")
LOCK_NAME = "audio-sentiment-librosa-kernels.lock"


def lock_path() -> str:
    """The lock file: one per machine (the temporary directory), as the cache is."""
    return os.path.join(tempfile.gettempdir(), LOCK_NAME)


@functools.lru_cache(maxsize=1)
def librosa() -> ModuleType:
    """The ``librosa`` module, its cached kernels compiled or loaded while
    this process holds :func:`lock_path` (waits while another holds it)."""
    try:
        import fcntl

        lock = open(lock_path(), "a")  # noqa: SIM115 (the with below closes it)
    except (ImportError, OSError):  # no flock (Windows), or another user's file
        _import_kernels()
        return importlib.import_module("librosa")
    with lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            _import_kernels()
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    return importlib.import_module("librosa")


def _import_kernels() -> None:
    for name in KERNEL_MODULES:
        importlib.import_module(name)
