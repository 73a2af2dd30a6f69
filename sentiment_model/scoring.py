"""Where windows are cut and scored: the score job's per-recording work,
without Beam.

:class:`ChannelWindows` turns one recording channel, pushed block by block,
into its windows, each with a speech decision and (for speech windows) its
features, and sums up the channel (:class:`ChannelStats`).
:class:`RecordingWindows` runs it over every channel of a recording, streamed
from a file or held in memory, and turns speech windows into model inputs
(with the model card's normalisation). The score job's DoFn wraps it;
:func:`score_events` and :func:`score_recording` score its windows with a
loaded model and aggregate them as ``score`` writes ``files/`` (benchmarks
and tests use them).

Pipeline per channel: resample (libsoxr, streaming) -> speech detection
(:mod:`sentiment_model.vad`) -> windows (:class:`~sentiment_model.segments.WindowCutter`)
-> trim to speech -> features (:func:`~sentiment_model.features.compute_features_many`,
the windows a block completes together).
A recording no longer than one window (``segment_s``) is one utterance: it
is resampled in one piece and scored whole, untrimmed, exactly as featurize
turns a training clip into features, when it holds at least
``vad_min_speech_s`` of speech; the detector hears it scaled to
``vad_utterance_peak_dbfs``, so a quietly recorded word is not lost. In a
longer recording where no window is speech by ``vad_min_speech_ratio``, the
window with the most speech is scored when it holds ``vad_min_speech_s``:
a recording that holds speech always gets a label.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from sentiment_model import audio as audio_lib
from sentiment_model import dataset
from sentiment_model import diarize as diarize_lib
from sentiment_model import segments as seg
from sentiment_model.config import FeatureConfig
from sentiment_model.diarize import DiarizeConfig, RoleSpeech
from sentiment_model.errors import RejectedInput, describe, rejected_at
from sentiment_model.features import Features, MelFilters, compute_features_many
from sentiment_model.talk import ChannelTalk, TalkConfig, TalkTracker
from sentiment_model.vad import DETECTORS, KnownSpeech, flags_every, make_detector, settle_together

SILENT_DBFS = audio_lib.SILENT_DBFS


class WindowFeatures(NamedTuple):
    """One window of a channel.

    Attributes:
        index: 0, 1, ... in time order.
        start_s / end_s: the window's span in the recording, seconds.
        features: its features, or ``None`` when it holds no speech.
    """

    index: int
    start_s: float
    end_s: float
    features: Features | None


class _Cut(NamedTuple):
    """A decided window: its speech samples to featurize, or ``None``."""

    index: int
    start_s: float
    end_s: float
    samples: np.ndarray | None


class ChannelStats(NamedTuple):
    """What streaming one channel learnt about it.

    Attributes:
        duration_s: length of the channel, seconds.
        speech_s: seconds the detector marked as speech.
        loudness_dbfs: RMS level over the whole channel (:data:`SILENT_DBFS`
            for digital silence).
        n_segments: windows cut.
        n_speech: windows that hold speech.
        error: ``(error_type, message)`` when the channel cannot be scored
            (``too_short``, ``silent``, ``no_speech``), else ``None``.
        talk: the channel's turns, talk time, loudness and speaking rate
            (:mod:`sentiment_model.talk`).
        speakers: a diarized mono call's agent and customer
            (:class:`~sentiment_model.diarize.RoleSpeech`, a role nobody
            speaks left out); for a speaker's channel
            (:data:`~sentiment_model.diarize.SPEAKER_CHANNELS`) that speaker
            alone; ``None`` otherwise.
    """

    duration_s: float
    speech_s: float
    loudness_dbfs: float
    n_segments: int
    n_speech: int
    error: tuple[str, str] | None
    talk: ChannelTalk | None = None
    speakers: tuple[RoleSpeech, ...] | None = None


class ChannelWindows:
    """One recording channel streamed into windows.

    Args:
        source_rate: the recording's sample rate, Hz.
        source_frames: the recording's length in samples (as its header
            declares); decides whether it is one utterance.
        feature: the model's feature config (its rate is the analysis rate).
        segment: windows and speech detection.
        filters: ``mel_filters(feature)`` built ahead of time, or ``None``.
        detector: a speech detector with :class:`~sentiment_model.segments.EnergyVad`'s
            interface (``push``, ``flags``, ``forget_before``, ``frame``,
            ``n_frames``, ``speech_samples``) at the feature rate (default:
            the one ``segment.vad`` names).
        talk: how the detector's frames become turns (default: ``TalkConfig()``).
        diarize: split the channel into two speakers at its end (a mono
            call; :mod:`sentiment_model.diarize`), or ``None``. The channel's
            audio is held meanwhile, 2 bytes a sample at the feature rate
            (115 MB per hour at 16 kHz).
    """

    def __init__(self, *, source_rate: int, source_frames: int, feature: FeatureConfig,
                 segment: seg.SegmentConfig, filters: MelFilters | None = None,
                 detector=None, talk: TalkConfig | None = None,
                 diarize: DiarizeConfig | None = None) -> None:
        import soxr

        self._feature, self._segment, self._filters = feature, segment, filters
        self._talk_config = talk or TalkConfig()
        self._diarize = diarize
        self._heard: list[np.ndarray] = []  # int16 audio for diarization, block by block
        self._call = np.zeros(0, np.int16)  # ... joined at the end (:meth:`stats`)
        self._heard_flags: list[np.ndarray] = []  # the detector's frames, in order
        self._source_rate = source_rate
        rate = feature.sample_rate
        self.whole = source_frames <= round(segment.segment_s * source_rate)
        self._held: list[np.ndarray] = []  # source samples of a whole-utterance channel
        self._resampler = (None if source_rate == rate or self.whole else
                           soxr.ResampleStream(source_rate, rate, 1, dtype="float32",
                                               quality="HQ"))
        self.vad = detector if detector is not None else make_detector(segment, rate)
        self._talk = TalkTracker(sample_rate=rate, config=self._talk_config)
        self._cutter = seg.WindowCutter.for_config(segment, rate)
        self._pending: list[seg.Window] = []  # cut, waiting for the detector
        self._sum_squares = 0.0
        self._n_source = 0
        self._n_segments = 0
        self._n_speech = 0
        # while no window is speech: (window, its flags, its seconds of speech)
        # of the one with the most speech so far, held back so that it can be
        # scored if no other window is
        self._candidate: tuple[seg.Window, np.ndarray, float] | None = None

    def push(self, mono: np.ndarray, *, last: bool = False) -> list[WindowFeatures]:
        """Adds one block ``[n]`` float32 of the channel at the source rate;
        returns the windows it completed (``last=True``: the end of the channel)."""
        y = self.feed(mono, last=last)
        settle_together([self.vad])
        return self.advance(y, last=last)

    def feed(self, mono: np.ndarray, *, last: bool = False) -> np.ndarray | None:
        """The first half of :meth:`push`: the block at the feature rate
        (``None`` while a whole utterance is held), queued for the detector.
        Then ``vad.settle_together`` (of several channels' detectors at
        once), then :meth:`advance`."""
        self._n_source += len(mono)
        self._sum_squares += float(np.square(mono, dtype=np.float64).sum())
        if self.whole:
            self._held.append(np.asarray(mono, np.float32))
            if not last:
                return None
            y = audio_lib.resample(np.concatenate(self._held), self._source_rate,
                                   self._feature.sample_rate)
            self._held = []
        elif self._resampler is None:
            y = np.asarray(mono, np.float32)
        else:
            y = np.asarray(self._resampler.resample_chunk(mono, last=last), np.float32)
        self.vad.queue(self._for_detector(y) if self.whole else y, last=last)
        return y

    def advance(self, y: np.ndarray | None, *, last: bool = False) -> list[WindowFeatures]:
        """The second half of :meth:`push`, once the detector has settled:
        the windows that :meth:`feed`'s block ``y`` completed."""
        if y is None:
            return []
        if self._diarize is not None:
            self._heard.append((np.clip(y, -1.0, 1.0) * 32767).astype(np.int16))
        self._track_talk(y, last=last)
        self._pending += self._cutter.push(y)
        if last:
            self._pending += self._cutter.finish()
        # a window is decided once the detector has judged every frame that
        # starts in it, so that the block size never changes a result
        ready = [w for w in self._pending if last or
                 math.ceil((w.start + len(w.samples)) / self.vad.frame) <= self.vad.n_frames]
        self._pending = self._pending[len(ready):]
        cuts = [c for window in ready for c in self._decide(window)]
        if last:
            cuts += self._release_candidate(rescue=self._n_speech == 0)
        keep = self._pending[0].start if self._pending else self._cutter.next_start
        self.vad.forget_before(keep)
        return self._featurized(cuts)

    def _featurized(self, cuts: list[_Cut]) -> list[WindowFeatures]:
        """The windows with their features, computed together (the voice
        columns' encoder batches every window's chunks)."""
        speech = [c.samples for c in cuts if c.samples is not None]
        feats = iter(compute_features_many(speech, self._feature.sample_rate, self._feature,
                                           filters=self._filters))
        return [WindowFeatures(c.index, c.start_s, c.end_s,
                               None if c.samples is None else next(feats)) for c in cuts]

    def _track_talk(self, y: np.ndarray, *, last: bool) -> None:
        """Hands the audio and the frames the detector decided since the last
        block to the talk tracker (before the detector forgets them)."""
        self._talk.push_audio(y, last=last)
        seen, decided, frame = self._talk.frames_seen, self.vad.n_frames, self.vad.frame
        if decided > seen:
            # frame k starts at k * frame (not an integer for Silero at
            # 22,050 Hz); a sample in ((k - 1) * frame, k * frame] asks from frame k
            flags = self.vad.flags(math.floor((seen - 0.5) * frame) + 1,
                                   math.floor((decided - 0.5) * frame) + 1)
            self._talk.push_flags(flags, frame_s=frame / self._feature.sample_rate)
            if self._diarize is not None:
                self._heard_flags.append(np.asarray(flags, bool))

    def _for_detector(self, y: np.ndarray) -> np.ndarray:
        """A whole utterance scaled to ``vad_utterance_peak_dbfs`` (``[n]``)."""
        target = self._segment.vad_utterance_peak_dbfs
        peak = float(np.abs(y).max()) if len(y) else 0.0
        if target is None or peak == 0.0:
            return y
        return (y * np.float32(10.0 ** (target / 20.0) / peak)).astype(np.float32)

    def _speech_s(self, flags: np.ndarray) -> float:
        return float(flags.sum()) * self.vad.frame / self._feature.sample_rate

    def _decide(self, w: seg.Window) -> list[_Cut]:
        """The windows to emit now that ``w`` is decided (none, ``w``, and/or
        a candidate it releases)."""
        flags = self.vad.flags(w.start, w.start + len(w.samples))
        self._n_segments += 1
        speech_s = self._speech_s(flags)
        enough = speech_s >= self._segment.vad_min_speech_s
        if self.whole:
            return [self._window(w, flags, speech=enough)]
        if seg.is_speech_window(flags, self._segment.vad_min_speech_ratio):
            return [*self._release_candidate(rescue=False), self._window(w, flags, speech=True)]
        if (self._n_speech == 0 and enough and
                (self._candidate is None or speech_s > self._candidate[2])):
            released = self._release_candidate(rescue=False)
            self._candidate = (w, flags, speech_s)
            return released
        return [self._window(w, flags, speech=False)]

    def _release_candidate(self, *, rescue: bool) -> list[_Cut]:
        """The held window, if any: scored (``rescue``: no other window of the
        channel is speech) or not."""
        if self._candidate is None:
            return []
        w, flags, _ = self._candidate
        self._candidate = None
        return [self._window(w, flags, speech=rescue)]

    def _window(self, w: seg.Window, flags: np.ndarray, *, speech: bool) -> _Cut:
        rate = self._feature.sample_rate
        start_s, end_s = w.start / rate, (w.start + len(w.samples)) / rate
        if not speech:
            return _Cut(w.index, start_s, end_s, None)
        self._n_speech += 1
        samples = w.samples
        if self._segment.trim_to_speech and not self.whole:
            a, b = seg.speech_span(flags, window_start=w.start, window_len=len(samples),
                                   frame=self.vad.frame)
            samples = samples[a:b]
        return _Cut(w.index, start_s, end_s, samples)

    def stats(self) -> ChannelStats:
        """The channel's summary, once it has been pushed to its end."""
        cfg = self._feature
        duration = self._n_source / self._source_rate
        rms = np.sqrt(self._sum_squares / max(self._n_source, 1))
        loudness = float(20.0 * np.log10(rms)) if rms > 0 else SILENT_DBFS
        error = None
        if duration < cfg.min_duration_s:
            error = ("too_short", f"{duration:.3f} s of audio, the minimum is "
                                  f"{cfg.min_duration_s:g} s")
        elif loudness < cfg.silence_dbfs:
            error = ("silent", audio_lib.silence_message(loudness, cfg.silence_dbfs))
        elif self._n_speech == 0:
            error = ("no_speech", f"none of {self._n_segments} windows holds speech by "
                                  f"{DETECTORS[self._segment.vad]}")
        speakers = None
        if self._diarize is not None and error is None:
            self._call = np.concatenate(self._heard) if self._heard else self._call
            speakers = self._speakers()
        self._heard, self._heard_flags = [], []
        return ChannelStats(duration, self.vad.speech_samples / cfg.sample_rate, loudness,
                            self._n_segments, self._n_speech, error, self._talk.result(),
                            speakers)

    def speaker_blocks(self, speaker: RoleSpeech, block: int):
        """The held call with only ``speaker``'s speech left (every other
        sample silent): float32 blocks of ``block`` samples at the feature
        rate. Then :meth:`forget` the call."""
        rate = self._feature.sample_rate
        keep = np.zeros(len(self._call), bool)
        for a, b in speaker.spans:
            keep[round(a * rate):round(b * rate)] = True
        for a in range(0, len(self._call), block):
            part = self._call[a:a + block].astype(np.float32) / np.float32(32767)
            yield np.where(keep[a:a + block], part, np.float32(0.0))

    @property
    def held_samples(self) -> int:
        """Samples of the call held for its speakers (at the feature rate)."""
        return len(self._call)

    def forget(self) -> None:
        """Drops the audio held for diarization."""
        self._call = np.zeros(0, np.int16)

    def _speakers(self) -> tuple[RoleSpeech, ...]:
        """The held call split into its agent and customer."""
        rate = self._feature.sample_rate
        y = self._call.astype(np.float32) / np.float32(32767)
        flags = (np.concatenate(self._heard_flags) if self._heard_flags
                 else np.zeros(0, bool))
        # the detector's decision every 10 ms, as the diarizer reads it
        speech = flags_every(flags, frame=self.vad.frame, sample_rate=rate,
                             step_s=diarize_lib.FRAME_S,
                             n_steps=round(len(y) / rate / diarize_lib.FRAME_S))
        result = diarize_lib.diarize(y, rate, speech, config=self._diarize)
        return diarize_lib.role_speech(result, y, rate, talk=self._talk_config)


