"""Process-wide settings shared by the command line and the Beam workers.

Nothing here imports Beam, TensorFlow or librosa: the command line calls it
before it knows which job it runs.
"""

from __future__ import annotations

import atexit
import gc


def skip_gc_at_exit() -> None:
    """Makes this process skip the garbage collector's passes at interpreter exit.

    A process that imported Beam and librosa tracks ~200k objects (more with
    TensorFlow). While CPython tears its modules down at exit it collects
    them again and again: measured here, 0.4 s for Beam alone, 0.8 s for a
    featurize run and 1.5 s with TensorFlow. Beam's local runner stops its
    worker processes one after the other and waits for each to exit, so a
    run on two workers ended ~2 s after its last stage.

    Registers ``gc.freeze`` to run at exit (atexit callbacks run before the
    teardown): the objects alive then are never collected, which costs
    nothing because the operating system takes the process's memory back.
    Objects are still freed by reference counting and every other atexit
    callback still runs; only finalizers of objects caught in reference
    cycles are skipped, which CPython never promised to run at exit. Call it
    once per process or many times: it is registered once.
    """
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
