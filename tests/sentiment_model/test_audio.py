import io

import numpy as np
import pytest
import soundfile

from sentiment_model import audio
from sentiment_model.errors import RejectedInput
from tests.conftest import tone, with_long_list_chunk


def encode(samples, sample_rate, fmt, subtype=None) -> bytes:
    buf = io.BytesIO()
    soundfile.write(buf, samples, sample_rate, format=fmt, subtype=subtype)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("fmt", "subtype", "tolerance"),
    [
        ("WAV", "PCM_U8", 2e-2),
        ("WAV", "PCM_16", 1e-4),
        ("WAV", "PCM_24", 1e-6),
        ("WAV", "PCM_32", 1e-6),
        ("WAV", "FLOAT", 0.0),
        ("WAV", "ULAW", 5e-2),
        ("WAV", "ALAW", 5e-2),
        ("FLAC", "PCM_16", 1e-4),
    ],
)
def test_lossless_and_companded_formats_decode_to_the_samples(fmt, subtype, tolerance):
    x = tone(300, seconds=0.5, sample_rate=8000)
    decoded = audio.decode_audio(encode(x, 8000, fmt, subtype))
    assert decoded.sample_rate == 8000 and decoded.samples.shape == (4000, 1)
    assert (decoded.format, decoded.subtype) == (fmt, subtype)
    np.testing.assert_allclose(decoded.samples[:, 0], x, atol=tolerance)


@pytest.mark.parametrize(("fmt", "subtype"), [("OGG", "VORBIS"), ("MP3", "MPEG_LAYER_III")])
def test_lossy_formats_decode_with_the_same_pitch(fmt, subtype):
    x = tone(440, seconds=1.0, sample_rate=44100)
    decoded = audio.decode_audio(encode(x, 44100, fmt, subtype))
    y = decoded.samples[:, 0]
    assert decoded.sample_rate == 44100 and abs(y.shape[0] - 44100) < 3000
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) * 44100 / y.shape[0] - 440) < 3


def test_stereo_channels_mix_and_split():
    x = tone(200, seconds=0.5, sample_rate=16000, channels=2)
    decoded = audio.decode_audio(encode(x, 16000, "WAV", "FLOAT"))
    mixed = audio.channel_views(decoded.samples, "mix")
    assert [c for c, _ in mixed] == [audio.MIX_CHANNEL]
    np.testing.assert_allclose(mixed[0][1], x.mean(axis=1), atol=1e-7)
    split = audio.channel_views(decoded.samples, "split")
    assert [c for c, _ in split] == [0, 1]
    np.testing.assert_array_equal(split[1][1], x[:, 1])


def test_resample_keeps_duration_and_pitch():
    x = tone(1000, seconds=1.0, sample_rate=48000)
    y = audio.resample(x, 48000, 16000)
    assert y.dtype == np.float32 and y.shape == (16000,)
    assert np.argmax(np.abs(np.fft.rfft(y))) == 1000
    assert audio.resample(x, 48000, 48000) is x


@pytest.mark.parametrize(
    ("data", "error_type"),
    [
        (b"", "empty"),
        (b"this is not audio at all, just text in a .wav file" * 10, "unreadable"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "unreadable"),
    ],
)
def test_bad_bytes_are_rejected_with_a_reason(data, error_type):
    with pytest.raises(RejectedInput) as info:
        audio.decode_audio(data)
    assert info.value.error_type == error_type and info.value.stage == "decode"


@pytest.mark.parametrize(("fmt", "subtype"), [("WAV", "PCM_16"), ("WAV", "FLOAT"),
                                             ("FLAC", "PCM_16"), ("MP3", "MPEG_LAYER_III")])
