"""The search service: a typed request in, a typed page out. No Flask here.

One call does the whole request: parse (with repairs), build the Whoosh query
through the index's analyser, match (AND, then OR if AND finds nothing),
disjunctive facet counts, ranking (BM25F, ties by title) or title order, the
page of hits with snippets and explanations, and a spelling suggestion.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from markupsafe import Markup
from whoosh import query as wq
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from indexer.analysis import query_positions
from indexer.records import Programme, status_state
from indexer.schema import CONTENT_FIELD, EXPLAIN_FIELDS, SNIPPET_FIELDS
from search_app import docsets, highlight
from search_app.detail import ProgrammeDetail, programme_detail
from search_app.docsets import DocSet
from search_app.facets import (
    FACETS,
    FacetCount,
    apply_filters,
    facet_counts,
    normalise_selection,
    selection_docs,
)
from search_app.holder import IndexHolder, Serving
from search_app.index_state import GenerationState
from search_app.page_cache import PageCache
from search_app.query_builder import BuiltQuery, QueryBuilder, QueryTerms
from search_app.query_factory import query_builder_for
from search_app.query_parser import And, ParsedQuery, Word, parse_query, positive_words
from search_app.ranking import Ranking
from search_app.scoring import Evaluator, Unsupported
from search_app.shown import ShownProgramme, ShownProgrammes
from search_app.suggest import correction

DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 50
MAX_RESULT_DEPTH = 1000
log = logging.getLogger(__name__)

MAX_EXPORT = 100_000
TIE_MARGIN = 20
#: Search pages kept per process (0 disables the cache, as the benchmark does in-process).
DEFAULT_CACHE_SIZE = 512
SORTS = ("relevance", "title")


@dataclass(frozen=True)
class SearchRequest:
    """What the user asked for; facet values as typed (they are normalised to keys here)."""

    text: str = ""
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    sort: str = "relevance"


@dataclass(frozen=True)
class Hit:
    """One result with its highlighted snippets and why it matched."""

    id: str
    title: str
    region: str
    countries: tuple[str, ...]
    status: str
    score: float | None
    snippets: dict[str, Markup]
    matched: dict[str, list[str]]
    #: The region and each country, escaped, with the names the query matched marked.
    region_marked: Markup
    countries_marked: tuple[Markup, ...]

    @property
    def status_state(self) -> str:
        """« active » or « done » (see :data:`indexer.records.STATUS_STATES`)."""
        return status_state(self.status)


@dataclass(frozen=True)
class SearchPage:
    """Everything a results page or the JSON API shows."""

    request: SearchRequest
    understood_as: str
    notices: list[str]
    fallback: str | None
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetCount]]
    selected: dict[str, tuple[str, ...]]
    suggestion: str | None
    generation: str
    elapsed_ms: float
    #: The notice (also in ``notices``) saying the words were relaxed, if they were.
    fallback_notice: str | None = None

    @property
    def page_count(self) -> int:
        return max(1, -(-min(self.total, MAX_RESULT_DEPTH) // self.request.per_page))


@dataclass(frozen=True)
class _Evaluation:
    """A request matched and filtered, before ordering."""

    state: GenerationState
    parsed: ParsedQuery
    built: BuiltQuery | None
    matched: DocSet
    fallback: str | None
    selected: dict[str, tuple[str, ...]]
    filters: dict[str, DocSet | None]
    final: DocSet
    scored: Ranking | None  # every match with its score (None: browse order)
    builder: QueryBuilder


class SearchService:
    """Runs searches against the live generation under ``index_root``."""

    def __init__(self, index_root: Path, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        self.holder = IndexHolder(index_root)
        self.cache: PageCache[SearchPage] = PageCache(cache_size)
        #: Records and their analysed texts as hits show them, kept for the served generation.
        self.shown = ShownProgrammes()

    def status(self) -> GenerationState:
        """The served generation (raises IndexUnavailable with the reason)."""
        return self.holder.current()

    def serving(self) -> Serving:
        """The served generation, what ``CURRENT`` names, and whether it is the fallback."""
        return self.holder.serving()

    def _evaluate(self, request: SearchRequest, state: GenerationState) -> _Evaluation:
        """Parse, match (AND then OR) and filter: everything but ordering and presentation."""
        parsed = parse_query(request.text)
        selected = {facet: normalise_selection(request.filters.get(facet, ())) for facet in FACETS}
        filters = {facet: selection_docs(state.facets, facet, keys, state.size) for facet, keys in selected.items()}
        builder = query_builder_for(state)
        built, matched, fallback, scored = self._match(state, builder, parsed)
        final = apply_filters(matched, filters)
        return _Evaluation(state, parsed, built, matched, fallback, selected, filters, final, scored, builder)

    def search(self, request: SearchRequest) -> SearchPage:
        """Run one search (or return the same page from the cache for this generation)."""
        started = time.perf_counter()
        state = self.holder.current()
        key = (state.name, request_key(request))
        cached = self.cache.get(key)
        if cached is not None:
            return replace(cached, request=request, elapsed_ms=(time.perf_counter() - started) * 1000)
        page = self._search(request, state, started)
        self.cache.put(key, page)
        return page

    def _search(self, request: SearchRequest, state: GenerationState, started: float) -> SearchPage:
        ev = self._evaluate(request, state)
        built = ev.built
        notices = list(ev.parsed.notices) + (built.terms.notices if built else [])
        if built and built.terms.stopped:
            notices.append("Mots trop courants ignorés : " + ", ".join(built.terms.stopped) + ".")
        fallback_notice = _fallback_notice(built) if ev.fallback == "or" else None
        if fallback_notice:
            notices.append(fallback_notice)
        hits = self._hits(ev, request, notices)
        return SearchPage(
            request=request,
            understood_as=ev.parsed.understood_as,
            notices=notices,
            fallback=ev.fallback,
            total=docsets.count(ev.final),
            hits=hits,
            facets=facet_counts(ev.state.facets, ev.matched, ev.filters, ev.selected, request.filters),
            selected=ev.selected,
            suggestion=self._suggestion(ev),
            generation=ev.state.name,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            fallback_notice=fallback_notice,
        )

    def export(self, request: SearchRequest) -> list[Programme]:
        """Every result of the request (all pages, up to MAX_EXPORT), in display order."""
        ev = self._evaluate(request, self.holder.current())
        ordered = self._ordered(ev.state, request.sort, ev, 0, MAX_EXPORT)
        return [ev.state.programme(docnum) for docnum, _ in ordered]

    def _match(
        self, state: GenerationState, builder: QueryBuilder, parsed: ParsedQuery
    ) -> tuple[BuiltQuery | None, DocSet, str | None, Ranking | None]:
        """(built query, matching documents, fallback, scored matches) — AND first, then OR.

        Queries with words to rank are run once, scoring every match (best first), so that
        the matching set and the ranking come from one pass (phrases are costly to match).
        """
        if parsed.tree is None:
            return None, state.every_document, None, None
        built = builder.build(parsed.tree)
        if built.query is wq.NullQuery and not built.terms.has_positive:
            return built, state.every_document, None, None  # only stop words: browse everything
        matched, scored = self._run(state, built)
        if not matched.any() and isinstance(parsed.tree, And) and not parsed.tree.explicit:
            relaxed = builder.build(parsed.tree, mode="or")
            if relaxed.relaxed is not None:
                relaxed_matched, relaxed_scored = self._run(state, relaxed)
                if relaxed_matched.any():
                    return relaxed, relaxed_matched, "or", relaxed_scored
        return built, matched, None, scored

    @staticmethod
    def _run(state: GenerationState, built: BuiltQuery) -> tuple[DocSet, Ranking | None]:
        """Matching documents and their scores, vectorised (Whoosh for what it does not handle)."""
        searcher = state.searcher()
        ranked = built.terms.has_positive  # only exclusions: nothing to rank
        if state.fast_path_problem:
            return _run_whoosh(state, built)
        try:
            matches = Evaluator(searcher, state.field_lengths).run(built.query, scored=ranked)
        except Unsupported as error:
            state.whoosh_runs += 1
            log.debug("requête évaluée par Whoosh (%s) : %r", error, built.query)
            return _run_whoosh(state, built)
        found = docsets.frozen(matches.mask)
        if not ranked or matches.scores is None:
            return found, None
        docs = docsets.members(found)
        return found, Ranking(docs, matches.scores[docs])

    def _ordered(
        self, state: GenerationState, sort: str, ev: _Evaluation, offset: int, limit: int
    ) -> list[tuple[int, float | None]]:
        """(docnum, score) of results ``offset`` to ``limit``, in display order.

        Relevance: matches ordered best score first (then by docnum, as Whoosh does); those
        passing the filters are taken up to the page end plus a margin, then equal scores are
        ordered by title (exact unless more than TIE_MARGIN documents share the score at the
        page edge).
        """
        if offset >= limit or not ev.final.any():
            return []
        if ev.scored is None or sort == "title":
            in_title_order = state.title_order[ev.final[state.title_order]]
            return [(docnum, None) for docnum in in_title_order[offset:limit].tolist()]
        window: list[tuple[int, float]] = list(ev.scored.top(ev.final, limit + TIE_MARGIN))
        window.sort(key=lambda hit: (-hit[1], state.title_rank[hit[0]]))
        return list(window[offset:limit])

    def _hits(self, ev: _Evaluation, request: SearchRequest, notices: list[str]) -> list[Hit]:
        if (request.page - 1) * request.per_page >= MAX_RESULT_DEPTH:
            notices.append(f"Seuls les {MAX_RESULT_DEPTH} premiers résultats peuvent être parcourus.")
        terms = ev.built.terms if ev.built else QueryTerms()
        offset = (request.page - 1) * request.per_page
        limit = min(offset + request.per_page, MAX_RESULT_DEPTH)
        return [
            _hit(self.shown.get(ev.state, docnum), score, terms)
            for docnum, score in self._ordered(ev.state, request.sort, ev, offset, limit)
        ]

    def has_programme(self, programme_id: str) -> bool:
        """Whether the live generation holds this programme (what a HEAD of its page needs to know)."""
        return self.holder.current().searcher().document_number(id=programme_id) is not None

    def programme(self, programme_id: str, text: str = "") -> ProgrammeDetail | None:
        """The whole record of one programme (None if unknown), highlighted for ``text``."""
        return programme_detail(self.holder.current(), programme_id, text)

    def _suggestion(self, ev: _Evaluation) -> str | None:
        """« Essayez avec » : only when the words found nothing (or only through the fallback), made
        of written forms of the corpus for every unknown word, and only if it finds programmes itself."""
        if ev.built is None or ev.parsed.tree is None or (ev.matched.any() and ev.fallback is None):
            return None
        reader = ev.state.searcher().reader()
        replacements: dict[str, str] = {}
        for node in positive_words(ev.parsed.tree):
            if not isinstance(node, Word) or node.prefix or node.fuzzy:
                continue
            typed = query_positions(ev.state.analyzer, node.text, ev.state.lexicon)
            if typed and not any(_known(reader, term) for alternatives, _ in typed for term in alternatives):
                fixed = correction(ev.state, node.text)
                if fixed is None:
                    return None  # a word nobody can correct: no half-corrected suggestion
                replacements[node.text] = fixed
        if not replacements:
            return None
        text = ev.parsed.understood_as
        for typed_word, fixed in replacements.items():
            text = text.replace(typed_word, fixed)
        text = text.replace(" ET ", " ")
        check = parse_query(text)
        if check.tree is None:
            return None
        found, _ = self._run(ev.state, ev.builder.build(check.tree))
        return text if found.any() else None

def _fallback_notice(built: BuiltQuery | None) -> str | None:
    """What the page and the API say when not every word could be found together."""
    if built is None or built.relaxed is None:
        return None
    words, needed = built.relaxed
    return "Aucun programme ne contient tous les mots\u00a0: voici ceux qui en contiennent " + (
        "au moins un." if needed == 1 else f"au moins {needed} sur {words}."
    )


def _run_whoosh(state: GenerationState, built: BuiltQuery) -> tuple[DocSet, Ranking | None]:
    """Whoosh's own matching and scoring of every match (for queries the evaluator does not handle).

    Whoosh ignores ``Or.minmatch``: the relaxed query's matches are counted here.
    """
    searcher = state.searcher()
    if not built.terms.has_positive:
        return docsets.of(searcher.docs_for_query(built.query), state.size), None
    scored: list[tuple[int, float]] = [(d, s or 0.0) for d, s in searcher.search(built.query, limit=None).items()]
    if built.relaxed is not None:
        allowed = whoosh_matching(searcher, built.query)
        scored = [(docnum, score) for docnum, score in scored if docnum in allowed]
    return docsets.of((docnum for docnum, _ in scored), state.size), Ranking.from_items(scored)


def whoosh_matching(searcher: Searcher, query: wq.Query) -> set[int]:
    """Documents matching ``query``, honouring ``Or.minmatch`` (which Whoosh ignores)."""
    if isinstance(query, wq.AndNot):
        return whoosh_matching(searcher, query.a) - set(searcher.docs_for_query(query.b))
    if isinstance(query, wq.Or) and query.minmatch > 1:
        counts = Counter(d for sub in query.subqueries for d in set(searcher.docs_for_query(sub)))
        return {docnum for docnum, count in counts.items() if count >= query.minmatch}
    return set(searcher.docs_for_query(query))


def request_key(request: SearchRequest) -> tuple:
    """What identifies a search request (its filters in a stable order)."""
    filters = tuple(sorted((facet, tuple(values)) for facet, values in request.filters.items() if values))
    return (request.text, filters, request.page, request.per_page, request.sort)


def _known(reader: IndexReader, term: str) -> bool:
    return bool(reader.doc_frequency(CONTENT_FIELD, term))


def _hit(shown: ShownProgramme, score: float | None, terms: QueryTerms) -> Hit:
    """One result: its texts searched once each for the query's terms (snippets, explanations, names)."""
    programme, texts = shown.programme, shown.texts
    found = {name: (text, highlight.matches_in(text, shown.tokens[name], terms)) for name, text in texts.items()}
    snippets: dict[str, Markup] = {}
    for fieldname in SNIPPET_FIELDS:
        marked = highlight.snippet_of(*found[fieldname])
        if marked:
            snippets[fieldname] = marked
    if not snippets:
        snippets["description"] = shown.lead
    names = zip(programme.countries, shown.country_tokens, shown.countries_escaped, strict=True)
    return Hit(
        id=programme.id,
        title=programme.title,
        region=programme.region,
        countries=programme.countries,
        status=programme.status,
        score=round(score, 4) if score is not None else None,
        snippets=snippets,
        matched=highlight.explanation({f: found[f] for f in EXPLAIN_FIELDS}),
        region_marked=_marked_name(programme.region, shown.region_tokens, shown.region_escaped, terms),
        countries_marked=tuple(_marked_name(*name, terms) for name in names),
    )


def _marked_name(name: str, tokens: highlight.Tokens, escaped: Markup, terms: QueryTerms) -> Markup:
    """A region or country name with the words the query matched marked (``escaped`` when none)."""
    matches = highlight.matches_in(name, tokens, terms)
    return highlight.marked_all(name, matches) if matches else escaped
