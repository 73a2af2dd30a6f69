"""The featurize job's per-recording core, without Beam."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile

from schemas import features as fk
from sentiment_model import featurizing
from sentiment_model.audio import MIX_CHANNEL, resample
from sentiment_model.augment import AugmentConfig
from sentiment_model.config import preset
from sentiment_model.errors import RejectedInput
from sentiment_model.features import compute_features
from tests.conftest import tone


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    buf = io.BytesIO()
    soundfile.write(buf, samples, rate, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def decoded(samples: np.ndarray, rate: int, *, split: str = "test", label: str = "",
            label_id: int = fk.UNLABELLED_ID) -> featurizing.DecodedItem:
    item = featurizing.AudioItem(uri="/calls/a.wav", split=split, label=label,
                                 label_id=label_id, speaker="s1")
    return featurizing.read_recording(item, wav_bytes(samples, rate))


def test_each_channel_gives_one_example_with_the_features_of_its_resampled_audio():
    cfg = preset("default")
    x = tone(220, seconds=1.0, sample_rate=22050, channels=2, seed=1)
    recording = decoded(x, 22050)
    out = list(featurizing.recording_examples(recording, feature=cfg, channels="split"))
    assert [o.features[fk.CHANNEL] for o in out] == [0, 1]
    for example in out:
        f = example.features
        c = f[fk.CHANNEL]
        want = compute_features(resample(x[:, c].copy(), 22050, cfg.sample_rate),
                                cfg.sample_rate, cfg)
        np.testing.assert_allclose(f[fk.FRAMES], want.frames, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(f[fk.POOLED], want.pooled, rtol=1e-5, atol=1e-5)
        assert f[fk.N_FRAMES] == want.frames.shape[0]
        assert f[fk.SOURCE_SAMPLE_RATE] == 22050
        assert f[fk.DURATION_S] == pytest.approx(1.0, abs=1e-3)
        assert f[fk.RECORDING_ID] == featurizing.recording_id("/calls/a.wav").encode()
        assert f[fk.SPEAKER] == b"s1" and f[fk.SPLIT] == b"test"
    # the file counts once in the dataset's fingerprint
    assert out[0].fingerprint == featurizing.input_fingerprint_part(
        "/calls/a.wav", recording.content_sha256)
    assert out[1].fingerprint == ""


def test_a_silent_channel_fails_alone_and_the_other_keeps_its_example():
    cfg = preset("default")
    x = tone(220, seconds=1.0, sample_rate=16000, channels=2, seed=2)
    x[:, 0] = 0.0
    out = list(featurizing.recording_examples(decoded(x, 16000), feature=cfg, channels="split"))
    assert isinstance(out[0], featurizing.ChannelFailure)
    assert (out[0].channel, out[0].error_type) == (0, "silent")
    assert out[0].message.startswith("channel 0: ")
    assert isinstance(out[1], featurizing.FeatureExample)
    assert out[1].features[fk.CHANNEL] == 1
    assert out[1].fingerprint != ""  # the first example of the file carries it


def test_train_clips_get_their_augmented_copies_and_test_clips_none():
    cfg = preset("default")
    x = tone(300, seconds=1.0, sample_rate=16000, seed=3)
    augment = AugmentConfig(noise_copies=1, speed_factors=(0.9,), telephone_copies=1)
    train = list(featurizing.recording_examples(
        decoded(x, 16000, split="train", label="neutral", label_id=1), feature=cfg,
        channels="mix", augment=augment))
    test = list(featurizing.recording_examples(decoded(x, 16000), feature=cfg, channels="mix",
                                               augment=augment))
    assert len(test) == 1 and test[0].features[fk.AUGMENTATION] == b""
    names = [e.features[fk.AUGMENTATION].decode() for e in train]
    assert names[0] == "" and len(names) == 4 and len(set(names)) == 4
    base = featurizing.recording_id("/calls/a.wav")
    assert [e.features[fk.RECORDING_ID].decode() for e in train] == [
        base if not n else f"{base}#{n}" for n in names]
    assert all(e.features[fk.CHANNEL] == MIX_CHANNEL for e in train)
    assert all(e.features[fk.LABEL_ID] == 1 for e in train)
    assert [bool(e.fingerprint) for e in train] == [True, False, False, False]
    # the speed copy is 1/0.9 as long
    speed = next(e for e in train if "0.9" in e.features[fk.AUGMENTATION].decode())
    assert speed.features[fk.DURATION_S] == pytest.approx(1 / 0.9, rel=0.02)


def test_bytes_that_are_not_audio_are_rejected_at_decode():
    with pytest.raises(RejectedInput) as err:
        featurizing.read_recording(featurizing.AudioItem(uri="/x.wav", split="test"),
                                   b"not audio at all")
    assert err.value.stage == "decode"
    assert err.value.error_type


def test_an_example_never_holds_the_credentials_of_its_url():
    x = tone(300, seconds=0.6, sample_rate=16000)
    item = featurizing.AudioItem(uri="s3://KEYID:SECRET@bucket/a.wav", split="test")
    (example,) = featurizing.recording_examples(
        featurizing.read_recording(item, wav_bytes(x, 16000)), feature=preset("default"),
        channels="mix")
    assert example.features[fk.URI] == b"s3://***@bucket/a.wav"
