"""Search analytics in an embedded SQLite database, written off the request path.

Every search (query, filters, result count, latency; no IP address, no cookie)
and every result opened from a search (the detail page is reached with ``?q=``)
is queued in memory and written by a background thread in WAL mode. A full queue
drops the event: analytics never slow or fail a search.

Queries are kept as typed (``typed``: trimmed, spaces collapsed) and grouped by
``query`` (:func:`query_key`): the same text up to case and the kind of apostrophe,
accents kept. « sûr » and « sur », « où » and « ou », « réintégration » and
« reintegration » are different searches for a reader of the report (the second
of each pair is what someone typed without accents, worth knowing), while « Libye »
and « libye », « l’OIM » and « l'OIM » are one, shown in its most frequent written
form. Databases written before ``typed`` existed get the column when opened; their
rows keep the folded, accent-less ``query`` they had and show it as typed (what is
known of them).
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from indexer.analysis import straight_apostrophes

logger = logging.getLogger(__name__)

QUEUE_SIZE = 10_000
BATCH_SIZE = 500
SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    day TEXT NOT NULL,
    query TEXT NOT NULL,
    typed TEXT NOT NULL DEFAULT '',
    filters TEXT NOT NULL,
    total INTEGER NOT NULL,
    ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS searches_day ON searches (day);
CREATE INDEX IF NOT EXISTS searches_query ON searches (query);
CREATE TABLE IF NOT EXISTS clicks (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    day TEXT NOT NULL,
    query TEXT NOT NULL,
    typed TEXT NOT NULL DEFAULT '',
    programme_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS clicks_query ON clicks (query);
"""


QUERY_LENGTH = 500


def typed_form(text: str) -> str:
    """A query as typed, trimmed, its runs of spaces as one: « ␣sûr  et  Libye » → « sûr et Libye »."""
    return " ".join(unicodedata.normalize("NFC", text).split())[:QUERY_LENGTH]


def query_key(text: str) -> str:
    """The key queries are grouped by: the typed form in lower case, one kind of apostrophe, accents kept.

    >>> query_key(" L’OIM  Libye "), query_key("sûr") == query_key("sur")
    ("l'oim libye", False)
    """
    return straight_apostrophes(typed_form(text).casefold())[:QUERY_LENGTH]


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating it and its folder on first use, adding columns it lacks) the analytics database in WAL mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path), timeout=5, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.executescript(SCHEMA)
    _add_typed_column(connection)
    return connection


def _add_typed_column(connection: sqlite3.Connection) -> None:
    """Give a database from before ``typed`` the column, its rows their folded query as typed.

    In one immediate transaction, so two workers opening the file at once migrate it once."""
    tables = ("searches", "clicks")
    if all(_has_column(connection, table, "typed") for table in tables):
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        for table in tables:
            if not _has_column(connection, table, "typed"):
                connection.execute(f"ALTER TABLE {table} ADD COLUMN typed TEXT NOT NULL DEFAULT ''")
                connection.execute(f"UPDATE {table} SET typed = query")
        connection.execute("COMMIT")
    except sqlite3.Error:
        connection.execute("ROLLBACK")
        raise


def _has_column(connection: sqlite3.Connection, table: str, column: str) -> bool:
    return any(row[1] == column for row in connection.execute(f"PRAGMA table_info({table})"))


