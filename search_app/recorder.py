"""The analytics writer: events queued on the request path, written by one thread per process.

A search only puts its event in a bounded queue (:data:`QUEUE_SIZE`) and goes on: whatever happens to
the store, a search neither waits nor fails. One writer thread per process (started with the first
event, restarted only in a forked child, which gets a fresh queue) takes batches from the queue, letting
events gather for :data:`GATHER_S` after the first one, so it wakes and writes a few times a second, not
after every search; a process exiting gives it :data:`EXIT_FLUSH_S` to write what is queued:

- **Store unavailable** (locked, read-only, disk full, a folder that cannot be created): the batch is
  kept and written again after a pause growing from 0.5 s to 5 s (:class:`Backoff`); meanwhile the
  queue keeps the events that come, up to its size. One warning when the failures start, one line when
  a write succeeds again (« analytics: writing resumed, N events lost »): a failure episode, however
  many searches it lasts, logs two lines.
- **Damaged file**: moved aside to ``analytics.sqlite3.corrupt-<UTC time>`` with its ``-wal``/``-shm``
  (:func:`~search_app.analytics_faults.move_aside`) and a new store started, logged once.
- **Queue full**: the event is dropped; **rows SQLite rejects**: the batch is lost. Both are counted
  (:class:`RecorderStatus` for /stats), and the count goes into the store's ``losses`` with the next
  batch written, so reports add up every worker's losses.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from search_app.analytics import Event, connect, purge, query_key, typed_form, write_events
from search_app.analytics_faults import file_identity, french_reason, is_corrupt, move_aside, rejects_batch

logger = logging.getLogger("search_app.analytics")

QUEUE_SIZE = 10_000
BATCH_SIZE = 500
#: Seconds the writer lets events gather after the first one of a batch (unless a full batch is already
#: waiting): one transaction, and one wake-up of the writer, for all the searches of that time instead of one
#: per search. A writer woken by every search takes the GIL from the searches that follow; measured
#: (benchmarks/analytics_bench.py), that made a page-cache hit a third slower than with no writer at all.
GATHER_S = 0.2
#: At exit, how long queued events are given to be written.
EXIT_FLUSH_S = 2.0
#: The writer thread's name (one per process: tests and the benchmark count them by it).
WRITER_NAME = "analytics-writer"
UNEXPECTED_REASON = "erreur inattendue de l’enregistrement (voir le journal du serveur)"


@dataclass(frozen=True)
class Backoff:
    """Pauses between two tries of a batch: ``first`` seconds, doubled each time up to ``maximum``."""

    first: float = 0.5
    maximum: float = 5.0

    def delays(self) -> Iterator[float]:
        """0.5, 1, 2, 4, 5, 5, … (with the defaults)."""
        delay = self.first
        while True:
            yield delay
            delay = min(delay * 2, self.maximum)


@dataclass(frozen=True)
class RecorderStatus:
    """What this process's writer can say on /stats."""

    failing_since: datetime | None  # when the current failure episode started, None when writing works
    reason: str | None  # why, in French, without file paths
    pending: int  # events waiting in memory
    dropped: int  # events dropped because the queue was full, since the process started
    lost: int  # events whose batch SQLite rejected, or that a fault of the writer lost
    unrecorded: int  # of those, not yet counted in the store's ``losses``


class _Losses:
    """Dropped and lost events, and how many of them the store does not count yet (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.dropped = self.lost = self.unrecorded = 0

    def drop(self) -> None:
        with self._lock:
            self.dropped += 1
            self.unrecorded += 1

    def lose(self, count: int) -> None:
        with self._lock:
            self.lost += count
            self.unrecorded += count

    def recorded(self, count: int) -> None:
        """``count`` of them are now in the store's ``losses``."""
        with self._lock:
            self.unrecorded -= count

    @property
    def total(self) -> int:
        return self.dropped + self.lost