class SpeechWindow(NamedTuple):
    """A speech window of a recording channel, ready for the model.

    Attributes:
        channel: channel id (``audio.MIX_CHANNEL`` for a mix-down).
        index / start_s / end_s: as :class:`WindowFeatures`.
        model_input: the normalised model input (``[n_frames, frame_dims]``
            for frame models), float32.
    """

    channel: int
    index: int
    start_s: float
    end_s: float
    model_input: np.ndarray


class QuietWindow(NamedTuple):
    """A window without speech (not scored)."""

    channel: int
    index: int
    start_s: float
    end_s: float


class ChannelEnd(NamedTuple):
    """A channel read to its end: the recording's sample rate (Hz) and what
    :class:`ChannelStats` learnt. Comes after all of the channel's windows."""

    channel: int
    sample_rate: int
    stats: ChannelStats


class _RawWindow(NamedTuple):
    """A speech window's features before speaker normalisation."""

    channel: int
    window: WindowFeatures


class _ArrayStream:
    """An in-memory recording ``[n_samples, n_channels]`` with
    :class:`~sentiment_model.audio.AudioStream`'s interface."""

    def __init__(self, samples: np.ndarray, sample_rate: int) -> None:
        self._samples = np.asarray(samples, np.float32)
        self.sample_rate = sample_rate
        self.declared_frames, self.channels = self._samples.shape

    def blocks(self, block_frames: int):
        for a in range(0, self.declared_frames, block_frames):
            yield self._samples[a:a + block_frames]

    def close(self) -> None:
        pass


