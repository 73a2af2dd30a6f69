"""Thin storage helpers over Beam's FileSystems and fsspec.

Paths Beam knows (local paths, ``gs://``, ``s3://`` ...) go through
``apache_beam.io.filesystems.FileSystems`` so that they behave exactly as in
Beam's own IO; every other URL (``memory://``, ``file://``, ``https://``,
any fsspec protocol) goes through fsspec.

Credentials and endpoints are the platform's: Google's application-default
credentials (``STORAGE_EMULATOR_HOST`` points the client at an emulator) and
the standard AWS chain (``AWS_ENDPOINT_URL`` ...), or Beam's storage options
(``--s3_endpoint_url`` ...) handed to :func:`configure`.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import posixpath
import re
import shutil
import stat
from typing import NamedTuple

import fsspec
from apache_beam.io.filesystems import FileSystems

from sentiment_model.errors import ConfigError

AUDIO_EXTENSIONS = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff", ".au", ".caf", ".w64"}
)


class FileInfo(NamedTuple):
    """A matched file: its URI and size in bytes."""

    uri: str
    size_bytes: int


_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][\w+.-]*://)[^/\s@]+@")
_QUERY = re.compile(r"(?P<url>\b[a-zA-Z][\w+.-]*://[^\s?#]+)[?#][^\s'\")]*?"
                    r"(?=[,.;:]?(?:\s|$|['\")]))")


# ``user:secret@host`` without its scheme, as a store's client quotes a bucket name
_BARE_USERINFO = re.compile(r"(?<![\w/@*])[^\s/@:'\"]+:[^\s/@'\"]+@")


def redact(text: str) -> str:
    """``text`` with every URL's credentials hidden: ``user:secret@`` becomes
    ``***@`` (also where a client quotes ``user:secret@bucket`` without the
    scheme) and query strings (signed-URL tokens) are dropped."""
    text = _QUERY.sub(r"\g<url>", _USERINFO.sub(r"\g<scheme>***@", text))
    return _BARE_USERINFO.sub("***@", text)


def configure(pipeline_args: list[str] | tuple[str, ...] = ()) -> None:
    """Sets the options Beam's file systems read (``--s3_endpoint_url``,
    ``--s3_region_name`` ...), as a pipeline does for its workers; each job
    calls it first, with the Beam words of its command line."""
    from apache_beam.options.pipeline_options import PipelineOptions

    FileSystems.set_options(PipelineOptions(list(pipeline_args)))


def pipeline_options():
    """The options Beam's file systems use (the job's, or the defaults)."""
    _ensure_options()
    return FileSystems._pipeline_options


def _ensure_options() -> None:
    # Beam's S3 file system refuses to work without options; library use
    # outside a job (tests, benchmarks) gets the defaults, never replacing
    # the options a job or a pipeline set
    if getattr(FileSystems, "_pipeline_options", None) is None:
        configure(())


def is_beam_path(uri: str) -> bool:
    """True when Beam's FileSystems handles this path or URL."""
    try:
        FileSystems.get_filesystem(uri)
    except ValueError:
        return False
    if "://" in uri:
        _refuse_credentials(uri)
        _ensure_options()
    return True


_URL_USERINFO = re.compile(r"^[a-zA-Z][\w+.-]*://[^/@]*@")


def _refuse_credentials(uri: str) -> None:
    if _URL_USERINFO.match(uri):
        raise ConfigError(
            f"{redact(uri)}: credentials in a storage URL are not read; use the platform's "
            "credentials (the AWS chain, Google application-default credentials) or "
            "--s3_access_key_id/--s3_secret_access_key"
        )


def has_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def has_audio_extension(uri: str) -> bool:
    return posixpath.splitext(uri.lower())[1] in AUDIO_EXTENSIONS


def _missing_object_errors() -> tuple[type[BaseException], ...]:
    try:
        from google.api_core.exceptions import NotFound
    except ImportError:
        return ()
    return (NotFound,)


def read_bytes(uri: str) -> bytes:
    """Reads a whole file.

    Raises:
        FileNotFoundError: no such file or object (on every store).
    """
    with open_read(uri) as f:
        return f.read()


def open_read(uri: str):
    """A seekable binary file object for reading ``uri`` in pieces (close it).

    Raises:
        FileNotFoundError: no such file or object (on every store).
    """
    if is_beam_path(uri):
        try:
            return FileSystems.open(uri, compression_type="uncompressed")
        except _missing_object_errors() as exc:
            raise FileNotFoundError(f"{redact(uri)}: no such object") from exc
    return fsspec.open(uri, "rb").open()


def read_text(uri: str, encoding: str = "utf-8-sig") -> str:
    return read_bytes(uri).decode(encoding)