class _Episode:
    """A failure episode: from the first failed write to the next write that succeeds."""

    def __init__(self) -> None:
        self.since: datetime | None = None
        self.reason: str | None = None
        self._losses_before = 0

    def fail(self, reason: str, losses: int) -> bool:
        """Note a failure (``reason`` in French); True when it starts the episode (the one to log)."""
        self.reason = reason
        if self.since is not None:
            return False
        self.since, self._losses_before = datetime.now(UTC), losses
        return True

    def end(self, losses: int) -> int | None:
        """A write succeeded: the events lost during the episode, None if there was none."""
        if self.since is None:
            return None
        self.since = self.reason = None
        return losses - self._losses_before


class _StoreConnection:
    """The writer's connection, opened when needed and again when the file at the path is another one."""

    def __init__(self, path: Path, retention_days: int, busy_timeout: float) -> None:
        self.path, self.retention_days, self.busy_timeout = path, retention_days, busy_timeout
        self._connection: sqlite3.Connection | None = None
        self._identity = file_identity(path)

    def write(self, events: list[Event], lost: int) -> None:
        """Write a batch (and a count of events lost before it), opening the store first if needed."""
        if self._connection is None or file_identity(self.path) != self._identity:
            self._open()
        assert self._connection is not None
        write_events(self._connection, events, lost)

    def _open(self) -> None:
        self.close()
        self._identity = file_identity(self.path)  # a damaged file found while opening is this one
        connection = connect(self.path, self.busy_timeout)
        try:
            purge(connection, self.retention_days)
        except sqlite3.Error:
            connection.close()
            raise
        self._connection, self._identity = connection, file_identity(self.path)

    def move_aside(self) -> Path | None:
        """Move the damaged file aside; None when another process already replaced it (nothing to move)."""
        self.close()
        if self._identity is None or file_identity(self.path) != self._identity:
            return None
        return move_aside(self.path)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def abandon(self) -> None:
        """In a forked child: forget the parent's connection without closing it (closing it there could
        checkpoint and delete the WAL the parent still writes)."""
        if self._connection is not None:
            _INHERITED.append(self._connection)
        self._connection = None


#: Connections inherited from a parent process, kept open and never used (see ``abandon``).
_INHERITED: list[sqlite3.Connection] = []
#: Every recorder of the process, reset in a forked child.
_RECORDERS: weakref.WeakSet[Recorder] = weakref.WeakSet()


