"""tantivy (PyPI ``tantivy``), French stemming with ASCII folding, doing our request's work.

* analysis, registered as ``fr``: ``Tokenizer.simple()`` | ``remove_long(40)`` | ``lowercase``
  | ``stopword("french")`` | ``ascii_fold`` | ``stemmer("french")`` — the Python binding
  exposes ``Filter.ascii_fold``, so folding happens before stemming as in our chain;
* same fields and boosts; facet keys (slugs) in ``raw`` text fields with ``fast=True``;
  the writer uses tantivy's default threads (it is multi-threaded);
* request: ``parse_query_lenient`` (conjunction, then disjunction when nothing matches),
  facet filters as ``term_set_query`` clauses, **disjunctive** per-value counts with one
  ``terms`` aggregation per facet (every filter but its own), ``SnippetGenerator`` snippets
  for description, objectives and notes of the 10 hits, and, as the suggestion step, a
  ``doc_freq`` check of each query word and a distance-2 ``fuzzy_term_query`` for unknown ones
  (tantivy has no spelling corrector; the fuzzy automaton walk is the equivalent work).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import tantivy

from benchmarks.engines import PER_PAGE, Answer, BuildStats, Progress, facet_keys, record_texts
from benchmarks.queries import BenchQuery
from indexer.corpus import load_corpus
from indexer.schema import FACET_FIELDS, FIELD_BOOSTS, FIELD_TABLE, SEARCH_FIELDS, SNIPPET_FIELDS
from indexer.slugs import slugify

TOKENIZER = "fr"
WRITER_HEAP = 256_000_000
_QUERY_SYNTAX_RE = re.compile(r"[+\-:^~*(){}\[\]!\\/]")


def french_analyzer() -> tantivy.TextAnalyzer:
    """Simple tokenizer, lower case, French stop words, ASCII folding, French Snowball stemmer."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stopword("french"))
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("french"))
        .build()
    )


def tantivy_schema() -> tantivy.Schema:
    """Our searchable fields (stored where snippets need them) and fast facet key fields."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    for field in FIELD_TABLE:
        builder.add_text_field(field.name, stored=field.snippet or field.stored, tokenizer_name=TOKENIZER)
    for fieldname in FACET_FIELDS.values():
        builder.add_text_field(fieldname, fast=True, tokenizer_name="raw")
    return builder.build()


def _open(index_dir: Path, create: bool) -> tantivy.Index:
    index = tantivy.Index(tantivy_schema(), path=str(index_dir)) if create else tantivy.Index.open(str(index_dir))
    index.register_tokenizer(TOKENIZER, french_analyzer())
    return index


class TantivySession:
    """One searcher, reused for every request."""

    def __init__(self, index_dir: Path) -> None:
        self.index = _open(index_dir, create=False)
        self.index.reload()
        self.schema = self.index.schema
        self.searcher = self.index.searcher()
        self.analyzer = french_analyzer()

    def _parse(self, text: str, conjunction: bool) -> tantivy.Query:
        if not text.strip():
            return tantivy.Query.all_query()
        query, _errors = self.index.parse_query_lenient(
            _QUERY_SYNTAX_RE.sub(" ", text), list(SEARCH_FIELDS), FIELD_BOOSTS, None, conjunction
        )
        return query

    def _filters(self, query: BenchQuery) -> dict[str, tantivy.Query]:
        return {
            facet: tantivy.Query.term_set_query(self.schema, FACET_FIELDS[facet], [slugify(v) for v in values])
            for facet, values in query.filters.items()
            if values
        }

    def _and(self, parts: list[tantivy.Query]) -> tantivy.Query:
        return parts[0] if len(parts) == 1 else tantivy.Query.boolean_query([(tantivy.Occur.Must, p) for p in parts])

    def search(self, query: BenchQuery) -> Answer:
        """Search, disjunctive counts by aggregation, snippets for the page, suggestion check."""
        filters = self._filters(query)
        parsed = self._parse(query.text, conjunction=True)
        result = self.searcher.search(self._and([parsed, *filters.values()]), limit=PER_PAGE, count=True)
        if result.count == 0 and len(query.text.split()) > 1:
            parsed = self._parse(query.text, conjunction=False)
            result = self.searcher.search(self._and([parsed, *filters.values()]), limit=PER_PAGE, count=True)
        facet_values = 0
        for facet, fieldname in FACET_FIELDS.items():
            others = [q for name, q in filters.items() if name != facet]
            aggregation = {facet: {"terms": {"field": fieldname, "size": 100}}}
            buckets = self.searcher.aggregate(self._and([parsed, *others]), aggregation)[facet]["buckets"]
            facet_values += len(buckets)
        docs = [self.searcher.doc(address) for _, address in result.hits]
        snippets = 0
        if query.text.strip():
            for fieldname in SNIPPET_FIELDS:
                generator = tantivy.SnippetGenerator.create(self.searcher, parsed, self.schema, fieldname)
                snippets += sum(bool(generator.snippet_from_doc(doc).to_html()) for doc in docs)
            self._suggest(query.text)
        ids = tuple(doc["id"][0] for doc in docs)
        return Answer(result.count, ids, snippets, facet_values)

    def _suggest(self, text: str) -> None:
        for word in self.analyzer.analyze(text):
            if not any(self.searcher.doc_freq(fieldname, word) for fieldname in SEARCH_FIELDS):
                fuzzy = tantivy.Query.fuzzy_term_query(self.schema, "description", word, distance=2)
                self.searcher.search(fuzzy, limit=1, count=False)

    def close(self) -> None:
        """Nothing to release explicitly."""


class TantivyEngine:
    """tantivy's multi-threaded writer with a 256 MB heap."""

    name = "tantivy"

    def build(self, corpus_dir: Path, index_dir: Path, progress: Progress | None = None) -> BuildStats:
        """Read the records, add them, commit and wait for merges."""
        started = time.perf_counter()
        programmes = load_corpus(corpus_dir)
        load_seconds = time.perf_counter() - started
        index_dir.mkdir(parents=True, exist_ok=True)
        index = _open(index_dir, create=True)
        writer = index.writer(heap_size=WRITER_HEAP)
        for done, p in enumerate(programmes, start=1):
            document = tantivy.Document(**record_texts(p))
            for fieldname, keys in facet_keys(p).items():
                for key in keys:
                    document.add_text(fieldname, key)
            writer.add_document(document)
            if progress and (done % 1000 == 0 or done == len(programmes)):
                progress(done, len(programmes))
        writer.commit()
        writer.wait_merging_threads()
        return BuildStats(len(programmes), time.perf_counter() - started, load_seconds)

    def open(self, index_dir: Path) -> TantivySession:
        """Open the index, register the analyser, get a searcher."""
        return TantivySession(index_dir)


ENGINE = TantivyEngine()
