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
    frame = _read_parquet_files(files, root)
    if "channel" in frame.columns:
        frame["channel"] = frame["channel"].fillna(MIX).astype(int)
    return frame.reset_index(drop=True)


def _partitioned(root: str) -> bool:
    return any(f"/{tables.PARTITION_KEY}=" in f.uri[len(root):]
               for f in storage.match(storage.join(root, "**", "*.parquet")))


def _read_parquet_files(files: list[str], root: str):
    """The rows of ``files`` (Parquet under ``root``) as one DataFrame, with
    each Hive partition folder (``run_date=D``) as a string column."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = []
    for uri in files:
        with storage.open_read(uri) as f:
            part = pq.read_table(f)
        for folder in uri[len(root):].strip("/").split("/")[:-1]:
            key, sep, value = folder.partition("=")
            if sep:
                part = part.append_column(key, pa.array([value] * part.num_rows, pa.string()))
        parts.append(part)
    if not parts:
        return pd.DataFrame()
    return pa.concat_tables(parts, promote_options="default").to_pandas()


def class_names(frame) -> list[str]:
    """Class names from the ``p_<class>`` columns, in column order."""
    return [c[2:] for c in frame.columns if c.startswith("p_")]


def valence(frame) -> np.ndarray | None:
    """``p_positive - p_negative`` per row (``[-1, 1]``), or ``None`` when the
    vocabulary lacks either class."""
    if "p_positive" not in frame.columns or "p_negative" not in frame.columns:
        return None
    return (frame["p_positive"] - frame["p_negative"]).to_numpy(dtype=float)


def quarter_trends(files, segments):
    """Valence of the first and the last quarter of each scored channel.

    Returns:
        ``files`` keys (uri, channel[, run_date]) plus ``valence_first``,
        ``valence_last`` and ``valence_change`` (last minus first); ``None``
        when the vocabulary has no positive/negative classes.
    """
    import pandas as pd

    seg_valence = valence(segments)
    if seg_valence is None or files.empty:
        return None
    keys = ["uri", "channel"] + (["run_date"] if "run_date" in files.columns else [])
    seg = segments.assign(valence=seg_valence)
    seg = seg[seg["is_speech"] & seg["valence"].notna()]
    seg = seg.merge(files[[*keys, "duration_s"]], on=keys)
    first = seg[seg["start_s"] < seg["duration_s"] / 4].groupby(keys)["valence"].mean()
    last = seg[seg["end_s"] > 3 * seg["duration_s"] / 4].groupby(keys)["valence"].mean()
    out = pd.DataFrame({"valence_first": first, "valence_last": last}).dropna().reset_index()
    out["valence_change"] = out["valence_last"] - out["valence_first"]
    return out
