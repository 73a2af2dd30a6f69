"""Who talks when: turns, talk time, loudness and speaking rate of one
recording channel, and the call-level measures of two (non-talk time,
overlap, interruptions). Pure numpy/scipy, no I/O.

:class:`TalkTracker` follows one channel as the scoring core streams it:
the audio (for a 10 ms level envelope) and the speech detector's decided
frames. :meth:`TalkTracker.result` turns them into a :class:`ChannelTalk`;
:func:`call_measures` compares two channels' turns.

Definitions (the ``calls/`` table documents them too):

* a **turn** is a stretch of one speaker's speech frames in which no pause
  is ``min_pause_s`` or longer, lasting at least ``min_turn_s``;
* **talk time** is the sum of a speaker's turns; **non-talk time** the part
  of the call inside nobody's turn; **overlap** the part inside both
  speakers' turns;
* an **interruption** is a turn that starts while the other speaker is in a
  turn that began at least ``interruption_after_s`` earlier;
* **speaking rate** is syllable nuclei per second of talk time: peaks of the
  50 ms-smoothed level envelope at least ``rate_prominence_db`` above their
  surroundings and ``rate_min_gap_s`` apart, inside turns.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from sentiment_model.config import check_known_fields
from sentiment_model.errors import ConfigError

ENVELOPE_HOP_S = 0.01  # the level envelope's step, seconds
_SMOOTH_FRAMES = 5  # the envelope is smoothed over 50 ms before peak picking
_FLOOR_DB = 30.0  # peaks this far below the channel's loudest are noise, not syllables


@dataclass(frozen=True)
class TalkConfig:
    """How speech frames become turns and call measures.

    Attributes:
        min_pause_s: a silence this long or longer ends a turn; shorter ones
            (between words) are part of it.
        min_turn_s: speech shorter than this (a click, a breath) is no turn.
        interruption_after_s: a turn starting while the other speaker has
            been in a turn for at least this long is an interruption.
        rate_prominence_db: a syllable nucleus is a level peak at least this
            many dB above the dips around it ...
        rate_min_gap_s: ... and at least this far from the next one.
    """

    min_pause_s: float = 0.5
    min_turn_s: float = 0.2
    interruption_after_s: float = 1.0
    rate_prominence_db: float = 2.0
    rate_min_gap_s: float = 0.08

    def validate(self) -> TalkConfig:
        for name in ("min_pause_s", "min_turn_s", "interruption_after_s", "rate_min_gap_s"):
            if getattr(self, name) < 0:
                raise ConfigError(f"talk config {name} must be >= 0")
        if not self.rate_prominence_db > 0:
            raise ConfigError("talk config rate_prominence_db must be > 0")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TalkConfig:
        check_known_fields(cls, data, what="talk config")
        return cls(**data).validate()


class ChannelTalk(NamedTuple):
    """One channel's talk.

    Attributes:
        turns: ``(start_s, end_s)`` of each turn, in time order.
        talk_s: the turns' total length, seconds.
        loudness_dbfs: RMS level over the turns (``None`` without turns).
        syllables: syllable nuclei found in the turns.
        speaking_rate: ``syllables / talk_s`` (``None`` under one second of talk).
    """

    turns: tuple[tuple[float, float], ...]
    talk_s: float
    loudness_dbfs: float | None
    syllables: int
    speaking_rate: float | None


def speech_runs(flags: np.ndarray, *, frame_s: float, offset_s: float = 0.0
                ) -> list[tuple[float, float]]:
    """``(start_s, end_s)`` of each run of True in per-frame speech flags
    ``[n]`` (frames ``frame_s`` long, the first at ``offset_s``)."""
    f = np.concatenate([[False], np.asarray(flags, bool), [False]])
    edges = np.flatnonzero(f[1:] != f[:-1])
    return [(offset_s + int(a) * frame_s, offset_s + int(b) * frame_s)
            for a, b in zip(edges[::2], edges[1::2], strict=True)]


def turns_from_runs(runs: list[tuple[float, float]], config: TalkConfig
                    ) -> list[tuple[float, float]]:
    """Speech runs (sorted, seconds) joined across pauses shorter than
    ``min_pause_s``; joined stretches shorter than ``min_turn_s`` dropped."""
    joined: list[list[float]] = []
    for a, b in runs:
        if joined and a - joined[-1][1] < config.min_pause_s:
            joined[-1][1] = max(joined[-1][1], b)
        else:
            joined.append([a, b])
    return [(a, b) for a, b in joined if b - a >= config.min_turn_s]


def count_syllables(envelope_db: np.ndarray, *, config: TalkConfig,
                    hop_s: float = ENVELOPE_HOP_S) -> np.ndarray:
    """Frame indices ``[k]`` of syllable nuclei in a level envelope ``[n]``
    (dB per ``hop_s`` frame, already smoothed)."""
    from scipy.signal import find_peaks

    if len(envelope_db) < 3:
        return np.zeros(0, np.int64)
    peaks, _ = find_peaks(envelope_db, prominence=config.rate_prominence_db,
                          distance=max(1, round(config.rate_min_gap_s / hop_s)))
    return peaks[envelope_db[peaks] > envelope_db.max() - _FLOOR_DB]


def smooth_power(power: np.ndarray) -> np.ndarray:
    """Frame powers ``[n]`` smoothed over :data:`_SMOOTH_FRAMES` frames with a
    Hann window (same length)."""
    kernel = np.hanning(_SMOOTH_FRAMES + 2)[1:-1]
    return np.convolve(power, kernel / kernel.sum(), mode="same")


class TalkTracker:
    """One channel's talk, followed block by block.

    Args:
        sample_rate: rate of the pushed audio, Hz.
        config: turns and rate.

    Memory: 4 bytes per 10 ms of audio (1.4 MB per channel-hour) for the
    level envelope, plus the speech runs.
    """

    def __init__(self, *, sample_rate: int, config: TalkConfig) -> None:
        self._config = config
        self._hop = max(1, round(ENVELOPE_HOP_S * sample_rate))
        self._hop_s = self._hop / sample_rate
        self._carry = np.zeros(0, np.float32)
        self._power: list[np.ndarray] = []
        self._runs: list[tuple[float, float]] = []
        self.frames_seen = 0  # detector frames received

    def push_audio(self, samples: np.ndarray, *, last: bool = False) -> None:
        """Adds samples ``[n]`` (float32, the detector's signal)."""
        x = np.concatenate([self._carry, np.asarray(samples, np.float32)])
        usable = len(x) - len(x) % self._hop
        if last and usable < len(x):
            x = np.pad(x, (0, self._hop - len(x) % self._hop))
            usable = len(x)
        self._carry = x[usable:]
        if usable:
            block = x[:usable].astype(np.float64).reshape(-1, self._hop)
            self._power.append(np.square(block).mean(axis=1).astype(np.float32))

    def push_flags(self, flags: np.ndarray, *, frame_s: float) -> None:
        """Adds the detector's next decided frames ``[n]`` (``frame_s`` seconds each)."""
        for a, b in speech_runs(flags, frame_s=frame_s, offset_s=self.frames_seen * frame_s):
            if self._runs and abs(self._runs[-1][1] - a) < 1e-9:
                self._runs[-1] = (self._runs[-1][0], b)
            else:
                self._runs.append((a, b))
        self.frames_seen += len(flags)

    def result(self) -> ChannelTalk:
        """The channel's talk, once all of it has been pushed."""
        turns = turns_from_runs(self._runs, self._config)
        power = np.concatenate(self._power) if self._power else np.zeros(0, np.float32)
        inside = np.zeros(len(power), bool)
        for a, b in turns:
            inside[int(a / self._hop_s):int(np.ceil(b / self._hop_s))] = True
        talk_s = float(sum(b - a for a, b in turns))
        if not inside.any():
            return ChannelTalk(tuple(turns), talk_s, None, 0, None)
        mean_power = float(power[inside].astype(np.float64).mean())
        loudness = 10.0 * np.log10(max(mean_power, 1e-20))
        envelope = 10.0 * np.log10(np.maximum(smooth_power(power.astype(np.float64)), 1e-12))
        syllables = int(inside[count_syllables(envelope, config=self._config,
                                               hop_s=self._hop_s)].sum())
        rate = syllables / talk_s if talk_s >= 1.0 else None
        return ChannelTalk(tuple(turns), talk_s, float(loudness), syllables, rate)


class CallMeasures(NamedTuple):
    """Call-level measures of two speakers' turns (seconds).

    Attributes:
        non_talk_s: time inside nobody's turn.
        overlap_s: time inside both speakers' turns.
        interruptions: per speaker, the turns it started while the other had
            been in a turn for ``interruption_after_s``.
    """

    non_talk_s: float
    overlap_s: float
    interruptions: tuple[int, int]


def union_length(intervals: list[tuple[float, float]]) -> float:
    """Seconds covered by any of the intervals ``(start_s, end_s)``."""
    total, end = 0.0, -np.inf
    for a, b in sorted(intervals):
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total


def _overlap_length(x: tuple[tuple[float, float], ...], y: tuple[tuple[float, float], ...]
                    ) -> float:
    total, i, j = 0.0, 0, 0
    while i < len(x) and j < len(y):
        lo, hi = max(x[i][0], y[j][0]), min(x[i][1], y[j][1])
        total += max(0.0, hi - lo)
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return total


def _interruptions(by: tuple[tuple[float, float], ...], of: tuple[tuple[float, float], ...],
                   after_s: float) -> int:
    return sum(1 for start, _ in by
               if any(a + after_s <= start < b for a, b in of))


def call_measures(first: ChannelTalk, second: ChannelTalk, *, duration_s: float,
                  config: TalkConfig) -> CallMeasures:
    """Non-talk time, overlap and interruptions of a two-speaker call of
    ``duration_s`` seconds."""
    talk = union_length([*first.turns, *second.turns])
    return CallMeasures(
        non_talk_s=max(0.0, duration_s - talk),
        overlap_s=_overlap_length(first.turns, second.turns),
        interruptions=(_interruptions(first.turns, second.turns, config.interruption_after_s),
                       _interruptions(second.turns, first.turns, config.interruption_after_s)),
    )
