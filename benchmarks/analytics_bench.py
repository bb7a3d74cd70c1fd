"""Searches under analytics faults (issue 14): « searches keep their speed, within 10 % of the healthy run ».

Scenarios, each made for real: a healthy store; a second healthy store (``healthy_again``, the control:
its ratio says what two identical runs differ by); a damaged file; a folder that cannot be created (its
parent is a regular file); a store locked by another process (``BEGIN EXCLUSIVE`` held by this one for a
whole session); a full queue (10,000 events waiting for a folder that cannot be created). Production settings:
pauses of 0.5 s to 5 s, a 5 s lock timeout.

**How it is measured, and why.** Each scenario's app runs in a process of its own
(:mod:`benchmarks.analytics_worker`, same ``PYTHONHASHSEED``), so a store's writer thread competes for the GIL
with its own searches only, as in a deployed worker, and never with another scenario's. Before any timing,
every worker has met its fault (its writer failing, or the damaged file replaced). One process searches at a
time; the others wait. The searches go in rounds: in each round every scenario answers the same block of
queries (the same paths, so the query mix cancels out), in an order shuffled each round, so the machine's slow
moments fall on every scenario alike. Rounds come in sessions, fresh processes each (two identical processes
can differ by a few percent for as long as they live). Per round, a scenario's median over its block ÷ the
healthy store's median in that round; the figure is the median of those per-round ratios with a 95 %
two-level bootstrap interval, sessions then rounds resampled (:mod:`benchmarks.paired`). Times are taken per
search as wall time and as CPU time of the searching thread (``time.thread_time``): the CPU ratio leaves out
the time lost to other processes of the shared machine and to the writer holding the GIL, the wall ratio
includes both. Two modes: ``cached`` (the page cache as deployed: after the warm-up pass every search is a
page-cache hit of well under a millisecond, so what the analytics add per search weighs the most) and
``uncached`` (``SEARCH_CACHE_SIZE=0``: every search matches, counts and highlights). The target counts as met
when the interval's upper bound is at most 1.10 and no search failed: the measurement must show that the
fault costs less than 10 %, not merely fail to show that it costs more. ``healthy_again``'s interval should
hold 1: when it does not, the run's intervals are too narrow. After each session every fault is taken away
(lock released, the regular file removed) and the time until every waiting event is written is measured,
with the warnings logged by then (the worst session is reported).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from benchmarks.http_bench import real_index, search_paths
from benchmarks.log import log
from benchmarks.paired import round_ratios, summarise
from benchmarks.stats import median, percentile
from search_app.analytics import connect

#: ``healthy_again`` is a second healthy store: how far two identical runs differ (the control).
SCENARIOS = ("healthy", "healthy_again", "corrupt", "unwritable", "locked", "backlog")


@dataclass(frozen=True)
class Mode:
    """Extra app settings, and the searches per store in a round (a block of some 15–30 ms either way)."""

    settings: dict[str, object]
    block: int


MODES = {"cached": Mode({}, 30), "uncached": Mode({"SEARCH_CACHE_SIZE": 0}, 6)}
#: The scenarios whose writer fails for the whole run (the damaged file is replaced at once).
FAILING = ("unwritable", "locked", "backlog")
TARGET = 1.10
ROUNDS, SESSIONS = 250, 5
GARBAGE = b"not a database: overwritten on disk\n" * 200
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class _Store:
    """One scenario's store, its timed blocks, and what is needed to undo the fault afterwards."""

    name: str
    folder: Path
    db: Path
    holder: sqlite3.Connection | None = None
    wall: list[list[float]] = field(default_factory=list)  # one list of ms per round
    cpu: list[list[float]] = field(default_factory=list)
    non_200: int = 0

    def add(self, answer: dict) -> None:
        """A worker's answer to ``run``: one block of timed searches."""
        self.wall.append(answer["wall_ms"])
        self.cpu.append(answer["cpu_ms"])
        self.non_200 += answer["non_200"]


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


