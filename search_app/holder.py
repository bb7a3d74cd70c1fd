"""The live generation: handed out to every request, reopened when ``CURRENT`` changes.

The pointer's inode and mtime are compared on each request (one ``stat``); a failed open is
retried at most once every :data:`RETRY_SECONDS`, and a generation whose files failed while
searching stays out of service until the pointer names another one. A generation replaced or taken
out of service is retired: its searchers (every thread's readers and open files) are closed
:data:`RETIRE_SECONDS` later, once the requests that were using it have long finished.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from indexer.store import POINTER_NAME, IndexUnavailable
from search_app.index_state import GenerationState, open_generation

#: Seconds between two attempts to open a generation that failed, while the pointer is unchanged.
RETRY_SECONDS = 1.0
#: Seconds a replaced generation stays open for the requests still using it (a search takes well under one).
RETIRE_SECONDS = 30.0


class IndexHolder:
    """Hands out the live :class:`GenerationState`, reopening when the pointer changes."""

    def __init__(self, root: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.root = root
        self._clock = clock
        self._lock = threading.Lock()
        self._state: GenerationState | None = None
        self._pointer_stamp: tuple[int, int] | None = None
        self._error: IndexUnavailable | None = None
        self._checked_at = 0.0
        self._broken = False  # the live generation failed mid-search: no retry until the pointer changes
        self._retired: list[tuple[float, GenerationState]] = []  # (when, state), oldest first

    def _stamp(self) -> tuple[int, int] | None:
        try:
            info = os.stat(self.root / POINTER_NAME)
        except OSError:
            return None
        return (info.st_ino, info.st_mtime_ns)

    def current(self) -> GenerationState:
        """The live generation; raise :class:`IndexUnavailable` with the reason if there is none."""
        stamp = self._stamp()
        if self._retired and self._clock() - self._retired[0][0] >= RETIRE_SECONDS:
            self._close_retired()
        if self._state is not None and stamp == self._pointer_stamp:
            return self._state
        with self._lock:
            if self._state is not None and stamp == self._pointer_stamp:
                return self._state
            recently = self._clock() - self._checked_at < RETRY_SECONDS
            if self._error is not None and stamp == self._pointer_stamp and (recently or self._broken):
                raise self._error
            self._checked_at = self._clock()
            self._pointer_stamp = stamp
            self._broken = False
            self._retire(self._state)
            try:
                self._state = open_generation(self.root)
                self._error = None
            except IndexUnavailable as error:
                self._state, self._error = None, error
                raise
            return self._state

    def _retire(self, state: GenerationState | None) -> None:
        """Queue ``state`` for closing (the caller holds the lock)."""
        if state is not None:
            self._retired.append((self._clock(), state))

    def _close_retired(self) -> None:
        """Close the generations retired at least :data:`RETIRE_SECONDS` ago."""
        with self._lock:
            now = self._clock()
            while self._retired and now - self._retired[0][0] >= RETIRE_SECONDS:
                self._retired.pop(0)[1].close()

    def mark_broken(self, error: Exception) -> IndexUnavailable:
        """Take the live generation out of service: its files failed while searching (corruption).

        Generations never change once switched in, so it stays out (``/healthz`` says why)
        until ``CURRENT`` names another one.
        """
        with self._lock:
            name = self._state.name if self._state is not None else "?"
            self._retire(self._state)
            self._state, self._broken = None, True
            self._error = IndexUnavailable(f"index « {name} » illisible", str(error))
            return self._error