class RecordingWindows:
    """One recording, streamed block by block, into its windows' model inputs:
    what the score job does to a file before the model sees it.

    Each channel (the mix-down, each channel, or ``"auto"``: each channel of
    a stereo file, else the mix-down) goes through :class:`ChannelWindows`;
    a speech window's features become its model input with the model card's
    normalisation. A speaker-normalised model (``norm["group"] ==
    "speaker"``) standardises every window with its channel's statistics
    over all the channel's speech windows, known only at the end of the
    file: the windows are held (up to ``segment.buffer_mb`` of features) and
    released then; a longer file is read a second time with the statistics
    of the first.

    :meth:`events` yields :class:`SpeechWindow`, :class:`QuietWindow` and,
    once per channel after its windows, :class:`ChannelEnd`. It raises
    :class:`~sentiment_model.errors.RejectedInput` when the file cannot be
    read (stage ``read``, ``read_failed``) or decoded, or breaks part-way
    (stage ``decode``; ``decode_failed``/``score_failed`` for unexpected
    errors); :attr:`channel_ids` says then whether the file was open
    (``None`` before).

    ``diarize``: a mono mix (a mono file, or any file under ``channels="mix"``)
    is a two-speaker call to split into agent and customer
    (``ChannelStats.speakers``); ``None`` leaves it one voice. After the
    mix's :class:`ChannelEnd`, each speaker's own speech (the mix with every
    other sample silent) is streamed as a channel of its own
    (:data:`~sentiment_model.diarize.SPEAKER_CHANNELS`: -2 the agent, -3 the
    customer), with its windows and its :class:`ChannelEnd`: what a stereo
    recorder would have given that speaker.
    """

    def __init__(self, *, feature: FeatureConfig, segment: seg.SegmentConfig, channels: str,
                 input_kind: str, norm: dict, filters: MelFilters | None = None,
                 diarize: DiarizeConfig | None = None) -> None:
        self._feature, self._segment, self._channels = feature, segment, channels
        self._input_kind, self._norm, self._filters = input_kind, norm, filters
        self._diarize = diarize
        self._speaker = norm.get("group", "none") == "speaker"
        self.channel_ids: list[int] | None = None

    def events(self, open_file):
        """The events of the recording ``open_file()`` opens (a seekable binary
        file object; called twice when a speaker-normalised file is too long
        to hold)."""
        return self._normalised(lambda: self._file_events(open_file))

    def array_events(self, samples: np.ndarray, sample_rate: int):
        """The events of an in-memory recording, float32 ``[n_samples, n_channels]``."""
        return self._normalised(lambda: self._stream_events(_ArrayStream(samples, sample_rate)))

    def _normalised(self, read):
        if not self._speaker:
            yield from read()
            return
        from sentiment_model.moments import Moments

        limit = self._segment.buffer_mb * 2**20
        moments: dict[int, Moments] = {}
        held: list | None = []
        size = 0
        for out in read():
            if isinstance(out, _RawWindow):
                feats = out.window.features
                moments.setdefault(out.channel, Moments(self._feature.frame_dims)).add_rows(
                    feats.frames)
                size += feats.frames.nbytes + feats.pooled.nbytes
            if held is not None:
                held.append(out)
                if size > limit:
                    held = None
        groups = {c: m.to_dict() for c, m in moments.items() if m.count}
        for out in held if held is not None else read():
            if isinstance(out, _RawWindow):
                out = self._speech(out.channel, out.window, groups.get(out.channel))
            yield out

    def _file_events(self, open_file):
        try:
            fileobj = open_file()
        except Exception as exc:
            raise RejectedInput("read_failed", describe(exc), stage="read") from exc
        with fileobj:
            with rejected_at("decode", unexpected="decode_failed"):
                stream = audio_lib.AudioStream(fileobj)
            yield from self._stream_events(stream)

    def _stream_events(self, stream):
        mode = self._channels
        if mode == "auto":
            mode = "split" if stream.channels == 2 else "mix"
        ids = list(range(stream.channels)) if mode == "split" else [audio_lib.MIX_CHANNEL]
        states = {c: ChannelWindows(source_rate=stream.sample_rate,
                                    source_frames=stream.declared_frames, feature=self._feature,
                                    segment=self._segment, filters=self._filters,
                                    diarize=(self._diarize if c == audio_lib.MIX_CHANNEL
                                             else None)) for c in ids}
        self.channel_ids = ids
        block = max(1, round(self._segment.block_s * stream.sample_rate))
        try:
            with rejected_at("decode", unexpected="score_failed"):
                for samples in stream.blocks(block):
                    yield from self._push_channels(
                        states, list(audio_lib.channel_views(samples, mode)), last=False)
                yield from self._push_channels(
                    states, [(c, np.zeros(0, np.float32)) for c in ids], last=True)
        finally:
            stream.close()
        for channel in ids:
            stats = states[channel].stats()
            yield ChannelEnd(channel, stream.sample_rate, stats)
            for speaker in stats.speakers or ():
                yield from self._speaker_events(states[channel], speaker, stream.sample_rate)
            states[channel].forget()

    def _push_channels(self, states: dict[int, ChannelWindows],
                       views: list[tuple[int, np.ndarray]], *, last: bool):
        """One block of every channel: their speech detectors' networks run
        side by side (one call per 32 ms step for all channels)."""
        fed = [(channel, states[channel].feed(mono, last=last)) for channel, mono in views]
        settle_together([states[channel].vad for channel, _ in views])
        for channel, y in fed:
            yield from self._windows(channel, states[channel].advance(y, last=last))

    def _speaker_events(self, mix: ChannelWindows, speaker: RoleSpeech, sample_rate: int):
        """One diarized speaker's windows and end, as a channel of its own."""
        rate = self._feature.sample_rate
        channel = diarize_lib.SPEAKER_CHANNELS[speaker.role]
        block = max(1, round(self._segment.block_s * rate))
        # the speaker's turns are its speech: no second detector pass
        state = ChannelWindows(source_rate=rate, source_frames=mix.held_samples,
                               feature=self._feature, segment=self._segment,
                               filters=self._filters,
                               detector=KnownSpeech(speaker.spans, sample_rate=rate))
        with rejected_at("decode", unexpected="score_failed"):
            for part in mix.speaker_blocks(speaker, block):
                yield from self._windows(channel, state.push(part))
            yield from self._windows(channel, state.push(np.zeros(0, np.float32), last=True))
        stats = state.stats()
        yield ChannelEnd(channel, sample_rate, stats._replace(talk=speaker.talk,
                                                              speakers=(speaker,)))

    def _windows(self, channel: int, windows: list[WindowFeatures]):
        for w in windows:
            if w.features is None:
                yield QuietWindow(channel, w.index, w.start_s, w.end_s)
            elif self._speaker:
                yield _RawWindow(channel, w)
            else:
                yield self._speech(channel, w, None)

    def _speech(self, channel: int, w: WindowFeatures, group: dict | None) -> SpeechWindow:
        x = dataset.to_model_input(w.features.frames, w.features.pooled,
                                   input_kind=self._input_kind, norm=self._norm, group=group)
        return SpeechWindow(channel, w.index, w.start_s, w.end_s, x)