class Recorder:
    """Queues events and writes them from one daemon thread per process."""

    def __init__(self, path: Path, retention_days: int) -> None:
        self.path = path
        self.retention_days = retention_days
        self._queue: queue.Queue[tuple[str, tuple]] = queue.Queue(maxsize=QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.dropped = 0

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="analytics", daemon=True)
                    self._thread.start()

    def _put(self, table: str, row: tuple) -> None:
        try:
            self._queue.put_nowait((table, row))
        except queue.Full:
            self.dropped += 1
            return
        self._ensure_thread()

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

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every queued event is written (for tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _run(self) -> None:
        try:
            connection = connect(self.path)
            purge(connection, self.retention_days)
        except sqlite3.Error as error:
            logger.warning("analytics disabled: %s", error)
            return
        while True:
            batch = [self._queue.get()]
            while len(batch) < BATCH_SIZE:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(connection, batch)

    def _write(self, connection: sqlite3.Connection, batch: list[tuple[str, tuple]]) -> None:
        """Insert a batch of events in one transaction (one commit for many searches)."""
        searches = [row for table, row in batch if table == "searches"]
        clicks = [row for table, row in batch if table == "clicks"]
        try:
            with connection:
                connection.executemany(
                    "INSERT INTO searches (at, day, query, typed, filters, total, ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    searches,
                )
                connection.executemany(
                    "INSERT INTO clicks (at, day, query, typed, programme_id) VALUES (?, ?, ?, ?, ?)", clicks
                )
        except sqlite3.Error as error:
            logger.warning("analytics: %d events lost: %s", len(batch), error)
        finally:
            for _ in batch:
                self._queue.task_done()


def purge(connection: sqlite3.Connection, retention_days: int) -> None:
    """Delete events older than the retention period."""
    limit = (datetime.now(UTC) - timedelta(days=retention_days)).date().isoformat()
    with connection:
        connection.execute("DELETE FROM searches WHERE day < ?", (limit,))
        connection.execute("DELETE FROM clicks WHERE day < ?", (limit,))


@dataclass(frozen=True)
class Report:
    """What the people maintaining the corpus want to know."""

    days: int
    searches: int
    top_queries: list[tuple[str, int]]
    zero_result_queries: list[tuple[str, int]]
    no_click_queries: list[tuple[str, int]]
    latency_ms: dict[str, float]
    per_day: list[tuple[str, int]]
    until: date  # the period's last day (UTC, as the events' days)


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 2)


def _as_typed(where: str) -> str:
    """The searches matching ``where`` (alias ``s``) grouped by key, each shown in its most frequent
    typed form (ties: the first in code point order), most searched first; parameters ``since``, ``limit``."""
    return f"""
        WITH forms AS (
            SELECT query, typed, COUNT(*) AS n FROM searches s WHERE {where} GROUP BY query, typed
        ), ranked AS (
            SELECT typed, SUM(n) OVER (PARTITION BY query) AS total,
                   ROW_NUMBER() OVER (PARTITION BY query ORDER BY n DESC, typed) AS rank
            FROM forms
        )
        SELECT typed, total FROM ranked WHERE rank = 1 ORDER BY total DESC, typed LIMIT ?"""


def build_report(path: Path, days: int = 30, limit: int = 20) -> Report:
    """Aggregate the last ``days`` days (an empty report if the database does not exist yet)."""
    until = datetime.now(UTC).date()
    if not path.exists():
        return Report(days, 0, [], [], [], {"p50": 0.0, "p95": 0.0, "p99": 0.0}, [], until)
    since = (until - timedelta(days=days - 1)).isoformat()
    connection = connect(path)
    try:
        def rows(sql: str) -> list[tuple]:
            return connection.execute(sql, (since, limit) if "LIMIT" in sql else (since,)).fetchall()

        named = "query <> ''"
        top = rows(_as_typed(f"day >= ? AND {named}"))
        zero = rows(_as_typed(f"day >= ? AND total = 0 AND {named}"))
        no_click = rows(_as_typed(f"day >= ? AND total > 0 AND {named} AND NOT EXISTS "
                                  "(SELECT 1 FROM clicks k WHERE k.query = s.query AND k.day >= s.day)"))
        latencies = [row[0] for row in rows("SELECT ms FROM searches WHERE day >= ?")]
        per_day = rows("SELECT day, COUNT(*) FROM searches WHERE day >= ? GROUP BY day ORDER BY day")
    finally:
        connection.close()
    latency = {"p50": _percentile(latencies, 0.5), "p95": _percentile(latencies, 0.95),
               "p99": _percentile(latencies, 0.99)}
    return Report(days, len(latencies), top, zero, no_click, latency, per_day, until)
