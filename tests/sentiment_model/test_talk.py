"""Turns, talk time, loudness, speaking rate and call measures."""

import numpy as np
import pytest

from sentiment_model import calls, channel, scoring, synth, talk
from sentiment_model import segments as seg
from sentiment_model.config import FeatureConfig
from sentiment_model.errors import ConfigError
from sentiment_model.talk import ChannelTalk, TalkConfig

ENERGY = seg.SegmentConfig(vad="energy")


def test_speech_runs_are_the_runs_of_speech_frames_in_seconds():
    flags = np.array([0, 1, 1, 0, 0, 1, 0, 1, 1, 1], bool)
    assert talk.speech_runs(flags, frame_s=0.5, offset_s=10.0) == [
        (10.5, 11.5), (12.5, 13.0), (13.5, 15.0)]
    assert talk.speech_runs(np.zeros(4, bool), frame_s=0.1) == []


def test_turns_join_short_pauses_and_drop_clicks():
    config = TalkConfig(min_pause_s=0.5, min_turn_s=0.2)
    runs = [(0.0, 1.0), (1.4, 2.0), (2.5, 3.0), (5.0, 5.1), (7.0, 7.3)]
    # 0.4 s pause joined, 0.5 s pause splits, 0.1 s click dropped
    assert talk.turns_from_runs(runs, config) == [(0.0, 2.0), (2.5, 3.0), (7.0, 7.3)]


def test_call_measures_count_overlap_non_talk_and_interruptions_exactly():
    config = TalkConfig(interruption_after_s=1.0)
    agent = ChannelTalk(((0.0, 4.0), (5.5, 6.0), (9.0, 10.0)), 5.5, -20.0, 0, None)
    customer = ChannelTalk(((3.0, 6.0), (9.5, 12.0)), 5.5, -20.0, 0, None)
    m = talk.call_measures(agent, customer, duration_s=15.0, config=config)
    # talk: [0, 6] and [9, 12] -> 9 s of 15; overlap [3, 4], [5.5, 6], [9.5, 10]
    assert m.non_talk_s == pytest.approx(6.0)
    assert m.overlap_s == pytest.approx(2.0)
    # the customer at 3.0 (agent talking for 3 s): yes; the agent at 5.5
    # (customer for 2.5 s): yes; the customer at 9.5 (agent for 0.5 s): no
    assert m.interruptions == (1, 1)
    assert talk.union_length([(0, 2), (1, 3), (5, 6)]) == pytest.approx(4.0)


def test_talk_config_round_trips_and_refuses_bad_values():
    config = TalkConfig(min_pause_s=0.3)
    assert TalkConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="min_turn_s"):
        TalkConfig(min_turn_s=-1).validate()
    with pytest.raises(ConfigError, match="unknown"):
        TalkConfig.from_dict({"pause": 1})


def _channel_talk(samples, rate, segment=ENERGY) -> ChannelTalk:
    _, stats = scoring.channel_windows(samples, rate, feature=FeatureConfig(), segment=segment,
                                       block_s=7.0)
    return stats.talk


def _truth(turns, channel, rate):
    return [(a / rate, b / rate) for c, a, b in sorted(turns, key=lambda t: t[1])
            if c == channel]


@pytest.mark.parametrize("telephone", [False, True])
def test_talk_measures_of_generated_calls_match_their_known_turns(telephone):
    rate = 16000
    voices = synth.make_voices(3, seed=7)
    config = TalkConfig()
    for i, arc in enumerate(calls.ARCS[:2]):
        turns: list = []
        script = calls.CallScript(customer_arc=arc, section_s=10.0)
        call = calls.make_call(script, calls.synth_utterances(voices[0], voices[1 + i],
                                                              sample_rate=rate),
                               sample_rate=rate, seed=40 + i, turns=turns)
        if telephone:  # 8 kHz mu-law, 300-3400 Hz, resampled to 16 kHz by scoring
            got = [_channel_talk(channel.telephone(call[:, ch], rate), 8000) for ch in (0, 1)]
        else:
            got = [_channel_talk(call[:, ch], rate) for ch in (0, 1)]
        truth = [ChannelTalk(tuple(_truth(turns, ch, rate)), 0.0, None, 0, None)
                 for ch in (0, 1)]
        for g, t in zip(got, truth, strict=True):
            assert len(g.turns) == len(t.turns) == 8
            for (a, b), (ta, tb) in zip(g.turns, t.turns, strict=True):
                assert abs((b - a) - (tb - ta)) <= 0.3
                assert abs(a - ta) <= 0.15 and abs(b - tb) <= 0.15
        measured = talk.call_measures(*got, duration_s=script.duration_s, config=config)
        expected = talk.call_measures(*truth, duration_s=script.duration_s, config=config)
        # the agent's four scripted early answers, and wherever an answer ran
        # into the customer's next turn
        assert measured.interruptions == expected.interruptions
        assert expected.interruptions[0] == 4
        assert measured.non_talk_s == pytest.approx(expected.non_talk_s, abs=0.5)
        assert measured.overlap_s == pytest.approx(expected.overlap_s, abs=0.3)
        assert expected.overlap_s >= 4 * 0.3 - 0.01


def test_speaking_rate_follows_the_syllable_rate_of_generated_speech():
    rate = 16000
    voice = synth.make_voices(1, seed=3)[0]
    silence = np.zeros(rate, np.float32)
    measured = []
    for syllables in (2.0, 3.0, 4.0, 5.0, 6.0, 7.0):
        speech = synth.synth_utterance(voice, "neutral", duration_s=5.0, sample_rate=rate,
                                       seed=int(syllables), syllables_per_s=syllables)
        got = _channel_talk(np.concatenate([silence, speech, silence]), rate)
        assert got.talk_s == pytest.approx(5.0, abs=0.3)
        assert got.speaking_rate == pytest.approx(syllables, rel=0.15)
        measured.append(got.speaking_rate)
    assert measured == sorted(measured)


def test_loudness_is_the_level_of_the_turns_not_of_the_whole_channel():
    rate = 16000
    voice = synth.make_voices(1, seed=4)[0]
    speech = synth.synth_utterance(voice, "neutral", duration_s=3.0, sample_rate=rate, seed=1)
    speech *= np.float32(10 ** (-20 / 20) / np.sqrt(np.mean(speech.astype(np.float64) ** 2)))
    padded = np.concatenate([np.zeros(6 * rate, np.float32), speech])
    got = _channel_talk(padded, rate)
    assert got.loudness_dbfs == pytest.approx(-20.0, abs=0.5)
    assert got.syllables > 0
    assert _channel_talk(np.zeros(5 * rate, np.float32), rate) == ChannelTalk(
        (), 0.0, None, 0, None)
