"""Reading score outputs back for analysts (pyarrow.dataset + pandas).

Shared by ``report`` and ``evaluate``: the tables as written by ``score``,
with the ``run_date`` partition column when there is one.
"""

from __future__ import annotations

import numpy as np

from schemas import tables
from sentiment_model import publish, storage
from sentiment_model.errors import InputError

MIX = tables.MIX_CHANNEL  # a mono mix-down (files of earlier releases hold null)


def read_table(scores: str, table: str, *, run_date: str | None = None):
    """One score table as a pandas DataFrame (empty when the table has no rows).

    ``channel`` is an int column with :data:`MIX` for mono mixes; with
    partitions, ``run_date`` is a string column. Reads through
    :mod:`sentiment_model.storage`, so any store the jobs write is read
    (a ``run_date`` reads that partition's files only).

    Raises:
        InputError: ``scores`` holds no such table.
    """
    root = storage.join(scores, table)
    if not storage.is_dir(root):
        raise InputError(f"--scores {scores}: no {table}/ table (is this a score --output?)")
    publish.check_finished(scores, what="--scores")
    where = f"{tables.PARTITION_KEY}={run_date}" if run_date is not None else "**"
    files = [f.uri for f in storage.match(storage.join(root, where, "*.parquet"))]
    if run_date is not None and not files and not _partitioned(root):
        raise InputError(f"--scores {scores}: {table}/ has no run_date partitions")
    return read_parquet_files(files, root).reset_index(drop=True)


def _partitioned(root: str) -> bool:
    return any(f"/{tables.PARTITION_KEY}=" in f.uri[len(root):]
               for f in storage.match(storage.join(root, "**", "*.parquet")))


def _partition_of(uri: str, root: str) -> str | None:
    """The ``run_date`` of a file under ``root`` (``None`` when unpartitioned)."""
    for folder in uri[len(root):].strip("/").split("/")[:-1]:
        key, sep, value = folder.partition("=")
        if sep and key == tables.PARTITION_KEY:
            return value
    return None


def files_by_day(root: str, date_from: str | None = None,
                 date_to: str | None = None) -> dict[str | None, list[str]]:
    """``{run_date or None: [Parquet uris]}`` under ``root``, sorted by day:
    the partitions from ``date_from`` to ``date_to`` (inclusive, YYYY-MM-DD)
    and, under ``None``, every unpartitioned file (the caller filters its
    rows by date). Empty when ``root`` does not exist."""
    if not storage.is_dir(root):
        return {}
    out: dict[str | None, list[str]] = {}
    for info in storage.match(storage.join(root, "**", "*.parquet")):
        day = _partition_of(info.uri, root)
        if day is None or ((date_from is None or day >= date_from)
                           and (date_to is None or day <= date_to)):
            out.setdefault(day, []).append(info.uri)
    return dict(sorted(out.items(), key=lambda kv: kv[0] or ""))


def read_parquet_files(files: list[str], root: str, *, columns=None, uris=None):
    """The rows of ``files`` (Parquet under ``root``) as one DataFrame, with
    each Hive partition folder (``run_date=D``) as a string column and
    ``channel`` as ints (:data:`MIX` for mono mixes); only ``columns`` (a
    list: those each file has; or ``name -> bool``) and the rows of ``uris``
    when given.

    Raises:
        InputError: a file is not readable Parquet.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    parts = []
    for uri in files:
        try:
            with storage.open_read(uri) as f:
                parquet = pq.ParquetFile(f)
                names = parquet.schema_arrow.names
                if callable(columns):
                    wanted = [c for c in names if columns(c)]
                else:
                    wanted = None if columns is None else [c for c in columns if c in names]
                if uris is not None and wanted is not None and "uri" not in wanted:
                    wanted.append("uri")
                part = parquet.read(columns=wanted)
        except (pa.ArrowException, OSError) as e:
            raise InputError(f"{uri}: not a readable Parquet file ({e}); score writes "
                             "these, so move aside what another program left there") from e
        if uris is not None:
            part = part.filter(pc.is_in(part.column("uri"), value_set=pa.array(sorted(uris),
                                                                                pa.string())))
        for folder in uri[len(root):].strip("/").split("/")[:-1]:
            key, sep, value = folder.partition("=")
            if sep:
                part = part.append_column(key, pa.array([value] * part.num_rows, pa.string()))
        parts.append(part)
    if not parts:
        return pd.DataFrame()
    frame = pa.concat_tables(parts, promote_options="default").to_pandas()
    if "channel" in frame.columns:
        frame["channel"] = frame["channel"].fillna(MIX).astype(int)
    return frame


def class_names(frame) -> list[str]:
    """Class names from the ``p_<class>`` columns, in column order."""
    return [c[2:] for c in frame.columns if c.startswith("p_")]


def valence(frame) -> np.ndarray | None:
    """``p_positive - p_negative`` per row (``[-1, 1]``), or ``None`` when the
    vocabulary lacks either class."""
    if "p_positive" not in frame.columns or "p_negative" not in frame.columns:
        return None
    return (frame["p_positive"] - frame["p_negative"]).to_numpy(dtype=float)
