"""Conditional writes of small objects: create only if absent, replace only
if unchanged since read. What a lock on an object store needs, and what
Beam's FileSystems cannot do, so these go through the stores' own clients
(built from the same options and credentials Beam's file systems use):

* ``s3://``: ``PutObject`` with ``If-None-Match: *`` / ``If-Match: ETAG``;
* ``gs://``: uploads with ``ifGenerationMatch=0`` / ``=GENERATION``.

A version is the object's ETag (S3) or generation (GCS). Other URLs
(``memory://`` and fsspec's other protocols, local paths) have no such
writes: there the check and the write are two steps (best effort; a local
lock uses ``flock`` instead).
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import NamedTuple

from sentiment_model import storage


class Versioned(NamedTuple):
    """An object's bytes and the version they were read at."""

    data: bytes
    version: str


def read(uri: str) -> Versioned | None:
    """The object and its version; None when there is none."""
    scheme, bucket, key = storage.bucket_key(uri)
    if scheme == "s3":
        return _s3_read(bucket, key)
    if scheme == "gs":
        return _gcs_read(bucket, key, uri)
    try:
        data = storage.read_bytes(uri)
    except FileNotFoundError:
        return None
    return Versioned(data, hashlib.sha256(data).hexdigest())


def write(uri: str, data: bytes, *, version: str | None) -> str | None:
    """Writes ``data`` if the object is absent (``version=None``) or still at
    ``version``; returns the new version, or None when the condition failed
    (another writer came first) and nothing was written."""
    scheme, bucket, key = storage.bucket_key(uri)
    if scheme == "s3":
        return _s3_write(bucket, key, data, version)
    if scheme == "gs":
        return _gcs_write(bucket, key, data, version)
    current = read(uri)
    if (current.version if current else None) != version:
        return None
    storage.write_bytes(uri, data)
    return hashlib.sha256(data).hexdigest()


def delete(uri: str) -> None:
    """Deletes the object; one already gone is not an error."""
    scheme, bucket, key = storage.bucket_key(uri)
    if scheme == "s3":
        storage.s3_client().delete_object(Bucket=bucket, Key=key)
    elif scheme == "gs":
        from google.api_core import exceptions

        with contextlib.suppress(exceptions.NotFound):
            _gcs_bucket(bucket).delete_blob(key)
    else:
        storage.delete(uri)


# ------------------------------------------------------------------- S3
def _s3_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _s3_read(bucket: str, key: str) -> Versioned | None:
    from botocore.exceptions import ClientError

    try:
        got = storage.s3_client().get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if _s3_code(exc) in ("NoSuchKey", "404"):
            return None
        raise
    return Versioned(got["Body"].read(), got["ETag"])


def _s3_write(bucket: str, key: str, data: bytes, version: str | None) -> str | None:
    from botocore.exceptions import ClientError

    condition = {"IfNoneMatch": "*"} if version is None else {"IfMatch": version}
    try:
        put = storage.s3_client().put_object(Bucket=bucket, Key=key, Body=data, **condition)
    except ClientError as exc:
        # 412: the condition failed; 409: a concurrent conditional write won
        if _s3_code(exc) in ("PreconditionFailed", "ConditionalRequestConflict", "412", "409"):
            return None
        raise
    return put["ETag"]


# ------------------------------------------------------------------- GCS
def _gcs_bucket(name: str):
    from apache_beam.io.gcp import gcsio

    return gcsio.create_storage_client(storage.pipeline_options()).bucket(name)


def _gcs_read(bucket: str, key: str, uri: str) -> Versioned | None:
    from google.api_core import exceptions

    blob = _gcs_bucket(bucket).get_blob(key)
    if blob is None:
        return None
    if blob.generation is None:
        raise OSError(f"{storage.redact(uri)}: this GCS server reports no object generations, "
                      "which conditional writes need")
    try:
        data = blob.download_as_bytes(if_generation_match=blob.generation)
    except (exceptions.NotFound, exceptions.PreconditionFailed):
        return _gcs_read(bucket, key, uri)  # replaced or deleted since: read it again
    return Versioned(data, str(blob.generation))


def _gcs_write(bucket: str, key: str, data: bytes, version: str | None) -> str | None:
    from google.api_core import exceptions

    blob = _gcs_bucket(bucket).blob(key)
    try:
        blob.upload_from_string(data, if_generation_match=0 if version is None else int(version))
    except exceptions.PreconditionFailed:
        return None
    return str(blob.generation)