def _undo(store: _Store) -> None:
    """Take the fault away: the lock released, the regular file in the folder's place removed."""
    if store.holder is not None:
        store.holder.rollback()
        store.holder.close()
        store.holder = None
    if store.db.parent != store.folder and store.db.parent.is_file():
        store.db.parent.unlink()


class _Worker:
    """A scenario's process (:mod:`benchmarks.analytics_worker`): one JSON command in, one JSON answer out."""

    def __init__(self, store: _Store, index_root: Path, paths: list[str], settings: dict) -> None:
        setup = {"index": str(index_root.resolve()), "db": str(store.db), "config": settings, "paths": paths,
                 "fill_queue": store.name == "backlog", "fails": store.name in FAILING}
        setup_path = store.folder / "setup.json"
        setup_path.write_text(json.dumps(setup), encoding="utf-8")
        self._errors = open(store.folder / "worker.log", "w")  # noqa: SIM115 (closed in close())
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.analytics_worker", str(setup_path)], cwd=ROOT, text=True,
            env={**os.environ, "PYTHONHASHSEED": "0"}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._errors,
        )

    def answer(self) -> dict:
        stdout: IO[str] = self._process.stdout  # type: ignore[assignment]
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"analytics worker {self._process.pid} ended (see {self._errors.name})")
        return json.loads(line)

    def ask(self, command: dict) -> dict:
        stdin: IO[str] = self._process.stdin  # type: ignore[assignment]
        stdin.write(json.dumps(command) + "\n")
        stdin.flush()
        return self.answer()

    def close(self) -> None:
        """Close its stdin (it then exits); killed by its PID if it has not within 10 s."""
        if self._process.stdin:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()
        self._errors.close()


def measure_faults(
    index_root: Path, paths: list[str], work_dir: Path, rounds: int = ROUNDS, sessions: int = SESSIONS,
    app_config: dict | None = None, modes: dict[str, Mode] | None = None, seed: int = 0,
) -> dict:
    """Per mode, ``rounds`` interleaved rounds split into ``sessions`` (fresh processes each); the results per
    mode and store."""
    shutil.rmtree(work_dir, ignore_errors=True)
    sessions = max(1, min(sessions, rounds))
    per_session = rounds // sessions
    results: dict = {"target_ratio": TARGET, "apps": len(SCENARIOS), "sessions": sessions,
                     "rounds": per_session * sessions, "modes": {}}
    for name, mode in (modes or MODES).items():
        log(f"analytics faults, {name}: {sessions} sessions of {per_session} rounds of {mode.block} searches a store…")
        settings = {**mode.settings, **(app_config or {})}
        done = [_session(index_root, paths, work_dir / name / f"session-{number}",
                         _Rounds(number, per_session, mode.block, seed), settings) for number in range(sessions)]
        results["modes"][name] = {"block": mode.block, "stores": _results(done, seed)}
    return results


@dataclass(frozen=True)
class _Rounds:
    """A session's rounds: which they are (each round its own queries) and how many searches each."""

    session: int
    count: int
    block: int
    seed: int

    def numbers(self, round_: int, paths: int) -> list[int]:
        first = (self.session * self.count + round_) * self.block
        return [(first + k) % paths for k in range(self.block)]


def _session(index_root: Path, paths: list[str], folder: Path, rounds: _Rounds,
             settings: dict) -> tuple[dict[str, _Store], dict[str, dict]]:
    """One session: every scenario's process started, its rounds run, each fault taken away at the end."""
    stores = {name: _prepare(name, folder / name) for name in SCENARIOS}
    workers: dict[str, _Worker] = {}
    try:
        for name, store in stores.items():
            workers[name] = _Worker(store, index_root, paths, settings)
        states = {name: worker.answer() for name, worker in workers.items()}  # ready: warmed up, the fault met
        chooser = random.Random(rounds.seed * 1000 + rounds.session)
        for round_ in range(rounds.count):
            numbers, order = rounds.numbers(round_, len(paths)), list(SCENARIOS)
            chooser.shuffle(order)
            for name in order:
                stores[name].add(workers[name].ask({"run": numbers}))
        for name, worker in workers.items():
            states[name] = {"fault_met": states[name]["ready"], **worker.ask({"status": True})}
        for name, store in stores.items():
            _undo(store)
            states[name]["recovery"] = workers[name].ask({"recover": 30})
    finally:
        for worker in workers.values():
            worker.close()
        for store in stores.values():
            _undo(store)
    return stores, states


