import dataclasses
import functools

import numpy as np
import pytest

from sentiment_model import scoring, synth
from sentiment_model import segments as seg
from sentiment_model.config import FeatureConfig
from sentiment_model.features import compute_features

RATE = 16000


def _speech(seconds: float, *, rate: int = RATE, seed: int = 1) -> np.ndarray:
    voice = synth.make_voices(1, seed=seed)[0]
    return synth.synth_utterance(voice, "positive", duration_s=seconds, sample_rate=rate,
                                 seed=seed)


@pytest.mark.parametrize("rate", [16000, 22050, 8000])
def test_a_recording_no_longer_than_a_window_is_one_untrimmed_utterance(rate):
    feature = FeatureConfig(preset="mfcc", spectral=False)
    y = np.concatenate([np.zeros(rate // 2, np.float32), _speech(1.5, rate=rate)])
    windows, stats = scoring.channel_windows(y, rate, feature=feature,
                                             segment=seg.SegmentConfig(segment_s=3.0))
    assert len(windows) == 1 and stats.error is None and stats.n_speech == 1
    w = windows[0]
    assert (w.index, w.start_s) == (0, 0.0) and w.end_s == pytest.approx(len(y) / rate, abs=1e-3)
    from sentiment_model.audio import resample

    whole = compute_features(resample(y, rate, RATE), RATE, feature)
    np.testing.assert_array_equal(w.features.frames, whole.frames)  # leading pause kept


@pytest.mark.parametrize("feature", [FeatureConfig(preset="mfcc", spectral=False),
                                     FeatureConfig(spectral=True, voice=True)],
                         ids=["mfcc", "voice"])
def test_longer_recordings_are_windows_trimmed_to_speech_whatever_the_block_size(feature):
    # a block of 2 s featurizes its windows one or two at a time, one of 60 s
    # all seven together (the voice columns' encoder batches their chunks)
    segment = seg.SegmentConfig(segment_s=2.0, hop_s=1.0)
    y = np.concatenate([_speech(2.8), np.zeros(3 * RATE, np.float32), _speech(2.0, seed=3)])
    y = y + 1e-4 * np.random.default_rng(0).standard_normal(len(y)).astype(np.float32)
    small, stats = scoring.channel_windows(y, RATE, feature=feature, segment=segment,
                                           block_s=2.0)
    big, _ = scoring.channel_windows(y, RATE, feature=feature, segment=segment, block_s=60.0)
    assert [w.index for w in small] == list(range(7))  # 7.8 s: windows at 0, 1, ... 6 s
    speech = [w.features is not None for w in small]
    assert speech == [True, True, True, False, False, True, True]
    assert stats.n_segments == 7 and stats.n_speech == sum(speech)
    for a, b in zip(small, big, strict=True):
        assert (a.start_s, a.end_s) == (b.start_s, b.end_s)
        assert (a.features is None) == (b.features is None)
        if a.features is not None:
            np.testing.assert_allclose(a.features.frames, b.features.frames, atol=1e-4)
    # window 2 (2-4 s) holds 0.8 s of speech at its start: scored on that part only
    assert small[2].features is not None
    assert small[2].features.frames.shape[0] < 0.6 * small[0].features.frames.shape[0]


def test_a_channel_without_speech_is_rejected_with_the_detector_named():
    t = np.arange(4 * RATE) / RATE
    hum = (0.05 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    _, stats = scoring.channel_windows(hum, RATE, feature=FeatureConfig(),
                                       segment=seg.SegmentConfig(vad="silero"))
    assert stats.error[0] == "no_speech" and "by Silero VAD" in stats.error[1]
    _, silent = scoring.channel_windows(np.zeros(RATE, np.float32), RATE,
                                        feature=FeatureConfig(), segment=seg.SegmentConfig())
    assert silent.error == ("silent", "every sample is zero (digital silence)")
    assert silent.loudness_dbfs == scoring.SILENT_DBFS


def test_a_quietly_recorded_utterance_is_detected_at_a_normal_level_and_featurized_as_is():
    feature = FeatureConfig(preset="mfcc", spectral=False)
    word = np.concatenate([np.zeros(RATE // 2, np.float32), _speech(0.6),
                           np.zeros(RATE // 2, np.float32)])
    quiet = (word * (10 ** (-52 / 20) / np.abs(word).max())).astype(np.float32)  # -52 dBFS peak
    as_is = seg.SegmentConfig(vad="energy", vad_utterance_peak_dbfs=None)
    _, stats = scoring.channel_windows(quiet, RATE, feature=feature, segment=as_is)
    assert stats.error[0] == "no_speech"  # every frame below vad_min_dbfs (-50)
    windows, stats = scoring.channel_windows(quiet, RATE, feature=feature,
                                             segment=seg.SegmentConfig(vad="energy"))
    assert stats.error is None and stats.n_speech == 1
    np.testing.assert_array_equal(windows[0].features.frames,
                                  compute_features(quiet, RATE, feature).frames)
    # longer recordings are not rescaled: the same word four times in one channel is rejected
    long = np.tile(quiet, 4)
    _, stats = scoring.channel_windows(long, RATE, feature=feature,
                                       segment=seg.SegmentConfig(vad="energy"))
    assert stats.error[0] == "no_speech"


def test_a_recording_whose_windows_are_all_mostly_silence_has_its_best_window_scored():
    feature = FeatureConfig(preset="mfcc", spectral=False)
    segment = seg.SegmentConfig(vad="energy", segment_s=2.0, hop_s=1.0)
    noise = 1e-3 * np.random.default_rng(0).standard_normal(5 * RATE).astype(np.float32)
    y = noise.copy()
    y[int(2.6 * RATE):int(2.6 * RATE) + int(0.4 * RATE)] += _speech(0.4)  # 0.4 s in 5 s
    for block_s in (2.0, 60.0):
        windows, stats = scoring.channel_windows(y, RATE, feature=feature, segment=segment,
                                                 block_s=block_s)
        assert [w.index for w in windows] == [0, 1, 2, 3]  # 0-2, 1-3, 2-4, 3-5 s
        # windows 1 and 2 hold it all (less than the 30 % of a window needed);
        # the first of the two best is scored, trimmed to the speech
        assert [w.features is not None for w in windows] == [False, True, False, False]
        assert stats.error is None and stats.n_speech == 1
        assert windows[1].features.frames.shape[0] < 0.5 * RATE / feature.hop_length
    _, stats = scoring.channel_windows(noise, RATE, feature=feature, segment=segment)
    assert stats.error[0] == "no_speech"
    # a window that is speech by itself: the held one is released unscored
    y[int(0.1 * RATE):int(1.9 * RATE)] += _speech(1.8, seed=2)
    windows, stats = scoring.channel_windows(y, RATE, feature=feature, segment=segment)
    assert [w.features is not None for w in windows] == [True, True, False, False]


def test_score_recording_of_a_short_clip_is_the_whole_clip_model_output(scoring_model):
    from sentiment_model.inference import load_model_dir, predict_proba

    loaded = load_model_dir(scoring_model)
    for rate in (16000, 44100):
        y = _speech(1.8, rate=rate, seed=7)
        results = scoring.score_recording(y[:, None], rate, loaded,
                                          segment=seg.SegmentConfig(segment_s=2.0, hop_s=1.0))
        assert [r.channel for r in results] == [-1] and len(results[0].segments) == 1
        np.testing.assert_allclose(results[0].summary["probs"],
                                   predict_proba(loaded, y, rate), atol=1e-5)


def test_score_recording_averages_the_speech_windows_per_channel(scoring_model):
    from sentiment_model.inference import load_model_dir

    loaded = load_model_dir(scoring_model)
    segment = dataclasses.replace(seg.SegmentConfig(), segment_s=2.0, hop_s=1.0)
    left = np.concatenate([_speech(3.0, seed=2), np.zeros(2 * RATE, np.float32)])
    right = np.concatenate([np.zeros(2 * RATE, np.float32), _speech(3.0, seed=5)])
    stereo = np.stack([left, right], axis=1)
    stereo += 1e-4 * np.random.default_rng(1).standard_normal(stereo.shape).astype(np.float32)
    results = scoring.score_recording(stereo, RATE, loaded, segment=segment, channels="split")
    assert [r.channel for r in results] == [0, 1]
    for r in results:
        speech = [s for s in r.segments if s.is_speech]
        assert 0 < len(speech) < len(r.segments)
        np.testing.assert_allclose(r.summary["probs"],
                                   np.mean([s.probs for s in speech], axis=0), atol=1e-12)
        assert r.summary["n_speech_segments"] == len(speech)


# ------------------------------------------------------------ RecordingWindows
def _identity_norm(feature: FeatureConfig) -> dict:
    return {"group": "none", "frames": {"mean": [0.0] * feature.frame_dims,
                                        "std": [1.0] * feature.frame_dims}}


def _stereo_wav(tmp_path, *, seconds: float = 5.0) -> tuple[str, np.ndarray]:
    import soundfile

    left = np.concatenate([_speech(seconds - 2, seed=2), np.zeros(2 * RATE, np.float32)])
    right = np.concatenate([np.zeros(2 * RATE, np.float32), _speech(seconds - 2, seed=5)])
    stereo = np.stack([left, right], axis=1)
    stereo += 1e-4 * np.random.default_rng(1).standard_normal(stereo.shape).astype(np.float32)
    path = str(tmp_path / "call.wav")
    soundfile.write(path, stereo, RATE, subtype="FLOAT")
    return path, stereo


def _core(feature, *, channels="auto", norm=None, **segment):
    cfg = dataclasses.replace(seg.SegmentConfig(), segment_s=2.0, hop_s=1.0, **segment)
    return scoring.RecordingWindows(feature=feature, segment=cfg, channels=channels,
                                    input_kind="frames", norm=norm or _identity_norm(feature))


def test_recording_windows_from_a_file_are_the_channel_windows_of_each_channel(tmp_path):
    feature = FeatureConfig(preset="mfcc", spectral=False)
    path, stereo = _stereo_wav(tmp_path)
    core = _core(feature)
    events = list(core.events(functools.partial(open, path, "rb")))
    assert core.channel_ids == [0, 1]
    ends = [e for e in events if isinstance(e, scoring.ChannelEnd)]
    assert [e.channel for e in ends] == [0, 1] and events[-2:] == ends  # after every window
    for c in (0, 1):
        want, stats = scoring.channel_windows(stereo[:, c], RATE, feature=feature,
                                              segment=core._segment)
        mine = sorted((e for e in events if not isinstance(e, scoring.ChannelEnd)
                       and e.channel == c), key=lambda e: e.index)
        assert [e.index for e in mine] == [w.index for w in want]
        for e, w in zip(mine, want, strict=True):
            assert isinstance(e, scoring.SpeechWindow) == (w.features is not None)
            if w.features is not None:
                np.testing.assert_allclose(e.model_input, w.features.frames, atol=1e-5)
        assert ends[c].stats == stats and ends[c].sample_rate == RATE
    # the same recording in memory gives the same events
    again = list(_core(feature).array_events(stereo, RATE))
    assert [type(e) for e in again] == [type(e) for e in events]
    for a, b in zip(events, again, strict=True):
        if isinstance(a, scoring.SpeechWindow):
            np.testing.assert_array_equal(a.model_input, b.model_input)


def test_recording_windows_mix_a_stereo_file_when_asked():
    feature = FeatureConfig(preset="mfcc", spectral=False)
    stereo = np.stack([_speech(3.0, seed=3)] * 2, axis=1)
    events = list(_core(feature, channels="mix").array_events(stereo, RATE))
    assert {e.channel for e in events} == {-1}


def test_recording_windows_say_where_a_file_failed(tmp_path):
    feature = FeatureConfig(preset="mfcc", spectral=False)

    def missing():
        raise FileNotFoundError("no such file: /x.wav")

    core = _core(feature)
    with pytest.raises(scoring.RejectedInput) as err:
        list(core.events(missing))
    assert (err.value.stage, err.value.error_type) == ("read", "read_failed")
    assert "no such file" in err.value.message and core.channel_ids is None

    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF" + b"\0" * 100)
    core = _core(feature)
    with pytest.raises(scoring.RejectedInput) as err:
        list(core.events(functools.partial(open, junk, "rb")))
    assert err.value.stage == "decode" and core.channel_ids is None

    path, _ = _stereo_wav(tmp_path)
    core = _core(feature, block_s=1.0)
    seen = []
    with pytest.raises(scoring.RejectedInput) as err:
        for event in core.events(functools.partial(_BreaksAfter, path, 3 * RATE * 8)):
            seen.append(event)
    assert err.value.stage == "decode" and core.channel_ids == [0, 1]
    assert seen and not any(isinstance(e, scoring.ChannelEnd) for e in seen)


class _BreaksAfter:
    """A file object whose reads fail once ``limit`` bytes have been read."""

    def __init__(self, path: str, limit: int) -> None:
        self._f, self._limit = open(path, "rb"), limit  # noqa: SIM115 (closed by __exit__)

    def _check(self):
        if self._f.tell() >= self._limit:
            raise OSError("connection reset while reading")

    def read(self, n=-1):
        self._check()
        return self._f.read(n)

    def readinto(self, buffer):
        self._check()
        return self._f.readinto(buffer)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


def test_speaker_normalised_windows_are_the_same_held_or_read_twice(tmp_path):
    feature = FeatureConfig(preset="mfcc", spectral=False)
    path, _ = _stereo_wav(tmp_path)
    norm = {**_identity_norm(feature), "group": "speaker"}
    opened = []

    def opener():
        opened.append(path)
        return open(path, "rb")

    held = list(_core(feature, norm=norm).events(opener))
    assert len(opened) == 1
    twice = list(_core(feature, norm=norm, buffer_mb=0.0).events(opener))
    assert len(opened) == 3
    assert [type(e) for e in held] == [type(e) for e in twice]
    speech = [(a, b) for a, b in zip(held, twice, strict=True)
              if isinstance(a, scoring.SpeechWindow)]
    assert speech
    for a, b in speech:
        np.testing.assert_allclose(a.model_input, b.model_input, atol=1e-6)
    # each channel standardised by its own statistics: mean 0 over its windows
    for c in (0, 1):
        frames = np.concatenate([a.model_input for a, _ in speech if a.channel == c])
        np.testing.assert_allclose(frames.mean(axis=0), 0.0, atol=1e-3)


def test_a_mono_call_is_diarized_at_its_end_and_stereo_channels_are_not():
    from sentiment_model import calls
    from sentiment_model.config import preset
    from sentiment_model.diarize import DiarizeConfig

    voices = synth.make_voices(6, seed=11)
    turns = []
    audio = calls.make_call(calls.CallScript(customer_arc=("negative",) * 4, section_s=8.0),
                            calls.synth_utterances(voices[4], voices[0], sample_rate=16000),
                            sample_rate=16000, seed=0, turns=turns)
    feature = preset("mfcc")
    segment = dataclasses.replace(seg.SegmentConfig(), vad="energy")
    core = scoring.RecordingWindows(feature=feature, segment=segment, channels="auto",
                                    input_kind="frames", norm={},
                                    diarize=DiarizeConfig(agent="second"))
    mono = np.clip(audio.sum(axis=1, keepdims=True), -1, 1)
    events = list(core.array_events(mono, 16000))
    ends = [e for e in events if isinstance(e, scoring.ChannelEnd)]
    # the mix, then each speaker's own speech as a channel of its own
    assert [e.channel for e in ends] == [-1, -2, -3]
    speakers = ends[0].stats.speakers
    for end, speaker in zip(ends[1:], speakers, strict=True):
        assert end.stats.speakers == (speaker,) and end.stats.talk == speaker.talk
        assert end.stats.duration_s == pytest.approx(ends[0].stats.duration_s)
        # the speaker's speech is its turns, not a second detector's decision
        assert end.stats.speech_s == pytest.approx(sum(b - a for a, b in speaker.spans))
        windows = [e for e in events if isinstance(e, scoring.SpeechWindow)
                   and e.channel == end.channel]
        assert windows and all(any(a < w.end_s and b > w.start_s for a, b in speaker.spans)
                               for w in windows)  # only where that speaker speaks
    assert [s.role for s in speakers] == ["agent", "customer"]
    for speaker, ch in zip(speakers, (calls.AGENT, calls.CUSTOMER), strict=True):
        want = sum(b - a for c, a, b in turns if c == ch) / 16000
        assert speaker.talk.talk_s == pytest.approx(want, abs=0.3 * 8)
        # the customer speaks first in make_call, so "second" found the agent
        frames = np.zeros(len(audio) // 160, bool)
        for c, a, b in turns:
            if c == ch:
                frames[a // 160:b // 160] = True
        mine = np.zeros_like(frames)
        for a, b in speaker.spans:
            mine[round(a * 100):round(b * 100)] = True
        assert (mine & frames).sum() / max(mine.sum(), 1) >= 0.9
    stereo = [e for e in core.array_events(audio, 16000) if isinstance(e, scoring.ChannelEnd)]
    assert [(e.channel, e.stats.speakers) for e in stereo] == [(0, None), (1, None)]
    assert not core.channel_ids or -2 not in core.channel_ids
    plain = scoring.RecordingWindows(feature=feature, segment=segment, channels="auto",
                                     input_kind="frames", norm={})
    assert [e.stats.speakers for e in plain.array_events(mono, 16000)
            if isinstance(e, scoring.ChannelEnd)] == [None]
