"""The featurize job's elements, DoFns and combiners (wired up in featurize.py).

Module-level classes only, so that they pickle by name on every runner.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue

from pipelines import labels, stats
from pipelines.process import skip_gc_at_exit
from pipelines.progress import Progress
from schemas import features as fk
from schemas import metadata as meta
from schemas.tables import error_row
from sentiment_model import featurizing, storage
from sentiment_model.augment import AugmentConfig
from sentiment_model.config import FeatureConfig
from sentiment_model.errors import RejectedInput, describe
from sentiment_model.features import mel_filters
from sentiment_model.featurizing import NO_AUGMENTATION, AudioItem, DecodedItem, FeatureExample

JOB = "featurize"
ENCODE_BATCH = 32  # examples per Arrow batch and tfx-bsl call in EncodeExamples,
ENCODE_BATCH_BYTES = 16 * 2**20  # or fewer when their frames pass 16 MiB (long recordings)


# ================================================================== elements
# AudioItem (input file), DecodedItem (its audio) and FeatureExample (one
# example) are sentiment_model.featurizing's, the per-recording core.


# ==================================================================== DoFns
class KeyByName(beam.DoFn):
    """uri -> (base name, uri): the join key with label rows."""

    def process(self, uri: str):
        yield storage.basename(uri), uri


class KeyRowByName(beam.DoFn):
    def process(self, row: labels.LabelRow):
        yield row.name, row


class JoinLabelsFn(beam.DoFn):
    """(name, {"files", "rows"}) -> AudioItem per labelled file; errors tagged."""

    def __init__(self, *, vocabulary: tuple[str, ...], speaker_splits: dict[str, str],
                 ratios: dict[str, float], seed: int) -> None:
        self._vocabulary = vocabulary
        self._speaker_splits = speaker_splits
        self._ratios, self._seed = ratios, seed

    def setup(self):
        self._ids = {name: i for i, name in enumerate(self._vocabulary)}

    def process(self, element):
        name, groups = element
        pairs, errors = labels.match_rows_to_files(name, groups["files"], groups["rows"])
        for row in errors:
            yield beam.pvalue.TaggedOutput("errors", row)
        for uri, row in pairs:
            if row.split:
                split = row.split
            elif row.speaker and row.speaker in self._speaker_splits:
                split = self._speaker_splits[row.speaker]
            else:
                split = labels.hash_split(row.name, self._ratios, self._seed)
            yield AudioItem(uri=uri, split=split, label=row.label,
                            label_id=self._ids[row.label], speaker=row.speaker)


class UnlabelledItemFn(beam.DoFn):
    def __init__(self, *, ratios: dict[str, float], seed: int) -> None:
        self._ratios, self._seed = ratios, seed

    def process(self, uri: str):
        yield AudioItem(uri=uri, split=labels.hash_split(storage.basename(uri), self._ratios,
                                                         self._seed))


class ReadAudioFn(beam.DoFn):
    """AudioItem -> DecodedItem: reads the bytes and decodes the whole file."""

    def __init__(self, *, total: int, interval_s: float, board: str | None = None) -> None:
        self._total, self._interval, self._board = total, interval_s, board

    def setup(self):
        skip_gc_at_exit()  # this worker process exits seconds sooner
        self._progress = Progress(JOB, self._total, interval_s=self._interval,
                                  board=self._board)

    def process(self, item: AudioItem):
        out = self._read(item)
        self._progress.update(audio_s=out.audio.duration_s
                              if isinstance(out, DecodedItem) else 0.0)
        yield out

    def _read(self, item: AudioItem):
        """The decoded file, or its error row (tagged ``errors``)."""
        problem = storage.local_file_problem(item.uri)
        if problem is not None:
            return beam.pvalue.TaggedOutput("errors", error_row(item.uri, "read",
                                                                       *problem))
        try:
            data = storage.read_bytes(item.uri)
        except Exception as exc:
            return beam.pvalue.TaggedOutput("errors", error_row(
                item.uri, "read", "read_failed", describe(exc)))
        try:
            return featurizing.read_recording(item, data)
        except RejectedInput as exc:
            return beam.pvalue.TaggedOutput("errors", error_row(
                item.uri, exc.stage, exc.error_type, exc.message))

    def teardown(self):
        progress = getattr(self, "_progress", None)
        if progress is not None:
            progress.close()


class ComputeFeaturesFn(beam.DoFn):
    """DecodedItem -> FeatureExample per channel (mix-down or each channel), plus
    augmented copies of train-split examples when augmentation is configured."""

    def __init__(self, *, feature: FeatureConfig, channels: str,
                 augment: AugmentConfig = NO_AUGMENTATION) -> None:
        self._feature, self._channels, self._augment = feature, channels, augment
        # built here, at pipeline construction, and pickled with the DoFn: a
        # worker process that built them would first import librosa's
        # filters, numba and scipy.signal (~2.4 s with the MFCC path's imports)
        self._filters = mel_filters(feature)

    def process(self, decoded: DecodedItem):
        for out in featurizing.recording_examples(decoded, feature=self._feature,
                                                  channels=self._channels,
                                                  augment=self._augment, filters=self._filters):
            if isinstance(out, featurizing.ChannelFailure):
                yield beam.pvalue.TaggedOutput("errors", error_row(
                    decoded.item.uri, "features", out.error_type, out.message))
            else:
                yield out


class EncodeExampleFn(beam.DoFn):
    """FeatureExample -> serialized tf.train.Example, validated against the
    schema and encoded by tfx-bsl, on the output tagged with its split
    (``train``, ``eval``, ``test``). Other tagged outputs: ``summary``
    (stats.ExampleSummary), ``written`` (uri), ``errors``.

    Each example is validated on arrival; valid ones are encoded
    ``batch_size`` at a time (packing and encoding 32 examples at once costs
    less than half as much per example as one at a time), or as soon as the
    pending frames reach ``batch_bytes`` (an hour-long call alone is ~58 MB
    of frames). Outputs keep each example's window and timestamp. If a batch
    fails to encode, its examples are encoded one by one so that only the bad
    ones land in errors.
    """

    def __init__(self, *, schema_text: str, batch_size: int = ENCODE_BATCH,
                 batch_bytes: int = ENCODE_BATCH_BYTES) -> None:
        self._schema_text = schema_text
        self._batch_size, self._batch_bytes = batch_size, batch_bytes

    def setup(self):
        from tfx_bsl.coders import example_coder

        self._schema = fk.schema_from_text(self._schema_text)
        self._validate = fk.ExampleValidator(self._schema)
        self._arrow = fk.arrow_schema(self._schema)
        self._encoder = example_coder.RecordBatchToExamplesEncoder(self._schema)

    def start_bundle(self):
        self._pending: list[tuple[FeatureExample, Any, Any]] = []
        self._pending_bytes = 0

    def process(self, example: FeatureExample, timestamp=beam.DoFn.TimestampParam,
                window=beam.DoFn.WindowParam):
        try:
            self._validate(example.features)
        except RejectedInput as exc:
            yield beam.pvalue.TaggedOutput("errors", error_row(
                example.features[fk.URI].decode(), exc.stage, exc.error_type, exc.message))
            return
        self._pending.append((example, timestamp, window))
        self._pending_bytes += getattr(example.features[fk.FRAMES], "nbytes", 0)
        if len(self._pending) >= self._batch_size or self._pending_bytes >= self._batch_bytes:
            yield from self._flush()

    def finish_bundle(self):
        yield from self._flush()

    def _encode(self, examples: list[FeatureExample]) -> list[bytes]:
        batch = fk.to_record_batch([e.features for e in examples], self._schema,
                                   target=self._arrow)
        return self._encoder.encode(batch)

    def _flush(self):
        pending, self._pending, self._pending_bytes = self._pending, [], 0
        if not pending:
            return
        try:
            encoded = self._encode([example for example, _, _ in pending])
        except Exception:  # find the culprits one by one
            encoded = []
            for example, _, _ in pending:
                try:
                    encoded.append(self._encode([example])[0])
                except Exception as exc:
                    encoded.append(exc)
        for (example, timestamp, window), serialized in zip(pending, encoded, strict=True):
            for tag, value in self._outputs(example, serialized):
                yield beam.pvalue.TaggedOutput(
                    tag, WindowedValue(value, timestamp, (window,)))

    @staticmethod
    def _outputs(example: FeatureExample, serialized: bytes | Exception):
        f = example.features
        uri = f[fk.URI].decode()
        if isinstance(serialized, Exception):  # never lose the record
            yield "errors", error_row(uri, "encode", "encode_failed",
                                             describe(serialized))
            return
        split = f[fk.SPLIT].decode()  # one of fk.SPLITS: the schema's domain
        yield split, serialized
        yield "written", uri
        yield "summary", stats.ExampleSummary(
            split=split, label=f[fk.LABEL].decode(), speaker=f[fk.SPEAKER].decode(),
            duration_s=f[fk.DURATION_S],
            frames=f[fk.FRAMES], pooled=f[fk.POOLED], fingerprint=example.fingerprint,
            augmented=bool(f[fk.AUGMENTATION]))


def keyed_by_uri(element: str | dict) -> tuple[str, None]:
    """uri -> (uri, None), or error row -> (its uri, None), for the accounting
    join; keyed as the outputs hold the uri (credentials redacted)."""
    return storage.redact(element["uri"] if isinstance(element, dict) else element), None


def error_type(row: dict) -> str:
    return row["error_type"]


class WriteMetadataFn(beam.DoFn):
    """Writes metadata.json, schema.pbtxt and feature_config.json once."""

    def __init__(self, *, output: str, static: dict, schema_text: str,
                 feature_config: dict) -> None:
        self._output, self._static = output, static
        self._schema_text, self._feature_config = schema_text, feature_config

    def process(self, _, dataset_stats, accounting, error_counts, shards):
        data = dict(self._static)
        data.update(dataset_stats)
        data["created_at"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        data["accounting"] = {key: int(accounting.get(key, 0))
                              for key in ("matched", "written", "rejected", "lost")}
        data["errors"] = dict(sorted(error_counts.items()))
        by_split: dict[str, list[str]] = {}
        for split, name in sorted(shards):
            by_split.setdefault(split, []).append(name)
        data["shards"] = by_split
        storage.write_text(storage.join(self._output, meta.SCHEMA_FILE), self._schema_text)
        storage.write_text(storage.join(self._output, meta.FEATURE_CONFIG_FILE),
                           json.dumps(self._feature_config, indent=2) + "\n")
        storage.write_text(storage.join(self._output, meta.METADATA_FILE),
                           storage.redact(meta.dumps(data)))
        yield data


class AccountingFn(beam.CombineFn):
    """Counts outcomes from stats.classify_input into {"matched", "written", ...}."""

    def create_accumulator(self):
        return {}

    def add_input(self, acc, outcome: str):
        acc[outcome] = acc.get(outcome, 0) + 1
        if outcome != "label_only":
            acc["matched"] = acc.get("matched", 0) + 1
        return acc

    def merge_accumulators(self, accumulators):
        out: dict[str, int] = {}
        for acc in accumulators:
            for key, n in acc.items():
                out[key] = out.get(key, 0) + n
        return out

    def extract_output(self, acc):
        return acc


