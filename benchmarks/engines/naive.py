"""Naive Whoosh: what the library's documentation leads to for French, doing our request's work.

* analysis: ``LanguageAnalyzer("fr")`` (regex tokenizer, lower case, Whoosh's French stop
  words, Whoosh's pure-Python Snowball ``StemFilter``) followed by ``CharsetFilter(accent_map)``,
  i.e. stem *then* fold: an accent-less query can miss what the accented one finds;
* same fields, field boosts and facet key fields as our schema, one ``writer()`` (one process);
* request: ``MultifieldParser`` (AND, then ``OrGroup`` when AND finds nothing), facet filters
  as a ``filter=`` query, ``groupedby`` counts for region, country and status (not
  disjunctive), ``hit.highlights()`` on the stored description, objectives and notes of the
  10 hits shown, and ``searcher.correct_query`` for the suggestion.
"""

from __future__ import annotations

import time
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import sorting
from whoosh.analysis import CharsetFilter, LanguageAnalyzer
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.qparser import MultifieldParser, OrGroup
from whoosh.support.charset import accent_map

from benchmarks.engines import PER_PAGE, Answer, BuildStats, Progress, facet_keys, record_texts
from benchmarks.queries import BenchQuery
from indexer.corpus import load_corpus
from indexer.schema import FACET_FIELDS, FIELD_BOOSTS, FIELD_TABLE, SEARCH_FIELDS, SNIPPET_FIELDS
from indexer.slugs import slugify


def naive_schema() -> Schema:
    """Our fields and boosts, with Whoosh's own French analyser plus the accent map."""
    analyzer = LanguageAnalyzer("fr") | CharsetFilter(accent_map)

    def text(name: str, stored: bool = False) -> TEXT:
        return TEXT(analyzer=analyzer, stored=stored, field_boost=FIELD_BOOSTS.get(name, 1.0))

    texts = {f.name: text(f.name, stored=f.stored or f.snippet) for f in FIELD_TABLE}
    keys = {fieldname: KEYWORD(commas=True, sortable=True) for fieldname in FACET_FIELDS.values()}
    return Schema(id=ID(stored=True, unique=True), **texts, **keys, display=STORED())


class NaiveSession:
    """One searcher, reused for every request."""

    def __init__(self, index_dir: Path) -> None:
        self.index = whoosh_index.open_dir(str(index_dir))
        self.searcher = self.index.searcher()
        schema = self.index.schema
        self.and_parser = MultifieldParser(list(SEARCH_FIELDS), schema)
        self.or_parser = MultifieldParser(list(SEARCH_FIELDS), schema, group=OrGroup)
        self.facets = {
            facet: sorting.FieldFacet(fieldname, allow_overlap=True) for facet, fieldname in FACET_FIELDS.items()
        }

    def _filter(self, query: BenchQuery) -> wq.Query | None:
        parts = [
            wq.Or([wq.Term(FACET_FIELDS[facet], slugify(value)) for value in values])
            for facet, values in query.filters.items()
            if values
        ]
        return wq.And(parts) if parts else None

    def search(self, query: BenchQuery) -> Answer:
        """Parse, search with groupedby facets, highlight the page, correct the query."""
        parsed = self.and_parser.parse(query.text) if query.text.strip() else wq.Every()
        allowed = self._filter(query)
        results = self.searcher.search(parsed, limit=PER_PAGE, filter=allowed, groupedby=self.facets)
        if results.is_empty() and len(query.text.split()) > 1:
            parsed = self.or_parser.parse(query.text)
            results = self.searcher.search(parsed, limit=PER_PAGE, filter=allowed, groupedby=self.facets)
        counts = {name: {key: len(docs) for key, docs in results.groups(name).items()} for name in self.facets}
        snippets = 0
        ids = []
        for hit in results[:PER_PAGE]:
            ids.append(hit["id"])
            for fieldname in SNIPPET_FIELDS:
                snippets += bool(hit.highlights(fieldname))
        if query.text.strip():
            self.searcher.correct_query(parsed, query.text)
        return Answer(len(results), tuple(ids), snippets, sum(len(c) for c in counts.values()))

    def close(self) -> None:
        """Close the searcher."""
        self.searcher.close()


class NaiveEngine:
    """Single-process writer with Whoosh's defaults."""

    name = "naive"

    def build(self, corpus_dir: Path, index_dir: Path, progress: Progress | None = None) -> BuildStats:
        """Read the records, add them one by one, commit."""
        started = time.perf_counter()
        programmes = load_corpus(corpus_dir)
        load_seconds = time.perf_counter() - started
        index_dir.mkdir(parents=True, exist_ok=True)
        index = whoosh_index.create_in(str(index_dir), naive_schema())
        writer = index.writer()
        for done, p in enumerate(programmes, start=1):
            writer.add_document(
                **record_texts(p),
                **{fieldname: ",".join(keys) for fieldname, keys in facet_keys(p).items()},
                display={"title": p.title, "region": p.region, "countries": list(p.countries), "status": p.status},
            )
            if progress and (done % 1000 == 0 or done == len(programmes)):
                progress(done, len(programmes))
        writer.commit()
        return BuildStats(len(programmes), time.perf_counter() - started, load_seconds)

    def open(self, index_dir: Path) -> NaiveSession:
        """Open the index and one searcher."""
        return NaiveSession(index_dir)


ENGINE = NaiveEngine()
