"""The single source of truth for data shapes: feature keys, the TFRecord
schema (a tensorflow_metadata Schema used with tfx-bsl), Parquet table
schemas and the dataset metadata. Every stage imports these; nobody
re-declares a feature list."""
