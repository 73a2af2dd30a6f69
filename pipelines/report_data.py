"""What ``report`` shows, aggregated one run-date partition at a time, so
that a year of nightly partitions is summarised in the memory of one night
plus small per-day and per-agent totals.

:func:`summarise` reads, for each day in the range, only the columns it
needs of ``files/``, ``calls/`` and ``errors/``; the calls it lists are read
back whole, and their windows from ``segments/``, by :func:`call_detail`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipelines import analysis
from schemas import tables
from sentiment_model import storage
from sentiment_model.errors import InputError

NO_DATE = "(no run date)"
ERROR_ROWS_SHOWN = 200
FILE_COLUMNS = ("uri", "channel", "role", "duration_s", "speech_s", "scored_at")
CALL_COLUMNS = ["call_id", "uri", "agent_id", "customer_q1_valence", "customer_q4_valence",
                "customer_label", "non_talk_share", "agent_interruptions", "agent_talk_share",
                "scored_at"]


def _file_column(name: str) -> bool:
    return name in FILE_COLUMNS or name.startswith(("share_", "p_"))


@dataclass
class Summary:
    """The report's numbers.

    Attributes:
        classes: the model's classes (from the ``p_*`` columns).
        volume: one row per day: recordings, channels, recording_h,
            channel_h, speech_h, rejected.
        by_day / by_role: speech seconds per class, per day / per role
            (``agent``, ``customer``, ``mono mix``, or ``channel N``).
        agents: one row per ``agent_id`` (``None`` without that column).
        fell / rose: the calls whose customer valence fell / rose most
            from the first to the last quarter (``None`` without ``calls/``).
        error_counts / error_rows: rejected inputs per day and type, and
            the first :data:`ERROR_ROWS_SHOWN` of them.
        n_errors: rejected rows in all.
    """

    classes: list[str]
    volume: object = None
    by_day: object = None
    by_role: object = None
    agents: object = None
    fell: object = None
    rose: object = None
    error_counts: object = None
    error_rows: object = None
    n_errors: int = 0
    days: list[str] = field(default_factory=list)


def _read(scores: str, table: str, files: list[str], columns=None, uris=None):
    return analysis.read_parquet_files(files, storage.join(scores, table), columns=columns,
                                       uris=uris)


def _days(scores: str, table: str, date_from: str | None, date_to: str | None):
    return analysis.files_by_day(storage.join(scores, table), date_from, date_to)


def _with_day(frame, day: str | None, date_from: str | None, date_to: str | None):
    """Rows with a ``day``: the partition's, else the date they were scored
    (filtered to the range)."""
    if day is not None:
        return frame.assign(day=day)
    if "scored_at" in frame.columns and len(frame):
        frame = frame.assign(day=frame["scored_at"].dt.strftime("%Y-%m-%d"))
        keep = np.ones(len(frame), bool)
        if date_from:
            keep &= (frame["day"] >= date_from).to_numpy()
        if date_to:
            keep &= (frame["day"] <= date_to).to_numpy()
        return frame[keep]
    return frame.assign(day=NO_DATE)


def role_names(frame, channel_names: dict[int, str]):
    """The role of each ``files/`` row: its ``role`` column, else the channel's name."""
    by_channel = frame["channel"].map(lambda c: channel_names.get(c, f"channel {c}"))
    if "role" not in frame.columns:
        return by_channel
    return frame["role"].where(frame["role"].notna(), by_channel)


def _class_seconds(files, classes, by):
    import pandas as pd

    shares = {c: files[tables.class_column("share", c)] * files["speech_s"] for c in classes}
    frame = pd.DataFrame(shares)
    frame[by] = files[by].to_numpy()
    return frame.groupby(by).sum()


def _add(total, part):
    return part if total is None else total.add(part, fill_value=0)


