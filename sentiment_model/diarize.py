"""Two-speaker diarization of a mono call: who speaks when.

:func:`diarize` cuts the call's speech into overlapping partials, embeds
each with Resemblyzer's speaker encoder (:mod:`sentiment_model.speaker_encoder`),
clusters the embeddings into two speakers (Ward's agglomerative clustering
of the embeddings less their call mean, renormalised: the mean holds what
all of the call shares, the channel above all, which on telephone audio
otherwise outweighs the voices; then k-means passes from Ward's clusters),
labels every 10 ms speech frame by the partials covering it, gives speaker
runs shorter than ``min_run_s`` to their neighbours, gives a run shorter
than ``min_edge_s`` between a pause and the other voice to that voice, and
closes a speaker's pauses shorter than ``join_pause_s`` (quiet stretches
inside words that the detector drops).
When the two clusters' centres (uncentred) are closer than
``same_speaker_similarity`` the call is taken to have one speaker; the
voices of a two-speaker call are often that close on telephone audio, so
the default only catches near-identical clusters.

Which speaker is the agent: ``agent="first"`` (default) takes the one heard
first, as in an inbound call the agent answers; ``"second"`` the other one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np

from sentiment_model import speaker_encoder as se
from sentiment_model.errors import ConfigError
from sentiment_model.talk import ChannelTalk, TalkConfig, TalkTracker

FRAME_S = se.HOP / se.RATE  # 10 ms
AGENT_RULES = ("first", "second")
# k-means passes after Ward's clustering (in benchmarks.diarization 10 and 50 gave the same DER)
REFINE_ITERATIONS = 20
# the channel ids a diarized mono call's speakers are scored under (the mix is -1)
SPEAKER_CHANNELS = {"agent": -2, "customer": -3}


@dataclass(frozen=True)
class DiarizeConfig:
    """How a mono call is split into two speakers.

    Attributes:
        window_s: length of each embedded partial, seconds.
        step_s: hop between partials, seconds.
        min_speech: share of a partial's frames that must be speech to embed it.
        same_speaker_similarity: cosine similarity of the two cluster centres
            above which the call is taken to have one speaker.
        min_run_s: a speaker run shorter than this goes to its neighbours.
        min_edge_s: a speaker run shorter than this between a pause and the
            other speaker's run is that speaker's.
        join_pause_s: a pause shorter than this between two runs of the same
            speaker, with nobody speaking in it, is part of that speaker's
            turn (the speech detector drops quiet stretches inside words).
            Shorter than talk's ``min_pause_s`` (0.5 s): in a mix, a longer
            pause is more often a change of speaker that the partials blurred
            (``benchmarks.diarization``).
        agent: ``first`` (the speaker heard first is the agent) or ``second``.
        max_partials: at most this many partials, evenly spread, are
            clustered (Ward's clustering holds a distance matrix of n² / 2
            values: 16 MB at 2,000); the others join the nearer centre.
    """

    window_s: float = 1.0
    step_s: float = 0.2
    min_speech: float = 0.5
    same_speaker_similarity: float = 0.95
    min_run_s: float = 0.3
    min_edge_s: float = 0.1
    join_pause_s: float = 0.3
    agent: str = "first"
    max_partials: int = 2000

    def validate(self) -> DiarizeConfig:
        if not 0.3 <= self.window_s <= 3.0:
            raise ConfigError(f"diarize window_s {self.window_s}: use 0.3-3.0 s")
        if not 0 < self.step_s <= self.window_s:
            raise ConfigError(f"diarize step_s {self.step_s}: use 0 < step_s <= window_s")
        if not 0 < self.min_speech <= 1:
            raise ConfigError(f"diarize min_speech {self.min_speech}: use 0-1")
        if not -1 <= self.same_speaker_similarity <= 1:
            raise ConfigError("diarize same_speaker_similarity: use -1 to 1")
        if self.min_run_s < 0:
            raise ConfigError(f"diarize min_run_s {self.min_run_s}: must be >= 0")
        if self.min_edge_s < 0:
            raise ConfigError(f"diarize min_edge_s {self.min_edge_s}: must be >= 0")
        if self.join_pause_s < 0:
            raise ConfigError(f"diarize join_pause_s {self.join_pause_s}: must be >= 0")
        if self.max_partials < 2:
            raise ConfigError(f"diarize max_partials {self.max_partials}: must be >= 2")
        if self.agent not in AGENT_RULES:
            raise ConfigError(f"--agent-speaker {self.agent!r}: choose first or second")
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DiarizeConfig:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known).validate()


@dataclass(frozen=True)
class Diarization:
    """Who speaks when in a mono call.

    Attributes:
        speaker: ``int8[n_frames]`` per 10 ms frame: -1 nobody's turn, else
            the speaker (0 is heard first): the detector's speech with each
            speaker's short pauses closed (``join_pause_s``).
        n_speakers: 0, 1 or 2.
        agent: the agent's speaker number (-1 when there is no speech).
        similarity: cosine similarity of the two cluster centres (None with
            fewer than two partials).
    """

    speaker: np.ndarray
    n_speakers: int
    agent: int
    similarity: float | None

    def mask(self, speaker: int) -> np.ndarray:
        """``bool[n_frames]``: the frames where ``speaker`` speaks."""
        return self.speaker == speaker

    def spans(self, speaker: int) -> list[tuple[float, float]]:
        """(start_s, end_s) of ``speaker``'s runs."""
        from sentiment_model.talk import speech_runs

        return speech_runs(self.mask(speaker), frame_s=FRAME_S)

    @property
    def customer(self) -> int:
        return -1 if self.n_speakers < 2 else 1 - self.agent


