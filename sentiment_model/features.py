"""Pure feature computation: samples in, arrays out. No I/O here."""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
import scipy.fft

from sentiment_model import numba_cache, speaker_encoder
from sentiment_model.config import (
    PITCH_RANGE_HZ,
    SPECTRAL_DIMS,
    SPECTRAL_WINDOW_S,
    FeatureConfig,
)

VOICE_CHUNK_FRAMES = speaker_encoder.PARTIAL_FRAMES  # 1.6 s: the encoder's training partials
# chunks per encoder call: the per-step products are near their best rate by
# 128 rows, and the call's gate inputs stay under 100 MB (an hour of audio
# would otherwise be 2,250 chunks and 1.5 GB at once)
VOICE_BATCH_CHUNKS = 128
# a chunk runs padded to the next multiple of this many frames (a signal's
# last chunk is often short: a window trimmed to 2 s of speech is a chunk of
# 160 frames and one of 40); the LSTM runs forward, so padding after a
# chunk's frames changes none of them
VOICE_LENGTH_STEP = 40


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
    basis = numba_cache.librosa().filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels,
                                              fmin=fmin, fmax=fmax)
    basis.setflags(write=False)
    return basis


@functools.lru_cache(maxsize=16)
def stft_window(n_fft: int, win_length: int | None) -> np.ndarray:
    """librosa.stft's window: periodic Hann of ``win_length`` centred in ``n_fft``
    (read-only).

    Returns:
        float32 ``[n_fft]``.
    """
    librosa = numba_cache.librosa()
    window = librosa.filters.get_window("hann", win_length or n_fft, fftbins=True)
    window = librosa.util.pad_center(window, size=n_fft).astype(np.float32)
    window.setflags(write=False)
    return window


class MelFilters(NamedTuple):
    """The fixed arrays of one configuration's mel spectrogram (never modified).

    Building them imports ``librosa.filters``, which pulls in numba and
    scipy.signal: ~0.9 s in a fresh process, and ~2.4 s with the rest of
    librosa's first MFCC call. A Beam job builds them once at pipeline
    construction and hands them to its DoFns, so that its worker processes
    never pay that (:func:`mel_filters`).

    Attributes:
        window: float32 ``[n_fft]``, see :func:`stft_window`.
        basis: float32 ``[n_mels, 1 + n_fft // 2]``, see :func:`mel_basis`.
        voice: the speaker encoder's own (:data:`VOICE_MEL`) when the
            configuration has the voice columns, else None.
    """

    window: np.ndarray
    basis: np.ndarray
    voice: MelFilters | None = None


# The speaker encoder's input, as Resemblyzer computes it with
# librosa.feature.melspectrogram: 40 mel bands of 25 ms frames every 10 ms at
# 16 kHz, 0 Hz to Nyquist, power (n_mfcc is unused here).
VOICE_MEL = FeatureConfig(preset="voice_encoder_input", sample_rate=speaker_encoder.RATE,
                          n_fft=speaker_encoder.N_FFT, win_length=None,
                          hop_length=speaker_encoder.HOP, n_mels=speaker_encoder.N_MELS,
                          n_mfcc=speaker_encoder.N_MELS, fmin=0.0, fmax=None)


def mel_filters(config: FeatureConfig) -> MelFilters:
    """The window and mel filter bank ``config`` asks for, and the speaker
    encoder's when it has the voice columns (built once per process)."""
    return MelFilters(
        window=stft_window(config.n_fft, config.win_length),
        basis=mel_basis(config.sample_rate, config.n_fft, config.n_mels, config.fmin,
                        config.fmax),
        voice=mel_filters(VOICE_MEL) if config.voice else None,
    )