def summarise(scores: str, *, channel_names: dict[int, str], date_from: str | None = None,
              date_to: str | None = None, top: int = 5) -> Summary:
    """The report's numbers over the run dates from ``date_from`` to ``date_to``.

    Raises:
        InputError: no scored files in the range.
    """
    import pandas as pd

    from sentiment_model import publish

    publish.check_finished(scores, what="--scores")
    if not storage.is_dir(storage.join(scores, tables.FILES_TABLE)):
        raise InputError(f"--scores {scores}: no files/ table (is this a score --output?)")
    file_days = _days(scores, tables.FILES_TABLE, date_from, date_to)
    classes: list[str] | None = None
    volume, by_day, by_role = [], None, None
    agent_sums = None
    candidates: list = []
    for day, uris in file_days.items():
        files = _read(scores, tables.FILES_TABLE, uris, columns=_file_column)
        files = _with_day(files, day, date_from, date_to)
        if files.empty:
            continue
        classes = classes or analysis.class_names(files)
        files["role_name"] = role_names(files, channel_names)
        per_uri = files.groupby(["day", "uri"])["duration_s"].max().groupby("day")
        volume.append(pd.DataFrame({
            "recordings": per_uri.size(),
            "channels": files.groupby("day").size(),
            "recording_h": per_uri.sum() / 3600,
            "channel_h": files.groupby("day")["duration_s"].sum() / 3600,
            "speech_h": files.groupby("day")["speech_s"].sum() / 3600,
        }))
        by_day = _add(by_day, _class_seconds(files, classes, "day"))
        by_role = _add(by_role, _class_seconds(files, classes, "role_name"))
    if classes is None:
        where = f" from {date_from or 'the first'} to {date_to or 'the last'} run date" \
            if date_from or date_to else ""
        raise InputError(f"--scores {scores}: no scored files to report on{where}")
    summary = Summary(classes=classes)
    summary.volume = pd.concat(volume).groupby(level=0).sum()
    summary.by_day, summary.by_role = by_day, by_role
    for day, uris in _days(scores, tables.CALLS_TABLE, date_from, date_to).items():
        calls = _with_day(_read(scores, tables.CALLS_TABLE, uris, columns=CALL_COLUMNS), day,
                          date_from, date_to)
        if calls.empty:
            continue
        calls["customer_change"] = calls["customer_q4_valence"] - calls["customer_q1_valence"]
        changed = calls[calls["customer_change"].notna()]
        candidates += [changed.nsmallest(top, "customer_change"),
                       changed.nlargest(top, "customer_change")]
        if "agent_id" in calls.columns:
            agent_sums = _add(agent_sums, _agent_sums(calls))
    if candidates:
        pool = pd.concat(candidates).drop_duplicates(["uri", "day"])
        summary.fell = pool.nsmallest(top, "customer_change").reset_index(drop=True)
        summary.rose = pool.nlargest(top, "customer_change").reset_index(drop=True)
    if agent_sums is not None:
        summary.agents = _agent_table(agent_sums)
    _errors(summary, scores, date_from, date_to)
    summary.days = list(summary.volume.index)
    return summary


_AGENT_MEASURES = {"customer_start": "customer_q1_valence", "customer_end": "customer_q4_valence",
                   "non_talk_share": "non_talk_share", "interruptions": "agent_interruptions",
                   "agent_talk_share": "agent_talk_share"}


def _agent_sums(calls):
    """Per agent: calls, and the sum and count of each measure (to average later)."""
    import pandas as pd

    calls = calls.assign(agent_id=calls["agent_id"].fillna("(no agent_id)"))
    grouped = calls.groupby("agent_id")
    parts = {"calls": grouped.size()}
    for name, column in _AGENT_MEASURES.items():
        parts[f"{name}_sum"] = grouped[column].sum(min_count=1).fillna(0.0)
        parts[f"{name}_n"] = grouped[column].count()
    return pd.DataFrame(parts)


def _agent_table(sums):
    import pandas as pd

    table = pd.DataFrame({"calls": sums["calls"].astype(int)})
    for name in _AGENT_MEASURES:
        n = sums[f"{name}_n"]
        table[name] = (sums[f"{name}_sum"] / n).where(n > 0)
    table["customer_change"] = table["customer_end"] - table["customer_start"]
    table = table.rename(columns={"interruptions": "interruptions_per_call"})
    return table.sort_values("customer_change").reset_index()


def _errors(summary: Summary, scores: str, date_from, date_to) -> None:
    import pandas as pd

    counts, shown, total = [], [], 0
    rejected = {}
    for day, uris in _days(scores, tables.ERRORS_TABLE, date_from, date_to).items():
        errors = _read(scores, tables.ERRORS_TABLE, uris)
        errors = errors.assign(day=day or NO_DATE)  # errors carry no time of their own
        if errors.empty:
            continue
        total += len(errors)
        counts.append(errors.groupby(["day", "error_type"]).size().rename("rows"))
        rejected.update(errors.groupby("day")["uri"].nunique().to_dict())
        room = ERROR_ROWS_SHOWN - sum(len(s) for s in shown)
        if room > 0:
            shown.append(errors.head(room))
    summary.n_errors = total
    if counts:
        summary.error_counts = pd.concat(counts).reset_index()
        summary.error_rows = pd.concat(shown).reset_index(drop=True)
    summary.volume["rejected"] = [int(rejected.get(d, 0)) for d in summary.volume.index]


def call_detail(scores: str, call) -> tuple[object, object]:
    """One listed call read back whole: its ``calls/`` row (a Series) and its
    windows from ``segments/`` (a DataFrame, only that recording's), from
    its day's partition only."""
    day = None if call["day"] == NO_DATE else call["day"]

    def of_day(table: str) -> list[str]:
        found = _days(scores, table, day, day)
        return [u for d, uris in found.items() if d == day for u in uris]

    rows = _read(scores, tables.CALLS_TABLE, of_day(tables.CALLS_TABLE), uris={call["uri"]})
    segments = _read(scores, tables.SEGMENTS_TABLE, of_day(tables.SEGMENTS_TABLE),
                     uris={call["uri"]})
    return rows.iloc[0], segments.sort_values(["channel", "start_s"])
