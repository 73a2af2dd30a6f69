"""Storage helpers."""

import os

import pytest

from sentiment_model import storage
from sentiment_model.errors import ConfigError


def test_canonical_resolves_dots_links_and_url_paths(tmp_path, monkeypatch):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.wav").write_bytes(b"x")
    (tmp_path / "l.wav").symlink_to(tmp_path / "d" / "a.wav")
    real = os.path.realpath(tmp_path / "d" / "a.wav")
    for spelling in (f"{tmp_path}/d/../d/./a.wav", str(tmp_path / "l.wav"),
                     f"file://{tmp_path}/d/a.wav"):
        assert storage.canonical(spelling) == real
    monkeypatch.chdir(tmp_path)
    assert storage.canonical("d/a.wav") == real
    assert storage.canonical("S3://Bucket//calls/./x/../a.wav") == "s3://bucket/calls/a.wav"
    assert storage.canonical("gs://b/a.wav") != storage.canonical("gs://b/A.wav")


def test_credentials_in_a_store_url_are_refused_before_any_request():
    for url in ("s3://KEY:SECRET@bucket/a.wav", "gs://user@bucket/a.wav"):
        with pytest.raises(ConfigError, match="credentials in a storage URL are not read") as info:
            storage.exists(url)
        assert "SECRET" not in str(info.value) and "***@bucket/a.wav" in str(info.value)
    assert storage.is_beam_path("s3://bucket/a@b.wav")
