"""Label CSVs, label maps and deterministic train/eval/test splits.

Pure functions, used at job start-up and inside the join DoFn.
"""

from __future__ import annotations

import csv
import hashlib
import io
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from schemas.features import SPLITS
from schemas.tables import error_row
from sentiment_model import label_groups, storage
from sentiment_model.errors import ConfigError, InputError

PATH_COLUMNS = ("path", "filename", "file", "file_name")
LABEL_COLUMNS = ("label", "class")


@dataclass(frozen=True)
class LabelRow:
    """One row of a label CSV.

    Attributes:
        row_number: 1-based line number in the CSV (header is line 1).
        path: the path as written in the CSV.
        uri: the resolved URI, or ``None`` for a bare file name (matched by name).
        name: the file's base name, the join key.
        label: the class after the label map.
        raw_label: the label as written.
        speaker: speaker id, ``""`` when unknown.
        split: ``train``/``eval``/``test`` from the CSV, ``""`` when absent.
    """

    row_number: int
    path: str
    uri: str | None
    name: str
    label: str
    raw_label: str
    speaker: str = ""
    split: str = ""


@dataclass(frozen=True)
class LabelTable:
    """A parsed label CSV: good rows, rejected rows and the label vocabulary."""

    rows: tuple[LabelRow, ...]
    errors: tuple[dict, ...]
    vocabulary: tuple[str, ...]
    has_split_column: bool
    has_speaker_column: bool


def _pick(header: Sequence[str], candidates: Sequence[str]) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    for name in candidates:
        if name in lowered:
            return lowered[name]
    return None


def resolve_path(path: str, csv_uri: str) -> str | None:
    """Absolute paths and URLs stay; ``a/b.wav`` is relative to the CSV's folder;
    a bare ``b.wav`` returns ``None`` (it is matched by file name)."""
    if "://" in path or path.startswith("/"):
        return path
    if "/" not in path and "\\" not in path:
        return None
    clean = posixpath.normpath(path.replace("\\", "/"))
    return storage.join(storage.dirname(csv_uri), clean)


def parse_label_map(spec: str | None) -> dict[str, str] | None:
    """``--label-map``: a JSON file of ``{raw: class}``, inline ``a=x,b=y`` or a
    named map (``emotion-sentiment``, see :mod:`sentiment_model.label_groups`)."""
    return label_groups.parse_mapping(spec, option="--label-map")


def parse_label_csv(text: str, *, csv_uri: str, label_map: Mapping[str, str] | None = None,
                    classes: Sequence[str] | None = None) -> LabelTable:
    """Parses a label CSV (``path,label[,speaker][,split]`` or ``Filename,Class``).

    Rows with an empty path or label, an unknown label (not in ``label_map``
    or ``classes``) or a bad split become error rows; the rest are returned.

    Raises:
        InputError: the CSV has no path or no label column.
    """
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    path_col, label_col = _pick(header, PATH_COLUMNS), _pick(header, LABEL_COLUMNS)
    if path_col is None or label_col is None:
        raise InputError(
            f"{csv_uri}: a label CSV needs a 'path' (or 'Filename') and a 'label' (or 'Class') "
            f"column; found {', '.join(header) or 'no header'}"
        )
    speaker_col, split_col = _pick(header, ("speaker",)), _pick(header, ("split",))
    allowed = set(classes) if classes else None
    rows: list[LabelRow] = []
    errors: list[dict] = []
    for line, record in enumerate(reader, start=2):
        path = (record.get(path_col) or "").strip()
        raw = (record.get(label_col) or "").strip()
        where = path or f"{csv_uri}#line{line}"
        uri = resolve_path(path, csv_uri) if path else None
        if not path or not raw:
            errors.append(error_row(where, "labels", "bad_label_row",
                                    f"{csv_uri} line {line}: empty path or label"))
            continue
        label = label_map.get(raw) if label_map is not None else raw
        if label is None or (allowed is not None and label not in allowed):
            known = sorted(set(label_map.values()) if label_map else allowed or ())
            errors.append(error_row(uri or path, "labels", "unknown_label",
                                    f"{csv_uri} line {line}: label {raw!r} is not one of "
                                    f"{', '.join(known) if not label_map else 'the label map'}"))
            continue
        split = (record.get(split_col) or "").strip().lower() if split_col else ""
        if split_col and split not in SPLITS:
            errors.append(error_row(uri or path, "labels", "bad_label_row",
                                    f"{csv_uri} line {line}: split {split!r} is not one of "
                                    f"{', '.join(SPLITS)}"))
            continue
        rows.append(LabelRow(
            row_number=line, path=path, uri=uri, name=storage.basename(path.replace("\\", "/")),
            label=label, raw_label=raw,
            speaker=(record.get(speaker_col) or "").strip() if speaker_col else "",
            split=split,
        ))
    if classes:
        vocabulary = tuple(classes)
    elif label_map:
        vocabulary = tuple(sorted(set(label_map.values())))
    else:
        vocabulary = tuple(sorted({r.label for r in rows}))
    return LabelTable(tuple(rows), tuple(errors), vocabulary,
                      has_split_column=split_col is not None,
                      has_speaker_column=speaker_col is not None)


