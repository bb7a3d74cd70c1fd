"""A generation opened: validated, with everything a request needs computed once.

Everything that only depends on the generation is computed when it is opened,
not per request: each facet value's document set (built by :mod:`search_app.facets`),
the title order, display names of facet values, the suggestion vocabulary, the field
lengths BM25F needs (numpy arrays). A search then only combines document sets.
Searchers are kept per thread. :mod:`search_app.holder` hands out the live one and
reopens it when ``CURRENT`` changes.
"""

from __future__ import annotations

import bisect
import heapq
import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from whoosh import index as whoosh_index
from whoosh.analysis.analyzers import CompositeAnalyzer
from whoosh.searching import Searcher

from indexer.analysis import ANALYZER_VERSION, TermSpans, fold, lexicon_of
from indexer.french import Lexicon, clean_word
from indexer.french_rules import CASED_NAMES, STOP_WORDS
from indexer.geography import GLOBAL
from indexer.records import Programme
from indexer.schema import CONTENT_FIELD, SCHEMA_VERSION
from indexer.store import (
    META_NAME,
    SYNONYMS_FILE,
    TITLES_NAME,
    VOCABULARY_NAME,
    Generation,
    IndexOutdated,
    IndexUnavailable,
    pointed_generation,
    read_generation,
)
from search_app import docsets
from search_app.docsets import DocSet
from search_app.facets import FacetValues, read_facet_values
from search_app.fast_check import check_fast_path
from search_app.query_builder import SynonymTable
from search_app.whoosh_reading import field_lengths


class CachedSpans:
    """A bounded cache in front of TermSpans: the same hits come back across searches."""

    def __init__(self, spans: TermSpans, size: int = 4096) -> None:
        self._spans = spans
        self._size = size
        self._cache: dict[str, list[tuple[str, int, int, int]]] = {}
        self._lock = threading.Lock()

    def __call__(self, text: str) -> list[tuple[str, int, int, int]]:
        cached = self._cache.get(text)
        if cached is None:
            cached = self._spans(text)
            with self._lock:
                if len(self._cache) >= self._size:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[text] = cached
        return cached


log = logging.getLogger(__name__)


