"""Where audio comes from: a directory, a glob, a cloud or fsspec URL, or a
manifest. Resolved and checked once at start-up, matched again inside the
pipeline by :class:`MatchAudio`."""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystem import FileMetadata

from pipelines.labels import resolve_path
from schemas.tables import error_row
from sentiment_model import storage
from sentiment_model.errors import InputError

MANIFEST_EXTENSIONS = (".txt", ".csv", ".tsv", ".lst", ".manifest")
MANIFEST_PATH_COLUMNS = ("path", "uri", "filename", "file")


@dataclass(frozen=True)
class InputSpec:
    """A resolved ``--input``.

    Attributes:
        source: what the user gave (local paths made absolute).
        kind: ``"directory"`` (recursive, audio extensions only), ``"pattern"``
            (a glob or one file, taken as given) or ``"manifest"``.
        pattern: the glob matched for directories and patterns; for a
            manifest, the manifest's URI.
    """

    source: str
    kind: str
    pattern: str

    def to_dict(self) -> dict:
        return {"source": self.source, "kind": self.kind, "pattern": self.pattern}

    @classmethod
    def from_dict(cls, data: dict) -> InputSpec:
        return cls(**data)


def absolute(uri: str) -> str:
    """Makes local paths absolute; URLs are returned unchanged."""
    return uri if "://" in uri else os.path.abspath(uri)


def resolve_input(source: str) -> InputSpec:
    """Classifies ``--input``. Raises InputError when it names nothing."""
    source = absolute(source.strip())
    if not storage.has_glob(source):
        lowered = source.lower()
        if lowered.endswith(MANIFEST_EXTENSIONS) and storage.exists(source):
            return InputSpec(source, "manifest", source)
        if storage.is_dir(source):
            return InputSpec(source, "directory", source.rstrip("/") + "/**")
        if not storage.exists(source):
            raise InputError(f"--input {source}: no such file or directory")
    return InputSpec(source, "pattern", source)


def parse_manifest(text: str, *, manifest_uri: str) -> tuple[list[str], list[dict]]:
    """URIs listed by a manifest: one per line, or a CSV with a path column
    (a ``.csv`` file, or any whose first line names a path column; a comma
    in a plain list's file name does not make it a CSV).

    Relative entries are relative to the manifest's folder. An entry naming
    a file listed before (the same :func:`~sentiment_model.storage.canonical`
    path, however it is written) becomes a ``duplicate`` error row.

    Returns:
        ``(unique uris in order, error rows)``.
    """
    lines = [line.strip() for line in text.splitlines()]
    first = next((line for line in lines if line and not line.startswith("#")), "")
    entries: list[str]
    first_fields = [h.strip().lower() for h in next(csv.reader([first]), [])]
    named = any(h in MANIFEST_PATH_COLUMNS for h in first_fields)
    if named or ("," in first and manifest_uri.lower().endswith(".csv")):
        reader = csv.DictReader(io.StringIO(text))
        header = {h.strip().lower(): h for h in (reader.fieldnames or [])}
        column = next((header[c] for c in MANIFEST_PATH_COLUMNS if c in header), None)
        if column is None:
            raise InputError(f"{manifest_uri}: a CSV manifest needs a 'path' column")
        entries = [(row.get(column) or "").strip() for row in reader]
    else:
        entries = [line for line in lines if line and not line.startswith("#")]
    seen: dict[str, str] = {}  # canonical -> the entry's uri as first listed
    uris: list[str] = []
    errors: list[dict] = []
    for entry in entries:
        if not entry:
            continue
        uri = resolve_path(entry, manifest_uri) or storage.join(
            storage.dirname(manifest_uri), entry)
        identity = storage.canonical(uri)
        if identity in seen:
            same = "" if seen[identity] == uri else f" (as {seen[identity]})"
            errors.append(error_row(uri, "match", "duplicate",
                                    f"listed more than once in {manifest_uri}{same}; "
                                    "read once"))
            continue
        seen[identity] = uri
        uris.append(uri)
    return uris, errors