def partial_starts(speech: np.ndarray, *, window: int, step: int, min_speech: float) -> np.ndarray:
    """Start frames of the partials to embed: every ``step`` frames, those
    whose ``window`` frames are at least ``min_speech`` speech."""
    n = len(speech)
    if n < window:
        return np.array([0]) if speech.mean() >= min_speech else np.zeros(0, int)
    starts = np.arange(0, n - window + 1, step)
    cumulative = np.concatenate([[0], np.cumsum(speech, dtype=np.int64)])
    share = (cumulative[starts + window] - cumulative[starts]) / window
    return starts[share >= min_speech]


def _two_clusters(embeddings: np.ndarray, *, max_partials: int,
                  refine_iterations: int = REFINE_ITERATIONS) -> np.ndarray:
    """``int[n]`` 0/1: Ward's clustering of the call-centred unit embeddings
    (of at most ``max_partials`` of them, evenly spread), then k-means on
    all of them from there: each embedding joins the centre it is most
    similar to (cosine) and the centres are recomputed, until nothing moves
    or ``refine_iterations`` passes. Ward's merges are greedy and never
    undone; the passes move the partials they left on the wrong side."""
    from sklearn.cluster import AgglomerativeClustering

    centred = embeddings - embeddings.mean(axis=0)
    centred /= np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)
    pick = np.arange(len(centred))
    if len(centred) > max_partials:
        pick = np.unique(np.linspace(0, len(centred) - 1, max_partials).round().astype(int))
    ward = AgglomerativeClustering(n_clusters=2, linkage="ward").fit_predict(centred[pick])
    labels = np.argmax(centred @ _cluster_means(centred[pick], ward).T, axis=1)
    labels[pick] = ward
    for _ in range(refine_iterations):
        moved = np.argmax(centred @ _cluster_means(centred, labels).T, axis=1)
        if np.unique(moved).size < 2 or (moved == labels).all():
            break
        labels = moved
    return labels


