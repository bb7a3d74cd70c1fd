"""Index generations on disk.

``<root>/CURRENT`` names the live generation directory (``gen-…``). Each
generation holds the Whoosh index, ``meta.json`` (fingerprint, analyser
version, counts) and ``vocabulary.json`` (surface forms for suggestions).
The pointer is replaced atomically, so readers always see a complete index.

A generation's life: :func:`build_lock` (one build at a time), :func:`staged_generation`
(written in a hidden ``.building-…`` folder, renamed into place only when complete, removed
on any failure), :func:`switch_to` (the pointer), :func:`remove_old_generations` (keep the
live one and the previous one).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

POINTER_NAME = "CURRENT"
META_NAME = "meta.json"
VOCABULARY_NAME = "vocabulary.json"
SYNONYMS_FILE = "synonyms.json"
TITLES_NAME = "titles.json"
GENERATION_PREFIX = "gen-"
#: What a generation name may look like (a pointer holding anything else is garbage, never echoed).
GENERATION_NAME = re.compile(r"gen-[A-Za-z0-9_.-]{1,120}")
DEFAULT_INDEX_DIR = "var/index"


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
    """The generation the pointer names, or None when there is no pointer (its text, unchecked)."""
    try:
        return (root / POINTER_NAME).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
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
        raise IndexUnavailable("aucun index construit (lancez « make index »)", f"dossier {root}") from error
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
    temporary.write_text(name + "\n", encoding="utf-8")
    os.replace(temporary, root / POINTER_NAME)


def generation_names(root: Path) -> list[str]:
    """Generation directories present on disk, oldest first (names sort by time)."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and p.name.startswith(GENERATION_PREFIX))


@contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """Hold ``<root>/.build.lock`` (one build at a time per index root)."""
    with open(root / ".build.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def new_generation_name(fingerprint: str) -> str:
    """A generation name that sorts by build time and shows the corpus fingerprint."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{GENERATION_PREFIX}{stamp}-{fingerprint[:8]}"


@contextmanager
def staged_generation(root: Path, name: str) -> Iterator[Path]:
    """A staging folder for generation ``name``, renamed to ``<root>/<name>`` when the block
    succeeds and removed when it fails (the live generation is never touched)."""
    staging = root / f".building-{name}"
    staging.mkdir()
    try:
        yield staging
        os.rename(staging, root / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def remove_old_generations(root: Path, keep: set[str], discard: set[str] | frozenset[str] = frozenset()) -> None:
    """Remove ``discard`` (damaged generations), generations older than the previous intact one (except
    ``keep``), and leftovers of failed builds."""
    for name in discard:
        shutil.rmtree(root / name, ignore_errors=True)
    names = [name for name in generation_names(root) if name not in discard]
    for name in names[:-2]:
        if name not in keep:
            shutil.rmtree(root / name, ignore_errors=True)
    for leftover in root.glob(".building-*"):
        shutil.rmtree(leftover, ignore_errors=True)
