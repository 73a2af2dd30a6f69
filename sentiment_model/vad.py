"""Speech detection with Silero VAD, run by onnxruntime (no torch).

The model file is the ONNX network that the ``silero-vad`` wheel ships
(MIT licence); it is read from the installed package, never downloaded,
and the package version is pinned (:data:`SILERO_VERSION`). The wheel's
Python code needs torch and is never imported: only its data file is used,
its network rebuilt to score a whole block of 32 ms steps per call
(:mod:`sentiment_model.silero_graph`).

:class:`SileroVad` streams like :class:`~sentiment_model.segments.EnergyVad`
(same ``push`` / ``flags`` / ``forget_before`` interface), so the scoring
loop does not care which detector runs. :func:`make_detector` picks one
from a :class:`~sentiment_model.segments.SegmentConfig`. ``push`` is
``queue`` then :func:`settle_together`; the channels of one recording are
queued first and settled together, so that their Silero networks run side
by side (one onnxruntime call per block for all channels).
"""

from __future__ import annotations

import functools
import importlib.metadata
import math

import numpy as np

from sentiment_model.errors import ConfigError
from sentiment_model.segments import DecidesAtOnce

SILERO_PACKAGE = "silero-vad"
SILERO_VERSION = "6.2.3"
SILERO_MODEL = "silero_vad/data/silero_vad.onnx"
SILERO_RATE = 16000
_CHUNK = {16000: 512, 8000: 256}  # samples per model step (32 ms)
_CONTEXT = {16000: 64, 8000: 32}  # samples of the previous step the model sees
DETECTORS = {"either": "Silero VAD or the energy detector", "silero": "Silero VAD",
             "energy": "the energy detector"}


