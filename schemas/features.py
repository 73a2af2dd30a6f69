"""Feature keys and the TFRecord (``tf.train.Example``) schema.

The schema is a tensorflow_metadata ``Schema`` proto. ``featurize`` writes it
as ``schema.pbtxt`` next to the shards, validates every example against it
before encoding with tfx-bsl's ``RecordBatchToExamplesEncoder``, and readers
decode with tfx-bsl (``ExamplesToRecordBatchDecoder`` or TFXIO) from the
same file.

One example is one utterance channel (a lhotse-style segment): the keys
``recording_id``, ``uri``, ``channel`` and ``start_s`` identify it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pyarrow as pa
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from sentiment_model.errors import RejectedInput

SCHEMA_VERSION = 1

# ---------------------------------------------------------------- feature keys
RECORDING_ID = "recording_id"  # bytes: stable id of the recording
URI = "uri"  # bytes: where the audio was read from
CHANNEL = "channel"  # int: channel index, -1 for a mono mix-down
START_S = "start_s"  # float: segment start in the recording (seconds)
DURATION_S = "duration_s"  # float: segment duration (seconds)
SOURCE_SAMPLE_RATE = "source_sample_rate"  # int: the file's own rate (Hz)
SPEAKER = "speaker"  # bytes: speaker id, empty when unknown
SPLIT = "split"  # bytes: train / eval / test
LABEL = "label"  # bytes: class name after the label map, empty if unlabelled
LABEL_ID = "label_id"  # int: index in the label vocabulary, -1 if unlabelled
AUGMENTATION = "augmentation"  # bytes: "" for original audio, else e.g. "noise1@12dB"
FRAMES = "frames"  # float: [n_frames * frame_dims], time-major frame sequence
N_FRAMES = "n_frames"  # int: number of frames
POOLED = "pooled"  # float: [pooled_dims] time-pooled vector

SPLITS = ("train", "eval", "test")
UNLABELLED_ID = -1

_SCALARS: tuple[tuple[str, int], ...] = (
    (RECORDING_ID, schema_pb2.BYTES),
    (URI, schema_pb2.BYTES),
    (CHANNEL, schema_pb2.INT),
    (START_S, schema_pb2.FLOAT),
    (DURATION_S, schema_pb2.FLOAT),
    (SOURCE_SAMPLE_RATE, schema_pb2.INT),
    (SPEAKER, schema_pb2.BYTES),
    (SPLIT, schema_pb2.BYTES),
    (LABEL, schema_pb2.BYTES),
    (LABEL_ID, schema_pb2.INT),
    (AUGMENTATION, schema_pb2.BYTES),
    (N_FRAMES, schema_pb2.INT),
)
FEATURE_KEYS: tuple[str, ...] = (*(k for k, _ in _SCALARS), FRAMES, POOLED)

_ARROW_VALUE_TYPES = {
    schema_pb2.BYTES: pa.large_binary(),
    schema_pb2.INT: pa.int64(),
    schema_pb2.FLOAT: pa.float32(),
}


def build_schema(*, frame_dims: int, pooled_dims: int,
                 labels: Sequence[str] = ()) -> schema_pb2.Schema:
    """The example schema for one feature configuration.

    Args:
        frame_dims: values per frame in ``frames``.
        pooled_dims: length of ``pooled``.
        labels: the label vocabulary; becomes the domain of ``label``
            (the empty string, for unlabelled examples, is always allowed).
    """
    schema = schema_pb2.Schema()
    for name, ftype in _SCALARS:
        feature = schema.feature.add(name=name, type=ftype)
        feature.presence.min_fraction = 1.0
        feature.value_count.min = 1
        feature.value_count.max = 1
    split = next(f for f in schema.feature if f.name == SPLIT)
    split.string_domain.name = SPLIT
    split.string_domain.value.extend(SPLITS)
    if labels:
        label = next(f for f in schema.feature if f.name == LABEL)
        label.string_domain.name = LABEL
        label.string_domain.value.extend(["", *labels])
    frames = schema.feature.add(name=FRAMES, type=schema_pb2.FLOAT)
    frames.presence.min_fraction = 1.0
    frames.value_count.min = frame_dims
    pooled = schema.feature.add(name=POOLED, type=schema_pb2.FLOAT)
    pooled.presence.min_fraction = 1.0
    pooled.shape.dim.add(size=pooled_dims)
    # Sequence models read `frames` as a RaggedTensor [batch, (time), frame_dims].
    group = schema.tensor_representation_group[""]
    ragged = group.tensor_representation[FRAMES].ragged_tensor
    ragged.feature_path.step.append(FRAMES)
    ragged.partition.add(uniform_row_length=frame_dims)
    group.tensor_representation[POOLED].dense_tensor.column_name = POOLED
    group.tensor_representation[POOLED].dense_tensor.shape.dim.add(size=pooled_dims)
    return schema


def frame_dims_of(schema: schema_pb2.Schema) -> int:
    return _feature(schema, FRAMES).value_count.min


def pooled_dims_of(schema: schema_pb2.Schema) -> int:
    return _feature(schema, POOLED).shape.dim[0].size


def schema_to_text(schema: schema_pb2.Schema) -> str:
    return text_format.MessageToString(schema)


def schema_from_text(text: str) -> schema_pb2.Schema:
    return text_format.Parse(text, schema_pb2.Schema())


def arrow_schema(schema: schema_pb2.Schema) -> pa.Schema:
    """The Arrow schema tfx-bsl uses for these examples (one list per feature)."""
    return pa.schema(
        [pa.field(f.name, pa.large_list(_ARROW_VALUE_TYPES[f.type])) for f in schema.feature]
    )


def _feature(schema: schema_pb2.Schema, name: str) -> schema_pb2.Feature:
    for feature in schema.feature:
        if feature.name == name:
            return feature
    raise KeyError(name)


class _Rule(NamedTuple):
    name: str
    type: int
    size: int | None  # values required by a fixed shape
    min_count: int | None  # value_count bounds (max 0: unbounded)
    max_count: int
    domain: frozenset[bytes]


class ExampleValidator:
    """Checks examples against a schema before they are written.

    The schema is read once; calling the validator on an example raises
    ``RejectedInput`` (``schema_violation``, naming the feature and the
    problem) or returns None. An example maps each feature name to a scalar,
    a sequence or an ndarray.
    """

    def __init__(self, schema: schema_pb2.Schema) -> None:
        self._rules = [
            _Rule(
                name=f.name,
                type=f.type,
                size=int(np.prod([d.size for d in f.shape.dim])) if f.HasField("shape") else None,
                min_count=f.value_count.min if f.HasField("value_count") else None,
                max_count=f.value_count.max if f.HasField("value_count") else 0,
                domain=frozenset(v.encode() for v in f.string_domain.value),
            )
            for f in schema.feature
        ]
        self._names = frozenset(rule.name for rule in self._rules)
        self._frame_dims = frame_dims_of(schema)

    def __call__(self, example: Mapping[str, object]) -> None:
        def fail(message: str) -> RejectedInput:
            return RejectedInput("schema_violation", message, stage="encode")

        extra = set(example) - self._names
        if extra:
            raise fail(f"features not in the schema: {', '.join(sorted(extra))}")
        for rule in self._rules:
            if rule.name not in example:
                raise fail(f"feature {rule.name!r} is missing")
            value = example[rule.name]
            array = value if isinstance(value, np.ndarray) else None
            values = None if array is not None else _as_list(value)
            n = array.size if array is not None else len(values)
            if rule.size is not None and n != rule.size:
                raise fail(f"feature {rule.name!r} has {n} values, the schema says {rule.size}")
            if rule.min_count is not None and (
                    n < rule.min_count or (rule.max_count and n > rule.max_count)):
                raise fail(f"feature {rule.name!r} has {n} values, the schema allows "
                           f"{rule.min_count}..{rule.max_count or 'any'}")
            if rule.type == schema_pb2.BYTES:
                values = values if values is not None else array.reshape(-1).tolist()
                if not all(isinstance(v, bytes) for v in values):
                    raise fail(f"feature {rule.name!r} must hold bytes")
                if rule.domain and any(v not in rule.domain for v in values):
                    raise fail(f"feature {rule.name!r} value {values[0]!r} is outside its "
                               "domain")
            elif rule.type == schema_pb2.INT:
                ok = (np.issubdtype(array.dtype, np.integer) if array is not None
                      else all(isinstance(v, (int, np.integer)) for v in values))
                if not ok:
                    raise fail(f"feature {rule.name!r} must hold integers")
            else:
                floats = array if array is not None else np.asarray(values, dtype=np.float64)
                if not np.issubdtype(floats.dtype, np.floating) and not np.issubdtype(
                        floats.dtype, np.integer):
                    raise fail(f"feature {rule.name!r} must hold numbers")
                if not np.isfinite(floats).all():
                    raise fail(f"feature {rule.name!r} holds NaN or infinite values")
        n_frames = _as_list(example[N_FRAMES])[0]
        frames = example[FRAMES]
        n_values = frames.size if isinstance(frames, np.ndarray) else len(_as_list(frames))
        if n_values != n_frames * self._frame_dims:
            raise fail(f"feature 'frames' has {n_values} values, expected "
                       f"n_frames={n_frames} x {self._frame_dims}")


def _as_list(value: object) -> list:
    if isinstance(value, np.ndarray):
        return value.reshape(-1).tolist()
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def to_record_batch(examples: Sequence[Mapping[str, object]], schema: schema_pb2.Schema, *,
                    target: pa.Schema | None = None) -> pa.RecordBatch:
    """Packs examples into the Arrow layout tfx-bsl encodes and decodes.

    A feature is an ndarray in every example (any shape, flattened) or a
    scalar or list in every example. ``target`` is ``arrow_schema(schema)``,
    for callers that encode many batches. No examples give an empty batch.
    """
    target = target if target is not None else arrow_schema(schema)
    n = len(examples)
    if n == 0:
        return pa.RecordBatch.from_pylist([], schema=target)
    one_each = pa.array(np.arange(n + 1, dtype=np.int64))
    columns = []
    for field in target:
        value_type = field.type.value_type
        parts = [example[field.name] for example in examples]
        if all(isinstance(v, np.ndarray) for v in parts):
            flat_np = [v.reshape(-1) for v in parts]
            offsets = _offsets([v.size for v in flat_np])
            flat = pa.array(np.concatenate(flat_np) if n > 1 else flat_np[0], type=value_type)
        elif not any(isinstance(v, (list, tuple, np.ndarray)) for v in parts):
            offsets, flat = one_each, pa.array(parts, type=value_type)
        else:
            lists = [_as_list(v) for v in parts]
            offsets = _offsets([len(v) for v in lists])
            flat = pa.array([x for values in lists for x in values], type=value_type)
        columns.append(pa.LargeListArray.from_arrays(offsets, flat))
    return pa.RecordBatch.from_arrays(columns, schema=target)


def _offsets(lengths: list[int]) -> pa.Array:
    """Arrow list offsets (int64) for rows of these lengths."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return pa.array(offsets)


