"""Storage helpers."""

import os

from sentiment_model import storage


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
