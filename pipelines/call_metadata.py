"""``score --call-metadata CSV``: what the recorder knows about each call
(call id, agent, queue, start time, any other column), joined by file into
``calls/`` and ``files/``.

The CSV has a path column (``path``, ``uri``, ``filename`` or ``file``;
relative paths are relative to the CSV's folder, a bare file name matches
an input of that name) and any other columns. ``call_id`` replaces the
default call id (the file name); ``started_at`` (ISO 8601, a time without
offset is UTC) becomes a timestamp; every other column is kept as text,
under its name lower-cased with other characters than ``[a-z0-9_]`` as
``_``. Inputs without a row are scored as usual (metadata columns null);
rows that match no input are reported in the run record, never dropped
silently.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass, field

import apache_beam as beam
import pyarrow as pa

from pipelines.labels import resolve_path
from pipelines.sources import MANIFEST_PATH_COLUMNS
from schemas import tables
from sentiment_model import storage
from sentiment_model.errors import ConfigError

CALL_ID = "call_id"
STARTED_AT = "started_at"
_NAME_KEY = "name:"  # a bare file name's key


def column_name(header: str) -> str:
    clean = "".join(ch if ch.isalnum() and ch.isascii() else "_" for ch in header.strip().lower())
    return clean or "_"


def parse_started_at(text: str) -> datetime.datetime | None:
    """An ISO 8601 time as UTC (without an offset: taken as UTC); ``None`` when empty.

    Raises:
        ValueError: not ISO 8601.
    """
    if not text.strip():
        return None
    value = datetime.datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        return value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC)


@dataclass(frozen=True)
class CallMetadata:
    """A parsed metadata CSV.

    Attributes:
        columns: the metadata columns, in CSV order (``call_id`` included
            when the CSV has it), without the path column.
        rows: ``{key: {column: value}}``; the key is the file's
            :func:`~sentiment_model.storage.canonical` URI, or ``name:`` and
            its file name for a bare name.
        problems: what was wrong with single rows (kept going), for the run record.
    """

    columns: tuple[str, ...]
    rows: dict[str, dict] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    def lookup(self, uri: str) -> dict | None:
        """The row of an input, by its URI, else by its file name."""
        return lookup(self.rows, uri)

    @property
    def extra_columns(self) -> tuple[str, ...]:
        """The columns added to the tables (``call_id`` is one of theirs already)."""
        return tuple(c for c in self.columns if c != CALL_ID)


RESERVED = frozenset({"uri", "run_date"})


def key_of(rows, uri: str) -> str | None:
    """The key of ``uri``'s row in ``rows`` (:attr:`CallMetadata.rows`), or ``None``."""
    for key in (storage.canonical(uri), _NAME_KEY + storage.basename(uri)):
        if key in rows:
            return key
    return None


def lookup(rows, uri: str) -> dict | None:
    key = key_of(rows, uri)
    return None if key is None else rows[key]


def parse_call_metadata(text: str, *, csv_uri: str, reserved=()) -> CallMetadata:
    """Parses the CSV.

    Args:
        reserved: column names the tables already have (a metadata column
            with one of them would be ambiguous).

    Raises:
        ConfigError: no path column, a column named like a table column, or
            two headers that give the same column name.
    """
    reader = csv.DictReader(io.StringIO(text))
    headers = [h for h in reader.fieldnames or [] if h is not None]
    path_header = next((h for h in headers if h.strip().lower() in MANIFEST_PATH_COLUMNS), None)
    if path_header is None:
        raise ConfigError(f"--call-metadata {csv_uri}: no path column (one of "
                          f"{', '.join(MANIFEST_PATH_COLUMNS)}) in its header {headers}")
    names: dict[str, str] = {}
    for header in headers:
        if header == path_header:
            continue
        name = column_name(header)
        if name in names.values():
            raise ConfigError(f"--call-metadata {csv_uri}: two columns are both named {name!r}")
        if name in RESERVED or (name in reserved and name != CALL_ID):
            raise ConfigError(f"--call-metadata {csv_uri}: column {header!r} would replace the "
                              f"tables' own {name!r} column; rename it")
        names[header] = name
    rows: dict[str, dict] = {}
    problems: list[str] = []
    for line, raw in enumerate(reader, start=2):
        path = (raw.get(path_header) or "").strip()
        if not path:
            problems.append(f"line {line}: no path")
            continue
        resolved = resolve_path(path, csv_uri)
        key = _NAME_KEY + path if resolved is None else storage.canonical(resolved)
        if key in rows:
            problems.append(f"line {line}: {path} is listed before; the first row is used")
            continue
        row = {}
        for header, name in names.items():
            value = (raw.get(header) or "").strip()
            if name == STARTED_AT:
                try:
                    row[name] = parse_started_at(value)
                except ValueError:
                    problems.append(f"line {line}: started_at {value!r} is not an ISO 8601 "
                                    "time; left empty")
                    row[name] = None
            else:
                row[name] = value or None
        rows[key] = row
    return CallMetadata(tuple(names.values()), rows, tuple(problems))


def read_call_metadata(uri: str, *, reserved=()) -> CallMetadata:
    """Reads and parses the CSV at ``uri`` (local or any store).

    Raises:
        ConfigError: unreadable, or :func:`parse_call_metadata`'s reasons.
    """
    try:
        text = storage.read_text(uri)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--call-metadata {storage.redact(uri)}: cannot read it ({exc})") \
            from exc
    return parse_call_metadata(text, csv_uri=uri, reserved=reserved)


def metadata_fields(columns) -> list[pa.Field]:
    """The tables' fields of metadata columns (``call_id`` excluded)."""
    return [pa.field(c, pa.timestamp("us", tz="UTC") if c == STARTED_AT else pa.string())
            for c in columns if c != CALL_ID]


def descriptions(columns) -> dict[str, str]:
    out = {c: "from --call-metadata" for c in columns if c != CALL_ID}
    if STARTED_AT in out:
        out[STARTED_AT] = "from --call-metadata: when the call started (UTC)"
    return out


def accounting(metadata: CallMetadata, uris) -> dict:
    """What matched: for the run record."""
    used: set[str] = set()
    without = 0
    for uri in uris:
        key = key_of(metadata.rows, uri)
        if key is None:
            without += 1
        else:
            used.add(key)
    unmatched = sorted(k for k in metadata.rows if k not in used)
    return {"rows": len(metadata.rows), "matched": len(used), "inputs_without_row": without,
            "rows_without_input": len(unmatched),
            "rows_without_input_examples": [storage.redact(k) for k in unmatched[:100]],
            "rows_with_problems": len(metadata.problems),
            "problems": list(metadata.problems[:100])}


class ReadCallMetadataFn(beam.DoFn):
    """csv uri -> ``(key, row)`` of each of its rows: read by a worker for a
    side input, so that the job graph does not carry a night's metadata."""

    def __init__(self, *, reserved) -> None:
        self._reserved = tuple(reserved)

    def process(self, uri: str):
        yield from read_call_metadata(uri, reserved=self._reserved).rows.items()


def table_reserved(labels) -> frozenset[str]:
    """The column names of the tables metadata is joined into."""
    return frozenset(tables.calls_schema(labels).names) | frozenset(
        tables.files_schema(labels).names)
