"""Parquet table schemas (pyarrow)."""

import pyarrow as pa

# One row per rejected input, in every job's ``errors/`` output.
ERRORS_SCHEMA = pa.schema(
    [
        pa.field("uri", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("error_type", pa.string(), nullable=False),
        pa.field("message", pa.string(), nullable=False),
    ]
)
ERROR_COLUMNS = tuple(ERRORS_SCHEMA.names)

# ------------------------------------------------------------------ scoring
# Tables written by the score job. Per-class columns depend on the model's
# label vocabulary: ``p_<class>`` and ``share_<class>``. With ``--run-date``
# the tables are Hive-partitioned (``run_date=YYYY-MM-DD/``) and readers get
# ``run_date`` from the partition path.
FILES_TABLE = "files"
SEGMENTS_TABLE = "segments"
ERRORS_TABLE = "errors"
PARTITION_KEY = "run_date"


def class_column(prefix: str, label: str) -> str:
    """``p_negative``-style column name of a class (non [a-z0-9_] -> ``_``)."""
    clean = "".join(ch if ch.isalnum() and ch.isascii() else "_" for ch in label.lower())
    return f"{prefix}_{clean}"


def prob_columns(labels) -> list[str]:
    return [class_column("p", label) for label in labels]


def share_columns(labels) -> list[str]:
    return [class_column("share", label) for label in labels]


def files_schema(labels) -> pa.Schema:
    """One row per scored recording channel."""
    return pa.schema(
        [
            pa.field("uri", pa.string(), nullable=False),
            pa.field("channel", pa.int32()),  # null for a mono mix-down
            pa.field("duration_s", pa.float64(), nullable=False),
            pa.field("sample_rate", pa.int32(), nullable=False),
            pa.field("speech_s", pa.float64(), nullable=False),
            pa.field("silence_ratio", pa.float64(), nullable=False),
            pa.field("loudness_dbfs", pa.float64(), nullable=False),
            pa.field("label", pa.string(), nullable=False),
            pa.field("confidence", pa.float64(), nullable=False),
            *[pa.field(name, pa.float64(), nullable=False) for name in prob_columns(labels)],
            pa.field("n_segments", pa.int32(), nullable=False),
            pa.field("n_speech_segments", pa.int32(), nullable=False),
            *[pa.field(name, pa.float64(), nullable=False) for name in share_columns(labels)],
            pa.field("first_quarter_label", pa.string()),
            pa.field("last_quarter_label", pa.string()),
            pa.field("n_changes", pa.int32(), nullable=False),
            pa.field("model_version", pa.string(), nullable=False),
            pa.field("model_architecture", pa.string(), nullable=False),
            pa.field("run_id", pa.string(), nullable=False),
            pa.field("scored_at", pa.timestamp("us", tz="UTC"), nullable=False),
        ]
    )


def segments_schema(labels) -> pa.Schema:
    """One row per window of a scored recording channel."""
    return pa.schema(
        [
            pa.field("uri", pa.string(), nullable=False),
            pa.field("channel", pa.int32()),
            pa.field("index", pa.int32(), nullable=False),
            pa.field("start_s", pa.float64(), nullable=False),
            pa.field("end_s", pa.float64(), nullable=False),
            pa.field("is_speech", pa.bool_(), nullable=False),
            pa.field("label", pa.string()),  # null for non-speech windows
            *[pa.field(name, pa.float64()) for name in prob_columns(labels)],
            pa.field("run_id", pa.string(), nullable=False),
        ]
    )
