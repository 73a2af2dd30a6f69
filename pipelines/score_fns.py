"""The score job's elements, DoFns and model handler (wired up in score.py).

Module-level classes only, so that they pickle by name on every runner.
A recording channel is keyed ``(uri, channel)`` from the reader to the
Parquet rows; a window adds its index and its start and end in seconds.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import apache_beam as beam
import numpy as np
from apache_beam.ml.inference.base import ModelHandler, PredictionResult

from pipelines import call_metadata
from pipelines.process import skip_gc_at_exit
from pipelines.progress import Progress
from schemas import tables
from schemas.tables import error_row
from sentiment_model import audio as audio_lib
from sentiment_model import call_table, scoring, storage
from sentiment_model import segments as seg
from sentiment_model.config import FeatureConfig
from sentiment_model.diarize import SPEAKER_CHANNELS, DiarizeConfig, RoleSpeech
from sentiment_model.errors import RejectedInput
from sentiment_model.features import mel_filters
from sentiment_model.talk import ChannelTalk, TalkConfig

JOB = "score"


# ================================================================== elements
class SegmentKey(NamedTuple):
    uri: str
    channel: int  # audio.MIX_CHANNEL (-1) for a mono mix-down
    index: int
    start_s: float
    end_s: float


class ChannelSummary(NamedTuple):
    """What the reader learnt about one recording channel.

    ``failed``: the file broke part-way (its error row is already out; the
    channel's windows are dropped). ``error``: ``(error_type, message)`` when
    the channel cannot be scored (too short, silent, no speech). ``talk``:
    its turns and talk measures. ``speakers``: a diarized mono call's agent
    and customer (:class:`sentiment_model.diarize.RoleSpeech`), or on a
    speaker's own channel (``SPEAKER_CHANNELS``) that speaker; else ``None``.
    """

    uri: str
    channel: int
    sample_rate: int
    duration_s: float
    speech_s: float
    loudness_dbfs: float
    n_segments: int
    failed: bool = False
    error: tuple[str, str] | None = None
    talk: ChannelTalk | None = None
    speakers: tuple[RoleSpeech, ...] | None = None


SPEAKER_ROLES = {channel: role for role, channel in SPEAKER_CHANNELS.items()}


def channel_key(uri: str, channel: int) -> tuple[str, int]:
    return (uri, channel)


def _channel_text(channel: int) -> str:
    return "" if channel == audio_lib.MIX_CHANNEL else f"channel {channel}: "


# ==================================================================== DoFns
class SegmentAudioFn(beam.DoFn):
    """uri -> model inputs of its speech windows, streamed block by block
    (:class:`sentiment_model.scoring.RecordingWindows`).

    Main output: ``(SegmentKey, ndarray)`` — the normalised model input of
    one speech window (``[n_frames, frame_dims]`` for frame models).
    Tagged outputs: ``skipped`` (``((uri, channel), ScoredSegment)`` of
    non-speech windows), ``summaries`` (``((uri, channel), ChannelSummary)``)
    and ``errors`` (error rows). A file that breaks part-way gets its error
    row and a ``failed`` summary per channel, which drops the windows already
    sent.
    """

    def __init__(self, *, feature: FeatureConfig, segment: seg.SegmentConfig, channels: str,
                 input_kind: str, norm: dict, total: int, interval_s: float,
                 board: str | None = None, diarize: DiarizeConfig | None = None) -> None:
        self._feature, self._segment, self._channels = feature, segment, channels
        self._diarize = diarize
        self._input_kind, self._norm = input_kind, norm
        self._total, self._interval, self._board = total, interval_s, board
        # built at pipeline construction and pickled with the DoFn, so that
        # worker processes skip librosa's filter and MFCC imports (~2.4 s)
        self._filters = mel_filters(feature)

    def setup(self):
        skip_gc_at_exit()  # this worker process exits seconds sooner
        self._progress = Progress(JOB, self._total, interval_s=self._interval,
                                  board=self._board)

    def teardown(self):
        progress = getattr(self, "_progress", None)
        if progress is not None:
            progress.close()

    def process(self, uri: str):
        audio_s = 0.0
        for out in self._outputs(uri):
            if isinstance(out, beam.pvalue.TaggedOutput) and out.tag == "summaries":
                audio_s = max(audio_s, out.value[1].duration_s)
            yield out
        self._progress.update(audio_s=audio_s)

    def _outputs(self, uri: str):
        problem = storage.local_file_problem(uri)
        if problem is not None:
            yield beam.pvalue.TaggedOutput("errors", error_row(uri, "read", *problem))
            return
        core = scoring.RecordingWindows(feature=self._feature, segment=self._segment,
                                        channels=self._channels, input_kind=self._input_kind,
                                        norm=self._norm, filters=self._filters,
                                        diarize=self._diarize)
        try:
            for event in core.events(functools.partial(storage.open_read, uri)):
                yield _output(uri, event)
        except RejectedInput as exc:
            yield beam.pvalue.TaggedOutput("errors", error_row(uri, exc.stage, exc.error_type,
                                                               exc.message))
            for channel in core.channel_ids or ():
                yield beam.pvalue.TaggedOutput("summaries", (channel_key(uri, channel),
                                                             ChannelSummary(
                    uri, channel, 0, 0.0, 0.0, 0.0, 0, failed=True)))


def _output(uri: str, event):
    """One :class:`~sentiment_model.scoring.RecordingWindows` event as the DoFn's output."""
    if isinstance(event, scoring.SpeechWindow):
        return (SegmentKey(uri, event.channel, event.index, event.start_s, event.end_s),
                event.model_input)
    key = channel_key(uri, event.channel)
    if isinstance(event, scoring.QuietWindow):
        return beam.pvalue.TaggedOutput("skipped", (key, seg.ScoredSegment(
            event.index, event.start_s, event.end_s, False, None)))
    stats = event.stats
    return beam.pvalue.TaggedOutput("summaries", (key, ChannelSummary(
        uri, event.channel, event.sample_rate, stats.duration_s, stats.speech_s,
        stats.loudness_dbfs, stats.n_segments, error=stats.error, talk=stats.talk,
        speakers=stats.speakers)))


class ValidateInputFn(beam.DoFn):
    """Checks every model input before batching, so that one bad window
    cannot take a batch down. Bad ones become error rows and a speech
    segment without probabilities (tagged ``rejected``)."""

    def __init__(self, *, input_shape: tuple[int | None, ...]) -> None:
        self._shape = input_shape

    def process(self, element):
        key, x = element
        problem = None
        if not isinstance(x, np.ndarray) or x.ndim != len(self._shape):
            problem = f"expected a {len(self._shape)}-D array, got {getattr(x, 'shape', x)!r}"
        elif any(want is not None and got != want
                 for want, got in zip(self._shape, x.shape, strict=True)):
            problem = f"expected shape {self._shape}, got {x.shape}"
        elif x.shape[0] == 0:
            problem = "no frames"
        elif not np.isfinite(x).all():
            problem = "non-finite feature values"
        if problem is None:
            yield key, x
            return
        yield beam.pvalue.TaggedOutput("errors", error_row(
            key.uri, "inference", "invalid_input",
            f"{_channel_text(key.channel)}window {key.index} "
            f"({key.start_s:.2f}-{key.end_s:.2f} s): {problem}"))
        yield beam.pvalue.TaggedOutput("rejected", (
            channel_key(key.uri, key.channel),
            seg.ScoredSegment(key.index, key.start_s, key.end_s, True, None)))


PAD_BUCKETS = 4  # batch lengths a model sees: a quarter, half, three quarters or all of a window


class SentimentModelHandler(ModelHandler):
    """Beam RunInference handler for an exported model directory.

    The model is loaded once per worker process (Beam's shared model
    manager), with ``safe_mode=True`` and its content hash checked. Batches
    come in :data:`PAD_BUCKETS` shapes: ``[n_frames, dims]`` inputs are
    right-padded with zeros (masked by the model) to the smallest quarter of
    ``pad_frames`` that holds the batch's longest (windows trimmed to their
    speech are often shorter than a window) and the batch to
    ``max_batch_size`` rows, so the model's predict function is traced at
    most four times instead of once per batch shape. Batches are always
    ``max_batch_size`` windows but at the end of a bundle (``BatchElements``
    with a fixed size: its adaptive sizes would pay for 64 padded rows on
    smaller batches).
    """

    def __init__(self, model_dir: str, *, max_batch_size: int = 64,
                 pad_frames: int | None = None) -> None:
        super().__init__(min_batch_size=max_batch_size, max_batch_size=max_batch_size)
        self._model_dir = model_dir
        self._batch, self._frames = max_batch_size, pad_frames

    def load_model(self):
        from sentiment_model.inference import load_model_dir
        from sentiment_model.starter import resolve

        return load_model_dir(resolve(self._model_dir))  # the starter model: this worker's copy

    def run_inference(self, batch: Sequence[np.ndarray], model, inference_args=None
                      ) -> Iterable[PredictionResult]:
        probs = scoring.predict_padded(model.model, list(batch), length=self._frames,
                                       rows=self._batch, buckets=PAD_BUCKETS)
        return [PredictionResult(example=None, inference=p) for p in probs]

    def get_num_bytes(self, batch: Sequence[np.ndarray]) -> int:
        return int(sum(x.nbytes for x in batch))

    def get_metrics_namespace(self) -> str:
        return "AudioSentiment"


def window_frames(feature: FeatureConfig, segment: seg.SegmentConfig, input_kind: str
                  ) -> int | None:
    """Frames of the longest window's model input (``None`` for fixed-size inputs)."""
    if input_kind != "frames":
        return None
    return 1 + round(segment.segment_s * feature.sample_rate) // feature.hop_length


class ToScoredSegmentFn(beam.DoFn):
    """(SegmentKey, PredictionResult) -> ((uri, channel), ScoredSegment)."""

    def process(self, element):
        key, result = element
        probs = tuple(float(p) for p in np.asarray(result.inference).ravel())
        yield channel_key(key.uri, key.channel), seg.ScoredSegment(
            key.index, key.start_s, key.end_s, True, probs)


class FailedBatchFn(beam.DoFn):
    """RunInference's failed batches -> one error row and one unscored speech
    segment per window (tagged ``rejected``)."""

    def process(self, element):
        batch, failure = element  # failure: (exception type, repr(exception), traceback)
        message = failure[1] if isinstance(failure, tuple) and len(failure) > 1 else failure
        for key, _ in batch:
            yield error_row(key.uri, "inference", "inference_failed",
                            f"{_channel_text(key.channel)}window {key.index}: "
                            f"{str(message)[:300]}")
            yield beam.pvalue.TaggedOutput("rejected", (
                channel_key(key.uri, key.channel),
                seg.ScoredSegment(key.index, key.start_s, key.end_s, True, None)))


class AggregateChannelFn(beam.DoFn):
    """((uri, channel), {"summary": [...], "segments": [...]}) -> a files row
    (main), segment rows (tagged ``segments``) or an error row (``errors``),
    and ``(uri, ChannelCall)`` (tagged ``calls``) for every channel read to
    its end, scored or not."""

    def __init__(self, *, labels: tuple[str, ...], model_version: str, architecture: str,
                 run_id: str, agent_channel: int = 0,
                 metadata_columns: tuple[str, ...] = ()) -> None:
        self._labels, self._version = labels, model_version
        self._architecture, self._run_id = architecture, run_id
        self._agent, self._extra = agent_channel, metadata_columns

    def process(self, element, metadata=None):
        (uri, channel), groups = element
        summaries = list(groups["summary"])
        scored = sorted(groups["segments"], key=lambda s: s.index)
        if not summaries:  # cannot happen unless a reader died without a trace
            yield beam.pvalue.TaggedOutput("errors", error_row(
                uri, "aggregate", "incomplete", f"{_channel_text(channel)}windows without a "
                                                "channel summary"))
            summaries = [ChannelSummary(uri, channel, 0, 0.0, 0.0, 0.0, 0, failed=True)]
        if not summaries[0].failed:  # a failed reader already wrote this file's error row
            yield from self._outputs(uri, channel, summaries[0], scored, metadata)

    def _outputs(self, uri, channel, summary, scored, metadata):
        if channel in SPEAKER_ROLES:  # a diarized speaker: its call part and windows
            agg = None if summary.error is not None else seg.aggregate(
                scored, duration_s=summary.duration_s, labels=self._labels)
            (speaker,) = summary.speakers
            yield beam.pvalue.TaggedOutput("calls", (uri, call_table.speaker_part(
                speaker, duration_s=summary.duration_s, summary=_scored(agg))))
            yield from self._segment_rows(uri, channel, scored)
            return
        agg = None
        if summary.error is not None:
            yield beam.pvalue.TaggedOutput("errors", error_row(
                uri, "segment", summary.error[0], _channel_text(channel) + summary.error[1]))
        else:
            agg = seg.aggregate(scored, duration_s=summary.duration_s, labels=self._labels)
            yield from self._rows(uri, channel, summary, scored, agg,
                                  call_metadata.lookup(metadata or {}, uri) or {})
        if summary.talk is not None and not summary.speakers:  # diarized: the speakers' parts
            yield beam.pvalue.TaggedOutput("calls", (uri, call_table.ChannelCall(
                channel, summary.duration_s, summary.talk, _scored(agg))))

    def _rows(self, uri, channel, summary, scored, agg, extra):
        if agg["probs"] is None:
            yield beam.pvalue.TaggedOutput("errors", error_row(
                uri, "inference", "not_scored", f"{_channel_text(channel)}no speech window "
                                                "could be scored (see its other error rows)"))
            return
        roles = call_table.role_channels([channel], self._agent)
        row: dict[str, Any] = {
            "uri": uri,
            "channel": channel,
            "call_id": extra.get(call_metadata.CALL_ID) or call_table.default_call_id(uri),
            "role": next((role for role, ch in roles.items() if ch == channel), None),
            "duration_s": summary.duration_s,
            "sample_rate": summary.sample_rate,
            "speech_s": summary.speech_s,
            "silence_ratio": max(0.0, 1.0 - summary.speech_s / summary.duration_s),
            "loudness_dbfs": summary.loudness_dbfs,
            "label": agg["label"],
            "confidence": agg["confidence"],
        }
        row.update(zip(tables.prob_columns(self._labels), agg["probs"], strict=True))
        row["n_segments"] = len(scored)
        row["n_speech_segments"] = agg["n_speech_segments"]
        row.update(zip(tables.share_columns(self._labels), agg["share"], strict=True))
        row.update({
            "first_quarter_label": agg["first_quarter"],
            "last_quarter_label": agg["last_quarter"],
            "n_changes": agg["changes"],
            **{c: extra.get(c) for c in self._extra},
            "model_version": self._version,
            "model_architecture": self._architecture,
            "run_id": self._run_id,
            "scored_at": datetime.datetime.now(datetime.UTC),
        })
        yield row
        yield from self._segment_rows(uri, channel, scored)

    def _segment_rows(self, uri, channel, scored):
        for s in scored:
            seg_row = {"uri": uri, "channel": channel, "index": s.index,
                       "start_s": s.start_s, "end_s": s.end_s, "is_speech": s.is_speech,
                       "label": (self._labels[int(np.argmax(s.probs))]
                                 if s.probs is not None else None),
                       "run_id": self._run_id}
            values = s.probs if s.probs is not None else [None] * len(self._labels)
            seg_row.update(zip(tables.prob_columns(self._labels), values, strict=True))
            yield beam.pvalue.TaggedOutput("segments", seg_row)


def _scored(agg: dict | None) -> dict | None:
    """An aggregate that holds scored speech, else ``None`` (a call part's summary)."""
    return agg if agg is not None and agg["probs"] is not None else None


class BuildCallFn(beam.DoFn):
    """(uri, [ChannelCall, ...]) -> its ``calls/`` row, when at least one of
    its channels was scored (a recording none of whose channels was is in
    ``errors/`` only)."""

    def __init__(self, *, labels: tuple[str, ...], agent_channel: int, talk: TalkConfig,
                 model_version: str, architecture: str, run_id: str,
                 metadata_columns: tuple[str, ...] = ()) -> None:
        self._labels, self._agent, self._talk = labels, agent_channel, talk
        self._version, self._architecture, self._run_id = model_version, architecture, run_id
        self._extra = metadata_columns

    def process(self, element, metadata=None):
        uri, parts = element
        parts = sorted(parts, key=lambda part: part.channel)
        if all(part.summary is None for part in parts):
            return
        extra = call_metadata.lookup(metadata or {}, uri) or {}
        row = call_table.call_row(uri, parts, labels=self._labels, agent_channel=self._agent,
                                  talk=self._talk, call_id=extra.get(call_metadata.CALL_ID))
        row.update({c: extra.get(c) for c in self._extra})
        row.update({"model_version": self._version, "model_architecture": self._architecture,
                    "run_id": self._run_id, "scored_at": datetime.datetime.now(datetime.UTC)})
        yield row
