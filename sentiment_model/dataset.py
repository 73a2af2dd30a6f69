"""tf.data input pipelines over featurize shards, through the schema in schemas/.

The train statistics from ``metadata.json`` (:func:`normalization`) are
applied by the model itself, in its first layer
(``models.Standardize``), so the inputs here are the features as stored.
The one standardisation outside the model is per speaker: with
``normalize="speaker"`` each example's speaker columns (all, or the
cepstral coefficients from ``speaker_from`` on) are standardised with its
speaker's statistics (``speaker_stats`` in the metadata; the example's own
when the speaker is unknown), here for training and in
:func:`to_model_input` for scoring (with the channel's statistics); the
train statistics are then the identity on those columns.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import numpy as np

from schemas import features as fk
from schemas import metadata as meta
from sentiment_model import publish, storage
from sentiment_model.errors import InputError

STD_FLOOR = 1e-6


@dataclass(frozen=True)
class FeatureSet:
    """A featurize output directory, checked and loaded.

    ``shard_dir``: where the shards are read from, when not ``directory``
    (a local copy of an object-store directory).
    """

    directory: str
    metadata: dict
    schema_text: str
    shard_dir: str = ""

    @property
    def labels(self) -> list[str]:
        return list(self.metadata["label_vocabulary"])

    @property
    def feature_config(self) -> dict:
        return self.metadata["feature_config"]

    def examples(self, split: str) -> int:
        return int((self.metadata.get("examples") or {}).get(split, 0))

    def shard_files(self, split: str) -> list[str]:
        names = (self.metadata.get("shards") or {}).get(split, [])
        base = self.shard_dir or self.directory
        return [storage.join(base, name) for name in names]


def load_feature_set(directory: str, *, local_copy: str | None = None) -> FeatureSet:
    """Reads ``metadata.json`` and ``schema.pbtxt`` and checks the shards exist.

    Args:
        directory: a featurize output (local path or storage URL).
        local_copy: a local folder; when ``directory`` is not local, its
            shards are copied there and read from there (TensorFlow reads
            no ``s3://``, and ``gs://`` only on Google's own endpoint).

    Raises:
        InputError: missing files, another schema version, no shards.
        ConfigError: a featurize run stopped while publishing into it.
    """
    publish.check_finished(directory, what="--features")
    metadata_uri = storage.join(directory, meta.METADATA_FILE)
    if not storage.exists(metadata_uri):
        raise InputError(f"--features {directory}: no {meta.METADATA_FILE}; "
                         "is this a featurize output directory?")
    metadata = meta.loads(storage.read_text(metadata_uri), source=metadata_uri)
    schema_text = storage.read_text(storage.join(directory, meta.SCHEMA_FILE))
    features = FeatureSet(directory, metadata, schema_text)
    missing = [p for split in fk.SPLITS for p in features.shard_files(split)
               if not storage.exists(p)]
    if missing:
        raise InputError(f"--features {directory}: {len(missing)} shard(s) listed in "
                         f"{meta.METADATA_FILE} are missing, e.g. {missing[0]}")
    if local_copy is None or storage.is_local(directory):
        return features
    for split in fk.SPLITS:
        for uri in features.shard_files(split):
            storage.copy_to_local(uri, os.path.join(local_copy, storage.basename(uri)))
    return FeatureSet(directory, metadata, schema_text, shard_dir=local_copy)


def speaker_order(speakers, *, seed: int) -> list[str]:
    """``speakers`` in a deterministic order shuffled by ``seed`` (by the
    sha256 of seed and speaker: the same speaker keeps its place whatever
    the others are)."""
    return sorted(speakers, key=lambda s: hashlib.sha256(f"{seed}:{s}".encode()).hexdigest())


def holdout_speakers(speakers: list[str], *, share: float = 0.15, seed: int = 0) -> list[str]:
    """A deterministic, speaker-disjoint validation slice of the train speakers
    (at least one, and never all of them)."""
    if len(speakers) < 2:
        return []
    order = speaker_order(speakers, seed=seed)
    n = min(len(speakers) - 1, max(1, round(share * len(speakers))))
    return sorted(order[:n])


def normalization(metadata: dict) -> dict:
    """``{"frames": {"mean", "std"}, "pooled": {...}, "group": "none" | "speaker"}``
    from the train statistics; with speaker statistics also ``speaker_columns``
    (a bool per frame column), and the train statistics are the identity on
    those columns."""
    stats = metadata["train_stats"]
    out: dict = {key: {"mean": stats[key]["mean"],
                       "std": [max(s, STD_FLOOR) for s in stats[key]["std"]]}
                 for key in ("frames", "pooled")}
    out["group"] = "none"
    if metadata["feature_config"].get("normalize") == "speaker":
        columns = speaker_columns(metadata["feature_config"])
        frames = out["frames"]
        out["frames"] = {
            "mean": [0.0 if c else m for c, m in zip(columns, frames["mean"], strict=True)],
            "std": [1.0 if c else s for c, s in zip(columns, frames["std"], strict=True)],
        }
        out["group"] = "speaker"
        out["speaker_columns"] = list(columns)
    return out


def speaker_columns(feature_config: dict) -> tuple[bool, ...]:
    """``FeatureConfig.speaker_columns`` of a stored feature config."""
    from sentiment_model.config import FeatureConfig

    return FeatureConfig.from_dict(feature_config).speaker_columns


def masked_group(group: dict, columns: list[bool] | None) -> dict[str, np.ndarray]:
    """A speaker's ``{"mean", "std"}`` as arrays, the identity (0, 1) on the
    columns not standardised per speaker (``columns`` None: all are)."""
    mean = np.asarray(group["mean"], np.float64)
    std = np.maximum(np.asarray(group["std"], np.float64), STD_FLOOR)
    if columns is not None:
        keep = np.asarray(columns, bool)
        mean, std = np.where(keep, mean, 0.0), np.where(keep, std, 1.0)
    return {"mean": mean, "std": std}


def group_stats(frames: np.ndarray) -> dict[str, list[float]]:
    """``{"mean", "std"}`` per column of ``[n_frames, dims]`` (float64 sums),
    the statistics of one utterance, channel or speaker."""
    x = np.asarray(frames, np.float64)
    return {"mean": x.mean(axis=0).tolist(), "std": x.std(axis=0).tolist()}


def to_model_input(frames: np.ndarray, pooled: np.ndarray, *, input_kind: str,
                   norm: dict, group: dict | None = None) -> np.ndarray:
    """One example's model input, in numpy (the scoring path): the features
    in the model's input shape, standardised per speaker when the model was
    trained so (the train statistics are the model's first layer).

    Args:
        frames: ``[n_frames, frame_dims]``; pooled: ``[pooled_dims]``.
        norm: the model card's ``normalization``.
        group: ``{"mean", "std"}`` of the speaker or channel the frames come
            from, used when ``norm["group"] == "speaker"`` (the frames' own
            statistics when absent).
    Returns:
        ``[1, pooled_dims]`` (pooled_sequence), ``[n, n, 1]`` (image) or
        ``[n_frames, frame_dims]`` (frames), float32.
    """
    if input_kind == "pooled_sequence":
        return np.asarray(pooled, np.float32)[None, :]
    if norm.get("group", "none") == "speaker":
        stats = masked_group(group or group_stats(frames), norm.get("speaker_columns"))
        frames = (frames - stats["mean"]) / stats["std"]
    x = np.asarray(frames, np.float32)
    return x[:, :, None] if input_kind == "image" else x


def make_dataset(features: FeatureSet, split: str | tuple[str, ...], *, input_kind: str,
                 batch_size: int, shuffle: bool = False, seed: int = 0,
                 keep_speakers: list[str] | None = None,
                 drop_speakers: list[str] | None = None, holdout_hash: str | None = None,
                 keep_copies: tuple[str, ...] | None = None):
    """``tf.data.Dataset`` of ``(model input, label_id)`` batches for one split
    (or several, e.g. ``("train", "eval")``, read as one).

    Shards are read in parallel (interleave), parsed with the schema's
    feature spec, standardised per speaker when the features are (the train
    statistics are the model's), and batched: the frame sequences are
    bucketed by length and right-padded with zeros per batch.

    Args:
        keep_speakers / drop_speakers: restrict to / exclude these speakers.
        holdout_hash: ``"keep"`` or ``"drop"`` the ~15 % of examples whose
            recording id hashes into the holdout (when speakers are unknown).
        keep_copies: keep the original recordings and only the training
            copies whose augmentation name starts with one of these
            prefixes (e.g. ``("telephone",)``); None keeps every copy.
    """
    import tensorflow as tf

    splits = (split,) if isinstance(split, str) else tuple(split)
    files = [f for s in splits for f in features.shard_files(s)]
    if not files:
        raise InputError(f"--features {features.directory}: the {'+'.join(splits)} split has "
                         "no shards")
    compression = "GZIP" if files[0].endswith(".gz") else ""
    spec = fk.feature_spec(fk.schema_from_text(features.schema_text))
    norm = normalization(features.metadata)
    frame_dims = len(norm["frames"]["mean"])
    speaker_mean_std = _speaker_lookup(features.metadata) if norm["group"] == "speaker" else None

    ds = tf.data.Dataset.from_tensor_slices(files)
    ds = ds.interleave(lambda f: tf.data.TFRecordDataset(f, compression_type=compression),
                       cycle_length=min(4, len(files)), num_parallel_calls=tf.data.AUTOTUNE,
                       deterministic=True)
    ds = ds.map(lambda record: tf.io.parse_single_example(record, spec),
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.filter(lambda ex: ex[fk.LABEL_ID] >= 0)
    if keep_speakers is not None:
        keep = tf.constant(keep_speakers or [""], tf.string)
        ds = ds.filter(lambda ex: tf.reduce_any(tf.equal(ex[fk.SPEAKER], keep)))
    if drop_speakers:
        drop = tf.constant(drop_speakers, tf.string)
        ds = ds.filter(lambda ex: tf.logical_not(tf.reduce_any(tf.equal(ex[fk.SPEAKER], drop))))
    if keep_copies is not None:
        def wanted(ex):
            name = ex[fk.AUGMENTATION]
            keep = tf.equal(name, b"")
            for prefix in keep_copies:
                keep = tf.logical_or(keep, tf.equal(tf.strings.substr(name, 0, len(prefix)),
                                                    prefix))
            return keep
        ds = ds.filter(wanted)
    if holdout_hash is not None:
        def in_holdout(ex):
            return tf.strings.to_hash_bucket_fast(ex[fk.RECORDING_ID], 100) < 15
        ds = ds.filter(in_holdout if holdout_hash == "keep"
                       else lambda ex: tf.logical_not(in_holdout(ex)))

    def to_input(ex):
        label = tf.cast(ex[fk.LABEL_ID], tf.int32)
        if input_kind == "pooled_sequence":
            return ex[fk.POOLED][tf.newaxis, :], label
        x = tf.reshape(ex[fk.FRAMES], [-1, frame_dims])
        if speaker_mean_std is not None:
            x = speaker_mean_std(x, ex[fk.SPEAKER])
        return (x[:, :, tf.newaxis] if input_kind == "image" else x), label

    ds = ds.map(to_input, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if shuffle:
        ds = ds.shuffle(4096, seed=seed, reshuffle_each_iteration=True)
    if input_kind == "frames":
        ds = ds.bucket_by_sequence_length(
            lambda x, y: tf.shape(x)[0],
            bucket_boundaries=[200, 400, 800, 1600],
            bucket_batch_sizes=[batch_size] * 5,
            padded_shapes=([None, frame_dims], []),
            padding_values=(0.0, 0),
        )
    else:
        ds = ds.batch(batch_size)
    return ds.prefetch(tf.data.AUTOTUNE)


def _speaker_lookup(metadata: dict):
    """A tf function ``(frames [n, dims], speaker) -> frames`` whose speaker
    columns are standardised with the speaker's statistics from the metadata,
    or the frames' own when the speaker has none."""
    import tensorflow as tf

    stats = metadata.get("speaker_stats") or {}
    names = sorted(stats)
    keep = tf.constant(speaker_columns(metadata["feature_config"]), tf.bool)
    means = tf.constant([stats[n]["mean"] for n in names] or [[0.0]], tf.float32)
    stds = tf.constant([[max(s, STD_FLOOR) for s in stats[n]["std"]] for n in names]
                       or [[1.0]], tf.float32)
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant(names or [""], tf.string),
                                            tf.range(max(len(names), 1), dtype=tf.int64)),
        default_value=-1)

    def standardise(frames, speaker):
        index = table.lookup(speaker) if names else tf.constant(-1, tf.int64)
        known = tf.logical_and(index >= 0, tf.strings.length(speaker) > 0)
        row = tf.maximum(index, 0)
        mean = tf.where(known, tf.gather(means, row), tf.reduce_mean(frames, axis=0))
        std = tf.where(known, tf.gather(stds, row),
                       tf.maximum(tf.math.reduce_std(frames, axis=0), STD_FLOOR))
        mean = tf.where(keep, mean, tf.zeros_like(mean))  # other columns: train stats only
        std = tf.where(keep, std, tf.ones_like(std))
        return (frames - mean) / std

    return standardise