def test_truncated_files_are_rejected(fmt, subtype):
    data = encode(tone(300, seconds=1.0, sample_rate=16000), 16000, fmt, subtype)
    with pytest.raises(RejectedInput) as info:
        audio.decode_audio(data[: len(data) // 2])
    assert info.value.error_type in ("truncated", "unreadable")
    if fmt == "WAV":
        assert info.value.error_type == "truncated"


def test_zero_frames_and_non_finite_samples_are_rejected():
    with pytest.raises(RejectedInput) as info:
        audio.decode_audio(encode(np.zeros(0, np.float32), 16000, "WAV", "PCM_16"))
    assert info.value.error_type == "empty"
    x = tone(300, seconds=0.5, sample_rate=16000)
    x[100] = np.nan
    x[200] = np.inf
    with pytest.raises(RejectedInput, match="2 samples") as info:
        audio.decode_audio(encode(x, 16000, "WAV", "FLOAT"))
    assert info.value.error_type == "non_finite"


def test_check_signal_rejects_short_and_silent_audio():
    ok = tone(300, seconds=0.5, sample_rate=16000)
    audio.check_signal(ok, 16000, min_duration_s=0.25, silence_dbfs=-70)
    with pytest.raises(RejectedInput) as info:
        audio.check_signal(ok[:1000], 16000, min_duration_s=0.25, silence_dbfs=-70)
    assert info.value.error_type == "too_short"
    with pytest.raises(RejectedInput) as info:
        audio.check_signal(np.zeros(8000, np.float32) + 1e-5, 16000, min_duration_s=0.25,
                           silence_dbfs=-70)
    assert info.value.error_type == "silent"
    assert str(info.value).startswith("RMS level -100.0 dBFS is below")
    with pytest.raises(RejectedInput, match=r"^every sample is zero \(digital silence\)$"):
        audio.check_signal(np.zeros(8000, np.float32), 16000, min_duration_s=0.25,
                           silence_dbfs=-70)
    assert audio.rms_dbfs(np.zeros(10)) == float("-inf")
    assert audio.rms_dbfs(np.ones(10)) == pytest.approx(0.0)
    assert audio.rms_dbfs(np.zeros(0)) == float("-inf")
    # a full-scale sine is -3.01 dBFS; one hour of it at 16 kHz, a 0.1 amplitude one -23.01
    sine = np.sin(2 * np.pi * 50 * np.arange(16000 * 3600) / 16000).astype(np.float32)
    assert audio.rms_dbfs(sine) == pytest.approx(-3.0103, abs=1e-3)
    assert audio.rms_dbfs(0.1 * sine) == pytest.approx(-23.0103, abs=1e-3)


def stream_all(data: bytes, block: int) -> np.ndarray:
    stream = audio.AudioStream(io.BytesIO(data))
    try:
        return np.concatenate(list(stream.blocks(block)))
    finally:
        stream.close()


@pytest.mark.parametrize(("fmt", "subtype"), [("WAV", "PCM_16"), ("WAV", "FLOAT"),
                                             ("FLAC", "PCM_24"), ("OGG", "VORBIS")])
def test_stream_blocks_equal_the_whole_file_decode(fmt, subtype):
    data = encode(tone(440, seconds=1.3, sample_rate=16000, channels=2), 16000, fmt, subtype)
    whole = audio.decode_audio(data)
    stream = audio.AudioStream(io.BytesIO(data))
    assert (stream.sample_rate, stream.channels) == (16000, 2)
    stream.close()
    for block in (1000, 4096, 100_000):
        np.testing.assert_array_equal(stream_all(data, block), whole.samples)


def test_stream_rejects_what_decode_rejects():
    cases = [
        (b"", "empty"),
        (b"definitely not audio" * 50, "unreadable"),
        (encode(np.zeros(0, np.float32), 16000, "WAV", "PCM_16"), "empty"),
    ]
    wav = encode(tone(300, seconds=1.0, sample_rate=16000), 16000, "WAV", "PCM_16")
    cases.append((wav[: len(wav) // 2], "truncated"))
    for data, error_type in cases:
        with pytest.raises(RejectedInput) as info:
            stream_all(data, 4096)
        assert info.value.error_type == error_type, data[:20]
    x = tone(300, seconds=1.0, sample_rate=16000)
    x[12_000] = np.nan
    with pytest.raises(RejectedInput, match="block at 8000 frames") as info:
        stream_all(encode(x, 16000, "WAV", "FLOAT"), 8000)
    assert info.value.error_type == "non_finite"
    flac = encode(tone(300, seconds=1.0, sample_rate=16000), 16000, "FLAC", "PCM_16")
    with pytest.raises(RejectedInput) as info:
        stream_all(flac[: len(flac) // 2], 4096)
    assert info.value.error_type in ("truncated", "unreadable")



def test_truncation_is_found_wherever_the_data_chunk_starts():
    wav = with_long_list_chunk(encode(tone(300, seconds=2.0, sample_rate=16000), 16000, "WAV",
                                       "PCM_16"))
    assert wav.index(b"data") > 1 << 16
    whole = audio.decode_audio(wav)
    assert whole.samples.shape == (32000, 1)
    assert stream_all(wav, 4096).shape == (32000, 1)
    cut = wav[: len(wav) - 20_000]
    for read in (audio.decode_audio, lambda data: stream_all(data, 4096)):
        with pytest.raises(RejectedInput, match="20000 bytes shorter") as info:
            read(cut)
        assert info.value.error_type == "truncated"
