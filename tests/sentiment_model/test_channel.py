import numpy as np
import pytest

from sentiment_model import channel
from sentiment_model.errors import ConfigError
from tests.conftest import tone

RATE = 16000


def _level_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.square(x[len(x) // 4: -len(x) // 4])))


def test_telephone_is_8_khz_and_keeps_the_voice_band_only():
    voice = tone(1000, seconds=1.0, sample_rate=RATE, amplitude=0.3)
    out = channel.telephone(voice, RATE)
    assert out.dtype == np.float32 and abs(len(out) - 8000) <= 1
    assert abs(_level_db(out) - _level_db(voice)) < 0.5  # 1 kHz passes unchanged
    low = channel.telephone(tone(100, seconds=1.0, sample_rate=RATE, amplitude=0.3), RATE)
    assert _level_db(low) < _level_db(voice) - 20  # below 300 Hz is cut
    high = channel.telephone(tone(3900, seconds=1.0, sample_rate=RATE, amplitude=0.3), RATE)
    assert _level_db(high) < _level_db(voice) - 20  # above 3.4 kHz too


@pytest.mark.parametrize("codec", ["mulaw", "alaw"])
def test_companding_quantises_to_256_levels(codec):
    x = np.linspace(-0.9, 0.9, 8000, dtype=np.float32)
    y = channel.compand(x, 8000, codec)
    assert len(np.unique(y)) <= 256 and len(np.unique(y)) > 100
    np.testing.assert_allclose(y, x, atol=0.03)  # 8-bit logarithmic steps


def test_a_bad_codec_or_band_is_one_clear_error():
    with pytest.raises(ConfigError, match="codec 'gsm'"):
        channel.compand(np.zeros(10, np.float32), 8000, "gsm")
    with pytest.raises(ConfigError, match="Nyquist"):
        channel.band_limit(np.zeros(100, np.float32), 8000, low_hz=300, high_hz=5000)
