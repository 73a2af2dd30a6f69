import librosa
import numpy as np
import pytest

from sentiment_model import features
from sentiment_model.config import preset
from sentiment_model.features import (
    compute_features,
    compute_features_many,
    compute_frames,
    compute_logmel_image,
    compute_prosody,
    compute_spectral,
    compute_voice,
    mel_basis,
    mel_filters,
    mel_power,
    pool_frames,
    power_to_db,
    spectral_window,
)
from tests.conftest import tone


@pytest.fixture
def signal_16k():
    rng = np.random.default_rng(3)
    return (0.1 * rng.standard_normal(16000) + tone(220, seconds=1.0, sample_rate=16000)).astype(
        np.float32)


def test_mfcc_equals_librosa_on_same_samples(signal_16k):
    cfg = preset("mfcc")
    frames = compute_frames(signal_16k, 16000, cfg)
    expected = librosa.feature.mfcc(y=signal_16k, sr=16000, n_mfcc=40, n_fft=512,
                                     win_length=400, hop_length=160, n_mels=64, fmin=20.0,
                                     fmax=7600.0).T
    assert frames.shape == (1 + 16000 // 160, 40)
    assert frames.dtype == np.float32
    np.testing.assert_allclose(frames, expected, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("name", ["default", "seed_cnn2d"])
def test_mel_power_equals_librosa_with_the_filter_bank_built_once(name):
    cfg = preset(name)
    rng = np.random.default_rng(5)
    y = (0.1 * rng.standard_normal(cfg.sample_rate)).astype(np.float32)
    expected = librosa.feature.melspectrogram(
        y=y, sr=cfg.sample_rate, n_fft=cfg.n_fft, win_length=cfg.win_length,
        hop_length=cfg.hop_length, n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax)
    got = mel_power(y, cfg.sample_rate, cfg)
    assert got.shape == (1 + cfg.sample_rate // cfg.hop_length, cfg.n_mels)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected.T, rtol=1e-5, atol=1e-9)
    basis = mel_basis(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.fmin, cfg.fmax)
    assert basis is mel_basis(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.fmin, cfg.fmax)
    assert not basis.flags.writeable


@pytest.mark.filterwarnings("ignore:n_fft=512 is too large")
@pytest.mark.parametrize("n_samples", [300, 16000, 16000 * 3 + 77])
def test_mel_power_in_blocks_equals_librosa_at_any_length(n_samples, monkeypatch):
    # 7-frame blocks: many blocks and a ragged last one; 300 samples: shorter than n_fft
    monkeypatch.setattr(features, "STFT_BLOCK_FRAMES", 7)
    cfg = preset("mfcc")
    y = tone(330, seconds=n_samples / 16000, sample_rate=16000)[:n_samples]
    expected = librosa.feature.melspectrogram(
        y=y, sr=16000, n_fft=cfg.n_fft, win_length=cfg.win_length, hop_length=cfg.hop_length,
        n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax)
    got = mel_power(y, 16000, cfg)
    assert got.shape == (1 + n_samples // cfg.hop_length, cfg.n_mels)
    # float32 transforms: bands far below a pure tone's peak agree to ~1e-6 of the peak
    np.testing.assert_allclose(got, expected.T, rtol=1e-5, atol=1e-6 * expected.max())


def test_deltas_are_appended_in_order(signal_16k):
    cfg = preset("mfcc").with_overrides({"deltas": "2"})
    frames = compute_frames(signal_16k, 16000, cfg)
    base = compute_frames(signal_16k, 16000, cfg.with_overrides({"deltas": "0"}))
    assert frames.shape[1] == 120
    np.testing.assert_allclose(frames[:, :40], base, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(frames[:, 40:80], librosa.feature.delta(base.T, width=9).T,
                               rtol=1e-5, atol=1e-4)


def test_seed_preset_reproduces_the_study(signal_16k):
    y = librosa.resample(signal_16k, orig_sr=16000, target_sr=22050)
    feats = compute_features(y, 22050, preset("seed"))
    study = np.mean(librosa.feature.mfcc(y=y, sr=22050, n_mfcc=128).T, axis=0)
    assert feats.pooled.shape == (128,)
    np.testing.assert_allclose(feats.pooled, study, rtol=1e-5, atol=1e-3)


def test_utterance_normalisation_gives_zero_mean_unit_std(signal_16k):
    cfg = preset("mfcc").with_overrides({"normalize": "utterance"})
    frames = compute_frames(signal_16k, 16000, cfg)
    np.testing.assert_allclose(frames.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(frames.std(axis=0), 1, atol=1e-3)


def test_logmel_image_is_fixed_size_whatever_the_length():
    cfg = preset("seed_cnn2d")
    for seconds in (0.5, 3.0):
        y = tone(440, seconds=seconds, sample_rate=22050)
        image = compute_logmel_image(y, 22050, cfg)
        assert image.shape == (128, 128)
        assert -1.0 < image.max() <= 0.0 and image.min() >= -80.0 - 1e-3
    # the 440 Hz tone is the loudest mel band
    band = np.argmax(image.mean(axis=0))
    centres = librosa.mel_frequencies(n_mels=130, fmin=0, fmax=11025)[1:-1]
    assert abs(centres[band] - 440) < 80


def test_pooling_mean_and_std():
    frames = np.array([[1.0, 2.0], [3.0, 6.0]], dtype=np.float32)
    np.testing.assert_allclose(pool_frames(frames, "mean"), [2.0, 4.0])
    np.testing.assert_allclose(pool_frames(frames, "mean_std"), [2.0, 4.0, 1.0, 2.0])


def test_rate_mismatch_is_refused(signal_16k):
    with pytest.raises(ValueError, match="22050 Hz"):
        compute_frames(signal_16k, 16000, preset("seed"))


def test_prosody_columns_give_pitch_energy_and_voicing():
    rate = 16000
    voiced = tone(180, seconds=1.0, sample_rate=rate, amplitude=0.4, seed=5)
    quiet = (0.001 * np.random.default_rng(6).standard_normal(rate // 2)).astype(np.float32)
    y = np.concatenate([voiced, quiet])
    cfg = preset("speaker_norm")  # normalize=speaker leaves compute_frames's frames raw
    frames = compute_frames(y, rate, cfg)
    assert frames.shape == (1 + len(y) // 320, 43)
    # the MFCC columns are the plain ones; the 3 prosody columns are appended
    plain = cfg.with_overrides({"prosody": "false"})
    np.testing.assert_allclose(frames[:, :40], compute_frames(y, rate, plain),
                               rtol=1e-6, atol=1e-5)
    np.testing.assert_array_equal(frames[:, 40:], compute_prosody(y, rate, cfg,
                                                                  n_frames=len(frames)))
    log_f0, energy, voicing = frames[:, 40], frames[:, 41], frames[:, 42]
    inside, after = slice(5, 45), slice(55, 70)  # frames (20 ms) well inside each part
    np.testing.assert_array_equal(voicing[inside], 1.0)
    np.testing.assert_array_equal(voicing[after], 0.0)
    np.testing.assert_allclose(np.exp(log_f0[inside]), 180.0, rtol=0.02)
    np.testing.assert_array_equal(log_f0[after], 0.0)
    # a 0.4 sine has an RMS of 0.4 / sqrt(2): -10.97 dB; the noise sits near -60 dB
    np.testing.assert_allclose(energy[inside], 20 * np.log10(0.4 / np.sqrt(2)), atol=0.5)
    np.testing.assert_allclose(energy[after], -60.0, atol=1.5)


def test_prosody_pads_signals_shorter_than_the_pitch_window():
    cfg = preset("mfcc").with_overrides({"prosody": "true"})
    y = tone(200, seconds=0.03, sample_rate=16000)  # 480 samples < 1024
    frames = compute_frames(y, 16000, cfg)
    assert frames.shape == (1 + 480 // 160, 43) and np.isfinite(frames).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_power_to_db_equals_librosas(dtype):
    # zeros (floored at amin) and a range over 80 dB (floored at max - 80)
    rng = np.random.default_rng(9)
    power = (rng.random((50, 64)) ** 6 * 1e3).astype(dtype)
    power[0, :5] = 0.0
    got = power_to_db(power)
    assert got.dtype == dtype
    assert got.min() == pytest.approx(got.max() - 80.0)
    np.testing.assert_array_equal(got, librosa.power_to_db(power))
    relative = power_to_db(power, relative_to_max=True)
    assert relative.dtype == dtype
    assert relative.max() == 0.0 and relative.min() == pytest.approx(-80.0)
    np.testing.assert_array_equal(relative, librosa.power_to_db(power, ref=np.max))


def test_filters_built_ahead_give_the_same_mfccs_and_must_fit_the_config(signal_16k):
    cfg = preset("mfcc")
    filters = mel_filters(cfg)
    assert filters.window.shape == (cfg.n_fft,)
    assert filters.basis.shape == (cfg.n_mels, 1 + cfg.n_fft // 2)
    copied = type(filters)(filters.window.copy(), filters.basis.copy())  # as un-pickled
    np.testing.assert_array_equal(compute_frames(signal_16k, 16000, cfg, filters=copied),
                                  compute_frames(signal_16k, 16000, cfg))
    with pytest.raises(ValueError, match="do not fit"):
        compute_frames(signal_16k, 16000, cfg, filters=mel_filters(preset("seed")))


def _librosa_magnitude(y, rate):
    # the frames of compute_spectral: centred, zero-padded, 60 ms Hamming in a 1024-point FFT
    return np.abs(librosa.stft(y, n_fft=1024, win_length=960, window="hamming", hop_length=160,
                               center=True, pad_mode="constant"))


def test_spectral_columns_equal_librosas_descriptors(signal_16k):
    rate, cfg = 16000, preset("default")
    n = 1 + len(signal_16k) // 160
    got = compute_spectral(signal_16k, rate, cfg, n_frames=n)
    assert got.shape == (n, 14) and got.dtype == np.float32
    assert spectral_window(rate).shape == (1024,)
    mag = _librosa_magnitude(signal_16k, rate)
    freq = librosa.fft_frequencies(sr=rate, n_fft=1024)
    expected = {
        0: librosa.feature.spectral_centroid(S=mag, freq=freq)[0] / 1000,
        1: librosa.feature.spectral_bandwidth(S=mag, freq=freq)[0] / 1000,
        12: librosa.feature.poly_features(S=mag, sr=rate, order=1)[0] * 1000,
        13: librosa.feature.spectral_flatness(S=mag)[0],
    }
    for column, share in zip((5, 6, 7, 8), (0.25, 0.5, 0.75, 0.9), strict=True):
        expected[column] = librosa.feature.spectral_rolloff(S=mag, sr=rate,
                                                            roll_percent=share)[0] / 1000
    for column, values in expected.items():
        np.testing.assert_allclose(got[:, column], values, rtol=1e-4, atol=1e-5,
                                   err_msg=f"column {column}")
    # the moments, entropy, flux and band energies, written out in float64
    p = mag / mag.sum(axis=0)
    dev = freq[:, None] / 1000 - (p * freq[:, None] / 1000).sum(axis=0)
    var = (p * dev ** 2).sum(axis=0)
    skew = (p * dev ** 3).sum(axis=0) / var ** 1.5
    kurt = (p * dev ** 4).sum(axis=0) / var ** 2
    entropy = -(p * np.log(p + 1e-12)).sum(axis=0) / np.log(len(freq))
    flux = np.r_[0.0, np.sqrt((np.diff(p, axis=1) ** 2).sum(axis=0))]
    low = np.log(mag[(freq >= 250) & (freq < 650)].sum(axis=0) + 1e-8)
    high = np.log(mag[(freq >= 1000) & (freq < 4000)].sum(axis=0) + 1e-8)
    for column, values in {2: np.sign(skew) * np.log1p(np.abs(skew)), 3: np.log1p(kurt),
                           4: entropy, 9: flux, 10: low, 11: high}.items():
        np.testing.assert_allclose(got[:, column], values, rtol=1e-4, atol=1e-4,
                                   err_msg=f"column {column}")


def test_spectral_columns_tell_a_tone_from_noise():
    rate, cfg = 16000, preset("default")
    # a clean sine: on linear magnitudes even conftest's 1 % noise floor, summed
    # over 513 bins, would weigh as much as the tone's peak
    tone_1k = (0.5 * np.sin(2 * np.pi * 1000 * np.arange(rate) / rate)).astype(np.float32)
    noise = (0.1 * np.random.default_rng(4).standard_normal(rate)).astype(np.float32)
    inside = slice(10, 90)  # frames clear of the zero padding at the edges
    a = compute_spectral(tone_1k, rate, cfg, n_frames=101)[inside]
    b = compute_spectral(noise, rate, cfg, n_frames=101)[inside]
    # the tone's spectrum sits at 1 kHz: centroid and median roll-off there
    np.testing.assert_allclose(np.median(a[:, 0]), 1.0, atol=0.05)
    np.testing.assert_allclose(np.median(a[:, 6]), 1.0, atol=0.02)
    # white noise spreads over 0-8 kHz: centroid near 4 kHz, flat and high-entropy
    np.testing.assert_allclose(np.median(b[:, 0]), 4.0, atol=0.2)
    np.testing.assert_allclose(np.median(b[:, 6]), 4.0, atol=0.3)
    assert np.median(a[:, 1]) < 0.6 < 2.0 < np.median(b[:, 1])  # spread, kHz
    assert np.median(a[:, 4]) < 0.5 < 0.9 < np.median(b[:, 4])  # entropy
    assert np.median(a[:, 13]) < 1e-3 < 0.3 < np.median(b[:, 13])  # flatness
    # the 1 kHz tone's magnitude is in the 1-4 kHz band, 20x and more above 250-650 Hz
    assert np.median(a[:, 11] - a[:, 10]) > np.log(20.0)  # the Hamming side lobes leak a little


def test_spectral_preset_appends_its_columns_to_the_mfccs(signal_16k):
    cfg = preset("spectral")
    frames = compute_frames(signal_16k, 16000, cfg)
    assert frames.shape == (1 + 16000 // 160, 54)
    np.testing.assert_array_equal(frames[:, :40], compute_frames(signal_16k, 16000,
                                                               preset("mfcc")))
    np.testing.assert_array_equal(frames[:, 40:], compute_spectral(signal_16k, 16000, cfg,
                                                                   n_frames=len(frames)))
    both = cfg.with_overrides({"prosody": "true"})  # prosody first, then the spectral shape
    frames = compute_frames(signal_16k, 16000, both)
    assert frames.shape == (101, 57)
    np.testing.assert_array_equal(frames[:, 43:], compute_spectral(signal_16k, 16000, cfg,
                                                                   n_frames=101))


def test_voice_columns_are_the_speaker_encoders_last_layer_per_chunk():
    from sentiment_model import speaker_encoder as se

    rng = np.random.default_rng(5)
    y = (0.2 * rng.standard_normal(int(16000 * 3.7))).astype(np.float32)  # above -30 dBFS
    n_frames = 1 + len(y) // 160
    voice = compute_voice(y, 16000, n_frames=n_frames)
    assert voice.shape == (n_frames, 256) and voice.dtype == np.float32
    assert np.abs(voice).max() < 1.0 and voice.std() > 0.01
    encoder = se.SpeakerEncoder()
    mel = se.mel_frames(y)
    assert len(mel) == n_frames
    # every 160-frame chunk from a zero state; the short last chunk unpadded
    for start in (0, 160, 320):
        chunk = encoder.hidden_states(mel[None, start:start + 160])[0]
        np.testing.assert_allclose(voice[start:start + 160], chunk, atol=1e-5)
    # the chunk's last output is what the encoder embeds
    w, b = encoder.linear
    raw = np.maximum(voice[159] @ w + b, 0)
    np.testing.assert_allclose(raw / np.linalg.norm(raw),
                               encoder.embed_frames(mel[None, :160])[0], atol=1e-5)


def test_voice_columns_depend_only_on_their_chunk():
    rng = np.random.default_rng(6)
    y = (0.2 * rng.standard_normal(16000 * 4)).astype(np.float32)
    changed = y.copy()
    changed[160 * 160 + 200:] *= 0.1  # after the 1.6 s chunk and its last STFT window
    n = 1 + len(y) // 160
    a, b = compute_voice(y, 16000, n_frames=n), compute_voice(changed, 16000, n_frames=n)
    np.testing.assert_array_equal(a[:160], b[:160])
    assert np.abs(a[170:] - b[170:]).max() > 0.05


def test_default_preset_appends_the_voice_columns_and_needs_16_khz(signal_16k):
    cfg = preset("default")
    frames = compute_frames(signal_16k, 16000, cfg)
    assert frames.shape == (101, 310)
    np.testing.assert_array_equal(frames[:, :54], compute_frames(signal_16k, 16000,
                                                               preset("spectral")))
    np.testing.assert_array_equal(frames[:, 54:], compute_voice(signal_16k, 16000, n_frames=101))
    with pytest.raises(ValueError, match="16000 Hz"):
        compute_voice(signal_16k, 8000, n_frames=51)
    quiet = compute_voice(signal_16k * 0.01, 16000, n_frames=101)  # raised to -30 dBFS first
    np.testing.assert_allclose(quiet, compute_voice(signal_16k * 0.02, 16000, n_frames=101),
                               atol=1e-5)


@pytest.mark.parametrize("name", ["default", "seed_cnn2d"])
def test_features_of_many_signals_equal_each_signals_own(name, monkeypatch):
    monkeypatch.setattr(features, "VOICE_BATCH_CHUNKS", 3)  # chunks cross the encoder calls
    cfg = preset(name)
    rng = np.random.default_rng(8)
    signals = [(0.2 * rng.standard_normal(round(cfg.sample_rate * s))).astype(np.float32)
               for s in (3.0, 0.4, 5.1, 1.6)]
    many = compute_features_many(signals, cfg.sample_rate, cfg)
    assert len(many) == len(signals)
    for y, got in zip(signals, many, strict=True):
        alone = compute_features(y, cfg.sample_rate, cfg)
        assert got.frames.shape == alone.frames.shape
        np.testing.assert_allclose(got.frames, alone.frames, atol=1e-5)
        np.testing.assert_allclose(got.pooled, alone.pooled, atol=1e-5)
    assert compute_features_many([], cfg.sample_rate, cfg) == []
