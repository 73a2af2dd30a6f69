"""Decoding and conditioning of audio: bytes in, checked float32 arrays out.

Everything libsndfile reads is accepted (WAV in any PCM/float/u-law/A-law
subtype, FLAC, OGG/Vorbis, MP3, AIFF, ...). Problems become
:class:`~sentiment_model.errors.RejectedInput` with a stable ``error_type``:

============  ==========================================================
error_type    meaning
============  ==========================================================
empty         zero bytes, or a valid header with zero frames
unreadable    not audio libsndfile can decode (corrupt, wrong extension)
truncated     the file ends before the length its header declares
non_finite    NaN or infinite samples
too_short     shorter than the configured minimum duration
silent        RMS level below the configured silence threshold
============  ==========================================================
"""

from __future__ import annotations

import io
import math
import struct
from typing import NamedTuple

import numpy as np
import soundfile
import soxr

from schemas.tables import MIX_CHANNEL  # the channel id of a mono mix-down (-1)
from sentiment_model.errors import RejectedInput

CHANNEL_MODES = ("mix", "split")


class DecodedAudio(NamedTuple):
    """Audio as stored in the file.

    Attributes:
        samples: float32 ``[n_samples, n_channels]`` in [-1, 1].
        sample_rate: Hz.
        format: libsndfile's container name, e.g. ``"WAV"``.
        subtype: libsndfile's sample encoding, e.g. ``"PCM_16"``.
    """

    samples: np.ndarray
    sample_rate: int
    format: str
    subtype: str

    @property
    def duration_s(self) -> float:
        return self.samples.shape[0] / self.sample_rate


# libsndfile subtypes that store integers: their samples are always finite
INTEGER_SUBTYPES = frozenset(
    {"PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32", "ULAW", "ALAW", "DWVW_12", "DWVW_16",
     "DWVW_24", "IMA_ADPCM", "MS_ADPCM", "GSM610", "G721_32", "G723_24", "G723_40"}
)


def decode_audio(data: bytes) -> DecodedAudio:
    """Decodes a whole audio file held in memory.

    Raises:
        RejectedInput: ``empty``, ``unreadable``, ``truncated`` or ``non_finite``.
    """
    if not data:
        raise RejectedInput("empty", "file is empty (0 bytes)")
    try:
        with soundfile.SoundFile(io.BytesIO(data)) as f:
            declared = f.frames
            samples = f.read(dtype="float32", always_2d=True)
            fmt, subtype, rate = f.format, f.subtype, f.samplerate
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        raise RejectedInput("unreadable", f"not decodable audio: {_short(exc)}") from None
    if samples.shape[0] == 0:
        raise RejectedInput("empty", "audio has no samples")
    if samples.shape[0] < declared:
        raise RejectedInput(
            "truncated",
            f"file ends after {samples.shape[0]} of {declared} declared frames",
        )
    if fmt in ("WAV", "WAVEX"):
        missing = _wav_missing_bytes(io.BytesIO(data), len(data))
        if missing > 0:
            raise RejectedInput(
                "truncated", f"WAV data chunk is {missing} bytes shorter than its header says"
            )
    if subtype not in INTEGER_SUBTYPES and not np.isfinite(samples).all():
        bad = int((~np.isfinite(samples)).sum())
        raise RejectedInput("non_finite", f"{bad} samples are NaN or infinite")
    return DecodedAudio(samples=samples, sample_rate=int(rate), format=fmt, subtype=subtype)


def _short(exc: Exception) -> str:
    text = str(exc).replace("<_io.BytesIO object", "<bytes").strip()
    return text[:200]


MAX_WAV_CHUNKS = 10_000  # chunk headers walked before giving up on a hostile file


def _wav_missing_bytes(fileobj, file_size: int) -> int:
    """Bytes by which a RIFF/WAVE ``data`` chunk falls short of its header,
    wherever in the file the chunk starts (only chunk headers are read; the
    file position is restored).

    Args:
        fileobj: the file, seekable and binary.
        file_size: its size in bytes.
    """
    start = fileobj.tell()
    try:
        fileobj.seek(0)
        head = fileobj.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return 0
        pos = 12
        for _ in range(MAX_WAV_CHUNKS):
            fileobj.seek(pos)
            header = fileobj.read(8)
            if len(header) < 8:
                return 0
            (size,) = struct.unpack("<I", header[4:8])
            if header[:4] == b"data":
                return max(0, size - (file_size - pos - 8))
            pos += 8 + size + (size & 1)
        return 0
    finally:
        fileobj.seek(start)


