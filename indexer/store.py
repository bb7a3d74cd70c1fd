"""Index generations on disk.

``<root>/CURRENT`` names the live generation directory (``gen-…``). Each
generation holds the Whoosh index, ``meta.json`` (fingerprint, analyser
version, counts) and ``vocabulary.json`` (surface forms for suggestions).
The pointer is replaced atomically, so readers always see a complete index.

A generation's life: :func:`build_lock` (one build at a time; ``.build.lock`` names the
builder's PID, and a build that waits says for whom), :func:`staged_generation` (written in a
hidden ``.building-<pid>-…`` folder, renamed into place only when complete, removed on any
failure or interruption; the folder a killed builder left is removed by the next build),
:func:`switch_to` (the pointer), :func:`remove_old_generations` (keep the live one and the
previous one).
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from indexer.processes import process_alive

POINTER_NAME = "CURRENT"
META_NAME = "meta.json"
VOCABULARY_NAME = "vocabulary.json"
SYNONYMS_FILE = "synonyms.json"
TITLES_NAME = "titles.json"
GENERATION_PREFIX = "gen-"
#: What a generation name may look like (a pointer holding anything else is garbage, never echoed).
GENERATION_NAME = re.compile(r"gen-[A-Za-z0-9_.-]{1,120}")
DEFAULT_INDEX_DIR = "var/index"
LOCK_NAME = ".build.lock"
STAGING_PREFIX = ".building-"
_STAGING_PID_RE = re.compile(rf"{re.escape(STAGING_PREFIX)}(\d+)-")
#: Errors of a folder this process may not write into: a build can still check it is up to date.
READ_ONLY_ERRORS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
log = logging.getLogger(__name__)


class IndexUnavailable(Exception):
    """No usable index: missing, unreadable or built by another analyser version.

    ``str(error)`` is the reason shown to users (no file paths); ``detail`` the technical
    cause (an OS error with its path, say), for logs and the command line.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.detail = detail

    def full(self) -> str:
        """Reason and technical cause, for operators."""
        return f"{self} ({self.detail})" if self.detail else str(self)


class IndexOutdated(IndexUnavailable):
    """A generation built by another analyser or schema version: intact, but never usable by this code."""


def default_index_dir() -> Path:
    """``SEARCH_INDEX_DIR`` from the environment, else ``var/index``."""
    return Path(os.environ.get("SEARCH_INDEX_DIR") or DEFAULT_INDEX_DIR)


@dataclass(frozen=True)
class Generation:
    """One built index directory and its metadata."""

    path: Path
    meta: dict

    @property
    def name(self) -> str:
        return self.path.name


def current_generation_name(root: Path) -> str | None:
    """The generation the pointer names (its text, unchecked: see :func:`pointed_generation`), or None when
    there is no readable pointer (missing, a directory, not UTF-8, empty)."""
    try:
        return (root / POINTER_NAME).read_text(encoding="utf-8").strip() or None
    except (OSError, ValueError):
        return None


def pointed_generation(root: Path) -> str:
    """The generation ``CURRENT`` names, checked; raise :class:`IndexUnavailable` saying what is wrong.

    The public reason never repeats the pointer's text (garbage stays in ``detail``, truncated).
    """
    pointer = root / POINTER_NAME
    try:
        raw = pointer.read_bytes()
    except FileNotFoundError as error:
        if generation_names(root):
            raise IndexUnavailable(f"pointeur {POINTER_NAME} absent", f"{pointer} absent") from error
        raise IndexUnavailable("aucun index construit (lancez « make index »)", f"dossier {root}") from error
    except IsADirectoryError as error:
        raise IndexUnavailable(f"pointeur {POINTER_NAME} invalide (c’est un dossier)", str(pointer)) from error
    except OSError as error:
        raise IndexUnavailable(f"pointeur {POINTER_NAME} illisible", str(error)) from error
    name = raw.decode("utf-8", "replace").strip()
    if not name:
        raise IndexUnavailable(f"pointeur {POINTER_NAME} vide", str(pointer))
    if not GENERATION_NAME.fullmatch(name):
        raise IndexUnavailable(f"pointeur {POINTER_NAME} invalide", f"{pointer} contient {name[:60]!r}")
    if not (root / name).is_dir():
        raise IndexUnavailable("génération en service introuvable", f"{root / name} absent")
    return name