class ChannelResult(NamedTuple):
    """One scored channel of a recording (:func:`score_recording`).

    Attributes:
        channel: channel id (``audio.MIX_CHANNEL`` for a mix-down).
        stats: the channel's :class:`ChannelStats`.
        segments: every window as a :class:`~sentiment_model.segments.ScoredSegment`.
        summary: :func:`~sentiment_model.segments.aggregate` of the windows
            (``None`` when ``stats.error`` says the channel was rejected).
    """

    channel: int
    stats: ChannelStats
    segments: list[seg.ScoredSegment]
    summary: dict | None


def channel_windows(samples: np.ndarray, sample_rate: int, *, feature: FeatureConfig,
                    segment: seg.SegmentConfig, filters: MelFilters | None = None,
                    block_s: float | None = None, detector=None
                    ) -> tuple[list[WindowFeatures], ChannelStats]:
    """All windows and the summary of one mono channel ``[n]`` at ``sample_rate`` Hz,
    pushed in blocks of ``block_s`` seconds (default ``segment.block_s``);
    ``detector``: see :class:`ChannelWindows`."""
    core = ChannelWindows(source_rate=sample_rate, source_frames=len(samples),
                          feature=feature, segment=segment, filters=filters,
                          detector=detector)
    block = max(1, round((block_s or segment.block_s) * sample_rate))
    windows: list[WindowFeatures] = []
    for a in range(0, len(samples), block):
        windows += core.push(samples[a:a + block])
    windows += core.push(np.zeros(0, np.float32), last=True)
    return sorted(windows, key=lambda w: w.index), core.stats()