class AudioStream:
    """An audio file read block by block, with the checks of :func:`decode_audio`.

    Memory stays at one block however long the file is. Open it from a
    seekable binary file object; :meth:`blocks` raises ``truncated`` or
    ``non_finite`` when it reaches the problem.

    Raises:
        RejectedInput: ``empty``, ``unreadable`` or ``truncated`` (a WAV
            whose data chunk is shorter than its header says) on opening.
    """

    def __init__(self, fileobj) -> None:
        head = fileobj.read(1)
        if not head:
            raise RejectedInput("empty", "file is empty (0 bytes)")
        fileobj.seek(0, io.SEEK_END)
        size = fileobj.tell()
        fileobj.seek(0)
        try:
            self._file = soundfile.SoundFile(fileobj)
        except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
            raise RejectedInput("unreadable", f"not decodable audio: {_short(exc)}") from None
        self.sample_rate = int(self._file.samplerate)
        self.channels = int(self._file.channels)
        self.declared_frames = int(self._file.frames)
        self.format, self.subtype = self._file.format, self._file.subtype
        missing = (_wav_missing_bytes(fileobj, size) if self.format in ("WAV", "WAVEX")
                   else 0)
        if self.declared_frames == 0 or missing > 0:
            self._file.close()
        if self.declared_frames == 0:
            raise RejectedInput("empty", "audio has no samples")
        if missing > 0:
            raise RejectedInput("truncated", f"WAV data chunk is {missing} bytes shorter "
                                             "than its header says")

    def blocks(self, block_frames: int):
        """Yields float32 ``[n, channels]`` blocks of at most ``block_frames``."""
        read = 0
        while True:
            try:
                block = self._file.read(block_frames, dtype="float32", always_2d=True)
            except (soundfile.LibsndfileError, RuntimeError) as exc:
                raise RejectedInput("unreadable", f"decoding failed after {read} frames: "
                                                  f"{_short(exc)}") from None
            if block.shape[0] == 0:
                break
            if not np.isfinite(block).all():
                bad = int((~np.isfinite(block)).sum())
                raise RejectedInput("non_finite", f"{bad} samples are NaN or infinite "
                                                  f"(in the block at {read} frames)")
            read += block.shape[0]
            yield block
        if read == 0:
            raise RejectedInput("empty", "audio has no samples")
        if read < self.declared_frames:
            raise RejectedInput("truncated", f"file ends after {read} of "
                                             f"{self.declared_frames} declared frames")

    def close(self) -> None:
        self._file.close()


def channel_views(samples: np.ndarray, mode: str) -> list[tuple[int, np.ndarray]]:
    """Splits ``[n_samples, n_channels]`` audio into mono signals.

    Args:
        mode: ``"mix"`` averages all channels into one signal (channel id
            :data:`MIX_CHANNEL`); ``"split"`` keeps each channel (ids 0, 1, ...).

    Returns:
        ``[(channel_id, float32 [n_samples]), ...]``.
    """
    if mode == "split":
        return [(c, np.ascontiguousarray(samples[:, c])) for c in range(samples.shape[1])]
    if samples.shape[1] == 1:
        return [(MIX_CHANNEL, samples[:, 0])]
    return [(MIX_CHANNEL, samples.mean(axis=1, dtype=np.float32))]


def resample(samples: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """High-quality resampling (libsoxr, "HQ") of mono float32 ``[n_samples]``."""
    if orig_rate == target_rate:
        return samples
    out = soxr.resample(samples, orig_rate, target_rate, quality="HQ")
    return np.asarray(out, dtype=np.float32)


_RMS_BLOCK = 1 << 16


def rms_dbfs(samples: np.ndarray) -> float:
    """RMS level of a signal in dB relative to full scale (-inf for zeros)."""
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    if x.size == 0:
        return float("-inf")
    # float32 BLAS dot products over blocks, summed in float64: one float32 dot over an hour
    # of audio drifts by ~0.005 dB depending on the BLAS, and a float64 copy doubles memory
    energy = sum(float(np.dot(x[i:i + _RMS_BLOCK], x[i:i + _RMS_BLOCK]))
                 for i in range(0, x.size, _RMS_BLOCK))
    rms = float(np.sqrt(energy / x.size))
    return 20.0 * np.log10(rms) if rms > 0 else float("-inf")


SILENT_DBFS = -200.0  # the level reported for digital silence (a table needs a number)


def silence_message(level_dbfs: float, threshold_dbfs: float) -> str:
    """The ``silent`` error message, the same in featurize and score."""
    if not math.isfinite(level_dbfs) or level_dbfs <= SILENT_DBFS:
        return "every sample is zero (digital silence)"
    return f"RMS level {level_dbfs:.1f} dBFS is below the {threshold_dbfs:g} dBFS threshold"


def check_signal(samples: np.ndarray, sample_rate: int, *, min_duration_s: float,
                 silence_dbfs: float) -> None:
    """Rejects mono audio that is too short or silent.

    Raises:
        RejectedInput: ``too_short`` or ``silent``.
    """
    duration = samples.shape[0] / sample_rate
    if duration < min_duration_s:
        raise RejectedInput(
            "too_short", f"{duration:.3f} s of audio, the minimum is {min_duration_s:g} s"
        )
    level = rms_dbfs(samples)
    if level < silence_dbfs:
        raise RejectedInput("silent", silence_message(level, silence_dbfs))