def _check_filters(filters: MelFilters, config: FeatureConfig) -> MelFilters:
    expected = ((config.n_fft,), (config.n_mels, 1 + config.n_fft // 2))
    got = (filters.window.shape, filters.basis.shape)
    if got != expected:
        raise ValueError(f"mel filters of shapes {got} do not fit this feature config "
                         f"(expected {expected})")
    return filters


# Frames per FFT block. 256 frames at n_fft=512 are 0.5 MiB of float32, and
# with their spectrum they stay in a core's L2 cache (1 MiB here): a 10 s
# clip at a 10 ms hop ran ~1.7x faster than in one 1001-frame block.
STFT_BLOCK_FRAMES = 256


def mel_power(samples: np.ndarray, sample_rate: int, config: FeatureConfig, *,
              filters: MelFilters | None = None) -> np.ndarray:
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

    Args:
        sample_rate: Hz; must equal ``config.sample_rate`` (as in the callers).
        filters: ``mel_filters(config)``, built by the caller ahead of time;
            built (once per process) when None.

    Returns:
        float32 ``[n_frames, n_mels]`` with ``n_frames = 1 + len(samples) // hop``.
    """
    if sample_rate != config.sample_rate:
        raise ValueError(f"expected {config.sample_rate} Hz audio, got {sample_rate} Hz")
    filters = mel_filters(config) if filters is None else _check_filters(filters, config)
    n_fft, hop = config.n_fft, config.hop_length
    y = np.asarray(samples, dtype=np.float32)
    padded = np.pad(y, n_fft // 2, mode="constant")
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]  # a view
    window, basis_t = filters.window, filters.basis.T
    out = np.empty((frames.shape[0], config.n_mels), dtype=np.float32)
    for start in range(0, frames.shape[0], STFT_BLOCK_FRAMES):
        block = scipy.fft.rfft(frames[start:start + STFT_BLOCK_FRAMES] * window, axis=-1)
        power = np.square(block.real)
        power += np.square(block.imag)
        np.matmul(power, basis_t, out=out[start:start + STFT_BLOCK_FRAMES])
    return out


def power_to_db(power: np.ndarray, *, relative_to_max: bool = False) -> np.ndarray:
    """``librosa.power_to_db(power)`` with its defaults (ref 1.0, amin 1e-10,
    top_db 80): 10·log10 of the power, floored 80 dB below its maximum; with
    ``relative_to_max``, ``librosa.power_to_db(power, ref=np.max)`` (0 dB at
    the maximum).

    Written out (librosa's lines) because importing ``librosa.core.spectrum``
    costs a fresh worker process ~1.3 s; tested equal to librosa's.

    Args:
        power: non-negative float array of any shape.

    Returns:
        float array of the same shape and dtype, in dB.
    """
    log_spec = 10.0 * np.log10(np.maximum(1e-10, power))
    if relative_to_max:
        log_spec -= 10.0 * np.log10(np.maximum(1e-10, np.max(power)))
    return np.maximum(log_spec, log_spec.max() - 80.0)


def compute_frames(samples: np.ndarray, sample_rate: int, config: FeatureConfig, *,
                   filters: MelFilters | None = None) -> np.ndarray:
    """The frame features of a mono signal: MFCCs, then deltas, prosody and
    spectral-shape columns as configured.

    Args:
        samples: float ``[n_samples]`` mono audio in [-1, 1] at ``sample_rate``.
        sample_rate: Hz; must equal ``config.sample_rate``.
        config: the feature configuration.
        filters: ``mel_filters(config)`` built ahead of time (see
            :class:`MelFilters`); built once per process when None.

    Returns:
        float32 ``[n_frames, config.frame_dims]``: ``n_mfcc * (1 + deltas)``
        coefficients, then the 3 :func:`compute_prosody` columns when
        ``config.prosody``, then the :func:`compute_spectral` columns when
        ``config.spectral``, then the 256 :func:`compute_voice` columns when
        ``config.voice``; with ``normalize="utterance"`` every column has
        zero mean and unit variance.
    """
    return compute_frames_many([samples], sample_rate, config, filters=filters)[0]


def compute_frames_many(signals: list[np.ndarray], sample_rate: int, config: FeatureConfig, *,
                        filters: MelFilters | None = None) -> list[np.ndarray]:
    """:func:`compute_frames` of each signal (float ``[n_samples_i]``), with
    the voice columns' encoder run once over every signal's chunks: a
    3-s window is two chunks, and the encoder's per-step products cost
    little more for 80 rows than for 2 (``benchmarks/voice_batching``).

    Returns:
        one float32 ``[n_frames_i, config.frame_dims]`` per signal, in order;
        each equal to :func:`compute_frames` of that signal alone (within
        1e-5: the products' rounding may differ with the batch).
    """
    ys = [np.asarray(y, dtype=np.float32) for y in signals]
    blocks = [_frame_blocks(y, sample_rate, config, filters=filters) for y in ys]
    if config.voice:
        voices = compute_voice_many(ys, sample_rate, n_frames=[b[0].shape[0] for b in blocks],
                                    filters=filters.voice if filters is not None else None)
        for b, voice in zip(blocks, voices, strict=True):
            b.append(voice)
    out = []
    for b in blocks:
        frames = np.concatenate(b, axis=1)
        if config.normalize == "utterance":
            frames = normalize_utterance(frames)
        out.append(np.ascontiguousarray(frames, dtype=np.float32))
    return out


def _frame_blocks(y: np.ndarray, sample_rate: int, config: FeatureConfig, *,
                  filters: MelFilters | None) -> list[np.ndarray]:
    """The column blocks of :func:`compute_frames` but the voice columns,
    each ``[n_frames, dims]``, MFCCs first."""
    # the values of librosa.feature.mfcc(y=y, sr=sample_rate, n_mfcc=..., n_fft=...):
    # its dB conversion and its DCT (scipy's type-II, orthonormal, over the mel
    # bands), here along the mel axis of the time-major mel power
    mel_db = power_to_db(mel_power(y, sample_rate, config, filters=filters))
    mfcc = scipy.fft.dct(mel_db, type=2, norm="ortho", axis=-1)[:, :config.n_mfcc]
    blocks = [mfcc]
    for order in range(1, config.deltas + 1):  # deltas: 0, 1 or 2
        blocks.append(numba_cache.librosa().feature.delta(
            mfcc, width=config.delta_width, order=order, axis=0))
    if config.prosody:
        blocks.append(compute_prosody(y, sample_rate, config, n_frames=mfcc.shape[0]))
    if config.spectral:
        blocks.append(compute_spectral(y, sample_rate, config, n_frames=mfcc.shape[0]))
    return blocks


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
    librosa = numba_cache.librosa()
    f0 = librosa.yin(y, fmin=PITCH_RANGE_HZ[0], fmax=PITCH_RANGE_HZ[1], sr=sample_rate,
                     frame_length=pitch_frame, hop_length=hop)
    rms = librosa.feature.rms(y=y, frame_length=frame, hop_length=hop)[0]
    f0, rms = _fit(f0, n_frames), _fit(rms, n_frames)
    energy = 20.0 * np.log10(rms + 1e-6)
    voiced = (energy > np.median(energy) - 6.0).astype(np.float32)
    return np.stack([np.log(f0) * voiced, energy, voiced], axis=1).astype(np.float32)


def compute_voice(samples: np.ndarray, sample_rate: int, *, n_frames: int,
                  filters: MelFilters | None = None) -> np.ndarray:
    """Per-frame voice features on the MFCC frame grid (16 kHz, 10 ms hop).

    The signal is raised to -30 dBFS (never lowered; Resemblyzer's volume
    normalisation), turned into the speaker encoder's 40-band mel power
    frames (25 ms window, 10 ms hop, centred) and cut into consecutive
    chunks of ``VOICE_CHUNK_FRAMES`` (1.6 s, the encoder's training
    partials). Each chunk runs through the encoder's three LSTM layers from
    a zero state; a frame's columns are the last layer's output there. The
    LSTM runs forward, so a frame depends only on its chunk up to itself:
    the same audio gives the same columns wherever a window starts on a
    chunk boundary, and the zero padding of the last chunk changes nothing.

    Args:
        samples: float ``[n_samples]`` mono audio in [-1, 1].
        sample_rate: Hz; must be 16000 (:data:`speaker_encoder.RATE`).
        n_frames: frames of the MFCC grid to fill.
        filters: ``mel_filters(VOICE_MEL)`` built ahead of time, or None.

    Returns:
        float32 ``[n_frames, 256]``, each value in (-1, 1).
    """
    return compute_voice_many([samples], sample_rate, n_frames=[n_frames], filters=filters)[0]


def compute_voice_many(signals: list[np.ndarray], sample_rate: int, *, n_frames: list[int],
                       filters: MelFilters | None = None) -> list[np.ndarray]:
    """:func:`compute_voice` of each signal, every signal's chunks through the
    encoder together: in batches of up to :data:`VOICE_BATCH_CHUNKS` chunks
    of about the same length (within :data:`VOICE_LENGTH_STEP` frames),
    each batch padded to its longest chunk.

    Args:
        signals: float ``[n_samples_i]`` mono signals in [-1, 1].
        sample_rate: Hz; must be 16000 (:data:`speaker_encoder.RATE`).
        n_frames: frames of each signal's MFCC grid to fill.
        filters: ``mel_filters(VOICE_MEL)`` built ahead of time, or None.

    Returns:
        one float32 ``[n_frames_i, 256]`` per signal, in order.
    """
    se = speaker_encoder
    if sample_rate != se.RATE:
        raise ValueError(f"the voice columns need {se.RATE} Hz audio, got {sample_rate} Hz")
    if not signals:
        return []
    mels = [mel_power(se.normalise_volume(np.asarray(y, np.float32)), sample_rate, VOICE_MEL,
                      filters=filters) for y in signals]  # the values of se.mel_frames
    mels = [mel if len(mel) else np.zeros((1, VOICE_MEL.n_mels), np.float32) for mel in mels]
    # (signal, first frame, frames) of every chunk; chunks of about the same
    # length run together, padded to the longest of their group
    chunks = [(i, a, min(VOICE_CHUNK_FRAMES, len(mel) - a))
              for i, mel in enumerate(mels) for a in range(0, len(mel), VOICE_CHUNK_FRAMES)]
    groups: dict[int, list[int]] = {}
    for k, (_, _, n) in enumerate(chunks):
        groups.setdefault(-(-n // VOICE_LENGTH_STEP), []).append(k)
    encoder = speaker_encoder.shared_encoder()
    states: list[np.ndarray] = [np.zeros(0)] * len(chunks)
    for members in groups.values():
        for b in range(0, len(members), VOICE_BATCH_CHUNKS):
            batch = members[b:b + VOICE_BATCH_CHUNKS]
            longest = max(chunks[k][2] for k in batch)
            x = np.zeros((len(batch), longest, VOICE_MEL.n_mels), np.float32)
            for j, k in enumerate(batch):
                i, a, n = chunks[k]
                x[j, :n] = mels[i][a:a + n]
            h = encoder.hidden_states(x)
            for j, k in enumerate(batch):
                states[k] = h[j, :chunks[k][2]]
    out, k = [], 0
    for mel, n in zip(mels, n_frames, strict=True):
        count = -(-len(mel) // VOICE_CHUNK_FRAMES)
        own = np.concatenate(states[k:k + count])
        out.append(np.ascontiguousarray(_fit(own, n), dtype=np.float32))
        k += count
    return out


SPECTRAL_BANDS_HZ = ((250.0, 650.0), (1000.0, 4000.0))
ROLLOFF_FRACTIONS = (0.25, 0.5, 0.75, 0.9)


@functools.lru_cache(maxsize=16)
def spectral_window(sample_rate: int) -> np.ndarray:
    """The analysis window of :func:`compute_spectral` at ``sample_rate`` Hz: a
    periodic Hamming window of ``SPECTRAL_WINDOW_S`` seconds, zero-padded on
    both sides to the next power of two (read-only).

    Returns:
        float32 ``[n_fft]``.
    """
    win = round(SPECTRAL_WINDOW_S * sample_rate)
    n_fft = 1 << (win - 1).bit_length()
    window = np.hamming(win + 1)[:-1]  # periodic, as scipy's get_window(fftbins=True)
    window = np.pad(window, ((n_fft - win) // 2, n_fft - win - (n_fft - win) // 2))
    window = window.astype(np.float32)
    window.setflags(write=False)
    return window


def compute_spectral(samples: np.ndarray, sample_rate: int, config: FeatureConfig, *,
                     n_frames: int) -> np.ndarray:
    """Spectral shape of each frame, on the MFCC frame grid (centred frames,
    same hop), from the magnitude spectrum ``|X|`` of a 60 ms Hamming window.

    With ``p = |X| / sum |X|`` over the FFT bins at frequencies ``f``, the
    columns are (``sentiment_model.config.SPECTRAL_NAMES``):

    * centroid ``sum p f`` and spread ``sqrt(sum p (f - centroid)^2)``, kHz —
      librosa's ``spectral_centroid`` and ``spectral_bandwidth``;
    * skewness as ``sign(s) log(1 + |s|)`` and kurtosis as ``log(1 + k)``
      (the third and fourth standardised moments of ``p``; logs tame their
      tails);
    * entropy of ``p``, divided by ``log(n_bins)`` (0 for one bin, 1 for flat);
    * the 25, 50, 75 and 90 % roll-off points, kHz — librosa's
      ``spectral_rolloff`` (lowest frequency below which that share of
      ``sum |X|`` lies);
    * flux: the Euclidean distance between ``p`` and the previous frame's
      (0 for the first frame);
    * natural log of ``sum |X|`` over 250-650 Hz and over 1-4 kHz (+1e-8);
    * slope: the least-squares slope of ``|X|`` against frequency, per kHz —
      librosa's ``poly_features(order=1)`` times 1000;
    * flatness: geometric over arithmetic mean of ``|X|^2`` (floored at
      1e-10) — librosa's ``spectral_flatness``.

    These are most of the spectral-shape values of openSMILE's ComParE set
    (whose licence does not allow commercial use); see benchmarks/README.md
    for what they add on EMO-DB. They are written out with numpy over
    time-major blocks, like :func:`mel_power`: librosa's functions give 8 of
    the 14 columns (with its STFT) in ~10x the time (0.97 s against 0.095 s
    for a minute of 16 kHz audio); the tests check those 8 against librosa.

    Args:
        samples: float ``[n_samples]`` mono audio at ``sample_rate`` Hz.
        n_frames: frames to return (the MFCC frame count); cut or edge-padded.

    Returns:
        float32 ``[n_frames, SPECTRAL_DIMS]``.
    """
    window = spectral_window(sample_rate)
    n_fft = window.shape[0]
    y = np.asarray(samples, dtype=np.float32)
    padded = np.pad(y, n_fft // 2, mode="constant")
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::config.hop_length]
    freqs = (np.fft.rfftfreq(n_fft, 1.0 / sample_rate) / 1000.0).astype(np.float32)  # kHz
    centred_freqs = freqs - freqs.mean()
    powers = np.stack([freqs.astype(np.float64) ** k for k in (1, 2, 3, 4)], axis=1)
    bands = [(freqs * 1000.0 >= lo) & (freqs * 1000.0 < hi) for lo, hi in SPECTRAL_BANDS_HZ]
    tiny = np.float32(1e-12)
    out = np.empty((frames.shape[0], SPECTRAL_DIMS), dtype=np.float32)
    previous = np.zeros((1, freqs.shape[0]), dtype=np.float32)
    for start in range(0, frames.shape[0], STFT_BLOCK_FRAMES):
        mag = np.abs(scipy.fft.rfft(frames[start:start + STFT_BLOCK_FRAMES] * window, axis=-1))
        mag = mag.astype(np.float32)
        total = mag.sum(axis=1, keepdims=True)
        p = mag / np.maximum(total, tiny)
        # central moments from the raw ones (one matmul; float64 keeps them exact)
        raw = p.astype(np.float64) @ powers  # [frames, 4]: sum p f^k, k = 1..4
        centroid = raw[:, 0]
        var = np.maximum(raw[:, 1] - centroid ** 2, 0.0)
        spread = np.sqrt(var)
        third = raw[:, 2] - 3 * centroid * raw[:, 1] + 2 * centroid ** 3
        fourth = (raw[:, 3] - 4 * centroid * raw[:, 2] + 6 * centroid ** 2 * raw[:, 1]
                  - 3 * centroid ** 4)
        skew = third / np.maximum(spread ** 3, 1e-12)
        kurt = np.maximum(fourth, 0.0) / np.maximum(var * var, 1e-12)
        entropy = -np.einsum("ij,ij->i", p, np.log(p + tiny)) / np.log(p.shape[1])
        cumulative = np.cumsum(mag, axis=1)
        rolloffs = [freqs[np.argmax(cumulative >= share * cumulative[:, -1:], axis=1)]
                    for share in ROLLOFF_FRACTIONS]
        flux = np.sqrt(np.square(np.diff(np.concatenate([previous, p]), axis=0)).sum(axis=1))
        if start == 0:
            flux[0] = 0.0
        previous = p[-1:]
        band_logs = [np.log(mag[:, band].sum(axis=1) + 1e-8) for band in bands]
        slope = (mag @ centred_freqs) / np.dot(centred_freqs, centred_freqs)
        power = np.maximum(np.square(mag), 1e-10)
        flatness = np.exp(np.log(power).mean(axis=1)) / power.mean(axis=1)
        out[start:start + STFT_BLOCK_FRAMES] = np.stack(
            [centroid, spread, np.sign(skew) * np.log1p(np.abs(skew)), np.log1p(kurt),
             entropy, *rolloffs, flux, *band_logs, slope, flatness], axis=1)
    return _fit(out, n_frames)


def _fit(values: np.ndarray, n: int) -> np.ndarray:
    """``values`` cut or edge-padded to length ``n``."""
    if len(values) >= n:
        return values[:n]
    return np.pad(values, [(0, n - len(values))] + [(0, 0)] * (values.ndim - 1), mode="edge")


def compute_logmel_image(samples: np.ndarray, sample_rate: int, config: FeatureConfig, *,
                         filters: MelFilters | None = None) -> np.ndarray:
    """Log-mel "spectrogram image" of fixed size, the study's CNN input.

    The power mel spectrogram is converted to dB relative to its maximum
    (as a saved spectrogram picture would be) and its time axis is linearly
    resampled to ``config.image_frames`` columns.

    Returns:
        float32 ``[image_frames, n_mels]`` in dB (<= 0), time-major.
    """
    y = np.asarray(samples, dtype=np.float32)
    mel = mel_power(y, sample_rate, config, filters=filters)
    mel_db = power_to_db(mel, relative_to_max=True).T  # [n_mels, T]
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


def compute_features(samples: np.ndarray, sample_rate: int, config: FeatureConfig, *,
                     filters: MelFilters | None = None) -> Features:
    """Frame sequence and pooled vector of one mono utterance, as configured.

    ``filters``: ``mel_filters(config)`` built ahead of time, or None.
    """
    return compute_features_many([samples], sample_rate, config, filters=filters)[0]


def compute_features_many(signals: list[np.ndarray], sample_rate: int, config: FeatureConfig,
                          *, filters: MelFilters | None = None) -> list[Features]:
    """:func:`compute_features` of each mono signal, in order; the voice
    columns' encoder runs once over all of them (:func:`compute_frames_many`)."""
    if config.kind == "logmel_image":
        many = [compute_logmel_image(y, sample_rate, config, filters=filters) for y in signals]
    else:
        many = compute_frames_many(signals, sample_rate, config, filters=filters)
    return [Features(frames=frames, pooled=pool_frames(frames, config.pooling))
            for frames in many]
