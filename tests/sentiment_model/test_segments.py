import numpy as np
import pytest

from sentiment_model import segments as seg
from sentiment_model.errors import ConfigError

RATE = 1000  # samples per second keeps the arithmetic readable


def cut(signal, *, size, hop, min_size, chunk):
    cutter = seg.WindowCutter(size=size, hop=hop, min_size=min_size)
    out = []
    for start in range(0, len(signal), chunk):
        out += cutter.push(signal[start:start + chunk])
    return out + cutter.finish()


def test_windows_cover_the_signal_and_do_not_depend_on_chunking():
    signal = np.arange(10_000, dtype=np.float32)
    for chunk in (10_000, 777, 1500, 1):
        windows = cut(signal, size=3000, hop=1500, min_size=500, chunk=chunk) if chunk > 1 \
            else cut(signal[:4000], size=3000, hop=1500, min_size=500, chunk=1)
        if chunk == 1:
            assert [(w.start, len(w.samples)) for w in windows] == [(0, 3000), (1500, 2500)]
            continue
        assert [w.index for w in windows] == list(range(6))
        assert [w.start for w in windows] == [0, 1500, 3000, 4500, 6000, 7500]
        assert [len(w.samples) for w in windows] == [3000] * 5 + [2500]
        for w in windows:
            np.testing.assert_array_equal(w.samples, signal[w.start:w.start + len(w.samples)])


def test_short_signals_are_one_window_and_tiny_tails_are_dropped():
    short = cut(np.ones(1200, np.float32), size=3000, hop=1500, min_size=500, chunk=500)
    assert [(w.start, len(w.samples)) for w in short] == [(0, 1200)]
    # no overlap: 3 full windows, a 200-sample tail below min_size is not scored
    tail = cut(np.ones(3200, np.float32), size=1000, hop=1000, min_size=500, chunk=700)
    assert [(w.start, len(w.samples)) for w in tail] == [(0, 1000), (1000, 1000), (2000, 1000)]
    exact = cut(np.ones(4500, np.float32), size=3000, hop=1500, min_size=500, chunk=4500)
    assert [(w.start, len(w.samples)) for w in exact] == [(0, 3000), (1500, 3000)]


def test_cutter_memory_stays_bounded():
    cutter = seg.WindowCutter(size=3000, hop=1500, min_size=500)
    for _ in range(200):
        cutter.push(np.zeros(1000, np.float32))
        assert len(cutter._buffer) <= 3000 + 1000
    assert cutter.next_start == (200_000 - 3000) // 1500 * 1500 + 1500


def burst_signal(seed=0):
    """2 s of -70 dBFS noise, 1 s of a -20 dBFS tone, 2 s of noise."""
    rng = np.random.default_rng(seed)
    noise = 10 ** (-70 / 20) * rng.standard_normal(5 * RATE)
    t = np.arange(RATE) / RATE
    noise[2 * RATE:3 * RATE] += 0.1 * np.sqrt(2) * np.sin(2 * np.pi * 50 * t)
    return noise.astype(np.float32)


def test_energy_vad_marks_the_burst_only_whatever_the_chunking():
    config = seg.SegmentConfig(vad_frame_s=0.1, hop_s=1.0, segment_s=2.0)
    signal = burst_signal()
    whole = seg.EnergyVad(config, RATE)
    whole.push(signal, last=True)
    flags = whole.flags(0, len(signal))
    assert flags.shape == (50,)
    np.testing.assert_array_equal(np.flatnonzero(flags), np.arange(20, 30))
    assert whole.speech_samples == RATE
    chunked = seg.EnergyVad(config, RATE)
    for start in range(0, len(signal), 333):
        chunked.push(signal[start:start + 333], last=start + 333 >= len(signal))
    np.testing.assert_array_equal(chunked.flags(0, len(signal)), flags)
    np.testing.assert_array_equal(whole.flags(1950, 3050), flags[20:31])
    whole.forget_before(2000)
    np.testing.assert_array_equal(whole.flags(2000, 3000), np.ones(10, bool))


def test_vad_floor_and_absolute_threshold():
    config = seg.SegmentConfig(vad_frame_s=0.1, hop_s=1.0, segment_s=2.0, vad_min_dbfs=-50)
    quiet_tone = 10 ** (-55 / 20) * np.sqrt(2) * np.sin(2 * np.pi * 50 * np.arange(RATE) / RATE)
    vad = seg.EnergyVad(config, RATE)
    vad.push(np.concatenate([np.zeros(RATE), quiet_tone]).astype(np.float32), last=True)
    assert not vad.flags(0, 2 * RATE).any()  # 55 dB above the floor, but below -50 dBFS


def test_speech_span_and_window_decision():
    flags = np.array([0, 0, 1, 1, 0, 1, 0, 0], bool)
    assert seg.speech_span(flags, window_start=0, window_len=800, frame=100) == (200, 600)
    # a window starting mid-frame: its first whole frame starts 50 samples in
    assert seg.speech_span(flags, window_start=1050, window_len=800, frame=100) == (250, 650)
    assert seg.speech_span(np.zeros(3, bool), window_start=0, window_len=300, frame=100) == (0, 300)
    assert seg.is_speech_window(flags, 0.3) and not seg.is_speech_window(flags, 0.5)
    assert not seg.is_speech_window(np.zeros(0, bool), 0.0)


