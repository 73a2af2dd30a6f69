"""Simulated transmission channels: what a phone line does to a recording.

Pure functions, no I/O. :func:`telephone` is the narrow-band channel a
contact centre records (ITU-T G.711): band-limited to 300-3400 Hz,
resampled to 8 kHz, companded with µ-law or A-law and decoded again. The
companding is done by libsndfile (the same encoder that writes a µ-law or
A-law WAV), the resampling by libsoxr.
"""

from __future__ import annotations

import io

import numpy as np
import soundfile
import soxr

from sentiment_model.errors import ConfigError

TELEPHONE_RATE = 8000
TELEPHONE_BAND_HZ = (300.0, 3400.0)
CODECS = {"mulaw": "ULAW", "alaw": "ALAW"}
CODECS_IN_TURN = ("mulaw", "alaw")  # the codecs of successive telephone training copies


def band_limit(samples: np.ndarray, sample_rate: int, *, low_hz: float, high_hz: float,
               order: int = 8) -> np.ndarray:
    """Butterworth band-pass ``[low_hz, high_hz]`` applied forwards and
    backwards (zero phase). ``samples``: ``[n]``; returns float32 ``[n]``."""
    from scipy import signal  # lazily: workers that never band-limit skip its import

    if not 0 < low_hz < high_hz < sample_rate / 2:
        raise ConfigError(f"band {low_hz:g}-{high_hz:g} Hz does not fit below the Nyquist "
                          f"frequency of {sample_rate} Hz audio")
    sos = signal.butter(order // 2, [low_hz, high_hz], btype="bandpass", fs=sample_rate,
                        output="sos")
    x = np.asarray(samples, np.float64)
    if len(x) <= 3 * (2 * len(sos) + 1):  # too short for sosfiltfilt's edge padding
        return signal.sosfilt(sos, x).astype(np.float32)
    return signal.sosfiltfilt(sos, x).astype(np.float32)


def compand(samples: np.ndarray, sample_rate: int, codec: str) -> np.ndarray:
    """Encodes ``[n]`` float samples with G.711 ``codec`` (``"mulaw"`` or
    ``"alaw"``) and decodes them again: the 8-bit quantisation a phone line
    applies. Returns float32 ``[n]``."""
    if codec not in CODECS:
        raise ConfigError(f"codec {codec!r}: use one of {', '.join(CODECS)}")
    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(samples, -1.0, 1.0), sample_rate, subtype=CODECS[codec],
                    format="WAV")
    buffer.seek(0)
    decoded, _ = soundfile.read(buffer, dtype="float32")
    return decoded


def telephone(samples: np.ndarray, sample_rate: int, *, codec: str = "mulaw") -> np.ndarray:
    """A mono signal ``[n]`` at ``sample_rate`` Hz as a phone line records it:
    300-3400 Hz, 8 kHz, G.711 ``codec``.

    Returns:
        float32 ``[m]`` at :data:`TELEPHONE_RATE` (8 kHz), ``m ≈ n * 8000 / sample_rate``.
    """
    x = np.asarray(samples, np.float32)
    if sample_rate != TELEPHONE_RATE:
        x = np.asarray(soxr.resample(x, sample_rate, TELEPHONE_RATE, quality="HQ"), np.float32)
    low, high = TELEPHONE_BAND_HZ
    return compand(band_limit(x, TELEPHONE_RATE, low_hz=low, high_hz=high), TELEPHONE_RATE,
                   codec)
