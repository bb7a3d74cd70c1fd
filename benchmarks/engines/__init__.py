"""The engines measured side by side, behind one small interface.

An engine builds an index from a directory of record files (``build``, run in its own
process so that its peak RSS can be read) and opens it as a :class:`Session` whose
``search`` does the whole request for one query: parse, match with facet filters,
per-value counts for every facet, snippets for the page of 10 hits, a spelling suggestion.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from benchmarks.queries import BenchQuery
from indexer.records import Programme
from indexer.schema import FACET_TABLE, FIELD_TABLE
from indexer.slugs import slugify

Progress = Callable[[int, int], None]
PER_PAGE = 10
#: Engine name -> module defining ``ENGINE``.
MODULES = {
    "ours": "benchmarks.engines.ours",
    "naive": "benchmarks.engines.naive",
    "tantivy": "benchmarks.engines.tantivy_engine",
}


def record_texts(programme: Programme) -> dict[str, str]:
    """The text fields the reference engines index for one record: the field table's, as our index joins them."""
    return {"id": programme.id, **{field.name: field.index_text(programme) for field in FIELD_TABLE}}


def facet_keys(programme: Programme) -> dict[str, list[str]]:
    """Key field -> the record's slug keys, for every facet of the table (as our index stores them)."""
    return {facet.key_field: [slugify(value) for value in facet.values(programme)] for facet in FACET_TABLE}


@dataclass(frozen=True)
class BuildStats:
    """What one build did: documents indexed, seconds (reading the records included), reading seconds."""

    documents: int
    seconds: float
    load_seconds: float | None  # None: the harness times load_corpus in a process of its own


@dataclass(frozen=True)
class Answer:
    """What a full request returned, reduced to what the harness checks."""

    total: int
    ids: tuple[str, ...]
    snippets: int
    facet_values: int


class Session(Protocol):
    """An opened index answering full requests."""

    def search(self, query: BenchQuery) -> Answer: ...

    def close(self) -> None: ...


class Engine(Protocol):
    """Builds and opens one kind of index."""

    name: str

    def build(self, corpus_dir: Path, index_dir: Path, progress: Progress | None = None) -> BuildStats: ...

    def open(self, index_dir: Path) -> Session: ...


def available(name: str) -> bool:
    """Whether the engine's library can be imported here (tantivy is an optional extra)."""
    return name != "tantivy" or importlib.util.find_spec("tantivy") is not None


def get_engine(name: str) -> Engine:
    """The engine called ``name``."""
    return importlib.import_module(MODULES[name]).ENGINE
