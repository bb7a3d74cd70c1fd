"""Import the published page into record files, idempotently.

The page gives no programme's address: a ``source_url`` written in an existing record is
carried over, so re-importing never drops it (nor counts it as a hand edit).

The importer remembers the hash of every file it wrote in ``.import-manifest.json``.
A record whose file no longer matches that hash was edited by hand and is not
overwritten unless ``force`` is given.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from indexer.corpus import RECORD_SUFFIX, content_hash, read_record, render_record
from indexer.source_page import parse_page

MANIFEST_NAME = ".import-manifest.json"


@dataclass
class ImportReport:
    """What an import did, file by file."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def _read_manifest(out_dir: Path) -> dict[str, str]:
    path = out_dir / MANIFEST_NAME
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _kept_source_url(path: Path) -> str:
    """The ``source_url`` of an existing record file ("" when it has none or does not read)."""
    existing = read_record(path, [])
    return existing.source_url if existing is not None else ""


def import_page(page: Path, out_dir: Path, source_name: str | None = None, force: bool = False) -> ImportReport:
    """Split ``page`` into record files in ``out_dir``; see the module docstring."""
    source = source_name or f"sources/{page.name}"
    programmes = parse_page(page.read_text(encoding="utf-8"), source, str(page))
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(out_dir)
    report = ImportReport()
    for programme in programmes:
        name = programme.id + RECORD_SUFFIX
        target = out_dir / name
        if target.exists() and not programme.source_url:
            programme = replace(programme, source_url=_kept_source_url(target))
        text = render_record(programme)
        if target.exists():
            current = target.read_text(encoding="utf-8")
            if current == text:
                report.unchanged.append(name)
                manifest[name] = content_hash(text)
                continue
            if manifest.get(name) != content_hash(current) and not force:
                report.refused.append(name)
                continue
        _write_atomically(target, text)
        manifest[name] = content_hash(text)
        report.written.append(name)
    _write_atomically(out_dir / MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return report
