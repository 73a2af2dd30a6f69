import dataclasses

import numpy as np
import pytest

from sentiment_model import calls, synth
from sentiment_model import diarize as dz
from sentiment_model.errors import ConfigError

HOP = 160


@pytest.fixture(scope="module")
def mono_call():
    """A generated two-voice call mixed to mono (16 kHz), its frame truth
    (-1 silence, else the channel) and where the two overlap."""
    voices = synth.make_voices(2, seed=99)
    turns = []
    audio = calls.make_call(calls.CallScript(customer_arc=("neutral", "negative"), section_s=8.0),
                            calls.synth_utterances(voices[0], voices[1], sample_rate=16000),
                            sample_rate=16000, seed=0, turns=turns)
    n = len(audio) // HOP
    truth, overlap = np.full(n, -1), np.zeros(n, bool)
    for ch, a, b in turns:
        frames = slice(a // HOP, b // HOP)
        overlap[frames] |= truth[frames] >= 0
        truth[frames] = ch
    return audio.sum(axis=1), truth, overlap


def test_two_voices_are_told_apart_and_the_first_heard_is_speaker_0(mono_call):
    mono, truth, overlap = mono_call
    result = dz.diarize(mono, 16000, truth >= 0, config=dz.DiarizeConfig())
    assert result.n_speakers == 2 and result.agent == 0 and result.customer == 1
    got = result.speaker[:len(truth)]
    # every speech frame; beside them, only pauses under 0.3 s
    assert (got[truth >= 0] >= 0).all()
    short_pauses = dz._join_pauses(np.where(truth >= 0, 0, -1).astype(np.int8), 30) >= 0
    assert (got[~short_pauses] < 0).all()
    alone = (truth >= 0) & ~overlap
    # make_call: the customer (channel 1) speaks first
    want = np.where(truth[alone] == calls.CUSTOMER, 0, 1)
    assert np.mean(got[alone] == want) >= 0.95
    spans = result.spans(0)
    assert spans[0][0] == pytest.approx(0.0, abs=0.02)
    assert sum(b - a for a, b in spans) == pytest.approx(result.mask(0).sum() * dz.FRAME_S)
    second = dz.diarize(mono, 16000, truth >= 0,
                        config=dataclasses.replace(dz.DiarizeConfig(), agent="second"))
    assert second.agent == 1 and second.customer == 0
    np.testing.assert_array_equal(second.speaker, result.speaker)


def test_telephone_rate_input_gives_the_same_frames(mono_call):
    from sentiment_model.audio import resample

    mono, truth, overlap = mono_call
    result = dz.diarize(resample(mono, 16000, 8000), 8000, truth >= 0, config=dz.DiarizeConfig())
    alone = (truth >= 0) & ~overlap
    want = np.where(truth[alone] == calls.CUSTOMER, 0, 1)
    assert np.mean(result.speaker[:len(truth)][alone] == want) >= 0.9


def test_no_speech_means_no_speaker():
    silence = np.zeros(16000 * 3, np.float32)
    result = dz.diarize(silence, 16000, np.zeros(300, bool), config=dz.DiarizeConfig())
    assert result.n_speakers == 0 and result.agent == -1 and result.customer == -1
    assert (result.speaker == -1).all() and result.spans(0) == []


def test_partials_start_every_step_where_enough_is_speech():
    speech = np.zeros(100, bool)
    speech[20:60] = True
    starts = dz.partial_starts(speech, window=20, step=10, min_speech=0.5)
    np.testing.assert_array_equal(starts, [10, 20, 30, 40, 50])
    assert len(dz.partial_starts(speech[:10], window=20, step=10, min_speech=0.5)) == 0


def test_short_runs_join_the_longer_neighbour_and_silence_stays():
    labels = np.array([0] * 10 + [1] * 2 + [0] * 5 + [-1] * 3 + [1] * 8 + [0] * 1, np.int8)
    out = dz._drop_short_runs(labels, 3)
    want = np.array([0] * 17 + [-1] * 3 + [1] * 9, np.int8)
    np.testing.assert_array_equal(out, want)


def test_pauses_within_one_speakers_speech_are_closed_and_others_stay():
    labels = np.array([0] * 4 + [-1] * 3 + [0] * 2 + [-1] * 2 + [1] * 3 + [-1] * 5 + [1] * 2
                      + [-1] * 2, np.int8)
    out = dz._join_pauses(labels, 4)
    want = np.array([0] * 9 + [-1] * 2 + [1] * 3 + [-1] * 5 + [1] * 2 + [-1] * 2, np.int8)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(dz._join_pauses(labels, 6), np.array(
        [0] * 9 + [-1] * 2 + [1] * 10 + [-1] * 2, np.int8))
    np.testing.assert_array_equal(dz._join_pauses(labels, 0), labels)


def test_config_is_validated_and_round_trips():
    config = dz.DiarizeConfig(window_s=1.6, step_s=0.4, agent="second")
    assert dz.DiarizeConfig.from_dict(config.to_dict()) == config
    for bad, match in (({"agent": "loudest"}, "first or second"),
                       ({"step_s": 2.0}, "step_s"), ({"window_s": 0.1}, "window_s"),
                       ({"min_run_s": -1}, "min_run_s"), ({"max_partials": 1}, "max_partials"),
                       ({"join_pause_s": -0.1}, "join_pause_s"),
                       ({"min_edge_s": -0.1}, "min_edge_s")):
        with pytest.raises(ConfigError, match=match):
            dataclasses.replace(dz.DiarizeConfig(), **bad).validate()


def test_a_long_call_clusters_a_spread_sample_and_the_rest_joins_the_nearer_centre():
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(2, 256))
    who = rng.integers(0, 2, 900)
    embeddings = centres[who] + 0.4 * rng.normal(size=(900, 256))
    whole = dz._two_clusters(embeddings, max_partials=2000)
    sampled = dz._two_clusters(embeddings, max_partials=100)
    same = whole == who if (whole == who).mean() > 0.5 else whole != who
    assert same.all()  # two clear voices: every partial right
    agree = (sampled == whole).mean()
    assert agree == 1.0 or agree == 0.0  # the same split, whichever cluster is called 0