def recording_windows(model, *, segment: seg.SegmentConfig, channels: str = "mix",
                      filters: MelFilters | None = None,
                      diarize: DiarizeConfig | None = None) -> RecordingWindows:
    """A :class:`RecordingWindows` for a :class:`~sentiment_model.inference.LoadedModel`."""
    return RecordingWindows(feature=model.feature_config, segment=segment, channels=channels,
                            input_kind=model.input_kind, norm=model.card.normalization,
                            filters=filters, diarize=diarize)


def score_events(events, model, *, batch_rows: int = 64) -> list[ChannelResult]:
    """Scores a recording's :class:`RecordingWindows` events with a loaded model,
    each channel's speech windows in batches of ``batch_rows``; the
    aggregation is what ``score`` writes to ``files/`` (``summary["probs"]``)."""
    scored: dict[int, list[seg.ScoredSegment]] = {}
    speech: dict[int, list[SpeechWindow]] = {}
    results = []
    for event in events:
        if isinstance(event, QuietWindow):
            scored.setdefault(event.channel, []).append(seg.ScoredSegment(
                event.index, event.start_s, event.end_s, False, None))
        elif isinstance(event, SpeechWindow):
            speech.setdefault(event.channel, []).append(event)
        else:
            results.append(_channel_result(event, scored.pop(event.channel, []),
                                           speech.pop(event.channel, []), model, batch_rows))
    return results


