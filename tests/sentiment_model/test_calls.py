import csv
import os

import numpy as np
import soundfile

from sentiment_model import calls, segments, synth

RATE = 16000


def test_a_call_has_scripted_sections_two_channels_and_pauses():
    voices = synth.make_voices(2, seed=3)
    script = calls.CallScript(customer_arc=("negative", "neutral", "positive", "positive"),
                              section_s=6.0)
    speak = calls.synth_utterances(voices[0], voices[1], sample_rate=RATE)
    x = calls.make_call(script, speak, sample_rate=RATE, seed=1)
    assert x.shape == (24 * RATE, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(x, calls.make_call(script, speak, sample_rate=RATE, seed=1))
    for channel in (calls.AGENT, calls.CUSTOMER):
        vad = segments.EnergyVad(segments.SegmentConfig(), RATE)
        vad.push(x[:, channel], last=True)
        speech = vad.speech_samples / RATE
        assert 0.2 * 24 < speech < 0.8 * 24  # both sides talk, and both pause
    # the customer speaks first in each section; the agent is silent then
    first = slice(int(0.2 * RATE), int(0.8 * RATE))
    assert np.sqrt(np.mean(x[first, calls.CUSTOMER] ** 2)) > 30 * np.sqrt(
        np.mean(x[first, calls.AGENT] ** 2))


def test_write_calls_writes_stereo_files_and_the_expected_answers(tmp_path):
    path = calls.write_calls(str(tmp_path), n_calls=2, section_s=4.0, seed=5)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["path"], r["channel"], r["role"]) for r in rows] == [
        ("calls/call_000.wav", "0", "agent"), ("calls/call_000.wav", "1", "customer"),
        ("calls/call_001.wav", "0", "agent"), ("calls/call_001.wav", "1", "customer")]
    assert rows[1]["arc"] == "/".join(calls.ARCS[0])
    assert (rows[1]["first_quarter"], rows[1]["last_quarter"]) == ("negative", "positive")
    assert rows[3]["label"] == "negative"  # neutral, negative, negative, negative
    assert rows[0]["label"] == "neutral"
    info = soundfile.info(os.path.join(tmp_path, "calls", "call_001.wav"))
    assert (info.channels, info.samplerate, info.frames) == (2, RATE, 16 * RATE)
