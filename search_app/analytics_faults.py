"""What can go wrong with the analytics store, told apart: a damaged file, a passing failure, a rejected batch.

- **Damaged** (:func:`is_corrupt`: « file is not a database », « database disk image is malformed »): the
  file will never read again. The writer moves it aside (:func:`move_aside`, with its ``-wal``/``-shm``)
  and starts a new store, so analytics go on and the old file is kept for whoever wants to look at it.
- **Rejected** (:func:`rejects_batch`): SQLite refused these rows themselves; writing them again would fail
  again, so they are counted as lost.
- **Anything else** (locked, read-only, disk full, a folder that cannot be created — ``sqlite3.Error`` or
  ``OSError``): the store is unavailable for now; the writer keeps its events and tries again.

:class:`StoreUnavailable` is what readers (``/stats``, ``flask report``) get: a French reason without file
paths for the page, the technical cause for the log and the command line.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

#: SQLite's primary result codes of a damaged file (extended codes keep them in their low byte).
CORRUPT_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
CORRUPT_WORDS = ("file is not a database", "malformed")
#: The first bytes of every SQLite database file (an empty file is an empty database too).
SQLITE_HEADER = b"SQLite format 3\x00"
#: The files SQLite keeps beside a database, moved aside with it.
SIDE_SUFFIXES = ("-wal", "-shm", "-journal")
#: French reasons by SQLite primary result code (no file paths: they are shown on /stats).
SQLITE_REASONS = {
    sqlite3.SQLITE_BUSY: "la base est verrouillée par un autre processus",
    sqlite3.SQLITE_LOCKED: "la base est verrouillée par un autre processus",
    sqlite3.SQLITE_CANTOPEN: "le fichier ou son dossier est inaccessible (chemin ou droits)",
    sqlite3.SQLITE_READONLY: "la base est en lecture seule",
    sqlite3.SQLITE_PERM: "les droits sur le fichier ne permettent pas d’y écrire",
    sqlite3.SQLITE_FULL: "le disque est plein",
    sqlite3.SQLITE_IOERR: "le disque a renvoyé une erreur d’entrée-sortie",
}
OS_REASONS = {
    errno.ENOSPC: "le disque est plein",
    errno.EACCES: "les droits ne permettent pas de créer ou d’écrire le fichier",
    errno.EPERM: "les droits ne permettent pas de créer ou d’écrire le fichier",
    errno.EROFS: "le disque est en lecture seule",
}
CORRUPT_REASON = "le fichier est endommagé"
FOLDER_REASON = "un dossier occupe la place du fichier"


class StoreUnavailable(Exception):
    """An analytics store that cannot be read: ``str(error)`` for users (no paths), :meth:`full` for operators."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.detail = detail

    @classmethod
    def from_error(cls, path: Path, error: sqlite3.Error | OSError) -> StoreUnavailable:
        """The store at ``path`` failed with ``error``."""
        reason = FOLDER_REASON if path.is_dir() else french_reason(error)  # SQLite says « I/O error »
        return cls(reason, f"{path}: {error}")

    def full(self) -> str:
        """Reason and technical cause."""
        return f"{self} ({self.detail})" if self.detail else str(self)


def _primary_code(error: sqlite3.Error) -> int | None:
    code = getattr(error, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def is_corrupt(error: BaseException) -> bool:
    """Whether ``error`` says the database file is damaged (as opposed to busy or unreachable)."""
    if not isinstance(error, sqlite3.DatabaseError):
        return False
    return _primary_code(error) in CORRUPT_CODES or any(word in str(error) for word in CORRUPT_WORDS)


def rejects_batch(error: BaseException) -> bool:
    """Whether SQLite refused the rows themselves (writing them again would fail again)."""
    return isinstance(error, sqlite3.IntegrityError | sqlite3.DataError | sqlite3.InterfaceError)


def french_reason(error: sqlite3.Error | OSError) -> str:
    """Why the store failed, in French and without file paths (SQLite's and the OS's messages name them)."""
    if is_corrupt(error):
        return CORRUPT_REASON
    if isinstance(error, OSError):
        return OS_REASONS.get(error.errno or 0, "le dossier de la base ne peut pas être créé ou ouvert")
    code = _primary_code(error)
    if code in SQLITE_REASONS:
        return SQLITE_REASONS[code]
    return f"erreur SQLite {getattr(error, 'sqlite_errorname', None) or type(error).__name__}"


def check_header(path: Path) -> None:
    """Raise SQLite's own « file is not a database » for a file that does not start as one, before SQLite
    opens it: SQLite would delete the ``-wal`` beside it on closing (or write it into the damaged file),
    where it should be moved aside with it."""
    try:
        with open(path, "rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except OSError:  # no file yet (SQLite creates it), or a folder, or no right to read: SQLite says which
        return
    if head and head != SQLITE_HEADER:
        raise sqlite3.DatabaseError("file is not a database")


FileIdentity = tuple[int, int]


def file_identity(path: Path) -> FileIdentity | None:
    """Device and inode of the file at ``path`` (None when there is none): tells a replaced file from the same."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def corrupt_name(path: Path, now: datetime | None = None) -> Path:
    """``analytics.sqlite3.corrupt-20261202T101112Z``, numbered when that name is taken."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    number = 1
    while any(target.with_name(target.name + suffix).exists() for suffix in ("", *SIDE_SUFFIXES)):
        number += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{number}")
    return target


def move_aside(path: Path, now: datetime | None = None) -> Path:
    """Rename a damaged database and the files beside it to :func:`corrupt_name`; the new name.

    The ``-wal`` and ``-shm`` go first: a new database must never find the old one's journal."""
    target = corrupt_name(path, now)
    for suffix in (*SIDE_SUFFIXES, ""):
        source = path.with_name(path.name + suffix)
        if source.exists():
            source.rename(target.with_name(target.name + suffix))
    return target