def list_inputs(spec: InputSpec) -> list[str]:
    """All input URIs, listed at start-up (for the fail-fast check and progress).

    Raises:
        InputError: nothing matched.
    """
    if spec.kind == "manifest":
        uris, _ = parse_manifest(storage.read_text(spec.pattern), manifest_uri=spec.pattern)
    else:
        try:
            found = storage.match(spec.pattern)
        except (OSError, ValueError) as exc:
            raise InputError(f"--input {spec.source}: cannot list files: {exc}") from None
        uris = [f.uri for f in found]
        if spec.kind == "directory":
            uris = [u for u in uris if storage.has_audio_extension(u)]
    if not uris:
        raise InputError(f"--input {spec.source}: no audio files matched")
    return uris


# ------------------------------------------------------------------- transforms
class _MetadataToUri(beam.DoFn):
    def __init__(self, audio_only: bool) -> None:
        self._audio_only = audio_only

    def process(self, metadata: FileMetadata):
        if not self._audio_only or storage.has_audio_extension(metadata.path):
            yield metadata.path


class _GlobWithFsspec(beam.DoFn):
    def __init__(self, audio_only: bool) -> None:
        self._audio_only = audio_only

    def process(self, pattern: str):
        for info in storage.match(pattern):
            if not self._audio_only or storage.has_audio_extension(info.uri):
                yield info.uri


class _BrokenLinks(beam.DoFn):
    """Error rows for the links to nothing that a local pattern matches."""

    def __init__(self, audio_only: bool) -> None:
        self._audio_only = audio_only

    def process(self, pattern: str):
        for path in storage.broken_links(pattern):
            if not self._audio_only or storage.has_audio_extension(path):
                yield error_row(path, "match", *storage.local_file_problem(path))


class _ReadManifest(beam.DoFn):
    def process(self, manifest_uri: str):
        uris, errors = parse_manifest(storage.read_text(manifest_uri), manifest_uri=manifest_uri)
        yield from uris
        for row in errors:
            yield beam.pvalue.TaggedOutput(MatchAudio.ERRORS, row)


class MatchAudio(beam.PTransform):
    """Matches the input inside the pipeline.

    Output: a PCollection of URIs (str), each file once; tagged output
    ``errors`` holds rows for repeated manifest entries and for local links
    to nothing (``broken_link``), which Beam's match skips.
    """

    ERRORS = "errors"

    def __init__(self, spec: InputSpec) -> None:
        super().__init__()
        self._spec = spec

    def expand(self, pbegin):
        spec = self._spec
        audio_only = spec.kind == "directory"
        if spec.kind == "manifest":
            result = (
                pbegin
                | "ManifestUri" >> beam.Create([spec.pattern])
                | "ReadManifest" >> beam.ParDo(_ReadManifest()).with_outputs(
                    self.ERRORS, main="uris")
            )
            return result.uris, result[self.ERRORS]
        if storage.is_beam_path(spec.pattern):
            patterns = storage.expand_globstar(spec.pattern)
            uris = (
                pbegin
                | "Patterns" >> beam.Create(patterns)
                | "MatchFiles" >> fileio.MatchAll(fileio.EmptyMatchTreatment.ALLOW)
                | "ToUri" >> beam.ParDo(_MetadataToUri(audio_only))
            )
            if len(patterns) > 1:
                uris = uris | "Distinct" >> beam.Distinct()
        else:
            uris = (
                pbegin
                | "Pattern" >> beam.Create([spec.pattern])
                | "GlobFsspec" >> beam.ParDo(_GlobWithFsspec(audio_only))
            )
        errors = (
            pbegin
            | "LinkPattern" >> beam.Create([spec.pattern])
            | "BrokenLinks" >> beam.ParDo(_BrokenLinks(audio_only))
        )
        return uris, errors
