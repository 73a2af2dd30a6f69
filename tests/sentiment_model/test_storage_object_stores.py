"""sentiment_model.storage and the publication's lock against S3 and GCS
protocol servers on loopback (tests/object_stores.py)."""

from __future__ import annotations

import json
import os

import pytest

from sentiment_model import publish, storage, versioned
from sentiment_model.errors import ConfigError
from tests.conftest import Killed


def test_files_round_trip_match_move_and_delete(bucket, tmp_path):
    base = f"{bucket}/data"
    storage.write_text(f"{base}/a/x.txt", "hello")
    storage.write_bytes(f"{base}/a/b/y.bin", b"\x00\x01" * 10)
    assert storage.read_text(f"{base}/a/x.txt") == "hello"
    assert storage.exists(f"{base}/a/x.txt") and not storage.exists(f"{base}/a/none.txt")
    assert storage.is_dir(f"{base}/a") and not storage.is_dir(f"{base}/nothing")
    assert storage.match(f"{base}/**/*.txt") == [storage.FileInfo(f"{base}/a/x.txt", 5)]
    assert [f.uri for f in storage.match(f"{base}/a/**")] == [f"{base}/a/b/y.bin",
                                                             f"{base}/a/x.txt"]
    storage.move(f"{base}/a/x.txt", f"{base}/c/x.txt")
    assert not storage.exists(f"{base}/a/x.txt")
    assert storage.read_text(f"{base}/c/x.txt") == "hello"
    storage.write_text(f"{base}/c/x.txt", "replaced")  # a move onto an existing object
    storage.write_text(f"{base}/d.txt", "new")
    storage.move(f"{base}/d.txt", f"{base}/c/x.txt")
    assert storage.read_text(f"{base}/c/x.txt") == "new"
    storage.delete(f"{base}/c/x.txt")
    storage.delete(f"{base}/c/x.txt")  # already gone: not an error
    storage.delete_tree(f"{base}/a")
    assert storage.match(f"{base}/**") == []

    local = tmp_path / "tree"
    (local / "sub").mkdir(parents=True)
    (local / "sub" / "one.txt").write_text("1")
    (local / "card.json").write_text("{}")
    (local / "sub" / "empty.lock").write_text("")  # an empty object (S3: no multipart)
    written = storage.upload_tree(str(local), f"{bucket}/up", last=("card.json",))
    assert written == [f"{bucket}/up/card.json", f"{bucket}/up/sub/empty.lock",
                       f"{bucket}/up/sub/one.txt"]
    assert storage.read_bytes(f"{bucket}/up/sub/empty.lock") == b""
    assert storage.match(f"{bucket}/up/sub/empty.lock") == [
        storage.FileInfo(f"{bucket}/up/sub/empty.lock", 0)]
    storage.copy_to_local(f"{bucket}/up/sub/one.txt", str(tmp_path / "back" / "one.txt"))
    assert (tmp_path / "back" / "one.txt").read_text() == "1"


def put_objects(bucket: str, keys: list[str]) -> None:
    """Creates one-byte objects with the store's own client (Beam's S3 file
    system builds a client per call: a thousand writes would take minutes)."""
    import boto3
    from google.cloud import storage as gcs

    scheme, name = bucket.split("://")
    if scheme == "s3":
        client = boto3.client("s3")
        for key in keys:
            client.put_object(Bucket=name, Key=key, Body=b"x")
    else:
        blobs = gcs.Client.create_anonymous_client().bucket(name)
        for key in keys:
            blobs.blob(key).upload_from_string(b"x")


def test_listing_a_prefix_of_more_than_a_thousand_objects_is_paginated(bucket):
    keys = [f"many/f{i:04d}.txt" for i in range(1_005)]
    put_objects(bucket, keys)
    names = [f"{bucket}/{key}" for key in keys]
    assert [f.uri for f in storage.match(f"{bucket}/many/*.txt")] == names


def test_a_missing_object_is_file_not_found_on_every_store(bucket):
    with pytest.raises(FileNotFoundError):
        storage.read_bytes(f"{bucket}/none.txt")


def test_a_large_object_is_read_in_pieces(bucket):
    data = os.urandom(3 << 20)
    storage.write_bytes(f"{bucket}/big.bin", data)
    with storage.open_read(f"{bucket}/big.bin") as f:
        assert f.read(1000) == data[:1000]
        f.seek(2 << 20)
        assert f.read(10) == data[2 << 20:(2 << 20) + 10]


def test_object_store_lock_refuses_a_live_run_and_takes_over_a_stale_one(conditional_bucket):
    out = f"{conditional_bucket}/scores"
    first = publish.OutputLock(out, "score-run_date=2026-12-01", run_id="first", job="score",
                               heartbeat_s=0.05)
    with first:
        with pytest.raises(ConfigError, match=r"score run first .* is writing "
                                              r"score-run_date=2026-12-01 now"):
            publish.OutputLock(out, "score-run_date=2026-12-01", run_id="second",
                               job="score").acquire()
        with publish.OutputLock(out, "score-run_date=2026-12-02", run_id="other", job="score"):
            pass  # another date is another key
    assert versioned.read(first.path) is None
    versioned.write(first.path, json.dumps({"run_id": "dead", "job": "score",
                                            "heartbeat_at": 0}).encode(), version=None)
    lock = publish.OutputLock(out, "score-run_date=2026-12-01", run_id="third", job="score")
    with lock:
        assert lock.taken_over["run_id"] == "dead"