# --------------------------------------------------------------------- splits
def parse_split_ratios(text: str) -> dict[str, float]:
    """``"0.8,0.1,0.1"`` -> ``{"train": 0.8, "eval": 0.1, "test": 0.1}``."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise ConfigError(f"--split-ratios {text!r}: expected three numbers") from None
    if len(values) != 3 or any(v < 0 for v in values) or sum(values) <= 0:
        raise ConfigError(f"--split-ratios {text!r}: expected three non-negative numbers "
                          "for train,eval,test")
    total = sum(values)
    return {name: v / total for name, v in zip(SPLITS, values, strict=True)}


def _unit_hash(key: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def hash_split(key: str, ratios: Mapping[str, float], seed: int) -> str:
    """Deterministic split of one file by the hash of ``key``."""
    u = _unit_hash(key, seed)
    edge = 0.0
    for name in SPLITS:
        edge += ratios[name]
        if u < edge:
            return name
    return next(name for name in reversed(SPLITS) if ratios[name] > 0)


def assign_speaker_splits(speaker_counts: Mapping[str, int], ratios: Mapping[str, float],
                          seed: int) -> dict[str, str]:
    """Assigns whole speakers to splits, so no speaker is in two splits.

    Speakers are taken in an order fixed by ``seed``; every split with a
    non-zero ratio first gets one speaker (when there are enough), then each
    next speaker goes to the split furthest below its target share of files.

    Returns:
        ``{speaker: split}``.
    """
    order = sorted(speaker_counts, key=lambda s: (_unit_hash(s, seed), s))
    total = sum(speaker_counts.values())
    wanted = [name for name in SPLITS if ratios[name] > 0]
    assigned: dict[str, str] = {}
    filled = dict.fromkeys(SPLITS, 0)
    seeds = sorted(wanted, key=lambda n: ratios[n])  # smallest splits first
    if len(order) >= len(wanted):
        for speaker, name in zip(order, seeds, strict=False):
            assigned[speaker] = name
            filled[name] += speaker_counts[speaker]
    for speaker in order:
        if speaker in assigned:
            continue
        name = max(wanted, key=lambda n: (ratios[n] * total - filled[n], ratios[n]))
        assigned[speaker] = name
        filled[name] += speaker_counts[speaker]
    return assigned


def match_rows_to_files(name: str, file_uris: Iterable[str],
                        rows: Iterable[LabelRow]) -> tuple[list[tuple[str, LabelRow]], list[dict]]:
    """Joins the files and label rows that share one base name; a row's path
    matches a file when both name the same file
    (:func:`~sentiment_model.storage.canonical`: ``..``, ``.`` and links
    resolved).

    Returns:
        ``([(uri, row), ...], [error_row, ...])``: every file either gets
        exactly one row or an error; every row either labels a file or
        becomes an error (missing file, ambiguous name, duplicate).
    """
    uris = sorted(set(file_uris))
    by_identity = {storage.canonical(u): u for u in uris}
    chosen: dict[str, LabelRow] = {}
    errors: list[dict] = []
    for row in sorted(rows, key=lambda r: r.row_number):
        if row.uri is not None:
            target = by_identity.get(storage.canonical(row.uri))
        elif len(uris) == 1:
            target = uris[0]
        elif len(uris) > 1:
            errors.append(error_row(row.path, "labels", "ambiguous_path",
                                    f"label row {row.row_number}: {name!r} matches "
                                    f"{len(uris)} files; give a relative or absolute path"))
            continue
        else:
            target = None
        if target is None:
            errors.append(error_row(row.uri or row.path, "labels", "missing_file",
                                    f"label row {row.row_number}: no such file among the inputs"))
        elif target in chosen:
            first = chosen[target]
            errors.append(error_row(target, "labels", "duplicate",
                                    f"label row {row.row_number} ({row.raw_label!r}) repeats "
                                    f"row {first.row_number} ({first.raw_label!r}) for this "
                                    f"file; row {first.row_number} is used"))
        else:
            chosen[target] = row
    for uri in uris:
        if uri not in chosen:
            errors.append(error_row(uri, "labels", "unlabelled",
                                    "no usable row in the label CSV for this file"))
    return [(uri, chosen[uri]) for uri in uris if uri in chosen], errors
