"""The analytics writer's batches (search_app/recorder.py); its faults are in tests/test_analytics_faults.py."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from search_app.recorder import BATCH_SIZE, Backoff, Recorder
from tests.reliability.helpers import wait_for


def _wal_frames(db: Path, mode: str = "PASSIVE") -> int:
    """The pages in the store's write-ahead log (SQLite's ``wal_checkpoint`` says; TRUNCATE empties it)."""
    connection = sqlite3.connect(db)
    try:
        return connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()[1]
    finally:
        connection.close()


def test_the_events_of_many_searches_go_in_one_transaction(tmp_path: Path) -> None:
    db = tmp_path / "analytics.sqlite3"
    recorder = Recorder(db, 90, gather=0.0)
    recorder.record_search("avant", {}, 1, 1.0)
    assert recorder.flush()
    _wal_frames(db, "TRUNCATE")
    recorder.gather = 3.0  # far longer than the 100 searches below take

    for number in range(100):  # a search a millisecond, each leaving the GIL free for a while, as a server does
        recorder.record_search(f"requête {number}", {}, 1, 1.0)
        time.sleep(0.001)
    assert recorder.flush(timeout=10)

    # One transaction writes each page it changes once: the table's and its indexes' last pages. A
    # transaction per event would write at least one page each: 100 or more.
    assert 0 < _wal_frames(db) < 20
    assert _searches(db) == 101


def test_a_backlog_is_written_in_full_batches_without_gathering(tmp_path: Path) -> None:
    blocker = tmp_path / "var"
    blocker.write_text("a regular file where the folder should be")
    recorder = Recorder(blocker / "analytics.sqlite3", 90, Backoff(0.01, 0.05), gather=0.0)
    recorder.record_search("avant", {}, 1, 1.0)
    assert wait_for(lambda: recorder.status().failing_since is not None)  # that event in hand, retried
    for number in range(2 * BATCH_SIZE):
        recorder.record_search(f"requête {number}", {}, 1, 1.0)
    recorder.gather = 60.0  # a writer gathering before each batch would now take minutes

    blocker.unlink()
    assert recorder.flush(timeout=30)  # the event in hand, then two full batches: no gathering
    assert recorder.status().failing_since is None and _searches(recorder.path) == 2 * BATCH_SIZE + 1


def _searches(db: Path) -> int:
    connection = sqlite3.connect(db)
    try:
        return connection.execute("SELECT COUNT(*) FROM searches").fetchone()[0]
    finally:
        connection.close()