def test_a_publication_killed_midway_on_a_bucket_is_finished_by_the_next_run(
        bucket, monkeypatch):
    out = f"{bucket}/out"
    for name, text in (("t/part-old-00000-of-00001.parquet", "old"), ("notes.txt", "theirs")):
        storage.write_text(f"{out}/{name}", text)
    folder = publish.claim(out, run_id="new", key="k", job="test")
    storage.write_text(f"{folder}/t/part-new-00000-of-00001.parquet", "new")
    publication = publish.Publication(
        run_id="new", key="k",
        moves=((f"{folder}/t/part-new-00000-of-00001.parquet",
                f"{out}/t/part-new-00000-of-00001.parquet"),),
        writes=((f"{out}/_runs/new.json", "done\n"),),
        deletes=(f"{out}/t/part-old-00000-of-00001.parquet",))
    real_move = storage.move

    def dying_move(src, dst):
        real_move(src, dst)
        raise Killed  # the process dies right after the first move

    monkeypatch.setattr(storage, "move", dying_move)
    with pytest.raises(Killed):
        publish.publish(out, publication)
    monkeypatch.undo()
    with pytest.raises(ConfigError, match=r"run new \(k\) is publishing"):
        publish.check_finished(out, what="--scores")
    assert publish.recover(out, job="test", key="k", run_id="next") == [
        "test: finished publishing run new (k), which stopped midway"]
    got = {f.uri[len(out) + 1:]: storage.read_text(f.uri) for f in storage.match(f"{out}/**")}
    assert got == {"t/part-new-00000-of-00001.parquet": "new", "_runs/new.json": "done\n",
                   "notes.txt": "theirs"}


def test_conditional_writes_create_once_and_replace_only_what_was_read(conditional_bucket):
    uri = f"{conditional_bucket}/_locks/k.lock"
    assert versioned.read(uri) is None
    first = versioned.write(uri, b"first", version=None)
    assert first is not None
    assert versioned.write(uri, b"second", version=None) is None  # it exists now
    assert versioned.read(uri) == (b"first", first)
    third = versioned.write(uri, b"third", version=first)
    assert third is not None and third != first
    assert versioned.write(uri, b"fourth", version=first) is None  # changed since read
    assert versioned.read(uri) == (b"third", third)


def test_of_runs_starting_at_once_exactly_one_takes_the_object_store_lock(conditional_bucket):
    import threading

    out = f"{conditional_bucket}/scores"
    key = "score-run_date=2026-12-01"
    barrier = threading.Barrier(6)
    won, refused = [], []

    def start(run_id: str) -> None:
        lock = publish.OutputLock(out, key, run_id=run_id, job="score")
        barrier.wait()
        try:
            lock.acquire()
        except ConfigError as exc:
            refused.append(str(exc))
        else:
            won.append(lock)

    threads = [threading.Thread(target=start, args=(f"run{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and len(refused) == 5
    holder = won[0].run_id
    assert all(f"score run {holder} " in message for message in refused)
    won[0].release()
    assert versioned.read(won[0].path) is None


def read_once(first, real_read):
    """A read that returns ``first`` (what another run saw a moment ago), then
    reads the store."""
    calls = []

    def read(uri):
        calls.append(uri)
        return first if len(calls) == 1 else real_read(uri)

    return read


def test_two_runs_that_both_read_no_lock_or_the_same_stale_one_do_not_both_take_it(
        conditional_bucket, monkeypatch):
    out = f"{conditional_bucket}/scores"
    key = "score-run_date=2026-12-01"
    first = publish.OutputLock(out, key, run_id="first", job="score")
    real_read = versioned.read
    with first:
        # the second run read the lock before the first wrote it: nothing there
        monkeypatch.setattr(versioned, "read", read_once(None, real_read))
        with pytest.raises(ConfigError, match="score run first"):
            publish.OutputLock(out, key, run_id="second", job="score").acquire()
    monkeypatch.setattr(versioned, "read", real_read)

    stale = versioned.write(first.path, json.dumps({"run_id": "dead", "job": "score",
                                                    "heartbeat_at": 0}).encode(), version=None)
    seen = real_read(first.path)
    taker = publish.OutputLock(out, key, run_id="taker", job="score")
    with taker:
        assert taker.taken_over["run_id"] == "dead"
        # a second run read the same stale lock before the taker replaced it
        monkeypatch.setattr(versioned, "read", read_once(seen, real_read))
        with pytest.raises(ConfigError, match="score run taker"):
            publish.OutputLock(out, key, run_id="late", job="score").acquire()
        monkeypatch.setattr(versioned, "read", real_read)
        assert json.loads(real_read(first.path).data)["run_id"] == "taker"
    assert stale is not None and real_read(first.path) is None


def test_a_run_whose_lock_was_taken_over_stops_refreshing_it(conditional_bucket, caplog):
    import time

    out = f"{conditional_bucket}/scores"
    lock = publish.OutputLock(out, "featurize", run_id="slow", job="featurize",
                              heartbeat_s=0.2)
    other = json.dumps({"run_id": "other", "job": "featurize", "heartbeat_at": time.time()})
    with lock:
        # another run takes the lock over as a taker does: its write is
        # conditional, so it reads again when a refresh came between
        for _ in range(50):
            current = versioned.read(lock.path)
            if versioned.write(lock.path, other.encode(), version=current.version):
                break
        else:
            pytest.fail("the lock could not be taken over")
        deadline = time.time() + 20
        while lock._beat.is_alive() and time.time() < deadline:
            time.sleep(0.1)
        assert not lock._beat.is_alive()
    assert "was taken over by another run" in caplog.text
    # the other run's lock is left as it is
    assert json.loads(versioned.read(lock.path).data)["run_id"] == "other"
