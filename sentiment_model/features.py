"""Pure feature computation: samples in, arrays out. No I/O here."""

from __future__ import annotations

from typing import NamedTuple

import librosa
import numpy as np

from sentiment_model.config import FeatureConfig


class Features(NamedTuple):
    """Features of one utterance.

    Attributes:
        frames: float32 ``[n_frames, config.frame_dims]``, time-major.
        pooled: float32 ``[config.pooled_dims]``, the frames pooled over time.
    """

    frames: np.ndarray
    pooled: np.ndarray


def _mel_kwargs(config: FeatureConfig) -> dict:
    return {
        "n_fft": config.n_fft,
        "win_length": config.win_length,
        "hop_length": config.hop_length,
        "n_mels": config.n_mels,
        "fmin": config.fmin,
        "fmax": config.fmax,
    }


def compute_mfcc(samples: np.ndarray, sample_rate: int, config: FeatureConfig) -> np.ndarray:
    """MFCCs (plus deltas when configured) of a mono signal.

    Args:
        samples: float ``[n_samples]`` mono audio in [-1, 1] at ``sample_rate``.
        sample_rate: Hz; must equal ``config.sample_rate``.
        config: the feature configuration.

    Returns:
        float32 ``[n_frames, n_mfcc * (1 + deltas)]``; with
        ``normalize="utterance"`` every column has zero mean and unit variance.
    """
    if sample_rate != config.sample_rate:
        raise ValueError(f"expected {config.sample_rate} Hz audio, got {sample_rate} Hz")
    y = np.asarray(samples, dtype=np.float32)
    mfcc = librosa.feature.mfcc(y=y, sr=sample_rate, n_mfcc=config.n_mfcc, **_mel_kwargs(config))
    blocks = [mfcc]
    if config.deltas >= 1:
        blocks.append(librosa.feature.delta(mfcc, width=config.delta_width, order=1))
    if config.deltas >= 2:
        blocks.append(librosa.feature.delta(mfcc, width=config.delta_width, order=2))
    frames = np.concatenate(blocks, axis=0).T
    if config.normalize == "utterance":
        frames = normalize_utterance(frames)
    return np.ascontiguousarray(frames, dtype=np.float32)


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
    mel = librosa.feature.melspectrogram(y=y, sr=sample_rate, **_mel_kwargs(config))
    mel_db = librosa.power_to_db(mel, ref=np.max)  # [n_mels, T]
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