class Recorder:
    """Queues events and writes them from one daemon thread per process."""

    def __init__(self, path: Path, retention_days: int, retry: Backoff | None = None,
                 busy_timeout: float = 5.0, gather: float = GATHER_S) -> None:
        self.path = path
        self.retry = retry or Backoff()
        self.gather = gather
        self._store = _StoreConnection(path, retention_days, busy_timeout)
        self._start_fresh()
        _RECORDERS.add(self)

    def _start_fresh(self) -> None:
        """An empty queue, no writer yet, nothing counted (at creation and in a forked child)."""
        self._queue: queue.Queue[Event] = queue.Queue(maxsize=QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._losses = _Losses()
        self._episode = _Episode()

    def reset_after_fork(self) -> None:
        """In a forked child (called by the fork hook): the parent's queue, thread and connection stay its own."""
        self._store.abandon()
        self._start_fresh()

    @property
    def dropped(self) -> int:
        """Events dropped because the queue was full."""
        return self._losses.dropped

    def status(self) -> RecorderStatus:
        """The writer's state for /stats."""
        losses, episode = self._losses, self._episode
        return RecorderStatus(episode.since, episode.reason, self._queue.unfinished_tasks,
                              losses.dropped, losses.lost, losses.unrecorded)

    def record_search(self, text: str, filters: dict[str, tuple[str, ...]], total: int, ms: float) -> None:
        """Queue one search."""
        now = datetime.now(UTC)
        clean = {facet: list(values) for facet, values in filters.items() if values}
        row = (now.isoformat(timespec="seconds"), now.date().isoformat(), query_key(text), typed_form(text),
               json.dumps(clean, ensure_ascii=False, sort_keys=True), total, round(ms, 3))
        self._put("searches", row)

    def record_click(self, text: str, programme_id: str) -> None:
        """Queue one result opened from a search."""
        now = datetime.now(UTC)
        self._put("clicks", (now.isoformat(timespec="seconds"), now.date().isoformat(),
                             query_key(text), typed_form(text), programme_id[:200]))

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued event is written or counted lost (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._queue.unfinished_tasks

    def flush_on_exit(self) -> None:
        """Give a working writer :data:`EXIT_FLUSH_S` to write what is queued (no wait for a failing one)."""
        thread = self._thread
        if thread is not None and thread.is_alive() and self._episode.since is None:
            self.flush(EXIT_FLUSH_S)

    def _put(self, table: str, row: tuple) -> None:
        self._ensure_thread()
        try:
            self._queue.put_nowait((table, row))
        except queue.Full:
            self._losses.drop()

    def _ensure_thread(self) -> None:
        """Start the writer on the first event (never again in this process: it does not stop)."""
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name=WRITER_NAME, daemon=True)
                thread.start()
                self._thread = thread

    def _run(self) -> None:
        """The writer: take a batch, write it, forever; nothing it meets stops it."""
        while True:
            batch = self._next_batch()
            try:
                self._write(batch)
            except Exception:  # a fault of the writer itself must not stop analytics
                self._losses.lose(len(batch))
                if self._episode.fail(UNEXPECTED_REASON, self._losses.total):
                    logger.exception("analytics: %d events lost to an unexpected error", len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _next_batch(self) -> list[Event]:
        """The first event waiting, then, after :data:`GATHER_S`, those that came meanwhile (a batch at most)."""
        batch = [self._queue.get()]
        if self._queue.qsize() < BATCH_SIZE - 1:
            time.sleep(self.gather)  # the GIL is the searches' meanwhile
        while len(batch) < BATCH_SIZE:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _write(self, batch: list[Event]) -> None:
        """Write ``batch``, trying again while the store is unavailable (a damaged store is replaced once)."""
        delays = self.retry.delays()
        replaced = False
        while True:
            lost = self._losses.unrecorded
            try:
                self._store.write(batch, lost)
            except (sqlite3.Error, OSError) as error:
                if rejects_batch(error):
                    self._rejected(batch, error)
                    return
                if is_corrupt(error) and not replaced:
                    replaced = True
                    self._replace(error)
                    continue
                self._failed(error)
                time.sleep(next(delays))
                continue
            self._written(lost)
            return

    def _written(self, lost: int) -> None:
        self._losses.recorded(lost)
        lost_in_episode = self._episode.end(self._losses.total)
        if lost_in_episode is not None:
            logger.warning("analytics: writing resumed, %d events lost", lost_in_episode)

    def _failed(self, error: sqlite3.Error | OSError) -> None:
        self._store.close()  # the next try opens the file again: it may have been fixed or replaced
        if self._episode.fail(french_reason(error), self._losses.total):
            logger.warning("analytics: cannot write to %s (%s); events kept in memory (up to %d) and retried",
                           self.path, error, QUEUE_SIZE)

    def _replace(self, error: sqlite3.Error | OSError) -> None:
        """A damaged store: move it aside (a new one is created on the next try)."""
        try:
            moved = self._store.move_aside()
        except OSError as failure:
            self._failed(failure)
            return
        if moved is not None:
            logger.warning("analytics: damaged store (%s) moved aside to %s; a new store started", error, moved)

    def _rejected(self, batch: list[Event], error: sqlite3.Error | OSError) -> None:
        self._losses.lose(len(batch))
        if self._episode.fail(french_reason(error), self._losses.total - len(batch)):
            logger.warning("analytics: %d events lost, SQLite rejected them (%s)", len(batch), error)


def _reset_after_fork() -> None:
    for recorder in list(_RECORDERS):
        recorder.reset_after_fork()


def _flush_at_exit() -> None:
    """A worker stopping writes what its searches queued (the writer is a daemon thread)."""
    for recorder in list(_RECORDERS):
        recorder.flush_on_exit()


atexit.register(_flush_at_exit)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
