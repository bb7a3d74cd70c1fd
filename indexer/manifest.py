"""A generation's manifest: the size and SHA-256 of every file it holds, written at build.

``manifest.json`` lists each file of the generation directory (itself excepted) and carries the
hash of that list, so that damage to the manifest is found like damage to any other file. A
generation is *verified* when every listed file is present with its size and hash, and no unlisted
file is one the index would read (a table of contents, a segment, JSON metadata).

:func:`file_stamps` are the cheap part: inode, size and modification time of each listed file,
compared on every request to notice a file written or removed since it was verified.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
_CHUNK = 1 << 20

#: (inode, size, mtime in ns) of each listed file, or None for a file that cannot be stat'ed.
Stamps = dict[str, tuple[int, int, int] | None]


class GenerationDamaged(Exception):
    """A generation's files do not match its manifest; ``file`` names the first damaged one.

    ``lasting`` is False when the files could not be read (an OS error such as too many open files):
    trying again may succeed, unlike with bytes that differ.
    """

    def __init__(self, file: str, problem: str, lasting: bool = True) -> None:
        super().__init__(f"{file} : {problem}")
        self.file, self.problem, self.lasting = file, problem, lasting

    @property
    def no_manifest(self) -> bool:
        """Built before manifests existed (or the manifest was deleted)."""
        return self.file == MANIFEST_NAME and self.problem.startswith("absent")


@dataclass(frozen=True)
class Manifest:
    """The files of a verified generation: name -> (size, sha256)."""

    files: dict[str, tuple[int, str]]


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _listing_digest(files: dict[str, list]) -> str:
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()


def write_manifest(path: Path) -> Manifest:
    """Hash every regular file of generation directory ``path`` into its ``manifest.json``."""
    entries = [entry for entry in sorted(path.iterdir()) if entry.is_file() and entry.name != MANIFEST_NAME]
    listed = {entry.name: (entry.stat().st_size, file_digest(entry)) for entry in entries}
    files = {name: list(pair) for name, pair in listed.items()}
    document = {"version": MANIFEST_VERSION, "files": files, "sha256": _listing_digest(files)}
    temporary = path / f".{MANIFEST_NAME}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path / MANIFEST_NAME)
    return Manifest(listed)


def read_manifest(path: Path) -> Manifest:
    """The manifest of generation ``path``, checked against its own hash; raise :class:`GenerationDamaged`."""
    try:
        document = json.loads((path / MANIFEST_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise GenerationDamaged(MANIFEST_NAME, "absent (génération construite sans manifeste)") from error
    except OSError as error:
        raise GenerationDamaged(MANIFEST_NAME, f"illisible ({error.strerror or error})", lasting=False) from error
    except ValueError as error:
        raise GenerationDamaged(MANIFEST_NAME, "illisible") from error
    files = document.get("files") if isinstance(document, dict) else None
    if not isinstance(files, dict) or document.get("version") != MANIFEST_VERSION:
        raise GenerationDamaged(MANIFEST_NAME, "format inconnu")
    if document.get("sha256") != _listing_digest(files):
        raise GenerationDamaged(MANIFEST_NAME, "contenu altéré (son empreinte ne correspond plus)")
    try:
        return Manifest({str(name): (int(size), str(digest)) for name, (size, digest) in files.items()})
    except (TypeError, ValueError) as error:
        raise GenerationDamaged(MANIFEST_NAME, "format inconnu") from error


def verify_generation(path: Path) -> Manifest:
    """Check every file of generation ``path`` against its manifest; raise :class:`GenerationDamaged`."""
    manifest = read_manifest(path)
    for name, (size, digest) in sorted(manifest.files.items()):
        file = path / name
        try:
            actual_size = file.stat().st_size
            if actual_size != size:
                raise GenerationDamaged(name, f"{actual_size} octets au lieu de {size}")
            if file_digest(file) != digest:
                raise GenerationDamaged(name, "contenu altéré (empreinte SHA-256 différente)")
        except FileNotFoundError as error:
            raise GenerationDamaged(name, "fichier absent") from error
        except OSError as error:
            raise GenerationDamaged(name, f"illisible ({error.strerror or error})", lasting=False) from error
    _check_no_stray_index_file(path, manifest)
    return manifest


#: Files Whoosh reads whatever the manifest says (it opens the highest ``_MAIN_N.toc`` it finds).
_INDEX_SUFFIXES = (".toc", ".seg", ".json")


def _check_no_stray_index_file(path: Path, manifest: Manifest) -> None:
    """An unlisted table of contents, segment or metadata file would be read: it is damage too."""
    for entry in sorted(path.iterdir()):
        if entry.name not in manifest.files and entry.name != MANIFEST_NAME and entry.suffix in _INDEX_SUFFIXES:
            raise GenerationDamaged(entry.name, "fichier absent du manifeste")


def file_stamp(path: Path | str) -> tuple[int, int, int] | None:
    """Inode, size and mtime of a file (None when it cannot be stat'ed)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def file_stamps(path: Path, names: dict[str, tuple[int, str]] | list[str]) -> Stamps:
    """:func:`file_stamp` of each named file under ``path``."""
    return {name: file_stamp(path / name) for name in names}


def flag_damage(path: Path) -> None:
    """Touch a damaged generation's manifest: every server watching its stamps then verifies it again
    (and takes it out of service), even when the damage itself left sizes and times as they were."""
    with contextlib.suppress(OSError):
        os.utime(path / MANIFEST_NAME)
