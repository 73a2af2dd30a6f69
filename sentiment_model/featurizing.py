"""What featurize does to one recording, without Beam.

:func:`read_recording` turns a file's bytes into its decoded audio and
content hash; :func:`recording_examples` turns that audio into one example
per channel (the mix-down, or each channel), keyed as the TFRecord schema
says (:mod:`schemas.features`), plus augmented copies of train-split
examples. A channel that cannot be used (too short, silent, a feature
failure) gives a :class:`ChannelFailure` in place of its examples, so that
the caller can write its error row and go on with the other channels.

The featurize job's DoFns wrap these; benchmarks and tests call them
directly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from schemas import features as fk
from sentiment_model import audio as audio_lib
from sentiment_model import storage
from sentiment_model.augment import AugmentConfig, augmentations
from sentiment_model.config import FeatureConfig
from sentiment_model.errors import RejectedInput, describe, rejected_at
from sentiment_model.features import MelFilters, compute_features_many

NO_AUGMENTATION = AugmentConfig()


@dataclass(frozen=True)
class AudioItem:
    """One input file on its way to features: where it is and what it is."""

    uri: str
    split: str
    label: str = ""
    label_id: int = fk.UNLABELLED_ID
    speaker: str = ""


class DecodedItem(NamedTuple):
    item: AudioItem
    audio: audio_lib.DecodedAudio
    content_sha256: str


class FeatureExample(NamedTuple):
    """Feature values keyed as in the schema, plus this file's part of the
    dataset's input fingerprint (``""`` on all but one example per file)."""

    features: dict[str, Any]
    fingerprint: str


class ChannelFailure(NamedTuple):
    """One channel gave no examples: ``error_type`` and a message naming the
    channel (for an error row at stage ``features``)."""

    channel: int
    error_type: str
    message: str


def recording_id(uri: str) -> str:
    """Stable recording id: the file stem plus a short hash of the full URI."""
    stem = storage.basename(uri).rsplit(".", 1)[0]
    return f"{stem}-{hashlib.sha1(uri.encode()).hexdigest()[:10]}"


def input_fingerprint_part(uri: str, content_sha256: str) -> str:
    """One file's contribution to the dataset's input fingerprint (hex sha256)."""
    return hashlib.sha256(f"{uri}\0{content_sha256}".encode()).hexdigest()


def read_recording(item: AudioItem, data: bytes) -> DecodedItem:
    """A file's bytes decoded in full (float32 ``[n_samples, n_channels]``).

    Raises:
        RejectedInput: stage ``decode``, with the decoder's reason, or
            ``decode_failed`` for anything else the decoder raised.
    """
    with rejected_at("decode", unexpected="decode_failed"):
        decoded = audio_lib.decode_audio(data)
    return DecodedItem(item, decoded, hashlib.sha256(data).hexdigest())


def recording_examples(decoded: DecodedItem, *, feature: FeatureConfig, channels: str,
                       augment: AugmentConfig = NO_AUGMENTATION,
                       filters: MelFilters | None = None
                       ) -> Iterator[FeatureExample | ChannelFailure]:
    """Every example of one decoded recording, channel by channel.

    Each channel is checked (length, level), resampled to ``feature.sample_rate``
    and turned into ``[n_frames, frame_dims]`` frames and ``[pooled_dims]``
    pooled values; a train-split channel also gives the copies ``augment``
    asks for (recording id ``<id>#<copy name>``). A channel is all or
    nothing: its examples, or one :class:`ChannelFailure`.

    Args:
        channels: ``"mix"``, ``"split"`` or ``"auto"`` (as :func:`audio.channel_views`).
        filters: ``mel_filters(feature)`` built ahead of time, or ``None``.
    """
    item, audio = decoded.item, decoded.audio
    rec_id = recording_id(item.uri)
    fingerprint = input_fingerprint_part(item.uri, decoded.content_sha256)
    for channel, mono in audio_lib.channel_views(audio.samples, channels):
        try:
            examples = _channel_examples(item, mono, audio.sample_rate, channel=channel,
                                         rec_id=rec_id, feature=feature, augment=augment,
                                         filters=filters)
        except RejectedInput as exc:
            yield ChannelFailure(channel, exc.error_type, with_channel(exc.message, channel))
            continue
        except Exception as exc:  # never lose the record
            yield ChannelFailure(channel, "feature_failed", with_channel(describe(exc), channel))
            continue
        examples[0] = examples[0]._replace(fingerprint=fingerprint)
        yield from examples
        fingerprint = ""  # each file counts once in the input fingerprint


def _channel_examples(item: AudioItem, mono, source_rate: int, *, channel: int, rec_id: str,
                      feature: FeatureConfig, augment: AugmentConfig,
                      filters: MelFilters | None) -> list[FeatureExample]:
    cfg = feature
    audio_lib.check_signal(mono, source_rate, min_duration_s=cfg.min_duration_s,
                           silence_dbfs=cfg.silence_dbfs)
    y = audio_lib.resample(mono, source_rate, cfg.sample_rate)
    versions = [("", y)]
    if augment.enabled and item.split == "train":
        versions += augmentations(y, cfg.sample_rate, augment, key=f"{item.uri}#{channel}")
    examples = []
    many = compute_features_many([signal for _, signal in versions], cfg.sample_rate, cfg,
                                 filters=filters)  # the voice columns' encoder batches the copies
    for (name, signal), feats in zip(versions, many, strict=True):
        examples.append(FeatureExample(features={
            fk.RECORDING_ID: (f"{rec_id}#{name}" if name else rec_id).encode(),
            fk.URI: storage.redact(item.uri).encode(),  # credentials never stored
            fk.CHANNEL: channel,
            fk.START_S: 0.0,
            fk.DURATION_S: float(signal.shape[0] / cfg.sample_rate),
            fk.SOURCE_SAMPLE_RATE: source_rate,
            fk.SPEAKER: item.speaker.encode(),
            fk.SPLIT: item.split.encode(),
            fk.LABEL: item.label.encode(),
            fk.LABEL_ID: item.label_id,
            fk.AUGMENTATION: name.encode(),
            fk.FRAMES: feats.frames,
            fk.N_FRAMES: int(feats.frames.shape[0]),
            fk.POOLED: feats.pooled,
        }, fingerprint=""))
    return examples


def with_channel(message: str, channel: int) -> str:
    """``message`` prefixed with ``channel N:`` (unchanged for a mix-down)."""
    return message if channel == audio_lib.MIX_CHANNEL else f"channel {channel}: {message}"
