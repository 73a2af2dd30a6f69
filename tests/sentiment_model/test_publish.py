"""Publication (one recoverable commit) and the per-output lock, on real files."""

from __future__ import annotations

import json
import os

import fsspec
import pytest

from sentiment_model import publish, storage
from sentiment_model.errors import ConfigError
from tests.conftest import Killed, lock_held_by_another_process


def tree(root) -> dict[str, str]:
    """Every file under ``root`` (lock files left out) -> its text."""
    out = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            if not rel.startswith(publish.LOCKS_DIR):
                with open(path) as f:
                    out[rel] = f.read()
    return out


def staged_run(out, run_id: str, files: dict[str, str]) -> publish.Publication:
    """A claimed staging folder holding ``files`` (published path -> text),
    and the publication that replaces the table ``t/`` with them."""
    folder = publish.claim(str(out), run_id=run_id, key="k", job="test")
    moves = []
    for rel, text in files.items():
        src = os.path.join(folder, rel)
        os.makedirs(os.path.dirname(src), exist_ok=True)
        with open(src, "w") as f:
            f.write(text)
        moves.append((src, os.path.join(str(out), rel)))
    old = sorted(os.path.join(str(out), "t", n) for n in os.listdir(out / "t"))
    return publish.Publication(run_id=run_id, key="k", moves=tuple(moves),
                               writes=((str(out / "_runs" / f"{run_id}.json"), "done\n"),),
                               deletes=tuple(old))


def old_output(out) -> None:
    (out / "t").mkdir(parents=True)
    (out / "t" / "part-old-00000-of-00002.parquet").write_text("old 0")
    (out / "t" / "part-old-00001-of-00002.parquet").write_text("old 1")
    (out / "t" / "shared-name.parquet").write_text("old shared")
    (out / "notes.txt").write_text("not the job's")


NEW = {"t/part-new-00000-of-00001.parquet": "new 0", "t/shared-name.parquet": "new shared"}
PUBLISHED = {"t/part-new-00000-of-00001.parquet": "new 0", "t/shared-name.parquet": "new shared",
             "_runs/new.json": "done\n", "notes.txt": "not the job's"}


@pytest.mark.parametrize("steps", range(5))
def test_a_publication_killed_after_any_step_is_finished_by_the_next_run(
        tmp_path, monkeypatch, steps):
    out = tmp_path / "out"
    old_output(out)
    publication = staged_run(out, "new", NEW)
    calls = {"n": 0}
    real = {name: getattr(storage, name) for name in ("move", "write_text_atomic", "delete")}

    def dying(name):
        def step(*args, **kwargs):
            if calls["n"] == steps + 1:  # the record's own write is step 0
                raise Killed
            calls["n"] += 1
            return real[name](*args, **kwargs)
        return step

    for name in real:
        monkeypatch.setattr(storage, name, dying(name))
    with pytest.raises(Killed):
        publish.publish(str(out), publication)
    monkeypatch.undo()
    assert [p.run_id for p in publish.unfinished(str(out))] == ["new"]
    with pytest.raises(ConfigError, match=r"run new \(k\) is publishing"):
        publish.check_finished(str(out), what="--scores")

    done = publish.recover(str(out), job="test", key="k", run_id="next")
    assert done == ["test: finished publishing run new (k), which stopped midway"]
    assert tree(out) == PUBLISHED
    assert publish.unfinished(str(out)) == []


def test_a_run_that_died_before_its_record_changes_nothing_and_is_cleaned_up(tmp_path):
    out = tmp_path / "out"
    old_output(out)
    staged_run(out, "dead", NEW)
    other = publish.claim(str(out), run_id="other-key", key="k2", job="test")
    assert publish.unfinished(str(out)) == []
    publish.check_finished(str(out), what="--scores")  # nothing committed: readers go on
    done = publish.recover(str(out), job="test", key="k", run_id="next")
    assert done == ["test: removed the staging folder of run dead, which died before "
                    "publishing (the published outputs are as it found them)"]
    assert os.path.isdir(other)  # another key's run may be alive: left alone
    assert not os.path.exists(publish.staging_dir(str(out), "dead"))
    assert {k: v for k, v in tree(out).items() if not k.startswith("_staging")} == {
        "t/part-old-00000-of-00002.parquet": "old 0",
        "t/part-old-00001-of-00002.parquet": "old 1",
        "t/shared-name.parquet": "old shared", "notes.txt": "not the job's"}


def test_a_publication_of_a_key_whose_run_is_alive_is_left_to_it(tmp_path):
    out = tmp_path / "out"
    old_output(out)
    publication = staged_run(out, "live", NEW)
    storage.write_text_atomic(os.path.join(publish.staging_dir(str(out), "live"),
                                           publish.RECORD_FILE),
                              json.dumps(publication.to_dict()))
    with publish.OutputLock(str(out), "k", run_id="live", job="test"):
        assert publish.recover(str(out), job="test", key="other", run_id="next") == []
    assert publish.recover(str(out), job="test", key="other", run_id="next") == [
        "test: finished publishing run live (k), which stopped midway"]
    expected = {k: v for k, v in PUBLISHED.items() if not k.startswith("_runs")}
    assert tree(out) == {**expected, "_runs/live.json": "done\n"}


def test_a_second_run_refuses_while_the_first_holds_the_lock_and_takes_over_a_dead_one(
        tmp_path):
    out = str(tmp_path / "out")
    with lock_held_by_another_process(out, "score-run_date=2026-11-24",
                                      run_id="holder") as holder:
        with pytest.raises(ConfigError) as refused:
            publish.OutputLock(out, "score-run_date=2026-11-24", run_id="second",
                               job="score").acquire()
        message = str(refused.value)
        assert "\n" not in message
        assert f"score run holder (pid {holder.pid} on " in message
        assert "is writing score-run_date=2026-11-24 now" in message
        # another date is another key: it runs meanwhile
        with publish.OutputLock(out, "score-run_date=2026-11-25", run_id="other", job="score"):
            pass
    lock = publish.OutputLock(out, "score-run_date=2026-11-24", run_id="third", job="score")
    with lock:
        assert lock.taken_over["run_id"] == "holder" and lock.taken_over["pid"] == holder.pid
        with pytest.raises(ConfigError, match="score run third"):
            publish.OutputLock(out, "score-run_date=2026-11-24", run_id="fourth",
                               job="score").acquire()
    again = publish.OutputLock(out, "score-run_date=2026-11-24", run_id="fifth", job="score")
    with again:
        assert again.taken_over is None  # released cleanly: nobody to take over


def test_object_store_locks_refuse_a_live_owner_and_take_over_a_stale_one():
    out = "memory://publish-lock-test/out"
    first = publish.OutputLock(out, "featurize", run_id="first", job="featurize",
                               heartbeat_s=0.05)
    first.acquire()
    try:
        with pytest.raises(ConfigError, match="featurize run first"):
            publish.OutputLock(out, "featurize", run_id="second", job="featurize").acquire()
    finally:
        first.release()
    assert not fsspec.filesystem("memory").exists("/publish-lock-test/out/_locks/featurize.lock")
    # a dead owner stops refreshing its file: stale, taken over
    storage.write_text(storage.join(out, "_locks", "featurize.lock"), json.dumps(
        {"run_id": "dead", "job": "featurize", "heartbeat_at": 0}))
    lock = publish.OutputLock(out, "featurize", run_id="third", job="featurize")
    with lock:
        assert lock.taken_over["run_id"] == "dead"