def _channel_result(end: ChannelEnd, quiet: list[seg.ScoredSegment], speech: list[SpeechWindow],
                    model, batch_rows: int) -> ChannelResult:
    inputs = [w.model_input for w in speech]
    probs: list[np.ndarray] = []
    for a in range(0, len(inputs), batch_rows):
        probs += list(predict_padded(model.model, inputs[a:a + batch_rows]))
    windows = quiet + [seg.ScoredSegment(w.index, w.start_s, w.end_s, True,
                                         tuple(float(v) for v in p))
                       for w, p in zip(speech, probs, strict=True)]
    windows.sort(key=lambda s: s.index)
    summary = (None if end.stats.error else
               seg.aggregate(windows, duration_s=end.stats.duration_s, labels=model.labels))
    return ChannelResult(end.channel, end.stats, windows, summary)


def score_recording(samples: np.ndarray, sample_rate: int, model, *,
                    segment: seg.SegmentConfig, channels: str = "mix",
                    batch_rows: int = 64,
                    diarize: DiarizeConfig | None = None) -> list[ChannelResult]:
    """What ``score`` computes for one in-memory recording.

    Args:
        samples: float32 ``[n_samples, n_channels]``.
        sample_rate: Hz.
        model: a :class:`~sentiment_model.inference.LoadedModel`.
        channels: ``"mix"``, ``"split"`` or ``"auto"``.
        diarize: split a mono mix into agent and customer (see
            :class:`RecordingWindows`).

    Returns:
        one :class:`ChannelResult` per channel; ``summary["probs"]`` are the
        probabilities ``files/`` holds.
    """
    core = recording_windows(model, segment=segment, channels=channels, diarize=diarize)
    return score_events(core.array_events(samples, sample_rate), model, batch_rows=batch_rows)


