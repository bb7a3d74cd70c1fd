"""One analytics scenario in a process of its own, timing blocks of searches when the parent asks.

Started by :mod:`benchmarks.analytics_bench` as ``python -m benchmarks.analytics_worker SETUP`` (``SETUP``: a JSON
file with the index, the store's path, the app's extra settings, the search paths and whether to fill the queue
first). It builds one app over that store (the fault, if any, was made by the parent), fills the queue for the
backlog scenario, answers one warm-up pass of the paths and waits until the writer has met the fault (a first
write done for a healthy or damaged store, failing for the others), then reads one JSON command a line on
stdin and answers one JSON line on stdout:

- ``{"run": [i, j, …]}``: the searches ``paths[i]``, ``paths[j]``, … in turn; per search, the wall time
  and the CPU time of this (the searching) thread in ms, and the non-200 count;
- ``{"status": true}``: the writer's state (warnings logged, writer threads, events waiting or dropped);
- ``{"recover": seconds}``: the parent has taken the fault away; seconds until every waiting event is
  written (null: not within ``seconds``), and the warnings logged by then.

Only one worker runs searches at a time; the others wait on stdin, their writer threads as they are.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from pathlib import Path

from search_app import create_app
from search_app.recorder import BATCH_SIZE, QUEUE_SIZE, WRITER_NAME, Recorder


class _Warnings(logging.Handler):
    """Counts the analytics warnings of this process (it serves one store)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def fill_queue(recorder: Recorder) -> None:
    """Events until the queue is full (the folder cannot be created): every search's event is then dropped."""
    for number in range(QUEUE_SIZE + BATCH_SIZE + 1):  # the writer holds at most one batch out of the queue
        recorder.record_search(f"arriéré {number}", {}, 1, 1.0)
        if recorder.dropped:
            return


def timed(client, paths: list[str], numbers: list[int]) -> dict:
    """The searches ``paths[n]`` for ``n`` in ``numbers``: wall and thread CPU ms of each, non-200 count."""
    wall, cpu, non_200 = [], [], 0
    for number in numbers:
        began, began_cpu = time.perf_counter(), time.thread_time()
        status = client.get(paths[number]).status_code
        cpu.append((time.thread_time() - began_cpu) * 1000)
        wall.append((time.perf_counter() - began) * 1000)
        non_200 += status != 200
    return {"wall_ms": wall, "cpu_ms": cpu, "non_200": non_200}


def _fault_met(recorder: Recorder, fails: bool, timeout: float = 60.0) -> bool:
    """Wait until the writer is failing (``fails``) or has written every event so far; False on timeout."""
    if not fails:
        return recorder.flush(timeout)
    deadline = time.monotonic() + timeout
    while recorder.status().failing_since is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return recorder.status().failing_since is not None


def status(recorder: Recorder, warnings: _Warnings) -> dict:
    """What the writer did so far."""
    state = recorder.status()
    writers = sum(thread.name == WRITER_NAME for thread in threading.enumerate())
    return {"warnings": warnings.count, "writer_threads": writers, "writer_failing": state.failing_since is not None,
            "events_waiting": state.pending, "events_dropped": state.dropped}


def serve(setup: dict) -> None:
    """Build the app, warm it up, then answer the parent's commands until stdin closes."""
    warnings = _Warnings()
    logging.getLogger("search_app.analytics").addHandler(warnings)
    config = {"SEARCH_INDEX_DIR": setup["index"], "SEARCH_LOG": False, "ANALYTICS_DB": setup["db"]}
    app = create_app({**config, **setup["config"]})
    recorder: Recorder = app.extensions["analytics"]
    client, paths = app.test_client(), setup["paths"]
    if setup["fill_queue"]:
        fill_queue(recorder)
    timed(client, paths, list(range(len(paths))))  # warm-up: the page cache filled
    _answer({"ready": _fault_met(recorder, setup["fails"])})
    for line in sys.stdin:
        command = json.loads(line)
        if "run" in command:
            _answer(timed(client, paths, command["run"]))
        elif "status" in command:
            _answer(status(recorder, warnings))
        elif "recover" in command:
            began = time.perf_counter()
            written = recorder.flush(timeout=command["recover"])
            _answer({"written_within_s": time.perf_counter() - began if written else None,
                     "warnings": warnings.count})


def _answer(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    serve(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")))