def record_batch_to_examples(batch: pa.RecordBatch) -> list[dict[str, np.ndarray]]:
    """Unpacks a decoded RecordBatch into one dict of numpy arrays per example."""
    out: list[dict[str, np.ndarray]] = [{} for _ in range(batch.num_rows)]
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        for i, row in enumerate(column.to_pylist()):
            values = row if row is not None else []
            if values and isinstance(values[0], bytes):
                out[i][name] = np.array(values, dtype=object)
            else:
                out[i][name] = np.asarray(values)
    return out


def feature_spec(schema: schema_pb2.Schema) -> dict:
    """``tf.io.parse_example`` spec derived from the schema (no second feature list).

    Scalars and fixed shapes become ``FixedLenFeature``; ``frames`` (variable
    length) becomes a ``RaggedFeature``.
    """
    import tensorflow as tf

    dtypes = {schema_pb2.BYTES: tf.string, schema_pb2.INT: tf.int64,
              schema_pb2.FLOAT: tf.float32}
    spec = {}
    for feature in schema.feature:
        dtype = dtypes[feature.type]
        if feature.HasField("shape"):
            spec[feature.name] = tf.io.FixedLenFeature([d.size for d in feature.shape.dim], dtype)
        elif feature.value_count.max == 1:
            spec[feature.name] = tf.io.FixedLenFeature([], dtype)
        else:
            spec[feature.name] = tf.io.RaggedFeature(dtype)
    return spec
