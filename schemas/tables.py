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
