"""Pure feature computation: samples in, arrays out. No I/O here."""

from __future__ import annotations

import functools
from typing import NamedTuple

import librosa
import numpy as np
import scipy.fft

from sentiment_model.config import PITCH_RANGE_HZ, FeatureConfig


class Features(NamedTuple):
    """Features of one utterance.

    Attributes:
        frames: float32 ``[n_frames, config.frame_dims]``, time-major.
        pooled: float32 ``[config.pooled_dims]``, the frames pooled over time.
    """

    frames: np.ndarray
    pooled: np.ndarray


@functools.lru_cache(maxsize=16)
def mel_basis(sample_rate: int, n_fft: int, n_mels: int, fmin: float,
              fmax: float | None) -> np.ndarray:
    """librosa's mel filter bank, built once per configuration (read-only).

    ``librosa.feature.melspectrogram`` rebuilds it on every call, which costs
    about as much as the STFT of a 2 s clip.

    Returns:
        float32 ``[n_mels, 1 + n_fft // 2]``.
    """
    basis = librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin,
                                fmax=fmax)
    basis.setflags(write=False)
    return basis


@functools.lru_cache(maxsize=16)
def stft_window(n_fft: int, win_length: int | None) -> np.ndarray:
    """librosa.stft's window: periodic Hann of ``win_length`` centred in ``n_fft``
    (read-only).

    Returns:
        float32 ``[n_fft]``.
    """
    window = librosa.filters.get_window("hann", win_length or n_fft, fftbins=True)
    window = librosa.util.pad_center(window, size=n_fft).astype(np.float32)
    window.setflags(write=False)
    return window


# Frames per FFT block. 256 frames at n_fft=512 are 0.5 MiB of float32, and
# with their spectrum they stay in a core's L2 cache (1 MiB here): a 10 s
# clip at a 10 ms hop ran ~1.7x faster than in one 1001-frame block.
STFT_BLOCK_FRAMES = 256


def mel_power(samples: np.ndarray, sample_rate: int, config: FeatureConfig) -> np.ndarray:
    """Power mel spectrogram with the values of ``librosa.feature.melspectrogram``
    (centred frames, zero padding, Hann window, power 2, the same filter bank),
    computed time-major.

    librosa transforms frames laid out as columns, in float64, and keeps the
    whole complex spectrogram; here each block of ``STFT_BLOCK_FRAMES``
    frames is windowed and transformed along contiguous memory in float32 and
    reduced to mel bands at once. MFCCs come out 1.4x (default preset) to 2x
    (seed preset) faster than by ``librosa.feature.mfcc``, and a long
    recording no longer holds its whole complex spectrogram (one hour at
    16 kHz: librosa's path peaked 0.8 GB above the signal; here it takes a
    padded copy of the signal and the 92 MB of mel bands).
    Values agree with librosa's to float32 precision.

    Returns:
        float32 ``[n_frames, n_mels]`` with ``n_frames = 1 + len(samples) // hop``.
    """
    n_fft, hop = config.n_fft, config.hop_length
    y = np.asarray(samples, dtype=np.float32)
    padded = np.pad(y, n_fft // 2, mode="constant")
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]  # a view
    window = stft_window(n_fft, config.win_length)
    basis_t = mel_basis(sample_rate, n_fft, config.n_mels, config.fmin, config.fmax).T
    out = np.empty((frames.shape[0], config.n_mels), dtype=np.float32)
    for start in range(0, frames.shape[0], STFT_BLOCK_FRAMES):
        block = scipy.fft.rfft(frames[start:start + STFT_BLOCK_FRAMES] * window, axis=-1)
        power = np.square(block.real)
        power += np.square(block.imag)
        np.matmul(power, basis_t, out=out[start:start + STFT_BLOCK_FRAMES])
    return out


def compute_mfcc(samples: np.ndarray, sample_rate: int, config: FeatureConfig) -> np.ndarray:
    """MFCCs (plus deltas when configured) of a mono signal.

    Args:
        samples: float ``[n_samples]`` mono audio in [-1, 1] at ``sample_rate``.
        sample_rate: Hz; must equal ``config.sample_rate``.
        config: the feature configuration.

    Returns:
        float32 ``[n_frames, config.frame_dims]``: ``n_mfcc * (1 + deltas)``
        coefficients, then the 3 :func:`compute_prosody` columns when
        ``config.prosody``; with ``normalize="utterance"`` every column has
        zero mean and unit variance.
    """
    if sample_rate != config.sample_rate:
        raise ValueError(f"expected {config.sample_rate} Hz audio, got {sample_rate} Hz")
    y = np.asarray(samples, dtype=np.float32)
    # the values of librosa.feature.mfcc(y=y, sr=sample_rate, n_mfcc=..., n_fft=...):
    # librosa's dB conversion and DCT, on the transposed (time-major) mel power
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel_power(y, sample_rate, config).T),
                                n_mfcc=config.n_mfcc)
    blocks = [mfcc]
    if config.deltas >= 1:
        blocks.append(librosa.feature.delta(mfcc, width=config.delta_width, order=1))
    if config.deltas >= 2:
        blocks.append(librosa.feature.delta(mfcc, width=config.delta_width, order=2))
    if config.prosody:
        blocks.append(compute_prosody(y, sample_rate, config, n_frames=mfcc.shape[1]).T)
    frames = np.concatenate(blocks, axis=0).T
    if config.normalize == "utterance":
        frames = normalize_utterance(frames)
    return np.ascontiguousarray(frames, dtype=np.float32)