def test_k_means_passes_move_the_partials_wards_merges_left_on_the_wrong_side():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(2, 256))
    who = rng.integers(0, 2, 300)
    embeddings = centres[who] + 3.0 * rng.normal(size=(300, 256))  # two noisy voices

    def right(labels):
        return max((labels == who).mean(), (labels != who).mean())

    ward = dz._two_clusters(embeddings, max_partials=2000, refine_iterations=0)
    refined = dz._two_clusters(embeddings, max_partials=2000)
    assert right(ward) == pytest.approx(296 / 300)
    assert right(refined) == 1.0
    centred = embeddings - embeddings.mean(axis=0)
    centred /= np.linalg.norm(centred, axis=1, keepdims=True)
    means = np.stack([centred[refined == k].mean(axis=0) for k in (0, 1)])
    assert (np.argmax(centred @ means.T, axis=1) == refined).all()  # a fixed point


def test_each_role_gets_its_own_talk_from_the_call_and_its_frames(mono_call):
    mono, truth, _ = mono_call
    result = dz.diarize(mono, 16000, truth >= 0, config=dz.DiarizeConfig())
    roles = dz.role_speech(result, mono.astype(np.float32), 16000, talk=dz.TalkConfig())
    assert [r.role for r in roles] == ["agent", "customer"]
    for role in roles:
        speaker = result.agent if role.role == "agent" else result.customer
        assert role.spans == tuple(result.spans(speaker))
        want = sum(b - a for a, b in role.spans)
        # turns join pauses under min_pause_s and drop stretches under min_turn_s
        assert role.talk.talk_s == pytest.approx(want, abs=1.0)
        assert role.talk.loudness_dbfs is not None and role.talk.speaking_rate is not None
    silent = dz.diarize(np.zeros(16000, np.float32), 16000, np.zeros(100, bool),
                        config=dz.DiarizeConfig())
    assert dz.role_speech(silent, np.zeros(16000, np.float32), 16000,
                          talk=dz.TalkConfig()) == ()


def test_a_short_run_between_a_pause_and_the_other_voice_is_that_voices():
    labels = np.array([0] * 10 + [1] * 3 + [-1] * 4 + [1] * 10 + [-1] * 2 + [0] * 2 + [-1] * 3
                      + [1] * 2 + [0] * 8, np.int8)
    out = dz._drop_short_edges(labels, 5)
    # the 1s before the pause go to 0; the 0s alone between pauses stay; the
    # 1s between a pause and the 0s go to 0
    want = np.array([0] * 13 + [-1] * 4 + [1] * 10 + [-1] * 2 + [0] * 2 + [-1] * 3 + [0] * 10,
                    np.int8)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(dz._drop_short_edges(labels, 2), labels)