def read_generation(root: Path, name: str) -> Generation:
    """Load a generation's metadata; raise :class:`IndexUnavailable` if unreadable."""
    path = root / name
    try:
        meta = json.loads((path / META_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IndexUnavailable(f"génération {name} illisible", str(error)) from error
    return Generation(path=path, meta=meta)


def current_generation(root: Path) -> Generation:
    """The live generation; raise :class:`IndexUnavailable` when none is built or the pointer is bad."""
    return read_generation(root, pointed_generation(root))


def switch_to(root: Path, name: str) -> None:
    """Atomically point ``CURRENT`` at generation ``name`` (a ``CURRENT`` directory is moved aside first)."""
    pointer = root / POINTER_NAME
    if pointer.is_dir() and not pointer.is_symlink():
        os.rename(pointer, root / f"{POINTER_NAME}.dossier-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}")
    temporary = root / f".{POINTER_NAME}.{os.getpid()}.tmp"
    try:
        temporary.write_text(name + "\n", encoding="utf-8")
        os.replace(temporary, root / POINTER_NAME)
    except BaseException:  # a full disk, a signal: no half-written pointer left behind
        temporary.unlink(missing_ok=True)
        raise


def generation_names(root: Path) -> list[str]:
    """Generation directories present on disk, oldest first (names sort by time)."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and p.name.startswith(GENERATION_PREFIX))


@contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """Hold ``<root>/.build.lock`` (one build at a time per index root), which names the holder's PID.

    A build that must wait says once for whom. Once the lock is held, staging folders that killed
    builders left are removed. In a folder this process may not write, the lock is taken read-only
    (or not at all when there is no lock file): it can still find the index up to date.
    """
    fd = _open_lock(root)
    if fd is None:
        yield
        return
    try:
        _acquire(fd)
        try:
            _write_holder(fd, f"{os.getpid()}\n")
            remove_stale_staging(root)
            yield
        finally:
            _write_holder(fd, "")  # before the lock is released: the next holder writes its own
    finally:
        os.close(fd)  # releases the lock


def _open_lock(root: Path) -> int | None:
    """The lock file, opened without truncating it (the holder's PID stays readable); read-only in a
    folder this process may not write, None there when it does not exist."""
    path = root / LOCK_NAME
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as error:
        if error.errno not in READ_ONLY_ERRORS:
            raise
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)  # flock needs no write access
    except FileNotFoundError:
        return None


def _acquire(fd: int) -> None:
    """Take the lock; when another build holds it, say so once, then wait."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        who = f" (PID {holder})" if holder.isdigit() else ""
        log.warning("une autre construction est en cours%s : attente…", who)
        fcntl.flock(fd, fcntl.LOCK_EX)


def _write_holder(fd: int, text: str) -> None:
    """Replace the lock file's content (the holder's PID, or nothing); skipped when it is read-only."""
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, text.encode("ascii"), 0)
    except OSError as error:
        if error.errno not in (*READ_ONLY_ERRORS, errno.EBADF, errno.EINVAL):
            raise


def new_generation_name(fingerprint: str) -> str:
    """A generation name that sorts by build time and shows the corpus fingerprint."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{GENERATION_PREFIX}{stamp}-{fingerprint[:8]}"


@contextmanager
def staged_generation(root: Path, name: str) -> Iterator[Path]:
    """A staging folder for generation ``name``, renamed to ``<root>/<name>`` when the block
    succeeds and removed when it fails (the live generation is never touched).

    Its name carries this process's PID, so that the next build can tell it was left by a killed one.
    """
    staging = root / f"{STAGING_PREFIX}{os.getpid()}-{name}"
    staging.mkdir()
    try:
        yield staging
        os.rename(staging, root / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _builder_pid(staging: Path) -> int | None:
    """The PID in a staging folder's name (None in the names of older versions, which had none)."""
    match = _STAGING_PID_RE.match(staging.name)
    return int(match.group(1)) if match else None


def remove_stale_staging(root: Path) -> None:
    """Remove the staging folders whose builder no longer runs (killed, or crashed), saying so."""
    for staging in sorted(root.glob(f"{STAGING_PREFIX}*")):
        pid = _builder_pid(staging)
        if pid is not None and process_alive(pid):
            continue
        shutil.rmtree(staging, ignore_errors=True)
        if not staging.exists():
            builder = f"PID {pid}" if pid is not None else "version précédente"
            log.warning("construction interrompue (%s) : dossier %s supprimé", builder, staging)


def remove_old_generations(root: Path, keep: set[str], discard: set[str] | frozenset[str] = frozenset()) -> None:
    """Remove ``discard`` (damaged generations), then every generation but the two newest and ``keep`` (the
    live one and the one kept for the fallback), and leftovers of failed builds."""
    for name in discard:
        shutil.rmtree(root / name, ignore_errors=True)
    names = [name for name in generation_names(root) if name not in discard]
    for name in names[:-2]:
        if name not in keep:
            shutil.rmtree(root / name, ignore_errors=True)
    remove_stale_staging(root)
