"""Hits prepared once per generation: the same matches as scanning every token, kept per generation."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from indexer.analysis import fold
from indexer.schema import FIELD_TABLE
from search_app import highlight
from search_app.highlight import Match, Spans, Tokens, matches_in
from search_app.query_builder import QueryTerms
from search_app.query_factory import query_builder_for
from search_app.query_parser import parse_query
from search_app.search import SearchService
from search_app.shown import ShownProgrammes
from tests.test_snippets import QUERIES

MORE_QUERIES = ["reintegr* Mali", '"droits humains" migr*', "Côte d’Ivoire", "UE OIM", "capacity building", "asie"]


@pytest.fixture(scope="module")
def service(index_root: Path) -> SearchService:
    return SearchService(index_root, cache_size=0)


def _every_token(spans_of: Spans, text: str, terms: QueryTerms) -> list[Match]:
    """The reference: every token tried against the terms and prefixes, every start against each phrase."""
    tokens = spans_of(text)
    spans = []
    for term, start, end, _ in tokens:
        typed = terms.terms.get(term)
        if typed is None and terms.prefixes:
            typed = next((word for prefix, word in terms.prefixes.items() if term.startswith(prefix)), None)
            if typed is None:
                folded = fold(text[start:end])
                typed = next((word for prefix, word in terms.prefixes.items() if folded.startswith(prefix)), None)
        if typed is not None:
            spans.append(Match(start, end, typed))
    for phrase, typed in terms.phrases:
        for index in range(len(tokens) - len(phrase) + 1):
            window = tokens[index : index + len(phrase)]
            in_order = all(t[0] in alts for t, alts in zip(window, phrase, strict=True))
            if in_order and window[-1][3] - window[0][3] <= 3 * len(phrase):
                spans += [Match(start, end, typed) for _, start, end, _ in window]
    unique = {(m.start, m.end): m for m in spans}
    return [unique[key] for key in sorted(unique)]


def test_looking_terms_up_finds_what_scanning_every_token_finds(service, programmes):
    state = service.status()
    builder = query_builder_for(state)
    texts = [f.display_text(p) for p in programmes for f in FIELD_TABLE] + [c for p in programmes for c in p.countries]
    for query in QUERIES + MORE_QUERIES:
        tree = parse_query(query).tree
        if tree is None:
            continue
        terms = builder.build(tree).terms
        for text in texts:
            expected = _every_token(state.spans, text, terms)
            assert matches_in(text, Tokens.of(state.spans, text), terms) == expected, (query, text[:60])
            assert highlight.find_matches(state.spans, text, terms) == expected


def test_a_programme_is_prepared_once_per_generation(service):
    state = service.status()
    shown = ShownProgrammes()
    first = shown.get(state, 0)
    assert shown.get(state, 0) is first
    assert first.programme == state.programme(0)
    assert first.texts["description"] == first.programme.description_text
    renamed = replace(state, name=state.name + "-suivante")
    again = shown.get(renamed, 0)
    assert again is not first and again == first  # another generation: prepared again
    assert shown.get(state, 0) is not first  # only the generation served last is kept


def test_the_oldest_prepared_programme_goes_first(service):
    state = service.status()
    shown = ShownProgrammes(size=2)
    first = shown.get(state, 0)
    shown.get(state, 1)
    shown.get(state, 2)
    assert shown.get(state, 1) is shown.get(state, 1)
    assert shown.get(state, 0) is not first
