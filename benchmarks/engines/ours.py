"""Our service: ``indexer.build.build_index`` and the full ``SearchService.search`` request.

The service's per-generation page cache is disabled (``cache_size=0``) when the service
has one: the harness repeats each query over several passes, and a cache would turn every
timed pass into a cache hit. HTTP is measured with the cache as deployed (and without).
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.corpus import ACRONYMS
from benchmarks.engines import PER_PAGE, Answer, BuildStats, Progress
from benchmarks.queries import BenchQuery
from indexer.build import build_index
from search_app.search import SearchRequest, SearchService


class OursSession:
    """A :class:`SearchService` on the built index root."""

    def __init__(self, index_dir: Path) -> None:
        self.service = SearchService(index_dir, cache_size=0)  # measure the work, not the page cache
        self.service.holder.current()  # open the generation and precompute its data

    def search(self, query: BenchQuery) -> Answer:
        """The service's full request: parse, match, disjunctive counts, snippets, suggestion."""
        page = self.service.search(SearchRequest(text=query.text, filters=dict(query.filters), per_page=PER_PAGE))
        return Answer(
            total=page.total,
            ids=tuple(hit.id for hit in page.hits),
            snippets=sum(len(hit.snippets) for hit in page.hits),
            facet_values=sum(len(values) for values in page.facets.values()),
        )

    def close(self) -> None:
        """Nothing to release (searchers live with the process)."""


class OursEngine:
    """Builds with the real builder (multiprocess writer above its threshold)."""

    name = "ours"

    def build(self, corpus_dir: Path, index_dir: Path, progress: Progress | None = None) -> BuildStats:
        """The whole ``build_index``. Reading the records alone (``load_s``) is timed by the
        harness in a process of its own: loading the whole corpus here first would leave its
        memory in this process (Python keeps freed arenas) and in the forked writers."""
        result = build_index(corpus_dir, index_dir, ACRONYMS, force=True, progress=progress)
        return BuildStats(documents=result.documents, seconds=result.seconds, load_seconds=None)

    def open(self, index_dir: Path) -> OursSession:
        """Open the live generation (facet bitsets, title order, vocabulary are computed here)."""
        return OursSession(index_dir)


ENGINE = OursEngine()