def silero_model_path() -> str:
    """Path of the installed ``silero-vad`` wheel's ONNX model.

    Raises:
        ConfigError: the package is missing or not the pinned version.
    """
    try:
        dist = importlib.metadata.distribution(SILERO_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise ConfigError(f"the speech detector needs the {SILERO_PACKAGE} package: "
                          f"pip install --no-deps {SILERO_PACKAGE}=={SILERO_VERSION} "
                          "(or use --vad energy)") from None
    if dist.version != SILERO_VERSION:
        raise ConfigError(f"{SILERO_PACKAGE} {dist.version} is installed; this release is "
                          f"tested with {SILERO_VERSION}: pip install --no-deps "
                          f"{SILERO_PACKAGE}=={SILERO_VERSION}")
    path = dist.locate_file(SILERO_MODEL)
    if not path.exists():  # type: ignore[union-attr]
        raise ConfigError(f"{SILERO_PACKAGE} {dist.version} has no {SILERO_MODEL}; reinstall it")
    return str(path)


@functools.lru_cache(maxsize=2)
def _session(sample_rate: int):
    """One onnxruntime session per process and rate, of the wheel's network
    rebuilt to score a block of steps per call
    (:func:`~sentiment_model.silero_graph.sequence_graph`); single-threaded
    (workers run in parallel processes; more threads only compete for the
    same cores)."""
    import onnxruntime

    from sentiment_model.silero_graph import sequence_graph

    options = onnxruntime.SessionOptions()
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    graph = sequence_graph(silero_model_path(), sample_rate,
                           step_samples=_CHUNK[sample_rate] + _CONTEXT[sample_rate])
    return onnxruntime.InferenceSession(graph, sess_options=options,
                                        providers=["CPUExecutionProvider"])


class SileroProbabilities:
    """Streaming speech probabilities of a mono 8 or 16 kHz signal, one per
    32 ms step (:data:`_CHUNK` samples), exactly as Silero's own iterator
    computes them: the network's recurrent state and the last
    :data:`_CONTEXT` samples carry over between steps, a final partial step
    is zero-padded.

    :meth:`push` computes at once; :meth:`queue`, then :func:`run_together`
    over several signals (the channels of one recording), then :meth:`take`
    runs their queued steps side by side, one network call for all.
    """

    def __init__(self, sample_rate: int) -> None:
        if sample_rate not in _CHUNK:
            raise ConfigError(f"Silero VAD runs at 8000 or 16000 Hz, not {sample_rate}")
        self.rate = sample_rate
        self.chunk = _CHUNK[sample_rate]
        self._session = _session(sample_rate)
        self._state = np.zeros((2, 1, 128), np.float32)
        self._context = np.zeros(_CONTEXT[sample_rate], np.float32)
        self._carry = np.zeros(0, np.float32)
        self._queued: list[np.ndarray] = []  # [k, chunk] steps not yet run
        self._done: list[np.ndarray] = []  # probabilities not yet taken

    def push(self, samples: np.ndarray, *, last: bool = False) -> np.ndarray:
        """Adds samples; returns the probabilities ``[k]`` of the steps they
        completed (``last=True`` also scores the final partial step)."""
        self.queue(samples, last=last)
        run_together([self])
        return self.take()

    def queue(self, samples: np.ndarray, *, last: bool = False) -> None:
        """Adds samples; the steps they complete wait for :func:`run_together`."""
        x = np.concatenate([self._carry, np.asarray(samples, np.float32)])
        n_steps = len(x) // self.chunk
        if last and len(x) % self.chunk:
            x = np.pad(x, (0, self.chunk - len(x) % self.chunk))
            n_steps += 1
        self._queued.append(x[:n_steps * self.chunk].reshape(n_steps, self.chunk))
        self._carry = np.zeros(0, np.float32) if last else x[n_steps * self.chunk:]

    def take(self) -> np.ndarray:
        """The probabilities ``[k]`` computed since the last take."""
        out = np.concatenate(self._done) if self._done else np.zeros(0, np.float32)
        self._done = []
        return out

    def _steps(self) -> np.ndarray:
        steps = (np.concatenate(self._queued) if self._queued
                 else np.zeros((0, self.chunk), np.float32))
        self._queued = []
        return steps


def run_together(members: list[SileroProbabilities]) -> None:
    """Runs the queued steps of every member: the members of one rate with
    as many steps queued run as one network call (a batch of signals, each
    member's state and context its own); the others one call each."""
    groups: dict[tuple[int, int], list[tuple[SileroProbabilities, np.ndarray]]] = {}
    for m in members:
        steps = m._steps()
        groups.setdefault((m.rate, len(steps)), []).append((m, steps))
    for (_, n_steps), group in groups.items():
        if n_steps == 0:
            for m, _ in group:
                m._done.append(np.zeros(0, np.float32))
            continue
        # [n_steps, batch, context + chunk]: each step after the one before's tail
        inputs = np.stack([_with_context(m._context, steps) for m, steps in group], axis=1)
        state = np.concatenate([m._state for m, _ in group], axis=1)
        probs, state = group[0][0]._session.run(None, {"steps": inputs, "state": state})
        for j, (m, steps) in enumerate(group):
            m._done.append(probs[:, j])
            m._state = state[:, j:j + 1]
            m._context = steps[-1, -len(m._context):].copy()


def _with_context(context: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """``[n, len(context) + chunk]``: each of ``steps`` (``[n, chunk]``)
    after the last ``len(context)`` samples before it (``context`` for the first)."""
    flat = np.concatenate([context, steps.ravel()])
    chunk = steps.shape[1]
    view = np.lib.stride_tricks.sliding_window_view(flat, len(context) + chunk)
    return view[::chunk][:len(steps)]


def settle_together(detectors) -> None:
    """Completes the :meth:`queue` of each detector (any with the
    ``queue`` / ``networks`` / ``settle`` interface), the Silero networks of
    all of them run side by side (:func:`run_together`)."""
    run_together([net for d in detectors for net in d.networks()])
    for d in detectors:
        d.settle()


def hysteresis(probs: np.ndarray, *, threshold: float, was_speech: bool = False,
               release: float = 0.15) -> np.ndarray:
    """Speech flags ``[n]`` from probabilities ``[n]``: speech starts at
    ``p >= threshold`` and lasts while ``p >= threshold - release`` (Silero's
    own rule). ``was_speech``: the state before the first value.

    Vectorised: a value is speech when it is above the release level and,
    since the last value that was not, some value reached the threshold
    (or, for the values before the first drop, ``was_speech``)."""
    p = np.asarray(probs)
    at = np.arange(len(p))
    above = p >= threshold - release
    # index of the last value below the release level, and of the last one
    # at the threshold, up to each value (-1: none yet)
    last_below = np.maximum.accumulate(np.where(above, -1, at)) if len(p) else at
    last_high = np.maximum.accumulate(np.where(p >= threshold, at, -1)) if len(p) else at
    return above & ((last_high > last_below) | (was_speech & (last_below < 0)))


class SileroVad:
    """Streaming speech detection with Silero VAD.

    Audio at any rate is pushed as it comes (resampled internally to 16 kHz
    unless it is 8 or 16 kHz); every 32 ms step becomes one flag. ``frame``
    is the step length in samples of the pushed signal (not an integer at
    rates like 22,050 Hz). Interface as :class:`~sentiment_model.segments.EnergyVad`.
    """

    def __init__(self, *, sample_rate: int, threshold: float) -> None:
        import soxr

        self._rate = sample_rate
        model_rate = sample_rate if sample_rate in _CHUNK else SILERO_RATE
        self._resampler = (None if model_rate == sample_rate else
                           soxr.ResampleStream(sample_rate, model_rate, 1, dtype="float32",
                                               quality="HQ"))
        self._probs = SileroProbabilities(model_rate)
        self._threshold = threshold
        self.frame = _CHUNK[model_rate] * sample_rate / model_rate
        self._flags = np.zeros(0, bool)
        self._first = 0  # frame index of _flags[0]
        self._pushed = 0  # samples pushed so far
        self._n_frames = 0
        self.speech_samples = 0.0  # samples in speech frames so far

    def push(self, chunk: np.ndarray, *, last: bool = False) -> None:
        """Adds samples; ``last=True`` also decides the final partial frame."""
        self.queue(chunk, last=last)
        settle_together([self])

    def queue(self, chunk: np.ndarray, *, last: bool = False) -> None:
        """:meth:`push` without running the network (see :func:`settle_together`)."""
        x = np.asarray(chunk, np.float32)
        self._pushed += len(x)
        if self._resampler is not None:
            x = np.asarray(self._resampler.resample_chunk(x, last=last), np.float32)
        self._probs.queue(x, last=last)

    def networks(self) -> list[SileroProbabilities]:
        return [self._probs]

    def settle(self) -> None:
        """Turns the probabilities computed since the last settle into flags."""
        probs = self._probs.take()
        was = bool(self._flags[-1]) if len(self._flags) else False
        new = hysteresis(probs, threshold=self._threshold, was_speech=was)
        starts = (self._n_frames + np.flatnonzero(new)) * self.frame  # the last may be partial
        self.speech_samples += float(np.clip(self._pushed - starts, 0.0, self.frame).sum())
        self._n_frames += len(new)
        self._flags = np.concatenate([self._flags, new])

    @property
    def n_frames(self) -> int:
        """Frames decided so far."""
        return self._n_frames

    def flags(self, start: int, end: int) -> np.ndarray:
        """Speech flags ``[n]`` of the frames starting in samples ``[start, end)``."""
        a = math.ceil(start / self.frame) - self._first
        b = math.ceil(end / self.frame) - self._first
        return self._flags[max(a, 0):max(b, 0)]

    def forget_before(self, sample: int) -> None:
        """Drops flags of frames that start before ``sample`` (bounded memory)."""
        drop = int(sample // self.frame) - self._first
        if drop > 0:
            self._flags = self._flags[drop:]
            self._first += drop


class EitherVad:
    """Speech where either of two detectors finds it, on the second's frames
    (each takes the first's decision at its centre).

    The default pairs the energy detector with Silero VAD: on the dev
    corpora Silero misses low-arousal and band-limited speech that the
    energy detector finds in quiet recordings, while Silero finds speech
    under noise that lifts the energy detector's floor
    (``benchmarks.vad_accuracy``). Tones, which the energy detector takes
    for speech, pass as well.
    """

    def __init__(self, first, second) -> None:
        self._a, self._b = first, second
        self.frame = second.frame
        self._ended = False

    @property
    def n_frames(self) -> int:
        """The second's frames whose centre the first has decided too (all of
        them once the signal has ended)."""
        if self._ended:
            return self._b.n_frames
        covered = self._a.n_frames * self._a.frame
        return min(self._b.n_frames, max(0, math.ceil(covered / self.frame - 0.5)))

    @property
    def speech_samples(self) -> float:
        return max(self._a.speech_samples, self._b.speech_samples)

    def push(self, chunk: np.ndarray, *, last: bool = False) -> None:
        self.queue(chunk, last=last)
        settle_together([self])

    def queue(self, chunk: np.ndarray, *, last: bool = False) -> None:
        self._a.queue(chunk, last=last)
        self._b.queue(chunk, last=last)
        self._ended = self._ended or last

    def networks(self) -> list[SileroProbabilities]:
        return [*self._a.networks(), *self._b.networks()]

    def settle(self) -> None:
        self._a.settle()
        self._b.settle()

    def flags(self, start: int, end: int) -> np.ndarray:
        own = self._b.flags(start, end)
        if not len(own):
            return own
        centres = (math.ceil(start / self.frame) + np.arange(len(own)) + 0.5) * self.frame
        idx = (centres // self._a.frame).astype(np.int64)  # the first's frame at each centre
        lo, hi = int(idx[0]), int(idx[-1]) + 1
        other = self._a.flags(round(lo * self._a.frame), round((hi - 1) * self._a.frame) + 1)
        picked = np.zeros(len(own), bool)
        ok = idx - lo < len(other)
        picked[ok] = other[idx[ok] - lo]
        return own | picked

    def forget_before(self, sample: int) -> None:
        self._a.forget_before(sample)
        self._b.forget_before(sample)


class KnownSpeech(DecidesAtOnce):
    """A detector that is told where the speech is: ``spans``, ``(start_s,
    end_s)`` sorted and apart (a diarized speaker's turns). A frame of
    ``frame_s`` is speech when its centre lies in a span. Interface as
    :class:`~sentiment_model.segments.EnergyVad`; it keeps nothing per frame.
    """

    def __init__(self, spans, *, sample_rate: int, frame_s: float = 0.01) -> None:
        bounds = np.asarray(spans, np.float64).reshape(-1, 2) * sample_rate
        self._starts, self._ends = bounds[:, 0], bounds[:, 1]
        self.frame = max(1, round(frame_s * sample_rate))
        self._pushed = 0
        self._n_frames = 0
        self.speech_samples = 0.0  # samples in the spans so far

    def push(self, chunk: np.ndarray, *, last: bool = False) -> None:
        """Counts the samples; ``last=True`` also decides the final partial frame."""
        self._pushed += len(chunk)
        self._n_frames = (-(-self._pushed // self.frame) if last
                          else self._pushed // self.frame)
        heard = np.minimum(self._ends, self._pushed) - self._starts
        self.speech_samples = float(np.clip(heard, 0.0, None).sum())

    @property
    def n_frames(self) -> int:
        """Frames decided so far."""
        return self._n_frames

    def flags(self, start: int, end: int) -> np.ndarray:
        """Speech flags ``[n]`` of the decided frames starting in samples ``[start, end)``."""
        a = -(-start // self.frame)
        b = min(-(-end // self.frame), self._n_frames)
        centres = (np.arange(a, max(a, b)) + 0.5) * self.frame
        if not len(self._starts):
            return np.zeros(len(centres), bool)
        k = np.searchsorted(self._starts, centres, side="right") - 1
        return (k >= 0) & (centres < self._ends[np.maximum(k, 0)])

    def forget_before(self, sample: int) -> None:
        """Nothing to forget (the spans are the whole state)."""


def flags_every(flags: np.ndarray, *, frame: float, sample_rate: int, step_s: float,
                n_steps: int) -> np.ndarray:
    """A detector's per-frame decisions ``[n]`` (frames of ``frame`` samples
    at ``sample_rate``) read every ``step_s`` seconds: ``bool[n_steps]`` (the
    last frame repeats past the end; all False without frames)."""
    if not len(flags):
        return np.zeros(n_steps, bool)
    at = (np.arange(n_steps) * step_s * sample_rate / frame).astype(int)
    return np.asarray(flags, bool)[np.minimum(at, len(flags) - 1)]


def make_detector(config, sample_rate: int):
    """The speech detector ``config.vad`` names, for a signal at ``sample_rate`` Hz.

    Args:
        config: a :class:`~sentiment_model.segments.SegmentConfig`.
    """
    from sentiment_model import segments

    if config.vad == "energy":
        return segments.EnergyVad(config, sample_rate)
    if config.vad == "either":
        return EitherVad(segments.EnergyVad(config, sample_rate),
                         SileroVad(sample_rate=sample_rate, threshold=config.vad_threshold))
    return SileroVad(sample_rate=sample_rate, threshold=config.vad_threshold)
