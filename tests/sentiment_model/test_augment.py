import numpy as np
import pytest

from sentiment_model.augment import RECOMMENDED, AugmentConfig, augmentations
from sentiment_model.errors import ConfigError
from tests.conftest import tone


def test_parse_and_round_trip():
    cfg = AugmentConfig.parse("noise=2,speed=0.9/1.1,snr=10/15", seed=3)
    assert (cfg.noise_copies, cfg.speed_factors, cfg.snr_db_min, cfg.snr_db_max, cfg.seed) == (
        2, (0.9, 1.1), 10.0, 15.0, 3)
    assert AugmentConfig.from_dict(cfg.to_dict()) == cfg
    assert not AugmentConfig.parse(None).enabled
    for bad in ("noise=x", "speed=3", "pitch=2", "snr=20/5"):
        with pytest.raises(ConfigError):
            AugmentConfig.parse(bad)


def test_the_recommended_recipe_is_one_noise_two_speed_and_one_telephone_copy():
    cfg = AugmentConfig.parse(RECOMMENDED)
    assert (cfg.noise_copies, cfg.speed_factors, cfg.snr_db_min, cfg.snr_db_max,
            cfg.telephone_copies) == (1, (0.9, 1.1), 5.0, 20.0, 1)


def test_noise_copies_hit_their_snr_and_speed_changes_length_and_pitch():
    x = tone(400, seconds=1.0, sample_rate=16000, amplitude=0.3)
    cfg = AugmentConfig(noise_copies=2, snr_db_min=10, snr_db_max=10, speed_factors=(0.8,))
    copies = augmentations(x, 16000, cfg, key="a.wav")
    assert [name for name, _ in copies] == ["noise1@10dB", "noise2@10dB", "speed0.8"]
    for _, y in copies[:2]:
        noise = y - x
        snr = 10 * np.log10(np.mean(x.astype(np.float64) ** 2) / np.mean(noise**2))
        assert snr == pytest.approx(10, abs=0.3)
    slow = copies[2][1]
    assert slow.shape[0] == 20000
    peak = np.argmax(np.abs(np.fft.rfft(slow))) * 16000 / slow.shape[0]
    assert peak == pytest.approx(320, abs=2)
    again = augmentations(x, 16000, cfg, key="a.wav")
    np.testing.assert_array_equal(again[0][1], copies[0][1])
    other = augmentations(x, 16000, cfg, key="b.wav")
    assert not np.array_equal(other[0][1], copies[0][1])


def test_telephone_copies_are_the_phone_channel_at_the_clip_rate():
    from sentiment_model import channel

    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal(16000)).astype(np.float32)
    cfg = AugmentConfig.parse("telephone=2")
    assert cfg.telephone_copies == 2 and cfg.enabled
    copies = augmentations(x, 16000, cfg, key="a.wav")
    assert [name for name, _ in copies] == ["telephone1-mulaw", "telephone2-alaw"]
    for (_, y), codec in zip(copies, ("mulaw", "alaw"), strict=True):
        assert y.dtype == np.float32 and abs(len(y) - len(x)) <= 2
        phone = channel.telephone(x, 16000, codec=codec)
        # nothing above the 3.4 kHz band edge survives
        spectrum = np.abs(np.fft.rfft(y))
        freqs = np.fft.rfftfreq(len(y), 1 / 16000)
        assert spectrum[freqs > 4200].max() < 0.01 * spectrum[(freqs > 500) & (freqs < 3000)].max()
        assert len(phone) == pytest.approx(len(x) / 2, abs=1)
    assert AugmentConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="telephone=N"):
        AugmentConfig.parse("telephone=-1")