def write_bytes(uri: str, data: bytes, *, mime_type: str = "application/octet-stream") -> None:
    """Writes (replaces) a whole file."""
    if not data and uri.startswith("s3://"):
        _put_empty_s3(uri)  # Beam's S3 upload of no parts fails
        return
    with _open_write(uri, mime_type=mime_type) as f:
        f.write(data)


def s3_client():
    """A boto3 S3 client built as Beam's S3 file system builds its own (the
    job's ``--s3_*`` options, else the standard AWS chain)."""
    from apache_beam.io.aws.clients.s3 import boto3_client

    return boto3_client.Client(pipeline_options()).client


def bucket_key(uri: str) -> tuple[str, str, str]:
    """``(scheme, bucket, key)`` of an object store URL (``s3://b/k/x`` ->
    ``("s3", "b", "k/x")``); ``("", "", uri)`` for a local path."""
    if "://" not in uri:
        return "", "", uri
    scheme, rest = uri.split("://", 1)
    bucket, _, key = rest.partition("/")
    return scheme, bucket, key


def _put_empty_s3(uri: str) -> None:
    _, bucket, key = bucket_key(uri)
    s3_client().put_object(Bucket=bucket, Key=key, Body=b"")


def write_text(uri: str, text: str) -> None:
    """Writes (replaces) a whole text file."""
    write_bytes(uri, text.encode("utf-8"), mime_type="text/plain")


def exists(uri: str) -> bool:
    if is_beam_path(uri):
        return FileSystems.exists(uri)
    fs, path = fsspec.core.url_to_fs(uri)
    return fs.exists(path)


def is_dir(uri: str) -> bool:
    """True for an existing directory (or a non-empty prefix on object stores)."""
    if is_beam_path(uri):
        if "://" not in uri:
            return os.path.isdir(uri)
        prefix = uri.rstrip("/") + "/"
        return bool(FileSystems.match([prefix + "**"], limits=[1])[0].metadata_list)
    fs, path = fsspec.core.url_to_fs(uri)
    return fs.isdir(path)


def join(base: str, *parts: str) -> str:
    if is_beam_path(base):
        return FileSystems.join(base, *parts)
    return posixpath.join(base, *parts)


def dirname(uri: str) -> str:
    if is_beam_path(uri):
        return FileSystems.split(uri)[0]
    return posixpath.dirname(uri)


def canonical(uri: str) -> str:
    """A file's identity, to compare and de-duplicate URIs on (store the URI
    as given): a local path (or ``file://`` URL) absolute, with ``.``, ``..``
    and symbolic links resolved; any other URL with its scheme and host
    lower-cased and ``.``, ``..`` and repeated ``/`` folded in its path."""
    if "://" not in uri:
        return os.path.realpath(uri)
    scheme, rest = uri.split("://", 1)
    if scheme.lower() == "file":
        return os.path.realpath(rest)
    host, _, path = rest.partition("/")
    folded = posixpath.normpath("/" + path) if path else ""
    return f"{scheme.lower()}://{host.lower()}{folded.replace('//', '/')}"


