"""The build's first pass over the record files: validate and summarise.

Each worker reads and validates its share of the files, assigns themes and keeps of
each record only what the rest of the build needs (:class:`RecordSummary`: facet
values, title, path and a digest of the content), plus the theme expressions it found. Whole records are never held for
the whole corpus: the writers read each file again (see :mod:`indexer.segments`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from indexer.corpus import CorpusError, CorpusProblem, check_unique_ids, corpus_files, read_record
from indexer.parallel import map_chunks
from indexer.records import Programme
from indexer.schema import FACET_TABLE
from indexer.vocabularies import Theme, expressions_in, themes_matching


@dataclass(frozen=True)
class RecordSummary(Programme):
    """What the build keeps of one record between its two passes: the :class:`Programme` without its
    long texts (description, objectives and notes are empty), the digest of the whole record, and its
    facet values."""

    digest: str = ""
    #: Its values of each facet of :data:`indexer.schema.FACET_TABLE`, in the table's order.
    facets: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def of(cls, programme: Programme, digest: str) -> RecordSummary:
        """The summary of a whole programme whose stored record has ``digest``."""
        kept = {f.name: getattr(programme, f.name) for f in fields(Programme)}
        kept.update(description=(), objectives=(), notes=())
        return cls(**kept, digest=digest, facets=tuple(facet.values(programme) for facet in FACET_TABLE))


@dataclass
class CorpusScan:
    """Summaries in file order, theme expressions found, problems."""

    records: list[RecordSummary] = field(default_factory=list)
    expressions: set[str] = field(default_factory=set)
    has_objectives: bool = False
    problems: list[CorpusProblem] = field(default_factory=list)

    def merge(self, other: CorpusScan) -> None:
        """Add another chunk's scan (chunks arrive in file order)."""
        self.records += other.records
        self.expressions |= other.expressions
        self.has_objectives |= other.has_objectives
        self.problems += other.problems


def record_data(programme: Programme) -> tuple[dict[str, object], str]:
    """The stored form of a record and its SHA-256 digest (what the fingerprint hashes)."""
    data = programme.to_dict()
    encoded = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return data, hashlib.sha256(encoded).hexdigest()


def with_themes(programme: Programme, themes: Sequence[Theme]) -> tuple[Programme, set[str]]:
    """The programme with its themes assigned, and the theme expressions found in it."""
    found = expressions_in(programme, themes) if themes else set()
    return replace(programme, themes=tuple(themes_matching(themes, found))), found


def _scan_chunk(paths: Sequence[Path], themes: Sequence[Theme]) -> CorpusScan:
    scan = CorpusScan()
    for path in paths:
        programme = read_record(path, scan.problems)
        if programme is None:
            continue
        programme, found = with_themes(programme, themes)
        _, digest = record_data(programme)
        scan.records.append(RecordSummary.of(programme, digest))
        scan.expressions |= found
        scan.has_objectives |= bool(programme.objectives)
    return scan


def scan_corpus(directory: Path, themes: Sequence[Theme] = ()) -> CorpusScan:
    """Validate every record of ``directory`` (in parallel); raise :class:`CorpusError` listing all problems."""
    paths = corpus_files(directory)
    scan = CorpusScan()
    for part in map_chunks(lambda chunk: _scan_chunk(chunk, themes), paths):
        scan.merge(part)
    check_unique_ids(scan.records, scan.problems)
    if scan.problems:
        raise CorpusError(scan.problems)
    return scan