def _results(sessions: list[tuple[dict[str, _Store], dict[str, dict]]], seed: int) -> dict:
    """Per store: times over every session, paired ratios to the healthy store, the writer's worst session."""
    results = {}
    for name in SCENARIOS:
        wall = [block for stores, _ in sessions for block in stores[name].wall]
        cpu = [block for stores, _ in sessions for block in stores[name].cpu]
        healthy = [block for stores, _ in sessions for block in stores["healthy"].wall]
        states = [states[name] for _, states in sessions]
        recoveries = [state["recovery"]["written_within_s"] for state in states]
        results[name] = {
            "searches": sum(map(len, wall)),
            "non_200": sum(stores[name].non_200 for stores, _ in sessions),
            "median_ms": median(_flat(wall)),
            "p95_ms": percentile(_flat(wall), 0.95),
            "cpu_median_ms": median(_flat(cpu)),
            "wall_per_cpu": sum(_flat(wall)) / sum(_flat(cpu)),
            "searches_per_s": _rate(wall),
            "median_ratio": _paired(sessions, name, "wall", seed),
            "cpu_ratio": _paired(sessions, name, "cpu", seed),
            "throughput_ratio": _rate(wall) / _rate(healthy),
            "fault_met": all(state["fault_met"] for state in states),  # in every session, before the timing
            "warnings": max(state["warnings"] for state in states),  # the worst session
            "warnings_after_repair": max(state["recovery"]["warnings"] for state in states),
            "writer_threads": max(state["writer_threads"] for state in states),
            "writer_failing": all(state["writer_failing"] for state in states),
            "events_waiting": max(state["events_waiting"] for state in states),
            "events_dropped": max(state["events_dropped"] for state in states),
            # once the fault is taken away, until every waiting event is written (None: not within 30 s)
            "written_within_s": None if None in recoveries else max(recoveries),
        }
    return results


def _paired(sessions: list[tuple[dict[str, _Store], dict[str, dict]]], name: str, clock: str, seed: int) -> dict:
    per_session = [round_ratios(getattr(stores[name], clock), getattr(stores["healthy"], clock))
                   for stores, _ in sessions]
    return summarise(per_session, seed).as_dict()


def _flat(blocks: list[list[float]]) -> list[float]:
    return [value for block in blocks for value in block]


def _rate(blocks: list[list[float]]) -> float:
    times = _flat(blocks)
    return len(times) / (sum(times) / 1000)


def run_analytics_faults(out_dir: Path, seed: int, rounds: int = ROUNDS, sessions: int = SESSIONS) -> dict:
    """The measurement over the real corpus's index, with the HTTP benchmark's queries, in ``out_dir``."""
    index_root, paths = real_index(out_dir), search_paths(seed)
    log(f"analytics faults: {rounds} rounds per mode ({', '.join(SCENARIOS)}), {len(paths)} queries…")
    results = measure_faults(index_root, paths, out_dir / "analytics-faults", rounds, sessions, seed=seed)
    for mode, measured in results["modes"].items():
        rows = measured["stores"]
        log(f"analytics faults, {mode}, median ÷ healthy [95 % interval]: " + ", ".join(
            f"{name} {_interval(rows[name]['median_ratio'])}" for name in SCENARIOS if name != "healthy"))
    return results


def _interval(ratio: dict) -> str:
    return f"{ratio['median']:.3f} [{ratio['low']:.3f}, {ratio['high']:.3f}]"
