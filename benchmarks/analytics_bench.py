"""Searches under analytics faults (issue 14): « searches keep their speed, within 10 % of the healthy run ».

One app per store, all in this process over the real six-programme index, with the production settings
(pauses of 0.5 s to 5 s, a 5 s lock timeout): a healthy store, then a damaged file, a folder that cannot
be created (its parent is a regular file), a store locked by another connection (``BEGIN EXCLUSIVE`` for
the whole run) and a full queue (10,000 events waiting for a folder that cannot be created). A second
healthy store is measured too: its ratio is the noise floor of the machine at that moment. Each app
answers one pass of the queries (warm-up: the page cache as deployed, the fault met), then the timed
searches go through the test client in rounds, the stores in turn (a different order each round), so
every store sees the same machine load. Per store: median and p95 of a search, searches per second,
their ratios to the healthy store's, and what the writer did (warnings logged, writer threads, events
dropped or waiting); then each fault is taken away (lock released, the file in the folder's place removed)
and the time until every waiting event is written is measured.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.http_bench import real_index, search_paths
from benchmarks.log import log
from benchmarks.stats import percentile
from search_app import create_app
from search_app.analytics import connect
from search_app.recorder import BATCH_SIZE, QUEUE_SIZE, WRITER_NAME

#: ``healthy_again`` is a second healthy store: how far two identical runs differ (the noise floor).
SCENARIOS = ("healthy", "healthy_again", "corrupt", "unwritable", "locked", "backlog")
TARGET = 1.10
GARBAGE = b"not a database: overwritten on disk\n" * 200


@dataclass
class _Store:
    """One scenario's store, its app, and what is needed to undo the fault afterwards."""

    name: str
    folder: Path
    db: Path
    holder: sqlite3.Connection | None = None
    times_ms: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


def _prepare(name: str, folder: Path) -> _Store:
    """Make the fault ``name`` for real in ``folder``."""
    folder.mkdir(parents=True)
    db = folder / "analytics.sqlite3"
    store = _Store(name, folder, db)
    if name == "corrupt":
        db.write_bytes(GARBAGE)
    elif name in ("unwritable", "backlog"):
        (folder / "var").write_text("a regular file where the folder should be")
        store.db = folder / "var" / "analytics.sqlite3"
    elif name == "locked":
        connect(db).close()
        store.holder = sqlite3.connect(db, isolation_level=None)
        store.holder.execute("BEGIN EXCLUSIVE")
    return store


class _Counter(logging.Handler):
    """Counts the analytics warnings that name each store's folder."""

    def __init__(self, folders: dict[str, Path]) -> None:
        super().__init__(logging.WARNING)
        self.folders, self.counts = folders, dict.fromkeys(folders, 0)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        for name, folder in self.folders.items():
            if str(folder) in message:
                self.counts[name] += 1


def _timed(client, paths: list[str], count: int, store: _Store, start: int) -> None:
    for number in range(start, start + count):
        began = time.perf_counter()
        response = client.get(paths[number % len(paths)])
        store.times_ms.append((time.perf_counter() - began) * 1000)
        store.statuses.append(response.status_code)


