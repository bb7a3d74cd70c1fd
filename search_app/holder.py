"""The generation served: verified against its manifest, watched on every request, replaced by
the previous intact generation when its files are damaged.

On each request the holder compares one ``stat`` of ``CURRENT`` and one per file of the served
generation (inode, size, mtime) with what it saw when it verified them. Anything different makes
it choose again: the generation ``CURRENT`` names if its files match its manifest and it opens,
else the newest older generation that does (the *fallback*, logged with the reason), else none
(every route answers 503 with a public reason). Every worker process reads the same files and
decides the same way. A generation that failed is not hashed again until its files change, and
without a change of pointer or files the holder looks again at most every :data:`RETRY_SECONDS`.

An error while searching that the handlers cannot explain re-verifies the served generation
(at most every :data:`REVERIFY_SECONDS`): damaged files take it out of service. A generation
replaced or taken out of service is retired: its searchers are closed :data:`RETIRE_SECONDS`
later, once the requests that were using it have long finished.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from indexer.manifest import MANIFEST_NAME, GenerationDamaged, Stamps, file_stamps, verify_generation
from indexer.store import POINTER_NAME, IndexUnavailable, generation_names, pointed_generation
from search_app.index_state import GenerationState, open_generation

log = logging.getLogger(__name__)

#: Seconds between two attempts to choose a generation while nothing can be served and nothing changed.
RETRY_SECONDS = 1.0
#: Seconds a replaced generation stays open for the requests still using it (a search takes well under one).
RETIRE_SECONDS = 30.0
#: Seconds between two re-verifications of the served generation after unexplained errors.
REVERIFY_SECONDS = 10.0


@dataclass(frozen=True)
class Serving:
    """What is served: the generation, what ``CURRENT`` names, and why they differ (None: they do not)."""

    state: GenerationState
    pointed: str | None
    fallback_reason: str | None
    stamps: Stamps  # of the served generation's files and manifest, when they were verified

    @property
    def is_fallback(self) -> bool:
        return self.fallback_reason is not None


@dataclass(frozen=True)
class _Rejection:
    """A generation that could not be served, and the stamps of its files then (unchanged: still bad)."""

    error: IndexUnavailable
    stamps: Stamps


def _directory_stamps(path: Path) -> Stamps:
    """Stamps of every file a generation directory holds now (an absent directory: none)."""
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return {}
    return file_stamps(path, names)


class IndexHolder:
    """Hands out the served :class:`GenerationState`, choosing again when the pointer or its files change."""

    def __init__(self, root: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.root = root
        self._clock = clock
        self._lock = threading.Lock()
        self._serving: Serving | None = None
        self._pointer_stamp: tuple[int, int] | None = None
        self._error: IndexUnavailable | None = None
        self._checked_at = -RETRY_SECONDS
        self._verified_at = 0.0
        self._rejected: dict[str, _Rejection] = {}
        self._retired: list[tuple[float, GenerationState]] = []  # (when, state), oldest first

    def _stamp(self) -> tuple[int, int] | None:
        try:
            info = os.stat(self.root / POINTER_NAME)
        except OSError:
            return None
        return (info.st_ino, info.st_mtime_ns)

    def _still_valid(self, serving: Serving | None, stamp: tuple[int, int] | None) -> Serving | None:
        """``serving`` if neither the pointer nor its files changed since it was chosen."""
        if serving is not None and stamp == self._pointer_stamp and self._unchanged_files(serving):
            return serving
        return None

    def current(self) -> GenerationState:
        """The served generation; raise :class:`IndexUnavailable` with the reason if there is none."""
        return self.serving().state

    def serving(self) -> Serving:
        """The served generation with what ``CURRENT`` names and why they differ."""
        stamp = self._stamp()
        if self._retired and self._clock() - self._retired[0][0] >= RETIRE_SECONDS:
            self._close_retired()
        serving = self._still_valid(self._serving, stamp)
        if serving is not None:
            return serving
        with self._lock:
            serving = self._still_valid(self._serving, stamp)
            if serving is not None:
                return serving
            waiting = self._serving is None and stamp == self._pointer_stamp
            if waiting and self._error is not None and self._clock() - self._checked_at < RETRY_SECONDS:
                raise self._error
            self._checked_at = self._clock()
            self._pointer_stamp = stamp
            return self._choose()

    def _choose(self) -> Serving:
        """Serve the pointed generation if intact, else the newest intact older one (the lock is held)."""
        try:
            pointed: str | None = pointed_generation(self.root)
            problems: list[IndexUnavailable] = []
        except IndexUnavailable as error:
            pointed, problems = None, [error]
        for name in self._candidates(pointed):
            try:
                state, stamps = self._open_verified(name)
            except IndexUnavailable as error:
                problems.append(error)
                continue
            reason = str(problems[0]) if problems else None
            if reason:
                log.warning("génération %s servie à la place : %s", name, "; ".join(p.full() for p in problems))
            serving = Serving(state, pointed, reason, stamps)
            self._replace(serving)
            return serving
        self._replace(None)
        first = problems[0] if problems else IndexUnavailable("aucun index construit (lancez « make index »)")
        reason = str(first) if pointed is None else f"{first} et aucune génération précédente intacte"
        self._error = IndexUnavailable(reason, "; ".join(p.full() for p in problems))
        raise self._error

    def _candidates(self, pointed: str | None) -> list[str]:
        """The pointed generation, then older ones newest first (every one, newest first, without a pointer)."""
        names = generation_names(self.root)
        if pointed is None:
            return names[::-1]
        return [pointed, *(name for name in reversed(names) if name < pointed)]

    def _open_verified(self, name: str) -> tuple[GenerationState, Stamps]:
        """Open ``name`` if its files match its manifest; a generation that failed is only tried again
        once its files change. Raise :class:`IndexUnavailable`."""
        path = self.root / name
        current = self._serving
        if current is not None and current.state.name == name and self._unchanged_files(current):
            return current.state, current.stamps
        before = _directory_stamps(path)
        rejected = self._rejected.get(name)
        if rejected is not None and rejected.stamps == before:
            raise rejected.error
        try:
            manifest = verify_generation(path)
            stamps = file_stamps(path, [*manifest.files, MANIFEST_NAME])
            state = open_generation(self.root, name)
        except GenerationDamaged as damage:
            error = IndexUnavailable(f"index « {name} » endommagé", f"{path / damage.file} : {damage.problem}")
            self._rejected[name] = _Rejection(error, before)
            raise error from damage
        except IndexUnavailable as error:
            self._rejected[name] = _Rejection(error, before)
            raise
        self._rejected.pop(name, None)
        self._error = None
        return state, stamps

    @staticmethod
    def _unchanged_files(serving: Serving) -> bool:
        return file_stamps(serving.state.index_path, list(serving.stamps)) == serving.stamps

    def _replace(self, serving: Serving | None) -> None:
        """Serve ``serving``, retiring the state served until now (the caller holds the lock)."""
        previous = self._serving
        if previous is not None and (serving is None or serving.state is not previous.state):
            self._retired.append((self._clock(), previous.state))
        self._serving = serving

    def _close_retired(self) -> None:
        """Close the generations retired at least :data:`RETIRE_SECONDS` ago."""
        with self._lock:
            now = self._clock()
            while self._retired and now - self._retired[0][0] >= RETIRE_SECONDS:
                self._retired.pop(0)[1].close()

    def verify_after_error(self, error: Exception) -> IndexUnavailable | None:
        """After an unexplained error while searching: re-verify the served generation's files.

        Damaged files take it out of service (the next request gets the fallback, or 503) and the
        reason is returned; intact files (a bug, not damage) return None. At most one re-verification
        per :data:`REVERIFY_SECONDS` unless the error is Whoosh's own ``CorruptIndexError``.
        """
        serving = self._serving
        if serving is None:
            return self._error
        name = serving.state.name
        with self._lock:
            if self._serving is not serving:
                return None  # another thread already chose again
            corrupt = type(error).__name__ == "CorruptIndexError"
            if not corrupt and self._clock() - self._verified_at < REVERIFY_SECONDS:
                return None
            self._verified_at = self._clock()
            try:
                verify_generation(serving.state.index_path)
                return None
            except GenerationDamaged as damage:
                detail = f"{serving.state.index_path / damage.file} : {damage.problem} (après {type(error).__name__})"
                rejection = IndexUnavailable(f"index « {name} » endommagé", detail)
            self._rejected[name] = _Rejection(rejection, _directory_stamps(serving.state.index_path))
            log.error("génération %s retirée du service : %s", name, rejection.full())
            self._replace(None)
            self._pointer_stamp = None  # choose again on the next request
            return rejection