def padded_length(longest: int, *, length: int | None, buckets: int = 1) -> int:
    """Frames a batch whose longest input has ``longest`` frames is padded to:
    the smallest of ``ceil(length * k / buckets)`` (k = 1 .. buckets) that
    holds it, so a model sees at most ``buckets`` shapes; ``longest`` itself
    when there is no ``length`` or it is longer."""
    if not length or longest >= length:
        return max(longest, length or 0)
    for k in range(1, buckets + 1):
        size = -(-length * k // buckets)
        if size >= longest:
            return size
    return length


def pad_batch(inputs: list[np.ndarray], *, length: int | None = None,
              rows: int | None = None, buckets: int = 1) -> np.ndarray:
    """Stacks ``[t_i, ...]`` arrays into ``[max(rows, n), T, ...]`` float32,
    zero-padded at the end of each axis (padding frames are masked by the
    frame models); ``T`` is :func:`padded_length` of the longest ``t_i``."""
    longest = padded_length(max(x.shape[0] for x in inputs), length=length, buckets=buckets)
    out = np.zeros((max(len(inputs), rows or 0), longest, *inputs[0].shape[1:]), np.float32)
    for i, x in enumerate(inputs):
        out[i, : x.shape[0]] = x
    return out


def predict_padded(keras_model, inputs: list[np.ndarray], *, length: int | None = None,
                   rows: int | None = None, buckets: int = 1) -> np.ndarray:
    """Class probabilities ``[len(inputs), n_classes]`` (float64) of a list of
    inputs, padded as :func:`pad_batch` says."""
    probs = keras_model.predict_on_batch(pad_batch(inputs, length=length, rows=rows,
                                                   buckets=buckets))
    return np.asarray(probs, np.float64)[: len(inputs)]
