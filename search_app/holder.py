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
from typing import NoReturn

from whoosh.reading import CorruptIndexError

from indexer.manifest import (
    MANIFEST_NAME,
    GenerationDamaged,
    Stamps,
    file_stamp,
    file_stamps,
    flag_damage,
    verify_generation,
)
from indexer.store import POINTER_NAME, IndexOutdated, IndexUnavailable, generation_names, pointed_generation
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
    watched: tuple[str, ...]  # the served generation's files and manifest, as path strings (one stat each)
    stamps: tuple[tuple[int, int, int] | None, ...]  # theirs when they were verified

    @property
    def is_fallback(self) -> bool:
        return self.fallback_reason is not None

    def unchanged(self) -> bool:
        """Whether every watched file has the stamp it had when verified."""
        return tuple(map(file_stamp, self.watched)) == self.stamps


@dataclass(frozen=True)
class _Rejection:
    """A generation that could not be served, the stamps of its files then, and when."""

    error: IndexUnavailable
    stamps: Stamps
    at: float
    lasting: bool  # bytes that differ or another version: the same files give the same answer

    def still_holds(self, stamps: Stamps, now: float) -> bool:
        """Whether trying again is pointless: the files are unchanged and the failure was lasting, or recent."""
        return stamps == self.stamps and (self.lasting or now - self.at < RETRY_SECONDS)


def _directory_stamps(path: Path) -> Stamps:
    """Stamps of every file a generation directory holds now (an absent directory: none)."""
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return {}
    return file_stamps(path, names)


def _damaged(name: str, path: Path, damage: GenerationDamaged, cause: str = "") -> IndexUnavailable:
    """The public reason (no path) and the operator's detail for damaged generation files."""
    if damage.no_manifest:
        reason = f"index « {name} » sans manifeste (construit par une version précédente : lancez « make index »)"
    else:
        reason = f"index « {name} » endommagé"
    return IndexUnavailable(reason, f"{path / damage.file} : {damage.problem}{cause}")


class IndexHolder:
    """Hands out the served :class:`GenerationState`, choosing again when the pointer or its files change."""

    def __init__(self, root: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.root = root
        self._pointer = str(root / POINTER_NAME)
        self._clock = clock
        self._lock = threading.Lock()
        self._serving: Serving | None = None
        self._pointer_stamp: tuple[int, int, int] | None = None
        self._error: IndexUnavailable | None = None
        self._checked_at = -RETRY_SECONDS
        self._verified_at = -REVERIFY_SECONDS
        self._rejected: dict[str, _Rejection] = {}
        self._retired: list[tuple[float, GenerationState]] = []  # (when, state), oldest first
        self._request = threading.local()  # the generation one request was given (see begin_request)

    def begin_request(self) -> None:
        """From now until :meth:`end_request`, this thread gets the same generation without checking again:
        one check per request (not one per call), and the ETag and the answer come from one generation."""
        self._request.active, self._request.serving = True, None

    def end_request(self) -> None:
        self._request.active, self._request.serving = False, None

    def _still_valid(self, serving: Serving | None, stamp: tuple[int, int, int] | None) -> Serving | None:
        """``serving`` if neither the pointer nor its files changed since it was chosen."""
        if serving is not None and stamp == self._pointer_stamp and serving.unchanged():
            return serving
        return None

    def current(self) -> GenerationState:
        """The served generation; raise :class:`IndexUnavailable` with the reason if there is none."""
        return self.serving().state

    def serving(self) -> Serving:
        """The served generation with what ``CURRENT`` names and why they differ."""
        pinned = getattr(self._request, "serving", None)
        if pinned is not None:
            return pinned
        serving = self._check()
        if getattr(self._request, "active", False):
            self._request.serving = serving
        return serving

    def _check(self) -> Serving:
        """Compare the stamps, choosing again when anything changed."""
        stamp = file_stamp(self._pointer)
        oldest = self._retired[:1]  # one copy: another thread may empty the list meanwhile
        if oldest and self._clock() - oldest[0][0] >= RETIRE_SECONDS:
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
                serving = self._open_verified(name, pointed, problems)
            except IndexUnavailable as error:
                problems.append(error)
                continue
            if serving.fallback_reason:
                log.warning("génération %s servie à la place : %s", name, "; ".join(p.full() for p in problems))
            self._replace(serving)
            return serving
        self._replace(None)
        first = problems[0] if problems else IndexUnavailable("aucun index construit (lancez « make index »)")
        reason = str(first) if pointed is None else f"{first} et aucune génération précédente intacte"
        self._error = IndexUnavailable(reason, "; ".join(p.full() for p in problems))
        raise self._error

    def _candidates(self, pointed: str | None) -> list[str]:
        """The pointed generation, then older ones newest first (every one, newest first, without a pointer)."""
        names = generation_names(self.root)
        if pointed is None:
            return names[::-1]
        return [pointed, *(name for name in reversed(names) if name < pointed)]

    def _open_verified(self, name: str, pointed: str | None, problems: list[IndexUnavailable]) -> Serving:
        """Serve ``name`` if its files match its manifest and it opens. A generation that failed is tried
        again only once its files change (or, for a failure to read them, after :data:`RETRY_SECONDS`).
        Raise :class:`IndexUnavailable`."""
        path = self.root / name
        reason = str(problems[0]) if problems else None
        current = self._serving
        if current is not None and current.state.name == name and current.unchanged():
            return Serving(current.state, pointed, reason, current.watched, current.stamps)
        before = _directory_stamps(path)  # taken before hashing: a change during it shows next time
        rejected = self._rejected.get(name)
        if rejected is not None and rejected.still_holds(before, self._clock()):
            raise rejected.error
        try:
            manifest = verify_generation(path)
            state = open_generation(self.root, name)
        except GenerationDamaged as damage:
            self._reject(name, _damaged(name, path, damage), before, damage.lasting)
        except IndexUnavailable as error:
            self._reject(name, error, before, isinstance(error, IndexOutdated))
        listed = sorted([*manifest.files, MANIFEST_NAME])
        watched = tuple(str(path / file) for file in listed)
        stamps = tuple(before.get(file) for file in listed)
        self._rejected.pop(name, None)
        self._error = None
        return Serving(state, pointed, reason, watched, stamps)

    def _reject(self, name: str, error: IndexUnavailable, stamps: Stamps, lasting: bool) -> NoReturn:
        self._rejected[name] = _Rejection(error, stamps, self._clock(), lasting)
        raise error

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
        per :data:`REVERIFY_SECONDS` unless the error is Whoosh's own ``CorruptIndexError``. The
        manifest's modification time is then updated, so that every other worker, seeing a stamp
        change, verifies the files again and reaches the same decision.
        """
        self._request.serving = None  # this request's generation may be the damaged one
        serving = self._serving
        if serving is None:
            return self._error
        with self._lock:
            if self._serving is not serving:
                return None  # another thread already chose again
            if not isinstance(error, CorruptIndexError) and self._clock() - self._verified_at < REVERIFY_SECONDS:
                return None
            self._verified_at = self._clock()
            path = serving.state.index_path
            try:
                verify_generation(path)
                return None
            except GenerationDamaged as damage:
                rejection = _damaged(serving.state.name, path, damage, f" (après {type(error).__name__})")
                lasting = damage.lasting
            flag_damage(path)
            self._rejected[serving.state.name] = _Rejection(rejection, _directory_stamps(path), self._clock(), lasting)
            log.error("génération %s retirée du service : %s", serving.state.name, rejection.full())
            self._replace(None)
            self._pointer_stamp = None  # choose again on the next request
            return rejection
