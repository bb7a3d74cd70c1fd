"""A real ``python -m indexer build`` watched from outside: its process tree by PID, its stderr as it comes.

Worker processes are found through ``/proc/<pid>/task/*/children`` while the build runs (a killed
parent's orphans are no longer its children), so every PID the build ever had is known and can be
checked afterwards. Every wait is bounded.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from indexer.store import build_lock
from tests.paths import ROOT
from tests.reliability.helpers import PYTHON, wait_for

#: ``python -m indexer build``'s arguments before its own.
BUILD = ("-m", "indexer", "build")
#: How often the tree is looked at (seconds).
POLL = 0.02


def children(pid: int) -> set[int]:
    """The PIDs whose parent is ``pid`` (every thread's children), empty when it is gone."""
    found: set[int] = set()
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.update(int(word) for word in path.read_text().split())
        except OSError:
            continue
    return found


def descendants(pid: int) -> set[int]:
    """Children, their children, and so on (bounded by the process table)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children(todo.pop()) - found:
            found.add(child)
            todo.append(child)
    return found


def start_time(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot), None when it is gone or a zombie (dead, not reaped).

    With its PID, this names a process even after the PID is reused.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == "Z" else int(fields[19])


def alive(process: tuple[int, int | None]) -> bool:
    """Whether the process ``(pid, start time)`` still runs."""
    return process[1] is not None and start_time(process[0]) == process[1]


def lock_is_free(root: Path) -> bool:
    """Whether nobody holds ``<root>/.build.lock`` (tried without waiting)."""
    path = root / ".build.lock"
    if not path.exists():
        return True
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
    return True


@contextmanager
def lock_held_by_a_thread(root: Path) -> Iterator[threading.Event]:
    """``build_lock(root)`` held by a thread of this process during the block, or until the event
    yielded is set."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with build_lock(root):
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10), "the lock was taken"
        yield release
    finally:
        release.set()
        holder.join(30)


class WatchedProcess:
    """``python ARGS`` in its own session, its output lines and every process of its tree recorded."""

    def __init__(self, *args: str | Path) -> None:
        self.process = subprocess.Popen(
            [PYTHON, *map(str, args)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group, as a shell job: Ctrl-C is killpg(SIGINT)
        )
        self.tree: set[tuple[int, int | None]] = {(self.process.pid, start_time(self.process.pid))}
        self.lines: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(stream,), daemon=True)
                         for stream in (self.process.stderr, self.process.stdout)]
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        for thread in (*self._readers, self._watcher):
            thread.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def _watch(self) -> None:
        while self.process.poll() is None:
            self._record()
            time.sleep(POLL)

    def _record(self) -> None:
        found = {(pid, start_time(pid)) for pid in descendants(self.pid)}
        self.tree |= {process for process in found if process[1] is not None}  # not those already dead

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Wait until ``predicate`` holds while the build runs; fail saying ``what`` was awaited."""
        if not wait_for(lambda: predicate() or self.process.poll() is not None, timeout, POLL) or not predicate():
            raise AssertionError(f"{what} not seen within {timeout} s (exit {self.process.poll()}):\n{self.output()}")

    def wait_for_workers(self, count: int = 2, timeout: float = 30) -> None:
        """Until the process has ``count`` children or more."""
        self.wait_for(lambda: len(children(self.pid)) >= count, timeout, f"{count} worker processes")

    def wait_for_progress(self, done: int, timeout: float = 60) -> None:
        """Until the build says it has indexed at least ``done`` records."""
        self.wait_for(lambda: self.indexed() >= done, timeout, f"« indexé {done} »")

    def indexed(self) -> int:
        counts = [int(m.group(1)) for line in self.lines if (m := re.search(r"indexé (\d+)/", line))]
        return max(counts, default=0)

    def send(self, signum: int, group: bool = False) -> float:
        """Send ``signum`` to the build (``group``: to its whole process group, as Ctrl-C does); the time sent."""
        self._record()
        if group:
            os.killpg(self.pid, signum)
        else:
            os.kill(self.pid, signum)
        return time.monotonic()

    def seconds_until_gone(self, since: float, timeout: float = 10) -> float:
        """Seconds from ``since`` until no process of the tree runs (the parent reaped); fails after ``timeout``."""
        self.process.wait(timeout)
        if not wait_for(lambda: not self.running(), timeout, 0.005):
            raise AssertionError(f"still running after {timeout} s: {self.running()}")
        return time.monotonic() - since

    def running(self) -> list[int]:
        """The PIDs of the tree still running."""
        return sorted(pid for pid, started in self.tree if alive((pid, started)))

    def workers(self) -> int:
        """How many processes besides the parent the tree has had."""
        return len(self.tree) - 1

    def finish(self, timeout: float = 120) -> int:
        """Wait for the build to end by itself; its exit code."""
        code = self.process.wait(timeout)
        for thread in self._readers:
            thread.join(5)
        return code

    def wait_for_line(self, text: str, timeout: float = 30) -> None:
        self.wait_for(lambda: text in self.output(), timeout, f"« {text} »")

    def stop(self) -> None:
        """Kill whatever is left of this build's tree (the tests' cleanup; only PIDs it recorded)."""
        for pid in self.running():
            os.kill(pid, signal.SIGKILL)
        self.process.wait(10)
        for thread in self._readers:
            thread.join(5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()