def scored(index, label, n=3, *, hop=1.0, size=2.0, speech=True):
    probs = [0.1] * n
    probs[label] = 0.8
    return seg.ScoredSegment(index, index * hop, index * hop + size, speech,
                             tuple(probs) if speech else None)


def test_aggregate_probabilities_shares_quarters_and_changes():
    labels = ("negative", "neutral", "positive")
    story = [0, 0, 0, 1, 2, 1, 1, 2, 2, 2]  # one stray "positive" at index 4
    segments = [scored(i, k) for i, k in enumerate(story)]
    segments.insert(3, scored(99, 0, speech=False))
    agg = seg.aggregate(segments, duration_s=11.0, labels=labels)
    mean = np.mean([s.probs for s in segments if s.is_speech], axis=0)
    np.testing.assert_allclose(agg["probs"], mean)
    assert agg["label"] == "positive" and agg["confidence"] == pytest.approx(mean[2])
    np.testing.assert_allclose(agg["share"], [0.3, 0.3, 0.4])
    assert agg["first_quarter"] == "negative"  # windows starting before 2.75 s
    assert agg["last_quarter"] == "positive"  # windows ending after 8.25 s
    assert agg["changes"] == 2  # negative -> neutral -> positive
    assert agg["n_speech_segments"] == 10
    empty = seg.aggregate([scored(0, 0, speech=False)], duration_s=2.0, labels=labels)
    assert empty["label"] is None and empty["share"] == [0.0, 0.0, 0.0]


def test_smoothing_absorbs_single_window_runs():
    assert seg.smooth_labels([0, 0, 1, 0, 0]) == [0, 0, 0, 0, 0]
    assert seg.smooth_labels([1, 0, 0, 2, 2]) == [0, 0, 0, 2, 2]
    assert seg.count_changes(seg.smooth_labels([0, 0, 1, 1, 2, 1, 1])) == 1
    assert seg.smooth_labels([2]) == [2]


def test_segment_config_validation_and_round_trip():
    config = seg.SegmentConfig(segment_s=2.0, hop_s=1.0)
    assert seg.SegmentConfig.from_dict(config.to_dict()) == config
    old = seg.SegmentConfig.from_dict({"segment_s": 2.0, "hop_s": 1.0})  # before Silero
    assert (old.vad, old.vad_utterance_peak_dbfs) == ("energy", None)
    with pytest.raises(ConfigError):
        seg.SegmentConfig(vad_utterance_peak_dbfs=3.0).validate()
    with pytest.raises(ConfigError, match="hop-seconds"):
        seg.SegmentConfig(segment_s=2.0, hop_s=3.0).validate()
    with pytest.raises(ConfigError, match="segment-seconds"):
        seg.SegmentConfig(segment_s=0).validate()
    with pytest.raises(ConfigError, match="unknown"):
        seg.SegmentConfig.from_dict({"segment_s": 2.0, "colour": "red"})


@pytest.mark.parametrize("size", [1, 2, 7, 1000])
def test_trailing_min_is_the_minimum_of_the_last_size_values(size):
    values = np.random.default_rng(size).standard_normal(2500)
    want = [values[max(0, j - size + 1):j + 1].min() for j in range(len(values))]
    np.testing.assert_array_equal(seg.trailing_min(values, size), want)
    assert len(seg.trailing_min(np.zeros(0), size)) == 0


def test_energy_vad_floor_follows_the_quietest_frame_of_the_last_window():
    # 1 s of -30 dBFS noise, then 0.5 s at -60 dBFS, then -30 dBFS again: a
    # frame is speech while it is 12 dB above the quietest of the last 10 s
    config = seg.SegmentConfig(vad="energy", vad_margin_db=12.0, vad_min_dbfs=-70.0,
                               vad_floor_window_s=0.5)
    rng = np.random.default_rng(0)
    level = np.concatenate([np.full(RATE, 10 ** (-30 / 20)), np.full(RATE // 2, 10 ** (-60 / 20)),
                            np.full(RATE, 10 ** (-30 / 20))])
    x = (rng.standard_normal(len(level)) * level * np.sqrt(2) / np.sqrt(2)).astype(np.float32)
    vad = seg.EnergyVad(config, RATE)
    for a in range(0, len(x), 4000):
        vad.push(x[a:a + 4000], last=a + 4000 >= len(x))
    flags = vad.flags(0, len(x))
    frame_s = config.vad_frame_s
    # the first second is its own floor; the quiet half second is not
    # speech; after it the loud frames are speech until the quiet ones
    # leave the 0.5-s floor window
    assert not flags[:round(1.5 / frame_s)].any()
    after = flags[round(1.5 / frame_s):]
    assert after[:round(0.45 / frame_s)].all() and not after[round(0.55 / frame_s):].any()