def compute_prosody(samples: np.ndarray, sample_rate: int, config: FeatureConfig, *,
                    n_frames: int) -> np.ndarray:
    """Per-frame prosody on the MFCC frame grid (centred frames, same hop).

    Columns: log F0 (natural log of Hz, by YIN over ``PITCH_RANGE_HZ`` with a
    1024-sample window at 16 kHz, scaled with the rate; 0 where unvoiced),
    energy in dB (RMS over the MFCC window) and the voicing flag (1 where the
    frame's energy is within 6 dB of the signal's median frame energy or above).

    Returns:
        float32 ``[n_frames, 3]``.
    """
    hop = config.hop_length
    frame = config.win_length or config.n_fft
    pitch_frame = max(2 * frame, int(2 ** np.ceil(np.log2(sample_rate / PITCH_RANGE_HZ[0] * 2))))
    y = np.asarray(samples, dtype=np.float32)
    if len(y) < pitch_frame:  # YIN needs one whole window
        y = np.pad(y, (0, pitch_frame - len(y)))
    f0 = librosa.yin(y, fmin=PITCH_RANGE_HZ[0], fmax=PITCH_RANGE_HZ[1], sr=sample_rate,
                     frame_length=pitch_frame, hop_length=hop)
    rms = librosa.feature.rms(y=y, frame_length=frame, hop_length=hop)[0]
    f0, rms = _fit(f0, n_frames), _fit(rms, n_frames)
    energy = 20.0 * np.log10(rms + 1e-6)
    voiced = (energy > np.median(energy) - 6.0).astype(np.float32)
    return np.stack([np.log(f0) * voiced, energy, voiced], axis=1).astype(np.float32)


def _fit(values: np.ndarray, n: int) -> np.ndarray:
    """``values`` cut or edge-padded to length ``n``."""
    if len(values) >= n:
        return values[:n]
    return np.pad(values, (0, n - len(values)), mode="edge")


def compute_logmel_image(
    samples: np.ndarray, sample_rate: int, config: FeatureConfig
) -> np.ndarray:
    """Log-mel "spectrogram image" of fixed size, the study's CNN input.

    The power mel spectrogram is converted to dB relative to its maximum
    (as a saved spectrogram picture would be) and its time axis is linearly
    resampled to ``config.image_frames`` columns.

    Returns:
        float32 ``[image_frames, n_mels]`` in dB (<= 0), time-major.
    """
    if sample_rate != config.sample_rate:
        raise ValueError(f"expected {config.sample_rate} Hz audio, got {sample_rate} Hz")
    y = np.asarray(samples, dtype=np.float32)
    mel = mel_power(y, sample_rate, config)
    mel_db = librosa.power_to_db(mel, ref=np.max).T  # [n_mels, T]
    n_in = mel_db.shape[1]
    src = np.linspace(0.0, 1.0, n_in) if n_in > 1 else np.zeros(1)
    dst = np.linspace(0.0, 1.0, config.image_frames)
    image = np.stack([np.interp(dst, src, row) for row in mel_db], axis=1)
    return np.ascontiguousarray(image, dtype=np.float32)


def normalize_utterance(frames: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Per-utterance mean and variance normalisation of ``[n_frames, dims]``."""
    mean = frames.mean(axis=0, keepdims=True)
    std = frames.std(axis=0, keepdims=True)
    return (frames - mean) / np.maximum(std, eps)


def pool_frames(frames: np.ndarray, pooling: str) -> np.ndarray:
    """Pools ``[n_frames, dims]`` over time into ``[dims]`` or ``[2 * dims]``."""
    mean = frames.mean(axis=0)
    if pooling == "mean":
        return mean.astype(np.float32)
    return np.concatenate([mean, frames.std(axis=0)]).astype(np.float32)


def compute_features(samples: np.ndarray, sample_rate: int, config: FeatureConfig) -> Features:
    """Frame sequence and pooled vector of one mono utterance, as configured."""
    if config.kind == "logmel_image":
        frames = compute_logmel_image(samples, sample_rate, config)
    else:
        frames = compute_mfcc(samples, sample_rate, config)
    return Features(frames=frames, pooled=pool_frames(frames, config.pooling))