def basename(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def expand_globstar(pattern: str) -> list[str]:
    """Patterns that together give ``**`` its usual meaning of "zero or more
    folders": Beam's ``a/**/*.wav`` needs at least one folder level, so
    ``a/*.wav`` is matched as well."""
    patterns = [pattern]
    if "/**/" in pattern:
        patterns.append(pattern.replace("/**/", "/", 1))
    return patterns


def match(pattern: str) -> list[FileInfo]:
    """Files matching a glob (``**`` recurses, also into zero folders), sorted by URI."""
    if is_beam_path(pattern):
        results = FileSystems.match(expand_globstar(pattern))
        found = list({m.path: FileInfo(m.path, int(m.size_in_bytes))
                      for r in results for m in r.metadata_list}.values())
    else:
        fs, path = fsspec.core.url_to_fs(pattern)
        details = fs.glob(path, detail=True)
        found = [
            FileInfo(fs.unstrip_protocol(p), int(d.get("size") or 0))  # canonical fsspec URL
            for p, d in details.items()
            if d.get("type", "file") != "directory"
        ]
    return sorted(found)


# ------------------------------------------------- local files that are not files
_KINDS = ((stat.S_ISFIFO, "named pipe (FIFO)"), (stat.S_ISCHR, "character device"),
          (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"),
          (stat.S_ISDIR, "directory"))


def local_file_problem(uri: str) -> tuple[str, str] | None:
    """Why a local path cannot be read as a file, before opening it (a FIFO
    would block the reader forever): ``("not_a_file" | "broken_link",
    message)``, or ``None`` (a regular file, or not a local path; a missing
    file is left to the reader's own error)."""
    if not is_local(uri):
        return None
    try:
        mode = os.stat(uri).st_mode
    except OSError as exc:
        if os.path.islink(uri):
            why = "loops" if exc.errno == errno.ELOOP else "points to nothing"
            return "broken_link", f"symbolic link {uri} -> {os.readlink(uri)} {why}"
        return None
    for test, kind in _KINDS:
        if test(mode):
            return "not_a_file", f"{uri} is a {kind}, not a regular file; not read"
    return None


def broken_links(pattern: str) -> list[str]:
    """Local paths matching a glob (``**``: zero or more folders) that are
    symbolic links to nothing or links in a loop: Beam's match skips them."""
    if not is_local(pattern):
        return []
    found = {p for pat in expand_globstar(pattern) for p in glob.glob(pat, recursive=True)}
    return sorted(p for p in found if os.path.islink(p) and not os.path.exists(p))


# ------------------------------------------------- directories (Beam paths)
def is_local(uri: str) -> bool:
    """True for a local path (no URL scheme)."""
    return "://" not in uri


COPY_CHUNK_BYTES = 8 << 20


def copy_to_local(uri: str, path: str) -> None:
    """Copies one file to the local ``path``, in pieces (never whole in memory)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open_read(uri) as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst, COPY_CHUNK_BYTES)


def upload_tree(local_dir: str, uri: str, *, last: tuple[str, ...] = ()) -> list[str]:
    """Copies every file under the local ``local_dir`` to the same relative
    place under ``uri``, in pieces, the relative paths in ``last`` after all
    others (a reader waiting for them sees a complete folder); returns the
    URIs written, sorted."""
    rels = sorted(os.path.relpath(os.path.join(root, name), local_dir).replace(os.sep, "/")
                  for root, _, names in os.walk(local_dir) for name in names)
    written = []
    for rel in sorted(rels, key=lambda r: r in last):
        dst = join(uri, *rel.split("/"))
        upload_file(os.path.join(local_dir, *rel.split("/")), dst)
        written.append(dst)
    return sorted(written)


def upload_file(path: str, uri: str) -> None:
    """Copies the local file ``path`` to ``uri`` (replacing it), in pieces."""
    if is_local(uri):
        os.makedirs(os.path.dirname(uri) or ".", exist_ok=True)
        shutil.copyfile(path, uri)
        return
    if os.path.getsize(path) == 0:
        write_bytes(uri, b"")
        return
    with open(path, "rb") as src, _open_write(uri) as out:
        shutil.copyfileobj(src, out, COPY_CHUNK_BYTES)


def _open_write(uri: str, *, mime_type: str = "application/octet-stream"):
    """A binary file object writing (replacing) ``uri`` as given: Beam never
    compresses it, whatever its name ends with (close it)."""
    if is_beam_path(uri):
        return FileSystems.create(uri, mime_type=mime_type, compression_type="uncompressed")
    return fsspec.open(uri, "wb").open()


def makedirs(uri: str) -> None:
    """Creates a local directory; object stores need none."""
    if is_local(uri):
        os.makedirs(uri, exist_ok=True)


def delete_tree(uri: str) -> None:
    """Deletes a directory (a prefix on object stores) and everything in it."""
    if is_local(uri):
        shutil.rmtree(uri, ignore_errors=True)
    elif FileSystems.match([uri.rstrip("/") + "/**"], limits=[1])[0].metadata_list:
        FileSystems.delete([uri.rstrip("/") + "/"])


def remove_empty_dir(uri: str) -> None:
    """Removes a local directory if it is empty (object stores need nothing)."""
    if is_local(uri):
        with contextlib.suppress(OSError):
            os.rmdir(uri)


def move(src: str, dst: str) -> None:
    """Moves one file to ``dst``, replacing a file there (locally one atomic
    rename; on object stores a copy, then the source is deleted)."""
    if is_local(src) and is_local(dst):
        os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
        os.replace(src, dst)
    elif is_beam_path(src):
        if FileSystems.exists(dst):
            FileSystems.delete([dst])
        FileSystems.rename([src], [dst])
    else:
        fs, path = fsspec.core.url_to_fs(src)
        fs.mv(path, fsspec.core.url_to_fs(dst)[1])


def delete(uri: str) -> None:
    """Deletes one file; a file that is already gone is not an error."""
    if is_local(uri):
        with contextlib.suppress(FileNotFoundError):
            os.remove(uri)
    elif is_beam_path(uri):
        if FileSystems.exists(uri):
            FileSystems.delete([uri])
    else:
        fs, path = fsspec.core.url_to_fs(uri)
        if fs.exists(path):
            fs.rm(path)


def write_text_atomic(uri: str, text: str) -> None:
    """Writes a whole text file that readers see complete or not at all:
    locally written beside it and renamed over it; an object store's single
    upload is atomic already."""
    if not is_local(uri):
        write_text(uri, text)
        return
    os.makedirs(os.path.dirname(uri) or ".", exist_ok=True)
    tmp = f"{uri}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, uri)
