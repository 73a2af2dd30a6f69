"""Publishing a run's outputs in one recoverable step, one run at a time.

A job writes everything it produces under ``OUTPUT/_staging/RUN_ID/`` (with
a claim, ``_run.json``, naming the run and its lock key). To publish, it
writes one record, ``OUTPUT/_staging/RUN_ID/_publish.json``: every staged
file and the place it goes, the files to write last (score's run record) and
the old files to delete. Writing that record is the commit; then the files
are moved, the last files written, the old files deleted and the staging
folder removed. Each of these steps can be repeated, so:

- a run killed before the record is written leaves the published outputs as
  they were; the next run with the same key deletes its staging folder;
- a run killed after it is finished by the next run on the output
  (:func:`recover`), before that run does anything else.

Readers (``report``, ``evaluate``, ``train``) refuse an output with a
publication in progress (:func:`unfinished`). New files get new names (score's
shards carry the run id), so a reader in the instant of a publication sees
old and new rows, never a missing partition.

:class:`OutputLock` allows one run per output and key (score: per run date).
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from sentiment_model import storage, versioned
from sentiment_model.errors import ConfigError

STAGING_DIR = "_staging"
LOCKS_DIR = "_locks"
CLAIM_FILE = "_run.json"
RECORD_FILE = "_publish.json"

LOG = logging.getLogger("audio_sentiment")


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def staging_dir(output: str, run_id: str) -> str:
    return storage.join(output, STAGING_DIR, run_id)


# ================================================================ the record
@dataclass(frozen=True)
class Publication:
    """What publishing a run does; written as ``_publish.json`` before any of it.

    Attributes:
        run_id: the run whose staged files these are.
        key: its lock key (e.g. ``score-run_date=2026-11-24``).
        moves: (staged file, its published place) pairs, in order.
        writes: (URI, text) of files written after the moves.
        deletes: old published files, deleted last (never a move's target).
    """

    run_id: str
    key: str
    moves: tuple[tuple[str, str], ...]
    writes: tuple[tuple[str, str], ...] = ()
    deletes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "key": self.key, "written_at": _now(),
                "moves": [list(m) for m in self.moves],
                "writes": [list(w) for w in self.writes], "deletes": list(self.deletes)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Publication:
        return cls(run_id=data["run_id"], key=data["key"],
                   moves=tuple((s, d) for s, d in data["moves"]),
                   writes=tuple((u, t) for u, t in data.get("writes", ())),
                   deletes=tuple(data.get("deletes", ())))


def claim(output: str, *, run_id: str, key: str, job: str) -> str:
    """Creates the run's staging folder with its claim; returns the folder."""
    folder = staging_dir(output, run_id)
    storage.makedirs(folder)
    storage.write_text_atomic(storage.join(folder, CLAIM_FILE), json.dumps(
        {"run_id": run_id, "key": key, "job": job, "started_at": _now(),
         "pid": os.getpid(), "host": socket.gethostname()}, indent=2) + "\n")
    return folder


def staged_files(folder: str) -> list[str]:
    """Every file a run staged under ``folder`` (its claim excluded), sorted."""
    own = {storage.join(folder, CLAIM_FILE), storage.join(folder, RECORD_FILE)}
    return [f.uri for f in storage.match(storage.join(folder, "**", "*")) if f.uri not in own]


def publish(output: str, publication: Publication) -> None:
    """Commits ``publication`` (writes its record) and carries it out."""
    storage.write_text_atomic(
        storage.join(staging_dir(output, publication.run_id), RECORD_FILE),
        json.dumps(publication.to_dict(), indent=2) + "\n")
    roll_forward(output, publication)


def roll_forward(output: str, publication: Publication) -> None:
    """Carries out a committed publication from wherever it stopped."""
    for src, dst in publication.moves:
        if storage.exists(src):
            storage.move(src, dst)
    for uri, text in publication.writes:
        storage.makedirs(storage.dirname(uri))
        storage.write_text_atomic(uri, text)
    targets = {dst for _, dst in publication.moves}
    for uri in publication.deletes:
        if uri not in targets:
            storage.delete(uri)
    storage.delete_tree(staging_dir(output, publication.run_id))
    storage.remove_empty_dir(storage.join(output, STAGING_DIR))


def _read_json(uri: str) -> dict | None:
    try:
        return json.loads(storage.read_text(uri))
    except (OSError, ValueError):
        return None  # gone meanwhile, or a claim cut short by a kill


def unfinished(output: str) -> list[Publication]:
    """Publications committed under ``output`` and not finished (a run
    publishing now, or one that died while publishing)."""
    found = storage.match(storage.join(output, STAGING_DIR, "*", RECORD_FILE))
    records = (_read_json(f.uri) for f in found)
    return [Publication.from_dict(r) for r in records if r]


def staged_runs(output: str) -> list[str]:
    """The claims and publication records under ``OUTPUT/_staging/`` (one
    listing: whether there is anything to recover)."""
    return [f.uri for f in storage.match(storage.join(output, STAGING_DIR, "*", "_*.json"))]


def check_finished(output: str, *, what: str) -> None:
    """Raises ConfigError when ``output`` has a publication in progress."""
    pending = unfinished(output)
    if pending:
        raise ConfigError(
            f"{what} {output}: run {pending[0].run_id} ({pending[0].key}) is publishing its "
            "outputs or stopped while doing so, so they may mix two runs; try again in a "
            "moment (the next run of that job on this output finishes a stopped one)")


def recover(output: str, *, job: str, key: str, run_id: str) -> list[str]:
    """Finishes or removes what dead runs left under ``OUTPUT/_staging/``.

    Call it holding the lock on ``key``. A committed publication of ``key``
    is finished; one of another key is finished when its lock is free (its
    run is dead). A staging folder of ``key`` without a record belongs to a
    run that died before publishing: it is deleted. Folders of runs still
    holding their lock are left alone.

    Returns:
        one line per thing done, to log.
    """
    done = []
    for publication in unfinished(output):
        if publication.run_id == run_id:
            continue
        with _held(output, publication.key, run_id=run_id, job=job, mine=key) as free:
            if free:
                roll_forward(output, publication)
                done.append(f"{job}: finished publishing run {publication.run_id} "
                            f"({publication.key}), which stopped midway")
    for info in storage.match(storage.join(output, STAGING_DIR, "*", CLAIM_FILE)):
        claimed = _read_json(info.uri)
        folder = storage.dirname(info.uri)
        if (claimed and claimed.get("key") == key and claimed.get("run_id") != run_id
                and not storage.exists(storage.join(folder, RECORD_FILE))):
            storage.delete_tree(folder)
            done.append(f"{job}: removed the staging folder of run {claimed['run_id']}, which "
                        "died before publishing (the published outputs are as it found them)")
    storage.remove_empty_dir(storage.join(output, STAGING_DIR))
    return done


@contextlib.contextmanager
def _held(output: str, key: str, *, run_id: str, job: str, mine: str):
    """Yields whether ``key``'s lock is ours or free (then held meanwhile)."""
    if key == mine:
        yield True
        return
    lock = OutputLock(output, key, run_id=run_id, job=job)
    try:
        lock.acquire()
    except ConfigError:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


# ================================================================== the lock
class OutputLock:
    """One run at a time per output and key: ``OUTPUT/_locks/KEY.lock``.

    Locally the file is held with ``flock``, which the kernel releases when
    the process dies, so a dead run's lock is simply taken over. On object
    stores, which have no locks, the object names its run and is refreshed
    every ``heartbeat_s``; one not refreshed for ``stale_after_s`` is a dead
    run's and is taken over. Every write is conditional
    (:mod:`sentiment_model.versioned`): created only if absent, refreshed or
    taken over only if unchanged since read, so of two runs starting at once
    one gets it. The file records the owner's run id, pid, host and start
    time, which a refused run prints.
    """

    def __init__(self, output: str, key: str, *, run_id: str, job: str,
                 heartbeat_s: float = 60.0, stale_after_s: float = 300.0) -> None:
        self.output, self.key, self.run_id, self.job = output, key, run_id, job
        self.path = storage.join(output, LOCKS_DIR, f"{key}.lock")
        self.heartbeat_s, self.stale_after_s = heartbeat_s, stale_after_s
        self._fd: int | None = None
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        self._version: str | None = None  # of the lock object we wrote last
        self.taken_over: dict | None = None  # the dead owner's record, if any

    def _record(self) -> dict:
        return {"run_id": self.run_id, "job": self.job, "key": self.key,
                "pid": os.getpid(), "host": socket.gethostname(),
                "started_at": self._started, "heartbeat_at": time.time()}

    def _refusal(self, owner: dict | None) -> ConfigError:
        owner = owner or {}
        since = owner.get("started_at", "?")
        return ConfigError(
            f"--output {self.output}: {owner.get('job', 'another')} run "
            f"{owner.get('run_id', '?')} (pid {owner.get('pid', '?')} on "
            f"{owner.get('host', '?')}, since {since}) is writing {self.key} now; wait for it "
            f"to finish or stop it (lock: {self.path})")

    def acquire(self) -> OutputLock:
        """Takes the lock. Raises ConfigError naming the run that holds it."""
        self._started = _now()
        if "://" not in self.output:
            self._acquire_local()
        else:
            self._acquire_remote()
        return self

    def _acquire_local(self) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _parse(os.pread(fd, 65536, 0))
            os.close(fd)
            raise self._refusal(owner) from None
        self.taken_over = _parse(os.pread(fd, 65536, 0))
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(self._record()).encode(), 0)
        os.fsync(fd)
        self._fd = fd

    def _acquire_remote(self) -> None:
        for _ in range(5):
            current = versioned.read(self.path)
            owner = _parse(current.data) if current else None
            if owner and time.time() - float(owner.get("heartbeat_at", 0)) < self.stale_after_s:
                raise self._refusal(owner)
            self._version = versioned.write(self.path, self._record_bytes(),
                                            version=current.version if current else None)
            if self._version is not None:
                self.taken_over = owner
                break
        else:  # another run took it between our read and our write, every time
            current = versioned.read(self.path)
            raise self._refusal(_parse(current.data) if current else None)
        self._beat = threading.Thread(target=self._heartbeat, name=f"lock-{self.key}",
                                      daemon=True)
        self._beat.start()

    def _record_bytes(self) -> bytes:
        return json.dumps(self._record()).encode()

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            try:
                version = versioned.write(self.path, self._record_bytes(), version=self._version)
            except Exception as exc:  # a store's hiccup: the next beat tries again
                LOG.warning("could not refresh the lock %s: %s", self.path,
                            storage.redact(str(exc)))
                continue
            if version is None:
                LOG.error("the lock %s was taken over by another run after no refresh for "
                          "%.0f s; this run no longer holds it", self.path, self.stale_after_s)
                return
            self._version = version

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if self._beat is not None:
            self._stop.set()
            self._beat.join()
            self._beat = None
            current = versioned.read(self.path)
            if current and (_parse(current.data) or {}).get("run_id") == self.run_id:
                versioned.delete(self.path)

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _parse(data: bytes) -> dict | None:
    try:
        return json.loads(data.decode()) if data.strip() else None
    except ValueError:
        return None
