"""Long recordings: windows, an energy voice-activity detector, and the
aggregation of per-window sentiment into one row per recording channel.

Pure numpy, no I/O. The scoring core (:mod:`sentiment_model.scoring`) feeds
audio in blocks through :class:`WindowCutter` (memory does not grow with the
recording's length), labels each window speech or not with the configured
detector (Silero VAD, :mod:`sentiment_model.vad`, or :class:`EnergyVad`),
scores the speech windows and calls :func:`aggregate` once per recording
channel.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from sentiment_model.config import check_known_fields
from sentiment_model.errors import ConfigError


@dataclass(frozen=True)
class SegmentConfig:
    """How a recording is cut into windows and which windows are speech.

    Attributes:
        segment_s: window length in seconds. A recording no longer than
            this is one window holding all of it, scored as one utterance
            (never trimmed): its probabilities are the model's for the whole
            clip, as featurize computes it.
        hop_s: step between window starts in seconds (``<= segment_s``).
        min_segment_s: a last partial window shorter than this is not scored.
        vad: the speech detector: ``"either"`` (a frame is speech when
            Silero VAD or the energy detector says so), ``"silero"`` (Silero
            VAD, 32 ms steps) or ``"energy"`` (frame level against a running
            noise floor).
        vad_threshold: Silero's speech probability threshold (speech lasts
            while the probability stays above ``vad_threshold - 0.15``).
        vad_frame_s: frame length of the energy detector in seconds.
        vad_floor_window_s: the noise floor is the quietest frame within this
            many seconds before the current one (minimum statistics).
        vad_margin_db: a frame is speech when its level is this many dB above
            the noise floor ...
        vad_min_dbfs: ... and above this absolute level (dBFS).
        vad_min_speech_ratio: a window is speech when at least this share of
            its frames are speech frames (a recording with no such window
            has its window with the most speech frames scored, if that
            holds ``vad_min_speech_s``) ...
        vad_min_speech_s: ... and a recording no longer than one window (one
            utterance) when its speech frames add up to at least this many
            seconds, whatever their share (acted clips and short calls hold
            a word in seconds of silence).
        vad_utterance_peak_dbfs: a recording no longer than one window is
            scaled to this peak level (dBFS) before speech detection only
            (features see it as recorded), so quiet clips are judged as loud
            ones; ``None``: detect on the recording as it is.
        trim_to_speech: score only the stretch of a speech window from its
            first to its last speech frame (pauses at the edges of a turn
            otherwise pull windows towards the low-energy classes).
        block_s: audio is decoded in blocks of this many seconds.
        buffer_mb: for speaker-normalised models, which need a channel's
            statistics before its first window is scored: the window features
            of a file are kept in memory up to this many MB (about 1 h of a
            stereo call at 256); longer files are read a second time instead.
    """

    segment_s: float = 3.0
    hop_s: float = 1.5
    min_segment_s: float = 0.5
    vad: str = "either"
    vad_threshold: float = 0.5
    vad_frame_s: float = 0.03
    vad_floor_window_s: float = 10.0
    vad_margin_db: float = 12.0
    vad_min_dbfs: float = -50.0
    vad_min_speech_ratio: float = 0.3
    vad_min_speech_s: float = 0.1
    vad_utterance_peak_dbfs: float | None = -6.0
    trim_to_speech: bool = True
    block_s: float = 60.0
    buffer_mb: float = 256.0

    def validate(self) -> SegmentConfig:
        if not self.segment_s > 0:
            raise ConfigError(f"--segment-seconds {self.segment_s}: must be > 0")
        if not 0 < self.hop_s <= self.segment_s:
            raise ConfigError(f"--hop-seconds {self.hop_s}: must be > 0 and at most "
                              f"--segment-seconds ({self.segment_s})")
        if not 0 <= self.min_segment_s <= self.segment_s:
            raise ConfigError("min_segment_s must be between 0 and segment_s")
        if self.vad not in ("either", "silero", "energy"):
            raise ConfigError(f"--vad {self.vad!r}: choose either, silero or energy")
        if not 0 < self.vad_threshold < 1:
            raise ConfigError(f"--vad-threshold {self.vad_threshold}: must be between 0 and 1")
        if not 0 < self.vad_frame_s <= self.hop_s:
            raise ConfigError("vad_frame_s must be > 0 and at most hop_s")
        if not 0 <= self.vad_min_speech_ratio <= 1:
            raise ConfigError("vad_min_speech_ratio must be between 0 and 1")
        if self.vad_min_speech_s < 0:
            raise ConfigError("vad_min_speech_s must be >= 0")
        if self.vad_utterance_peak_dbfs is not None and not self.vad_utterance_peak_dbfs <= 0:
            raise ConfigError("vad_utterance_peak_dbfs must be <= 0 dBFS (or None)")
        if self.block_s < self.segment_s:
            raise ConfigError("block_s must be at least segment_s")
        if self.buffer_mb < 0:
            raise ConfigError("buffer_mb must be >= 0")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentConfig:
        """Configs saved before the ``vad`` field ran the energy detector on
        recordings as they are."""
        check_known_fields(cls, data, what="segment config")
        old = {} if "vad" in data else {"vad": "energy", "vad_utterance_peak_dbfs": None}
        return cls(**{**old, **data}).validate()


class Window(NamedTuple):
    """One window of a mono signal.

    Attributes:
        index: 0, 1, ... in time order.
        start: first sample (at the cutter's sample rate).
        samples: float32 ``[n]``.
    """

    index: int
    start: int
    samples: np.ndarray


class WindowCutter:
    """Cuts a mono signal that arrives in chunks into overlapping windows.

    Window ``k`` covers samples ``[k * hop, k * hop + size)``. After the last
    full window, the rest of the signal becomes one shorter window when it is
    at least ``min_size`` samples long; a signal shorter than ``size`` is one
    window. Holds at most ``size + chunk`` samples at a time.
    """

    def __init__(self, *, size: int, hop: int, min_size: int) -> None:
        self._size, self._hop, self._min = size, hop, min_size
        self._buffer = np.zeros(0, np.float32)
        self._buffer_start = 0  # sample index of _buffer[0]
        self._next = 0  # index of the next window
        self._total = 0

    @property
    def total(self) -> int:
        """Samples pushed so far."""
        return self._total

    @classmethod
    def for_config(cls, config: SegmentConfig, sample_rate: int) -> WindowCutter:
        return cls(size=round(config.segment_s * sample_rate),
                   hop=round(config.hop_s * sample_rate),
                   min_size=round(config.min_segment_s * sample_rate))

    def push(self, chunk: np.ndarray) -> list[Window]:
        """Adds ``chunk`` (float32 ``[n]``); returns the windows it completed."""
        self._buffer = np.concatenate([self._buffer, np.asarray(chunk, np.float32)])
        self._total += len(chunk)
        out = []
        while True:
            start = self._next * self._hop
            end = start + self._size
            if end > self._total:
                break
            a = start - self._buffer_start
            out.append(Window(self._next, start, self._buffer[a:a + self._size].copy()))
            self._next += 1
        self._trim()
        return out

    @property
    def next_start(self) -> int:
        """First sample of the next window (earlier samples are no longer needed)."""
        return self._next * self._hop

    def finish(self) -> list[Window]:
        """The last, shorter window (if any) once the signal has ended."""
        start = self._next * self._hop
        if self._next > 0:
            covered = (self._next - 1) * self._hop + self._size
            if covered >= self._total:
                return []
        rest = self._total - start
        if rest <= 0 or (rest < self._min and self._next > 0):
            return []
        a = start - self._buffer_start
        window = Window(self._next, start, self._buffer[a:].copy())
        self._next += 1
        return [window]

    def _trim(self) -> None:
        keep_from = self._next * self._hop
        drop = keep_from - self._buffer_start
        if drop > 0:
            self._buffer = self._buffer[drop:]
            self._buffer_start = keep_from


def frame_levels_dbfs(samples: np.ndarray, frame: int) -> np.ndarray:
    """RMS level in dBFS of consecutive non-overlapping frames of ``frame``
    samples (the last partial frame included). Returns ``[n_frames]``."""
    n = len(samples)
    if n == 0:
        return np.zeros(0)
    pad = (-n) % frame
    x = np.pad(np.asarray(samples, np.float64), (0, pad))
    power = np.square(x).reshape(-1, frame).mean(axis=1)
    if pad:  # the partial frame's mean over its real samples
        power[-1] *= frame / (frame - pad)
    return 10.0 * np.log10(np.maximum(power, 1e-12))


class DecidesAtOnce:
    """``vad.settle_together``'s interface for a detector that decides each
    frame as it is pushed: :meth:`queue` is ``push``, nothing waits."""

    def queue(self, chunk: np.ndarray, *, last: bool = False) -> None:
        self.push(chunk, last=last)

    def networks(self) -> list:
        return []

    def settle(self) -> None:
        """Nothing waits."""


class EnergyVad(DecidesAtOnce):
    """Streaming energy voice-activity detection with a minimum-statistics
    noise floor.

    Frames are ``vad_frame_s`` long and do not overlap. The floor is the
    quietest frame level seen in the last ``vad_floor_window_s`` seconds; a
    frame is speech when it is ``vad_margin_db`` above the floor and above
    ``vad_min_dbfs``. Feed the signal with :meth:`push` (any chunk sizes),
    then ask :meth:`flags` for the frames that start inside a window.
    """

    def __init__(self, config: SegmentConfig, sample_rate: int) -> None:
        self._cfg = config
        self.frame = max(1, round(config.vad_frame_s * sample_rate))
        self._history: collections.deque[float] = collections.deque(
            maxlen=max(1, round(config.vad_floor_window_s / config.vad_frame_s)))
        self._carry = np.zeros(0, np.float32)
        self._flags = np.zeros(0, bool)
        self._first = 0  # frame index of _flags[0]
        self.speech_samples = 0  # samples in speech frames so far

    def push(self, chunk: np.ndarray, *, last: bool = False) -> None:
        """Adds samples; ``last=True`` also decides the final partial frame."""
        x = np.concatenate([self._carry, np.asarray(chunk, np.float32)])
        usable = len(x) if last else len(x) - len(x) % self.frame
        self._carry = x[usable:]
        levels = frame_levels_dbfs(x[:usable], self.frame)
        floor = trailing_min(np.concatenate([np.asarray(self._history, np.float64), levels]),
                             self._history.maxlen)[len(self._history):]
        self._history.extend(levels.tolist())
        new = (levels >= self._cfg.vad_min_dbfs) & (levels >= floor + self._cfg.vad_margin_db)
        self._flags = np.concatenate([self._flags, new])
        if len(new):
            last_len = usable - (len(new) - 1) * self.frame
            self.speech_samples += int(new[:-1].sum()) * self.frame + int(new[-1]) * last_len

    @property
    def n_frames(self) -> int:
        """Frames decided so far."""
        return self._first + len(self._flags)

    def flags(self, start: int, end: int) -> np.ndarray:
        """Speech flags ``[n]`` of the frames starting in samples ``[start, end)``."""
        a = -(-start // self.frame) - self._first
        b = -(-end // self.frame) - self._first
        return self._flags[max(a, 0):max(b, 0)]

    def forget_before(self, sample: int) -> None:
        """Drops flags of frames that start before ``sample`` (bounded memory)."""
        drop = sample // self.frame - self._first
        if drop > 0:
            self._flags = self._flags[drop:]
            self._first += drop


def trailing_min(values: np.ndarray, size: int) -> np.ndarray:
    """``out[j] = min(values[j - size + 1 : j + 1])`` (fewer at the start), ``[n]``."""
    from scipy.ndimage import minimum_filter1d

    if size <= 1 or not len(values):
        return np.asarray(values, np.float64)
    return minimum_filter1d(np.asarray(values, np.float64), size, mode="nearest",
                            origin=(size - 1) // 2)


def speech_span(flags: np.ndarray, *, window_start: int, window_len: int,
                frame: int) -> tuple[int, int]:
    """Samples ``[a, b)`` of a window from its first to its last speech frame.

    Args:
        flags: :meth:`EnergyVad.flags` of the window (frames that start in it).
        window_start: the window's first sample in the signal.
        window_len: the window's length in samples.
        frame: the detector's frame length in samples (need not be an integer).
    """
    idx = np.flatnonzero(flags)
    if not len(idx):
        return 0, window_len
    offset = math.ceil(window_start / frame) * frame - window_start  # first frame in the window
    a = round(offset + int(idx[0]) * frame)
    b = min(window_len, round(offset + (int(idx[-1]) + 1) * frame))
    return a, b


def is_speech_window(flags: np.ndarray, min_ratio: float) -> bool:
    """A window is speech when ``min_ratio`` of its VAD frames are speech."""
    return bool(len(flags)) and float(np.mean(flags)) >= min_ratio and bool(flags.any())


class ScoredSegment(NamedTuple):
    """One window's outcome. ``probs`` is ``None`` for non-speech windows."""

    index: int
    start_s: float
    end_s: float
    is_speech: bool
    probs: tuple[float, ...] | None


def smooth_labels(labels: list[int], min_run: int = 2) -> list[int]:
    """Absorbs runs shorter than ``min_run`` windows into the run before them
    (the first run into the one after it), so that one stray window does not
    count as two sentiment changes."""
    runs: list[list[int]] = []  # [label, length]
    for label in labels:
        if runs and runs[-1][0] == label:
            runs[-1][1] += 1
        else:
            runs.append([label, 1])
    merged: list[list[int]] = []
    for i, (label, length) in enumerate(runs):
        if length < min_run and merged:
            merged[-1][1] += length
        elif length < min_run and i + 1 < len(runs):
            runs[i + 1][1] += length
        elif merged and merged[-1][0] == label:
            merged[-1][1] += length
        else:
            merged.append([label, length])
    if not merged and runs:
        merged = [runs[0]]
        merged[0][1] = len(labels)
    return [label for label, length in merged for _ in range(length)]


def count_changes(labels: list[int]) -> int:
    return sum(1 for a, b in itertools.pairwise(labels) if a != b)


def aggregate(segments: list[ScoredSegment], *, duration_s: float,
              labels: tuple[str, ...]) -> dict[str, Any]:
    """Recording-level sentiment from its scored windows.

    * probabilities: mean over speech windows; ``label`` is their argmax and
      ``confidence`` its probability;
    * ``share[c]``: share of speech windows whose own label is ``c``;
    * ``first_quarter`` / ``last_quarter``: the label of the mean
      probabilities of the speech windows that overlap the first / last
      quarter of the recording (``None`` when there are none);
    * ``quarters``: the mean probabilities (``[n_classes]`` or ``None``) of
      the speech windows overlapping each of the four quarters;
    * ``changes``: label changes between consecutive speech windows after
      runs of a single window are absorbed by their neighbour
      (:func:`smooth_labels`; one stray window is not two changes).

    Returns:
        a dict with ``probs`` (``[n_classes]`` or None), ``label``,
        ``confidence``, ``share``, ``first_quarter``, ``last_quarter``,
        ``quarters``, ``changes``, ``n_speech_segments``.
    """
    speech = sorted((s for s in segments if s.is_speech and s.probs is not None),
                    key=lambda s: s.index)
    n = len(labels)
    if not speech:
        return {"probs": None, "label": None, "confidence": None,
                "share": [0.0] * n, "first_quarter": None, "last_quarter": None,
                "quarters": [None] * 4, "changes": 0, "n_speech_segments": 0}
    probs = np.asarray([s.probs for s in speech], np.float64)
    mean = probs.mean(axis=0)
    own = probs.argmax(axis=1)
    share = np.bincount(own, minlength=n) / len(own)
    starts = np.asarray([s.start_s for s in speech])
    ends = np.asarray([s.end_s for s in speech])
    quarters = []
    for q in range(4):  # the windows overlapping each quarter of the recording
        mask = (starts < (q + 1) * duration_s / 4) & (ends > q * duration_s / 4)
        quarters.append([float(p) for p in probs[mask].mean(axis=0)] if mask.any() else None)

    def quarter(q: int) -> str | None:
        return None if quarters[q] is None else labels[int(np.argmax(quarters[q]))]

    return {
        "probs": [float(p) for p in mean],
        "label": labels[int(mean.argmax())],
        "confidence": float(mean.max()),
        "share": [float(s) for s in share],
        "first_quarter": quarter(0),
        "last_quarter": quarter(3),
        "quarters": quarters,
        "changes": count_changes(smooth_labels([int(k) for k in own])),
        "n_speech_segments": len(speech),
    }