def measure_faults(
    index_root: Path, paths: list[str], work_dir: Path, searches: int, rounds: int = 20,
    app_config: dict | None = None,
) -> dict:
    """Time ``searches`` searches per store (in ``rounds`` interleaved rounds); the result per store."""
    shutil.rmtree(work_dir, ignore_errors=True)
    stores = {name: _prepare(name, work_dir / name) for name in SCENARIOS}
    counter = _Counter({name: store.folder for name, store in stores.items()})
    logger = logging.getLogger("search_app.analytics")
    logger.addHandler(counter)
    threads_before = _writer_threads()
    try:
        apps = {name: _app(index_root, store.db, app_config) for name, store in stores.items()}
        clients = {name: app.test_client() for name, app in apps.items()}
        _fill_queue(apps["backlog"].extensions["analytics"])
        for client in clients.values():  # warm-up: the page cache filled, each fault met
            for path in paths:
                client.get(path)
        per_round = max(1, searches // rounds)
        for round_ in range(rounds):
            order = SCENARIOS[round_ % len(SCENARIOS):] + SCENARIOS[:round_ % len(SCENARIOS)]
            for name in order:
                _timed(clients[name], paths, per_round, stores[name], round_ * per_round)
        threads = _writer_threads() - threads_before
        statuses = {name: app.extensions["analytics"].status() for name, app in apps.items()}
        recovery = {name: _recover(store, apps[name].extensions["analytics"]) for name, store in stores.items()}
    finally:
        logger.removeHandler(counter)
        for store in stores.values():
            _undo(store)
    return _results(stores, statuses, counter.counts, threads, recovery)


def _undo(store: _Store) -> None:
    """Take the fault away: the lock released, the regular file in the folder's place removed."""
    if store.holder is not None:
        store.holder.rollback()
        store.holder.close()
        store.holder = None
    if store.db.parent != store.folder and store.db.parent.is_file():
        store.db.parent.unlink()


def _recover(store: _Store, recorder) -> float | None:
    """Seconds from the fault taken away until every event waiting is written (None: not within 30 s)."""
    _undo(store)
    began = time.perf_counter()
    return time.perf_counter() - began if recorder.flush(timeout=30) else None


def _app(index_root: Path, db: Path, app_config: dict | None):
    config = {"SEARCH_INDEX_DIR": str(index_root), "SEARCH_LOG": False, "ANALYTICS_DB": str(db)}
    return create_app({**config, **(app_config or {})})


def _fill_queue(recorder) -> None:
    """Events until the queue is full (the folder cannot be created): every search's event is then dropped."""
    for number in range(QUEUE_SIZE + BATCH_SIZE + 1):  # the writer holds at most one batch out of the queue
        recorder.record_search(f"arriéré {number}", {}, 1, 1.0)
        if recorder.dropped:
            return


def _writer_threads() -> int:
    return sum(thread.name == WRITER_NAME for thread in threading.enumerate())


def _results(stores: dict[str, _Store], statuses: dict, warnings: dict[str, int], threads: int,
             recovery: dict[str, float | None]) -> dict:
    healthy = stores["healthy"]
    base_median, base_rate = statistics.median(healthy.times_ms), _rate(healthy.times_ms)
    results: dict = {"writer_threads": threads, "apps": len(stores), "target_ratio": TARGET}
    for name, store in stores.items():
        median, rate = statistics.median(store.times_ms), _rate(store.times_ms)
        status = statuses[name]
        results[name] = {
            "searches": len(store.times_ms),
            "non_200": sum(code != 200 for code in store.statuses),
            "median_ms": median,
            "p95_ms": percentile(store.times_ms, 0.95),
            "searches_per_s": rate,
            "median_ratio": median / base_median,
            "throughput_ratio": rate / base_rate,
            "warnings": warnings[name],
            "writer_failing": status.failing_since is not None,
            "events_waiting": status.pending,
            "events_dropped": status.dropped,
            "written_within_s": recovery[name],  # once the fault is taken away, every waiting event
        }
    return results


def _rate(times_ms: list[float]) -> float:
    return len(times_ms) / (sum(times_ms) / 1000)


def run_analytics_faults(out_dir: Path, seed: int, searches: int) -> dict:
    """The measurement over the real corpus's index, with the HTTP benchmark's queries, in ``out_dir``."""
    index_root, paths = real_index(out_dir), search_paths(seed)
    log(f"analytics faults: {searches} searches per store ({', '.join(SCENARIOS)}), {len(paths)} queries…")
    results = measure_faults(index_root, paths, out_dir / "analytics-faults", searches)
    log("analytics faults, median ÷ healthy: " + ", ".join(
        f"{name} {results[name]['median_ratio']:.2f}" for name in SCENARIOS if name != "healthy"))
    return results
