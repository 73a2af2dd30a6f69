import numpy as np

from sentiment_model import synth
from tests.conftest import read_labels


def _pitch_hz(y, sr):
    import librosa

    f0 = librosa.yin(y, fmin=60, fmax=600, sr=sr)
    return float(np.median(f0))


def test_same_seed_same_samples_and_prosody_orders_pitch():
    voice = synth.make_voices(2, seed=1)[0]
    a = synth.synth_utterance(voice, "positive", duration_s=1.0, sample_rate=16000, seed=5)
    b = synth.synth_utterance(voice, "positive", duration_s=1.0, sample_rate=16000, seed=5)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (16000,) and a.dtype == np.float32 and np.abs(a).max() <= 1.0
    pitches = {s: _pitch_hz(synth.synth_utterance(voice, s, duration_s=1.0, sample_rate=16000,
                                                  seed=5), 16000) for s in synth.SENTIMENTS}
    assert pitches["negative"] < pitches["neutral"] < pitches["positive"]


def test_corpus_layout_and_labels(tmp_path):
    labels = synth.write_corpus(str(tmp_path), n_speakers=2, per_class=1, duration_s=0.5)
    rows = read_labels(labels)
    assert len(rows) == 6
    assert {r["label"] for r in rows} == set(synth.SENTIMENTS)
    assert {r["speaker"] for r in rows} == {"spk00", "spk01"}
    assert all((tmp_path / r["path"]).exists() for r in rows)
