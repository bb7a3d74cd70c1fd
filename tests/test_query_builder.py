"""The query builder, tested as data: the Whoosh query each typed text becomes on the real index.

Terms are the analyser's (Snowball stems of the accented words, upper-case names, English forms
from the synonym groups); a change of analyser that changes them shows here first. The last tests give
the builder its terms, typo expansion and synonyms as plain data, with no index at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh import query as wq

from indexer.analysis import french_analyzer
from indexer.french import Lexicon
from indexer.schema import CONTENT_FIELD
from search_app.index_state import open_generation
from search_app.query_builder import BuiltQuery, QueryBuilder, SynonymTable
from search_app.query_factory import query_builder_for
from search_app.query_parser import parse_query

C = CONTENT_FIELD
LIBYA = wq.Or([wq.Term(C, "LIBYE"), wq.Term(C, "libi")])  # the name, and English « Libya »
VOLUNTARY_RETURN = wq.Or(
    [wq.Phrase(C, ["retour", "volontair"], slop=1), wq.Phrase(C, ["voluntary", "return"], slop=1)]
)


@pytest.fixture(scope="module")
def builder(index_root: Path) -> QueryBuilder:
    return query_builder_for(open_generation(index_root))


def build(builder: QueryBuilder, text: str, mode: str = "and") -> BuiltQuery:
    tree = parse_query(text).tree
    assert tree is not None, text
    return builder.build(tree, mode=mode)


def test_an_exclusion_is_an_and_not_over_every_form_of_the_excluded_word(builder):
    built = build(builder, "Libye -Maroc")
    assert built.query == wq.AndNot(LIBYA, wq.Or([wq.Or([wq.Term(C, "MAROC"), wq.Term(C, "morocco")])]))
    assert built.relaxed is None


def test_an_explicit_and_is_never_relaxed(builder):
    built = build(builder, "Kenya ET Mali", mode="or")
    assert built.query == wq.And([wq.Term(C, "KENYA"), wq.Term(C, "MALI")])
    assert built.relaxed is None


def test_the_relaxed_query_needs_half_of_the_words_rounded_up(builder):
    built = build(builder, "retour volontaire Libye", mode="or")
    assert built.query == wq.Or([VOLUNTARY_RETURN, LIBYA], minmatch=1)  # the synonym run counts as one
    assert built.relaxed == (2, 1)
    assert build(builder, "retour Libye Mali", mode="or").relaxed == (3, 2)


def test_a_phrase_is_looked_up_as_typed_and_as_its_english_synonym(builder):
    assert build(builder, '"retour volontaire"').query == VOLUNTARY_RETURN
    assert build(builder, "voluntary return").query == wq.Or(
        [wq.Phrase(C, ["voluntary", "return"], slop=1), wq.Phrase(C, ["retour", "volontair"], slop=1)]
    )


def test_a_prefix_expands_to_the_index_terms_it_starts(builder):
    built = build(builder, "migr*")
    assert built.query == wq.Or([wq.Term(C, "migr"), wq.Term(C, "migrat"), wq.Term(C, "migratoir")])
    assert built.terms.prefixes == {"migr": "migr*"}


def test_a_typo_finds_the_word_of_the_corpus(builder):
    assert build(builder, "réintégraton~").query == wq.Or([wq.Term(C, "réintegr")])


def test_a_feminine_plural_and_its_masculine_singular_build_the_same_query(builder):
    assert build(builder, "éclairées").query == build(builder, "éclairé").query == wq.Term(C, "éclair")


def test_stop_words_alone_build_nothing_and_are_reported(builder):
    built = build(builder, "de la")
    assert built.query is wq.NullQuery
    assert not built.terms.has_positive and built.terms.stopped


# --- the builder alone: everything it expands over is injected as data (no index) -------------


class TermTable:
    """An index's terms as plain data, field -> {term: document frequency} (an ``IndexTerms``)."""

    def __init__(self, fields: dict[str, dict[str, int]]) -> None:
        self.fields = fields

    def doc_frequency(self, fieldname: str, text: str) -> int:
        return self.fields.get(fieldname, {}).get(text, 0)

    def expand_prefix(self, fieldname: str, prefix: str) -> list[bytes]:
        return [term.encode() for term in sorted(self.fields.get(fieldname, {})) if term.startswith(prefix)]


RETURN_GROUP = [
    {"text": "retour volontaire", "terms": ["retour", "volontair"], "positions": [0, 1]},
    {"text": "voluntary return", "terms": ["voluntary", "return"], "positions": [0, 1]},
]


@pytest.fixture(scope="module")
def pure() -> QueryBuilder:
    table = TermTable({C: {"migr": 3, "migrat": 2, "migratoir": 1, "reintegr": 4, "retour": 5, "volontair": 2}})
    typos = {"reintegraton": ["reintegration"]}
    return QueryBuilder(
        french_analyzer(),
        table,
        similar_words=lambda word, distance: typos.get(word, []),
        synonyms=SynonymTable([RETURN_GROUP]),
        lexicon=Lexicon(),
    )


def test_a_prefix_expands_over_the_injected_terms(pure):
    built = build(pure, "migr*")
    assert built.query == wq.Or([wq.Term(C, "migr"), wq.Term(C, "migrat"), wq.Term(C, "migratoir")])
    assert built.terms.prefixes == {"migr": "migr*"}


def test_a_typo_expands_over_the_injected_similar_words(pure):
    built = build(pure, "reintegraton~")
    assert built.query == wq.Or([wq.Term(C, "reintegr")])
    assert built.terms.terms == {"reintegr": "reintegraton"}


def test_a_phrase_expands_over_the_injected_synonym_groups(pure):
    built = build(pure, "retour volontaire")
    assert built.query == VOLUNTARY_RETURN
    assert built.terms.notices == ["Recherche élargie à\u00a0: voluntary return."]


def test_only_the_spellings_the_terms_hold_are_kept(pure):
    assert build(pure, "réintégration").query == wq.Term(C, "reintegr")  # « réintegr » is not in the table