@dataclass
class GenerationState:
    """An opened generation and everything derived from it."""

    name: str
    meta: dict
    index: whoosh_index.Index
    analyzer: CompositeAnalyzer
    #: Every document of the generation (its size is the generation's document count).
    every_document: DocSet
    facets: FacetValues
    title_order: npt.NDArray[np.int64]  # docnums in title order
    title_rank: list[int]  # docnum -> position in title order
    vocabulary: dict[str, list]
    vocabulary_keys: list[str]
    titles: list[tuple[str, str, str]]  # (folded title, title, id)
    synonyms: list[list[dict]]  # groups of {"text", "terms", "positions"}
    lengths: dict[str, np.ndarray] = field(default_factory=dict)  # field -> length per docnum, for BM25F
    #: The generation's directory.
    index_path: Path = field(default_factory=Path)
    #: Why the vectorised evaluator is off for this generation (None: it agreed with Whoosh on opening).
    fast_path_problem: str | None = None
    #: Queries this generation ran through Whoosh because the evaluator does not handle them.
    whoosh_runs: int = 0
    _local: threading.local = field(default_factory=threading.local)
    #: Every searcher opened for the generation, whatever the thread, so that :meth:`close` reaches them.
    _searchers: list[Searcher] = field(default_factory=list)
    _searchers_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def size(self) -> int:
        """How many documents the generation holds (the size of its document sets)."""
        return len(self.every_document)

    def field_lengths(self, fieldname: str) -> np.ndarray:
        """Every document's length in ``fieldname`` as Whoosh scores it (read once per field)."""
        lengths = self.lengths.get(fieldname)
        if lengths is None:
            lengths = self.lengths[fieldname] = field_lengths(self.searcher().reader(), fieldname)
        return lengths

    @property
    def spans(self) -> CachedSpans:
        """Term spans of stored texts, for highlighting (cached per generation)."""
        spans = self.__dict__.get("_spans")
        if spans is None:
            spans = self.__dict__["_spans"] = CachedSpans(TermSpans(self.analyzer))
        return spans

    @property
    def synonym_table(self) -> SynonymTable:
        """The generation's synonyms, indexed by term sequence (built once)."""
        table = self.__dict__.get("_synonym_table")
        if table is None:
            table = self.__dict__["_synonym_table"] = SynonymTable(self.synonyms)
        return table

    @property
    def lexicon(self) -> Lexicon:
        """The accented terms of the index by folded form, for accent-less queries (built once)."""
        lexicon = self.__dict__.get("_lexicon")
        if lexicon is None:
            with self.index.reader() as reader:
                lexicon = lexicon_of(reader, CONTENT_FIELD, self.meta.get("ordinary_names", []))
            self.__dict__["_lexicon"] = lexicon
        return lexicon

    @property
    def documents(self) -> int:
        return int(self.meta.get("documents", 0))

    def searcher(self) -> Searcher:
        """This thread's searcher for the generation."""
        searcher = getattr(self._local, "searcher", None)
        if searcher is None:
            searcher = self.index.searcher()
            self._local.searcher = searcher
            with self._searchers_lock:
                self._searchers.append(searcher)
        return searcher

    def programme(self, docnum: int) -> Programme:
        """The stored record of document ``docnum``, typed."""
        return Programme.from_dict(self.searcher().reader().stored_fields(docnum)["record"])

    def close(self) -> None:
        """Close every thread's searcher (their readers and files): the generation is out of service."""
        with self._searchers_lock:
            searchers, self._searchers = self._searchers, []
        for searcher in searchers:
            searcher.close()

    def words_starting_with(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        """Vocabulary words (surface form, count) starting with a folded prefix, never a stop word:
        the programmes' own words (:attr:`programme_words`) first, then the most frequent."""
        start = bisect.bisect_left(self.vocabulary_keys, prefix)
        matches = []
        for key in self.vocabulary_keys[start:]:
            if not key.startswith(prefix):
                break
            surface, count = self.vocabulary[key]
            if surface.lower() not in STOP_WORDS:  # also for generations built before stop words were left out
                matches.append((key not in self.programme_words, -count, fold(surface), surface, count))
        return [(self.usual_case(surface), count) for *_, surface, count in heapq.nsmallest(limit, matches)]

    def usual_case(self, surface: str) -> str:
        """``surface``, lower-cased if it is in capitals but is no name or acronym the analyser
        protects: a heading word (« ANALYSE » -> « analyse »; « OIM », « MALI » stay)."""
        if surface.isupper() and not any(term.isupper() for term, *_ in self.spans(surface)):
            return surface.lower()
        return surface

    @property
    def programme_words(self) -> frozenset[str]:
        """Folded words of the facet values and titles: the programmes' own vocabulary (built once)."""
        words = self.__dict__.get("_programme_words")
        if words is None:
            facets = self.meta.get("facets", {})
            texts = [fold(value) for values in facets.values() for value in values] + [k for k, _, _ in self.titles]
            words = frozenset(w for text in texts for w in "".join(c if c.isalnum() else " " for c in text).split())
            self.__dict__["_programme_words"] = words
        return words

    @property
    def place_names(self) -> list[tuple[str, str, int, list[tuple[str, bool]]]]:
        """Countries and regions as (name, "country" or "region", programmes, :meth:`name_words`), built once.

        Global markers such as « Monde » stand for no place and are left out.
        """
        names = self.__dict__.get("_place_names")
        if names is None:
            facets, codes = self.meta.get("facets", {}), self.meta.get("country_codes", {})
            names = [
                (name, kind, count, self.name_words(name))
                for kind in ("country", "region")
                for name, count in facets.get(kind, {}).items()
                if codes.get(name) != GLOBAL
            ]
            self.__dict__["_place_names"] = names
        return names

    @staticmethod
    def name_words(text: str) -> list[tuple[str, bool]]:
        """The folded words of ``text`` (« Côte d’Ivoire »: cote, d, ivoire), each with whether a
        completion may start there (not a stop word; « Est » is a name)."""
        words = []
        for run in "".join(c if c.isalnum() else " " for c in clean_word(text)).split():
            folded = "".join(c for c in fold(run) if c.isalnum())
            if folded:
                words.append((folded, run in CASED_NAMES or run.lower() not in STOP_WORDS))
        return words


def open_generation(root: Path, name: str | None = None) -> GenerationState:
    """Open generation ``name`` (default: the one ``CURRENT`` names), precompute its per-generation data,
    and check the fast path."""
    generation = _checked_generation(root, name or pointed_generation(root))
    try:
        state = _read_state(generation)
        state.fast_path_problem = check_fast_path(state.searcher(), state.field_lengths, state.spans)
    except Exception as error:  # any failure to read the files (even by the public path) makes it unusable
        raise IndexUnavailable(f"index « {generation.name} » illisible", str(error)) from error
    if state.fast_path_problem:
        log.warning("génération %s : évaluation vectorisée désactivée : %s", generation.name, state.fast_path_problem)
    return state


def _checked_generation(root: Path, name: str) -> Generation:
    """Generation ``name``'s metadata, if it was built by this analyser and schema."""
    generation = read_generation(root, name)
    if not isinstance(generation.meta, dict):
        raise IndexUnavailable(f"génération {generation.name} illisible : {META_NAME} n’est pas un objet JSON")
    version = generation.meta.get("analyzer_version")
    if version != ANALYZER_VERSION:
        raise IndexOutdated(
            f"index construit avec l’analyseur « {version} », l’application attend « {ANALYZER_VERSION} » : "
            "reconstruisez-le (python -m indexer build --force)"
        )
    schema = generation.meta.get("schema_version")
    if schema != SCHEMA_VERSION:  # other fields than the code searches: every query would fail
        raise IndexOutdated(
            f"index construit avec le schéma « {schema} », l’application attend « {SCHEMA_VERSION} » : "
            "reconstruisez-le (python -m indexer build --force)"
        )
    return generation


def _read_state(generation: Generation) -> GenerationState:
    """Open the index and read what every request needs once per generation."""
    index = whoosh_index.open_dir(str(generation.path))
    vocabulary = json.loads((generation.path / VOCABULARY_NAME).read_text(encoding="utf-8"))
    synonyms_path = generation.path / SYNONYMS_FILE
    synonyms = json.loads(synonyms_path.read_text(encoding="utf-8")) if synonyms_path.exists() else []
    with index.reader() as reader:  # the title column, not the stored records (10 s at 100k)
        doc_count = reader.doc_count_all()
        title_keys = list(reader.column_reader("title_sort"))
        lengths = {CONTENT_FIELD: field_lengths(reader, CONTENT_FIELD)}
        facets = read_facet_values(reader, generation.meta)
    title_order = sorted(range(doc_count), key=lambda docnum: (title_keys[docnum], docnum))
    listed = json.loads((generation.path / TITLES_NAME).read_text(encoding="utf-8"))
    title_rank = [0] * doc_count
    for rank, docnum in enumerate(title_order):
        title_rank[docnum] = rank
    return GenerationState(
        name=generation.name,
        meta=generation.meta,
        index=index,
        analyzer=index.schema[CONTENT_FIELD].analyzer,
        every_document=docsets.everything(doc_count),
        facets=facets,
        title_order=np.array(title_order, dtype=np.int64),
        title_rank=title_rank,
        vocabulary=vocabulary,
        vocabulary_keys=sorted(vocabulary),
        titles=[(fold(title), title, programme_id) for programme_id, title in listed],
        synonyms=synonyms,
        lengths=lengths,
        index_path=generation.path,
    )
