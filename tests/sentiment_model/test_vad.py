import importlib.metadata
import itertools

import numpy as np
import pytest

from sentiment_model import segments as seg
from sentiment_model import synth, vad
from sentiment_model.errors import ConfigError

RATE = 16000


def _utterance_in_silence(rate: int = RATE) -> np.ndarray:
    voice = synth.make_voices(1, seed=4)[0]
    y = synth.synth_utterance(voice, "neutral", duration_s=1.5, sample_rate=rate, seed=2)
    rng = np.random.default_rng(0)
    pad = np.zeros(rate, np.float32)
    x = np.concatenate([pad, y, pad])
    return (x + 1e-4 * rng.standard_normal(len(x))).astype(np.float32)


def test_silero_marks_the_utterance_and_not_the_silence_around_it():
    x = _utterance_in_silence()
    det = vad.SileroVad(sample_rate=RATE, threshold=0.5)
    det.push(x, last=True)
    flags = det.flags(0, len(x))
    assert det.frame == 512 and len(flags) == -(-len(x) // 512)
    t = (np.arange(len(flags)) + 0.5) * 512 / RATE
    assert not flags[t < 0.9].any() and not flags[t > 2.7].any()
    assert flags[(t > 1.2) & (t < 2.3)].all()
    assert 1.2 < det.speech_samples / RATE < 1.9


def test_silero_flags_do_not_depend_on_how_the_audio_is_chunked():
    x = _utterance_in_silence()
    whole = vad.SileroVad(sample_rate=RATE, threshold=0.5)
    whole.push(x, last=True)
    chunked = vad.SileroVad(sample_rate=RATE, threshold=0.5)
    cuts = [0, 100, 1337, 20000, 20001, len(x)]
    for a, b in itertools.pairwise(cuts):
        chunked.push(x[a:b], last=b == len(x))
    np.testing.assert_array_equal(chunked.flags(0, len(x)), whole.flags(0, len(x)))
    assert chunked.speech_samples == whole.speech_samples
    chunked.forget_before(RATE)  # frames before 1 s are gone, later ones keep their place
    np.testing.assert_array_equal(chunked.flags(RATE, len(x)), whole.flags(RATE, len(x)))


@pytest.mark.parametrize("rate", [8000, 22050])
def test_silero_runs_at_8_khz_natively_and_resamples_other_rates(rate):
    x = _utterance_in_silence(rate)
    det = vad.SileroVad(sample_rate=rate, threshold=0.5)
    det.push(x, last=True)
    assert det.frame == pytest.approx(0.032 * rate)
    flags = det.flags(0, len(x))
    t = (np.arange(len(flags)) + 0.5) * 0.032
    assert flags[(t > 1.2) & (t < 2.3)].mean() > 0.9 and not flags[t < 0.9].any()


def test_a_dial_tone_is_not_speech():
    t = np.arange(5 * RATE) / RATE
    dial = (0.1 * (np.sin(2 * np.pi * 350 * t) + np.sin(2 * np.pi * 440 * t))).astype(np.float32)
    det = vad.SileroVad(sample_rate=RATE, threshold=0.5)
    det.push(dial, last=True)
    assert not det.flags(0, len(dial)).any()


def test_hysteresis_keeps_speech_on_until_the_release_level():
    p = np.array([0.1, 0.6, 0.4, 0.36, 0.3, 0.45, 0.55])
    np.testing.assert_array_equal(vad.hysteresis(p, threshold=0.5),
                                  [0, 1, 1, 1, 0, 0, 1])
    np.testing.assert_array_equal(vad.hysteresis(p[:1] + 0.3, threshold=0.5, was_speech=True),
                                  [1])


def test_the_silero_package_must_be_the_pinned_version(monkeypatch):
    real = importlib.metadata.distribution

    class Other:
        version = "5.0"

    monkeypatch.setattr(importlib.metadata, "distribution",
                        lambda name: Other() if name == vad.SILERO_PACKAGE else real(name))
    with pytest.raises(ConfigError, match=f"silero-vad 5.0 is installed.*{vad.SILERO_VERSION}"):
        vad.silero_model_path()


def test_make_detector_follows_the_segment_config():
    assert isinstance(vad.make_detector(seg.SegmentConfig(), RATE), vad.EitherVad)
    assert isinstance(vad.make_detector(seg.SegmentConfig(vad="silero"), RATE), vad.SileroVad)
    assert isinstance(vad.make_detector(seg.SegmentConfig(vad="energy"), RATE), seg.EnergyVad)
    with pytest.raises(ConfigError, match="--vad 'webrtc'"):
        seg.SegmentConfig(vad="webrtc").validate()
    assert seg.SegmentConfig.from_dict({"segment_s": 3.0}).vad == "energy"  # saved before


def test_either_is_speech_where_silero_or_the_energy_detector_finds_it():
    t = np.arange(4 * RATE) / RATE
    busy = (0.1 * (np.sin(2 * np.pi * 480 * t) + np.sin(2 * np.pi * 620 * t))).astype(np.float32)
    busy[t < 2.0] = 0.0  # silence, then a tone only the energy detector takes for speech
    x = np.concatenate([_utterance_in_silence(), busy])
    x += (1e-4 * np.random.default_rng(3).standard_normal(len(x))).astype(np.float32)
    config = seg.SegmentConfig()
    either, silero = vad.make_detector(config, RATE), vad.SileroVad(sample_rate=RATE,
                                                                    threshold=0.5)
    energy = seg.EnergyVad(config, RATE)
    for det in (either, silero, energy):
        det.push(x, last=True)
    got, alone = either.flags(0, len(x)), silero.flags(0, len(x))
    assert either.frame == silero.frame and either.n_frames == len(got) == len(alone)
    centres = (np.arange(len(got)) + 0.5) * either.frame
    energy_flags = np.append(energy.flags(0, len(x)), False)  # past the end: not speech
    from_energy = energy_flags[np.minimum(centres // energy.frame, len(energy_flags) - 1)
                               .astype(int)]
    np.testing.assert_array_equal(got, alone | from_energy)
    t_frames = centres / RATE
    tone = (t_frames > 5.6) & (t_frames < 7.45)  # the tone: 5.5-7.5 s
    assert got[tone].all() and not alone[tone].any()
    assert either.speech_samples >= silero.speech_samples


def test_detector_frames_are_read_at_fixed_steps():
    from sentiment_model.vad import flags_every

    flags = np.array([False, True, True, False])  # 512-sample frames at 16 kHz: 32 ms
    got = flags_every(flags, frame=512, sample_rate=16000, step_s=0.01, n_steps=15)
    np.testing.assert_array_equal(got, [False] * 4 + [True] * 6 + [False] * 3 + [False] * 2)
    assert not flags_every(np.zeros(0, bool), frame=512, sample_rate=16000, step_s=0.01,
                           n_steps=3).any()


def test_known_speech_flags_the_frames_whose_centre_is_in_a_span():
    det = vad.KnownSpeech([(0.02, 0.05), (0.10, 0.125)], sample_rate=1000, frame_s=0.01)
    assert det.frame == 10 and det.n_frames == 0
    det.push(np.zeros(64, np.float32))
    assert det.n_frames == 6 and det.speech_samples == pytest.approx(30.0)
    np.testing.assert_array_equal(det.flags(0, 1000), [0, 0, 1, 1, 1, 0])  # decided frames only
    det.push(np.zeros(70, np.float32), last=True)  # 134 samples: the partial 14th frame too
    assert det.n_frames == 14 and det.speech_samples == pytest.approx(55.0)
    np.testing.assert_array_equal(det.flags(0, 134), [0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0])
    np.testing.assert_array_equal(det.flags(25, 60), [1, 1, 0])  # frames starting at 30, 40, 50
    det.forget_before(100)
    np.testing.assert_array_equal(det.flags(100, 134), [1, 1, 0, 0])  # 125 is past the span
    assert len(vad.KnownSpeech([], sample_rate=1000).flags(0, 0)) == 0
    nobody = vad.KnownSpeech([], sample_rate=1000)
    nobody.push(np.zeros(50, np.float32), last=True)
    assert not nobody.flags(0, 50).any() and nobody.speech_samples == 0.0


class _CountingSession:
    def __init__(self, session):
        self.session, self.batches = session, []

    def run(self, names, feeds):
        self.batches.append(feeds["steps"].shape[:2])  # (steps, signals)
        return self.session.run(names, feeds)


def test_channels_run_side_by_side_give_each_channel_its_own_probabilities():
    speech = _utterance_in_silence()
    noise = (0.05 * np.random.default_rng(3).standard_normal(len(speech) - 3000)).astype(np.float32)
    alone = [vad.SileroProbabilities(RATE).push(x, last=True) for x in (speech, noise)]
    together = [vad.SileroProbabilities(RATE) for _ in range(2)]
    counter = _CountingSession(together[0]._session)
    for m in together:
        m._session = counter
    got = [[], []]
    blocks = range(0, len(speech), 7000)
    for a in blocks:  # state and context carried over between blocks
        for m, x in zip(together, (speech, noise), strict=True):
            m.queue(x[a:a + 7000], last=a + 7000 >= len(speech))
        vad.run_together(together)
        for g, m in zip(got, together, strict=True):
            g.append(m.take())
    for want, parts in zip(alone, got, strict=True):
        np.testing.assert_allclose(np.concatenate(parts), want, atol=1e-5)
    # one call per block for both channels while their blocks have as many
    # steps; the last block (the noise ends 3000 samples sooner) one call each
    sizes = [len(np.concatenate(g[:-1])) for g in got]
    assert sizes[0] == sizes[1] and len(got[0][-1]) != len(got[1][-1])
    assert len(counter.batches) == len(blocks) + 1
    assert [b[1] for b in counter.batches] == [2] * (len(blocks) - 1) + [1, 1]
    assert sum(b[0] for b in counter.batches[:-2]) == sizes[0]


def test_detectors_settled_together_flag_as_each_alone():
    x = _utterance_in_silence()
    y = np.roll(x, RATE // 2)
    config = seg.SegmentConfig()
    alone = []
    for signal in (x, y):
        det = vad.make_detector(config, RATE)
        det.push(signal, last=True)
        alone.append(det)
    together = [vad.make_detector(config, RATE) for _ in range(2)]
    for det, signal in zip(together, (x, y), strict=True):
        det.queue(signal, last=True)
        assert det.n_frames == 0  # nothing decided before the settle
    vad.settle_together(together)
    for a, b in zip(alone, together, strict=True):
        assert a.n_frames == b.n_frames > 0
        np.testing.assert_array_equal(a.flags(0, len(x)), b.flags(0, len(x)))
        assert a.speech_samples == b.speech_samples


def _hysteresis_loop(probs, *, threshold, was_speech, release=0.15):
    """The rule step by step, as Silero's iterator applies it."""
    out, on = [], was_speech
    for p in probs:
        on = p >= threshold - release if on else p >= threshold
        out.append(on)
    return np.array(out, bool)


@pytest.mark.parametrize("was_speech", [False, True])
def test_hysteresis_equals_the_rule_applied_step_by_step(was_speech):
    rng = np.random.default_rng(11)
    # a slow random walk crosses both levels many times, and sits on them
    p = np.clip(np.cumsum(rng.normal(0, 0.08, 5000)) % 1.0, 0, 1)
    p[::97] = 0.5
    p[::89] = 0.35
    got = vad.hysteresis(p, threshold=0.5, was_speech=was_speech)
    want = _hysteresis_loop(p, threshold=0.5, was_speech=was_speech)
    assert 0.2 < want.mean() < 0.8
    np.testing.assert_array_equal(got, want)
    assert len(vad.hysteresis(np.zeros(0), threshold=0.5, was_speech=was_speech)) == 0