def _cluster_means(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``[2, d]``: the mean of the rows of ``x [n, d]`` labelled 0, and of those labelled 1."""
    return np.stack([x[labels == k].mean(axis=0) for k in (0, 1)])


def _frame_votes(starts, labels, similarity, *, n_frames: int, window: int) -> np.ndarray:
    """``float[n_frames, 2]``: each partial's vote for its speaker, weighted
    by a triangle over its frames and by how sure it is."""
    votes = np.zeros((n_frames + window, 2))
    tri = np.bartlett(window + 2)[1:-1]
    for s, label, sure in zip(starts, labels, similarity, strict=True):
        votes[s:s + window, label] += tri * sure
    return votes[:n_frames]


def _run_bounds(labels: np.ndarray) -> np.ndarray:
    """``[k + 1]`` starts of the ``k`` runs of equal values in ``labels``, then its length."""
    change = np.flatnonzero(np.diff(labels)) + 1
    return np.concatenate([[0], change, [len(labels)]])


def _drop_short_runs(speaker: np.ndarray, min_frames: int) -> np.ndarray:
    """Speaker runs shorter than ``min_frames`` take the label of the longer
    neighbouring run (speech frames only; silence splits nothing)."""
    out = speaker.copy()
    speech = np.flatnonzero(out >= 0)
    if len(speech) == 0 or min_frames <= 1:
        return out
    labels = out[speech]
    bounds = _run_bounds(labels)
    runs = [(bounds[k], bounds[k + 1]) for k in range(len(bounds) - 1)]
    for k, (a, b) in enumerate(runs):
        if b - a >= min_frames or len(runs) == 1:
            continue
        left = runs[k - 1] if k > 0 else None
        right = runs[k + 1] if k + 1 < len(runs) else None
        pick = max((r for r in (left, right) if r is not None), key=lambda r: r[1] - r[0])
        labels[a:b] = labels[pick[0]]
    out[speech] = labels
    return out


def _drop_short_edges(speaker: np.ndarray, min_frames: int) -> np.ndarray:
    """Frame labels ``int8[n]`` in which a speaker run shorter than
    ``min_frames`` with silence on one side and the other speaker's run on
    the other takes that speaker (partials that straddle a turn change smear
    the next voice over the last frames before the pause)."""
    out = speaker.copy()
    bounds = _run_bounds(out)
    labels = out[bounds[:-1]]
    for k in range(len(labels)):
        a, b = bounds[k], bounds[k + 1]
        if labels[k] < 0 or b - a >= min_frames:
            continue
        left = labels[k - 1] if k > 0 else -1
        right = labels[k + 1] if k + 1 < len(labels) else -1
        if (left < 0) != (right < 0):
            out[a:b] = max(left, right)
    return out


def _join_pauses(speaker: np.ndarray, max_frames: int) -> np.ndarray:
    """Frame labels ``int8[n]`` with every run of -1 shorter than
    ``max_frames`` that lies between two frames of the same speaker given
    to that speaker."""
    out = speaker.copy()
    speech = np.flatnonzero(out >= 0)
    if len(speech) < 2:
        return out
    gap = np.diff(speech) - 1
    same = out[speech[:-1]] == out[speech[1:]]
    for k in np.flatnonzero((gap > 0) & (gap < max_frames) & same):
        out[speech[k] + 1:speech[k + 1]] = out[speech[k]]
    return out


def diarize(samples: np.ndarray, sample_rate: int, speech: np.ndarray, *,
            config: DiarizeConfig, encoder: se.SpeakerEncoder | None = None) -> Diarization:
    """Who speaks when in a two-speaker mono call.

    Args:
        samples: ``float32[n]`` mono audio at ``sample_rate`` Hz.
        speech: ``bool[n_frames]`` per 10 ms frame from the start: the speech
            detector's decision (shorter or longer arrays are cut or padded
            to the audio's frames).
        encoder: the speaker encoder (default: the packaged one).

    Returns:
        the frame labels and the agent (see :class:`Diarization`).
    """
    from sentiment_model.audio import resample

    y = resample(np.asarray(samples, np.float32), sample_rate, se.RATE)
    mels = se.mel_frames(y)
    n = len(mels)
    flags = np.zeros(n, bool)
    flags[:min(n, len(speech))] = np.asarray(speech, bool)[:n]
    if not flags.any():
        return Diarization(np.full(n, -1, np.int8), 0, -1, None)
    mels = mels * np.float32(_speech_gain(y, flags) ** 2)  # a power spectrum
    window = round(config.window_s / FRAME_S)
    starts = partial_starts(flags, window=window, step=max(1, round(config.step_s / FRAME_S)),
                            min_speech=config.min_speech)
    join = round(config.join_pause_s / FRAME_S)
    if len(starts) < 2:
        return _one_speaker(flags, join, None)
    encoder = encoder or se.shared_encoder()
    padded = np.pad(mels, ((0, window), (0, 0)))
    embeddings = encoder.embed_frames(np.stack([padded[s:s + window] for s in starts]))
    labels = _two_clusters(embeddings, max_partials=config.max_partials)
    centres = _cluster_means(embeddings, labels)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    similarity = float(centres[0] @ centres[1])
    if similarity > config.same_speaker_similarity:
        return _one_speaker(flags, join, similarity)
    sure = np.clip((embeddings @ centres.T)[np.arange(len(labels)), labels], 0.0, 1.0)
    votes = _frame_votes(starts, labels, sure, n_frames=n, window=window)
    covered = votes.sum(axis=1) > 0
    nearest = _nearest_covered(covered)
    best = np.argmax(votes[nearest], axis=1)
    speaker = np.where(flags, best, -1).astype(np.int8)
    speaker = _drop_short_runs(speaker, round(config.min_run_s / FRAME_S))
    speaker = _drop_short_edges(speaker, round(config.min_edge_s / FRAME_S))
    first = int(speaker[np.flatnonzero(speaker >= 0)[0]])
    speaker = np.where(speaker >= 0, np.where(speaker == first, 0, 1), -1).astype(np.int8)
    speaker = _join_pauses(speaker, join)
    n_speakers = 2 if (speaker == 1).any() else 1
    agent = 1 if config.agent == "second" and n_speakers == 2 else 0
    return Diarization(speaker, n_speakers, agent, similarity)


def _one_speaker(flags: np.ndarray, join: int, similarity: float | None) -> Diarization:
    """All the speech ``flags [n]`` one speaker's, pauses under ``join`` frames closed."""
    speaker = np.where(flags, 0, -1).astype(np.int8)
    return Diarization(_join_pauses(speaker, join), 1, 0, similarity)


def _speech_gain(y: np.ndarray, flags: np.ndarray) -> float:
    """:func:`speaker_encoder.volume_gain` measured on the speech frames only."""
    return se.volume_gain(y[np.repeat(flags, se.HOP)[:len(y)]])


def _nearest_covered(covered: np.ndarray) -> np.ndarray:
    """For each frame, the index of the nearest frame with votes."""
    idx = np.flatnonzero(covered)
    pos = np.searchsorted(idx, np.arange(len(covered)))
    left = idx[np.clip(pos - 1, 0, len(idx) - 1)]
    right = idx[np.clip(pos, 0, len(idx) - 1)]
    frames = np.arange(len(covered))
    return np.where(np.abs(frames - left) <= np.abs(right - frames), left, right)


class RoleSpeech(NamedTuple):
    """One diarized speaker of a mono call.

    Attributes:
        role: ``agent`` or ``customer``.
        spans: ``(start_s, end_s)`` of the speaker's speech runs.
        talk: the speaker's turns, talk time, loudness and speaking rate.
    """

    role: str
    spans: tuple[tuple[float, float], ...]
    talk: ChannelTalk


def role_speech(result: Diarization, samples: np.ndarray, sample_rate: int, *,
                talk: TalkConfig) -> tuple[RoleSpeech, ...]:
    """The agent's and the customer's speech (none for a role nobody
    speaks): ``samples`` ``float32[n]`` are the call at ``sample_rate`` Hz,
    for each speaker's loudness and speaking rate."""
    out = []
    for role, speaker in (("agent", result.agent), ("customer", result.customer)):
        if speaker < 0:
            continue
        tracker = TalkTracker(sample_rate=sample_rate, config=talk)
        tracker.push_audio(samples, last=True)
        tracker.push_flags(result.mask(speaker), frame_s=FRAME_S)
        out.append(RoleSpeech(role, tuple(result.spans(speaker)), tracker.result()))
    return tuple(out)
