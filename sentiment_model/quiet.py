"""Quiet native start-up output of TensorFlow, unless asked for.

TensorFlow writes lines to the process's stderr file descriptor before its
logging is set up (``oneDNN custom operations are on``, ``Could not find
cuda drivers``), which ``TF_CPP_MIN_LOG_LEVEL`` no longer hides, and on a
machine without a GPU logs ``failed call to cuInit`` at error level on its
first operation. :func:`import_tensorflow` imports it with that descriptor
pointed at ``/dev/null`` and sets the log level for what follows; Python
exceptions and warnings still show.

``AUDIO_SENTIMENT_VERBOSE=1`` in the environment (``audio-sentiment
--verbose`` sets it; Beam's worker processes inherit it) leaves everything
as TensorFlow prints it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import sys

VERBOSE_ENV = "AUDIO_SENTIMENT_VERBOSE"


def verbose() -> bool:
    return os.environ.get(VERBOSE_ENV, "") not in ("", "0")


def has_nvidia_device() -> bool:
    """Whether this machine exposes an NVIDIA GPU device file."""
    return bool(glob.glob("/dev/nvidia[0-9]*"))


def set_tensorflow_log_level() -> None:
    """``TF_CPP_MIN_LOG_LEVEL`` unless the user set it: 3 (errors hidden too)
    on a machine without an NVIDIA device, where TensorFlow's CUDA errors are
    noise, else 2; nothing when verbose."""
    if not verbose():
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2" if has_nvidia_device() else "3")


@contextlib.contextmanager
def native_stderr_silenced():
    """File descriptor 2 points at /dev/null inside the block (Python's
    ``sys.stderr`` is flushed first and works again afterwards)."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def import_tensorflow() -> None:
    """Imports TensorFlow (and Keras) once, without its native start-up lines."""
    set_tensorflow_log_level()
    if "tensorflow" in sys.modules or verbose():
        return
    with native_stderr_silenced():
        for name in ("tensorflow", "keras"):  # a JAX-only machine has no TensorFlow
            with contextlib.suppress(ImportError):
                __import__(name)
