"""``metadata.json``: what a featurize run wrote, next to its shards.

Readers (the training job) check ``schema_version`` before trusting the
shards, and take the feature config, the label vocabulary and the train
statistics from here.
"""

from __future__ import annotations

import json
from typing import Any

from schemas.features import SCHEMA_VERSION
from sentiment_model.errors import InputError

METADATA_FILE = "metadata.json"
SCHEMA_FILE = "schema.pbtxt"
FEATURE_CONFIG_FILE = "feature_config.json"
ERRORS_DIR = "errors"

# Top-level keys of metadata.json, in the order they are written.
METADATA_KEYS = (
    "schema_version",  # int, SCHEMA_VERSION of the writer
    "created_at",  # ISO-8601 UTC time the metadata was written
    "input",  # the --input given
    "labels_uri",  # the --labels given, or null
    "channels",  # "mix" | "split"
    "feature_config",  # FeatureConfig.to_dict()
    "label_vocabulary",  # [class name, ...]; label_id indexes it
    "label_map",  # {raw label: class} or null
    "split_source",  # "column" | "speaker" | "file_hash"
    "split_ratios",  # {"train": r, "eval": r, "test": r}
    "accounting",  # {matched, written, rejected, lost}: files
    "augment",  # AugmentConfig.to_dict(): augmentation of the train split
    "examples",  # {split: number of examples, augmented copies included}
    "augmented_examples",  # {split: augmented copies among the examples}
    "counts",  # {split: {label: number of examples}}
    "audio_seconds",  # {split: seconds of audio in the examples}
    "total_audio_seconds",  # float
    "speakers",  # {split: [speaker, ...]}
    "errors",  # {error_type: rows in errors/}
    "train_stats",  # {"frames": {count, mean, std}, "pooled": {count, mean, std}}
    "speaker_stats",  # {speaker: {count, mean, std}} of frames, or null (normalize=speaker)
    "input_fingerprint",  # sha256 over (uri, content sha256) of written inputs
    "shards",  # {split: [file name, ...]}
)


def dumps(metadata: dict[str, Any]) -> str:
    ordered = {key: metadata.get(key) for key in METADATA_KEYS}
    return json.dumps(ordered, indent=2, sort_keys=False) + "\n"


def loads(text: str, *, source: str = METADATA_FILE) -> dict[str, Any]:
    """Parses metadata and checks that this code can read it.

    Raises:
        InputError: not JSON, or written with another schema version.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source} is not valid JSON: {exc}") from None
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise InputError(
            f"{source} has schema_version={version!r}; this code reads version "
            f"{SCHEMA_VERSION}. Re-run featurize with this version."
        )
    return data
