"""Search analytics in an embedded SQLite database, written off the request path.

Every search (query, filters, result count, latency; no IP address, no cookie)
and every result opened from a search (the detail page is reached with ``?q=``)
is queued in memory and written in WAL mode by one background thread per process
(:mod:`search_app.recorder`, which also says what happens when the store fails):
analytics never slow or fail a search. Events that could not be written are counted,
and the count is written in ``losses`` as soon as the store takes writes again.

Queries are kept as typed (``typed``: trimmed, spaces collapsed) and grouped by
``query`` (:func:`query_key`): the same text up to case and the kind of apostrophe,
accents kept. « sûr » and « sur », « où » and « ou », « réintégration » and
« reintegration » are different searches for a reader of the report (the second
of each pair is what someone typed without accents, worth knowing), while « Libye »
and « libye », « l’OIM » and « l'OIM » are one, shown in its most frequent written
form. Databases written before ``typed`` existed get the column when opened; their
rows keep the folded, accent-less ``query`` they had and show it as typed (what is
known of them).

A report (:func:`build_report`) reads one store or several (the replicas of a
deployment, each worker writing its own): their events of the period are copied into
one in-memory database, read-only, and the report is computed there, so several
stores give exactly the report one store holding all their events would.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from indexer.analysis import straight_apostrophes
from search_app.analytics_faults import StoreUnavailable, check_header

#: One queued event: its table and its row.
Event = tuple[str, tuple]
#: Seconds a reader (/stats, flask report) waits for a locked store before saying it is unavailable.
READ_TIMEOUT = 2.0
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
CREATE TABLE IF NOT EXISTS losses (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    day TEXT NOT NULL,
    events INTEGER NOT NULL
);
"""
SEARCH_INSERT = "INSERT INTO searches (at, day, query, typed, filters, total, ms) VALUES (?, ?, ?, ?, ?, ?, ?)"
CLICK_INSERT = "INSERT INTO clicks (at, day, query, typed, programme_id) VALUES (?, ?, ?, ?, ?)"
LOSS_INSERT = "INSERT INTO losses (at, day, events) VALUES (?, ?, ?)"
#: What a report reads of a store's period, copied into memory (``typed`` is added for old stores).
PERIOD_SCHEMA = """
CREATE TEMP TABLE searches (day TEXT, query TEXT, typed TEXT, total INTEGER, ms REAL);
CREATE TEMP TABLE clicks (day TEXT, query TEXT);
CREATE TEMP TABLE losses (day TEXT, events INTEGER);
"""
PERIOD_COPIES = {
    "searches": "INSERT INTO temp.searches SELECT day, query, {typed}, total, ms FROM store.searches WHERE day >= ?",
    "clicks": "INSERT INTO temp.clicks SELECT day, query FROM store.clicks WHERE day >= ?",
    "losses": "INSERT INTO temp.losses SELECT day, events FROM store.losses WHERE day >= ?",
}


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


def connect(path: Path, timeout: float = 5.0) -> sqlite3.Connection:
    """Open (creating it and its folder on first use, adding what it lacks) the analytics database in WAL mode.

    ``timeout``: seconds to wait for a lock held by another connection."""
    path.parent.mkdir(parents=True, exist_ok=True)
    check_header(path)
    connection = sqlite3.connect(str(path), timeout=timeout, check_same_thread=False)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(SCHEMA)
        _add_typed_column(connection)
    except sqlite3.Error:
        connection.close()  # a damaged file is then moved aside with no handle left on it
        raise
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


def _has_column(connection: sqlite3.Connection, table: str, column: str, schema: str = "main") -> bool:
    return any(row[1] == column for row in connection.execute(f"PRAGMA {schema}.table_info({table})"))


def _has_table(connection: sqlite3.Connection, table: str, schema: str) -> bool:
    sql = f"SELECT 1 FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?"
    return connection.execute(sql, (table,)).fetchone() is not None


def purge(connection: sqlite3.Connection, retention_days: int) -> None:
    """Delete events (and counts of lost events) older than the retention period."""
    limit = (datetime.now(UTC) - timedelta(days=retention_days)).date().isoformat()
    with connection:
        for table in ("searches", "clicks", "losses"):
            connection.execute(f"DELETE FROM {table} WHERE day < ?", (limit,))


def write_events(connection: sqlite3.Connection, events: list[Event], lost: int = 0) -> None:
    """Insert a batch in one transaction (one commit for many searches), with the count of events lost before it."""
    with connection:
        connection.executemany(SEARCH_INSERT, [row for table, row in events if table == "searches"])
        connection.executemany(CLICK_INSERT, [row for table, row in events if table == "clicks"])
        if lost:
            now = datetime.now(UTC)
            connection.execute(LOSS_INSERT, (now.isoformat(timespec="seconds"), now.date().isoformat(), lost))


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
    lost_events: int  # events the writers could not record in the period (queue full, store unavailable)


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


def build_report(*paths: Path, days: int = 30, limit: int = 20) -> Report:
    """Aggregate the last ``days`` days of one store or of several added together (a store that does not
    exist yet is empty); :class:`StoreUnavailable` when one cannot be read."""
    until = datetime.now(UTC).date()
    since = (until - timedelta(days=days - 1)).isoformat()
    connection = read_period(paths, since)
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
        lost = rows("SELECT COALESCE(SUM(events), 0) FROM losses WHERE day >= ?")[0][0]
    finally:
        connection.close()
    latency = {"p50": _percentile(latencies, 0.5), "p95": _percentile(latencies, 0.95),
               "p99": _percentile(latencies, 0.99)}
    return Report(days, len(latencies), top, zero, no_click, latency, per_day, until, lost)


def read_period(paths: tuple[Path, ...], since: str) -> sqlite3.Connection:
    """An in-memory database with the events since ``since`` of every store at ``paths``, added together."""
    period = sqlite3.connect(":memory:", uri=True, timeout=READ_TIMEOUT)
    period.executescript(PERIOD_SCHEMA)
    for path in dict.fromkeys(path.resolve() for path in paths):  # a store named twice counts once
        try:
            _copy_period(period, path, since)
        except (sqlite3.Error, OSError) as error:
            period.close()
            raise StoreUnavailable.from_error(path, error) from error
    period.execute("CREATE INDEX temp.period_clicks ON clicks (query, day)")
    return period


def _copy_period(period: sqlite3.Connection, path: Path, since: str) -> None:
    """Add the period of the store at (absolute) ``path``, opened read-only; nothing if there is no file yet."""
    if not path.exists():
        return
    check_header(path)
    period.execute("ATTACH DATABASE ? AS store", (path.as_uri() + "?mode=ro",))
    try:
        with period:
            typed = "typed" if _has_column(period, "searches", "typed", "store") else "query"
            for table, sql in PERIOD_COPIES.items():
                if _has_table(period, table, "store"):
                    period.execute(sql.format(typed=typed), (since,))
    finally:
        period.execute("DETACH DATABASE store")
