"""Analytics that fail quietly and recover (issue 14, point 4): real SQLite files, the real app.

Each fault is made for real: a file that is not a database, a folder under a regular file (tests run
as root, so permissions would not stop them), another connection holding ``BEGIN EXCLUSIVE``, a full
queue. Searches must answer 200, one writer thread must serve the process, a failure episode must log
one warning (and one line when writing resumes), and /stats must never answer 500.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from search_app import create_app
from search_app.analytics import build_report, connect, write_events
from search_app.analytics_faults import SIDE_SUFFIXES, french_reason, is_corrupt, move_aside
from search_app.recorder import BATCH_SIZE, QUEUE_SIZE, WRITER_NAME, Backoff
from tests.reliability.helpers import TRACEBACK_MARKS, wait_for
from tests.test_typography import ORDINARY_SPACE_BEFORE, _squeeze

QUERIES = ("migrants", "Libye", "réintégration", "zzzzqqq")
FAST_RETRY = {"ANALYTICS_RETRY_S": 0.01, "ANALYTICS_RETRY_MAX_S": 0.05, "ANALYTICS_BUSY_TIMEOUT_S": 0.05}
GARBAGE = b"this is not a database, it was damaged on disk\n" * 100


def _app(index_root: Path, db: Path, **config: object):
    return create_app({"SEARCH_INDEX_DIR": str(index_root), "SEARCH_LOG": False, "ANALYTICS_DB": str(db),
                       **FAST_RETRY, **config})


def _writers() -> int:
    return sum(thread.name == WRITER_NAME for thread in threading.enumerate())


def _search(client, count: int) -> list[int]:
    return [client.get("/api/search", query_string={"q": QUERIES[i % len(QUERIES)]}).status_code
            for i in range(count)]


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "search_app.analytics" and r.levelno >= logging.WARNING]


def _searches_in(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT COUNT(*) FROM searches").fetchone()[0]
    finally:
        connection.close()


def _search_while_failing(client, recorder, count: int) -> None:
    """``count`` searches until the writer has failed, ``count`` more, then time for several of its tries."""
    assert _search(client, count) == [200] * count
    assert wait_for(lambda: recorder.status().failing_since is not None)
    assert _search(client, count) == [200] * count
    time.sleep(0.3)


@pytest.fixture()
def warnings(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="search_app.analytics")
    return caplog


def test_a_corrupt_store_is_moved_aside_and_a_new_one_started(index_root, tmp_path, warnings):
    db = tmp_path / "analytics.sqlite3"
    db.write_bytes(GARBAGE)
    Path(f"{db}-wal").write_bytes(GARBAGE[:100])
    before = _writers()
    app = _app(index_root, db)
    client, recorder = app.test_client(), app.extensions["analytics"]

    assert _search(client, 40) == [200] * 40
    assert recorder.flush()

    assert _writers() == before + 1
    moved = sorted(tmp_path.glob("analytics.sqlite3.corrupt-*"))
    assert [path.name.endswith("-wal") for path in moved] == [False, True]
    assert moved[0].read_bytes() == GARBAGE and moved[1].read_bytes() == GARBAGE[:100]
    assert _searches_in(db) == 40  # the new store has every search
    [message] = _messages(warnings)
    assert "moved aside" in message and moved[0].name in message
    assert client.get("/stats").status_code == 200


def test_a_folder_that_cannot_be_created_costs_one_warning_and_no_traceback(index_root, tmp_path, warnings):
    blocker = tmp_path / "var"
    blocker.write_text("a regular file where the folder should be")
    db = blocker / "analytics" / "analytics.sqlite3"
    before = _writers()
    app = _app(index_root, db)
    client, recorder = app.test_client(), app.extensions["analytics"]

    _search_while_failing(client, recorder, 30)

    assert _writers() == before + 1
    [message] = _messages(warnings)
    assert "cannot write" in message and not any(r.exc_info for r in warnings.records)
    status = recorder.status()
    assert status.pending == 60 and status.dropped == 0
    assert status.reason == "le dossier de la base ne peut pas être créé ou ouvert"
    page = client.get("/stats")
    assert page.status_code == 200
    text = BeautifulSoup(page.data, "html.parser").get_text(" ")
    assert "L’enregistrement des recherches est interrompu" in text and status.reason in text
    assert not ORDINARY_SPACE_BEFORE.search(_squeeze(text))

    blocker.unlink()  # the folder can be created again: the events kept are written
    assert recorder.flush()
    assert _searches_in(db) == 60
    assert _messages(warnings)[1:] == ["analytics: writing resumed, 0 events lost"]


def _lock(db: Path) -> sqlite3.Connection:
    """Another connection holding the store's write lock (``BEGIN EXCLUSIVE``) until it commits."""
    connect(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def test_a_locked_store_keeps_the_events_and_writes_them_once_released(index_root, tmp_path, warnings):
    db = tmp_path / "analytics.sqlite3"
    holder = _lock(db)
    before = _writers()
    app = _app(index_root, db)
    client, recorder = app.test_client(), app.extensions["analytics"]

    _search_while_failing(client, recorder, 20)
    assert _searches_in(db) == 0 and recorder.status().pending == 40
    assert recorder.status().reason == "la base est verrouillée par un autre processus"
    holder.execute("COMMIT")
    holder.close()

    assert recorder.flush()
    assert _searches_in(db) == 40
    assert _writers() == before + 1
    messages = _messages(warnings)
    assert len(messages) == 2 and "cannot write" in messages[0] and "database is locked" in messages[0]
    assert messages[1] == "analytics: writing resumed, 0 events lost"
    assert recorder.status().failing_since is None


@pytest.mark.slow
def test_a_store_locked_for_40_seconds_loses_nothing_with_the_default_pauses(index_root, tmp_path, warnings):
    """Issue 14's case with the production settings (pauses from 0.5 s to 5 s, 5 s lock timeout)."""
    db = tmp_path / "analytics.sqlite3"
    holder = _lock(db)
    app = create_app({"SEARCH_INDEX_DIR": str(index_root), "SEARCH_LOG": False, "ANALYTICS_DB": str(db)})
    client, recorder = app.test_client(), app.extensions["analytics"]
    statuses: list[int] = []
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        statuses += _search(client, 5)
        time.sleep(0.25)
    holder.execute("COMMIT")
    holder.close()

    assert set(statuses) == {200}
    assert recorder.flush(timeout=15)
    assert _searches_in(db) == len(statuses)
    messages = _messages(warnings)
    assert len(messages) == 2 and messages[1] == "analytics: writing resumed, 0 events lost"


def test_a_full_queue_counts_its_drops_and_writing_resumes_when_the_store_is_back(index_root, tmp_path, warnings):
    blocker = tmp_path / "var"
    blocker.write_text("not a folder")
    db = blocker / "analytics.sqlite3"
    app = _app(index_root, db)
    client, recorder = app.test_client(), app.extensions["analytics"]
    sent = QUEUE_SIZE + 1_500
    for number in range(sent):
        recorder.record_search(f"requête {number}", {}, 1, 1.0)
    status = recorder.status()
    assert status.pending + status.dropped == sent
    assert QUEUE_SIZE <= status.pending <= QUEUE_SIZE + BATCH_SIZE
    assert client.get("/api/search?q=migrants").status_code == 200  # dropped too: the queue is full
    dropped = recorder.status().dropped
    assert dropped == status.dropped + 1

    blocker.unlink()
    assert recorder.flush(timeout=30)
    assert _searches_in(db) == sent + 1 - dropped
    assert _messages(warnings)[-1] == f"analytics: writing resumed, {dropped} events lost"
    assert build_report(db).lost_events == dropped  # counted in the store, for every worker's report
    assert client.get("/api/search?q=Libye").status_code == 200  # and later events are written again
    assert recorder.flush() and _searches_in(db) == sent + 2 - dropped
    page = BeautifulSoup(client.get("/stats").data, "html.parser").get_text(" ")
    assert f"Événements non enregistrés (file d’attente pleine ou base indisponible)\u00a0: {dropped}." in page


@pytest.mark.parametrize("damage", ["corrupt file", "folder in its place"])
def test_stats_with_a_store_that_cannot_be_read_answer_503_in_french(index_root, tmp_path, damage):
    db = tmp_path / "analytics.sqlite3"
    if damage == "corrupt file":
        db.write_bytes(GARBAGE)
    else:
        db.mkdir()
    app = _app(index_root, db)
    page = app.test_client().get("/stats")
    html = page.get_data(as_text=True)
    text = BeautifulSoup(html, "html.parser").get_text(" ")

    assert page.status_code == 503 and page.headers["Cache-Control"] == "no-store"
    assert "Les statistiques sont momentanément indisponibles." in text
    reason = "le fichier est endommagé" if damage == "corrupt file" else "un dossier occupe la place du fichier"
    assert f"La base des statistiques ne peut pas être lue\u00a0: {reason}" in text
    assert str(tmp_path) not in html and not any(mark in html for mark in TRACEBACK_MARKS)
    assert not ORDINARY_SPACE_BEFORE.search(_squeeze(text))


def test_one_writer_thread_serves_a_forked_child_with_its_own_queue(tmp_path):
    db = tmp_path / "analytics.sqlite3"
    app = create_app({"ANALYTICS_DB": str(db), "SEARCH_LOG": False, **FAST_RETRY})
    recorder = app.extensions["analytics"]
    recorder.record_search("avant", {}, 1, 1.0)
    assert recorder.flush()
    pid = os.fork()
    if pid == 0:  # the child: exactly one writer (its own), its events written, then leave at once
        status = 1
        try:
            recorder.record_search("enfant", {}, 1, 1.0)
            status = 0 if recorder.flush() and _writers() == 1 and _searches_in(db) == 2 else 1
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    recorder.record_search("après", {}, 1, 1.0)
    assert recorder.flush() and _searches_in(db) == 3


def test_errors_are_told_apart_and_reasons_name_no_path(tmp_path):
    db = tmp_path / "a.db"
    db.write_bytes(GARBAGE)
    with pytest.raises(sqlite3.DatabaseError) as damaged:
        connect(db)
    assert is_corrupt(damaged.value) and french_reason(damaged.value) == "le fichier est endommagé"
    with pytest.raises(OSError) as folder:
        connect(db / "sub" / "a.db")
    assert not is_corrupt(folder.value) and str(tmp_path) not in french_reason(folder.value)
    assert french_reason(OSError(errno.ENOSPC, "No space left", str(db))) == "le disque est plein"
    with pytest.raises(sqlite3.OperationalError) as missing:
        sqlite3.connect(f"file:{tmp_path}/none/a.db?mode=ro", uri=True)
    assert str(tmp_path) not in french_reason(missing.value)
    assert list(zip(range(6), Backoff().delays(), strict=False)) == [(0, 0.5), (1, 1), (2, 2), (3, 4), (4, 5), (5, 5)]


def test_moving_aside_takes_the_journal_files_and_never_overwrites(tmp_path):
    db = tmp_path / "a.db"
    names = []
    for round_ in range(2):
        for suffix in ("", *SIDE_SUFFIXES):
            Path(f"{db}{suffix}").write_text(f"{round_}{suffix}")
        names.append(move_aside(db).name)
    assert names[0] != names[1] and not list(tmp_path.glob("a.db-*")) and not db.exists()
    assert Path(tmp_path, names[1] + "-wal").read_text() == "1-wal"
    assert len(list(tmp_path.glob("a.db.corrupt-*"))) == 8


def test_a_batch_carries_the_count_of_events_lost_before_it(tmp_path):
    db = tmp_path / "a.db"
    connection = connect(db)
    write_events(connection, [], lost=7)
    write_events(connection, [], lost=0)
    connection.close()
    assert build_report(db).lost_events == 7
