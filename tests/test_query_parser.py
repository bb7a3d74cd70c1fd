"""The query parser: trees as data, repairs and limits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from search_app.query_parser import (
    MAX_DEPTH,
    MAX_QUERY_CHARS,
    MAX_TERMS,
    And,
    Not,
    Or,
    Phrase,
    Word,
    parse_query,
)


def test_words_are_anded():
    assert parse_query("retour volontaire").tree == And((Word("retour"), Word("volontaire")))


def test_exclusion_really_excludes():
    assert parse_query("retour -Libye").tree == And((Word("retour"), Not(Word("Libye"))))
    assert parse_query("retour SAUF Libye").tree == parse_query("retour NOT Libye").tree
    assert parse_query("retour -Libye").understood_as == "retour SAUF Libye"


def test_french_and_english_operators():
    assert parse_query("Libye OU Maroc").tree == Or((Word("Libye"), Word("Maroc")))
    assert parse_query("Libye OR Maroc").tree == parse_query("Libye OU Maroc").tree
    assert parse_query("Libye ET Maroc").tree == parse_query("Libye AND Maroc").tree == And(
        (Word("Libye"), Word("Maroc")), explicit=True
    )
    assert parse_query("Libye Maroc").tree == And((Word("Libye"), Word("Maroc")))  # implicit: may be relaxed


def test_phrases_prefix_fuzzy_and_fields():
    tree = parse_query('"retour volontaire" migr* reintegraton~1 pays:Mali statut:"en cours"').tree
    assert tree == And(
        (
            Phrase("retour volontaire"),
            Word("migr", prefix=True),
            Word("reintegraton", fuzzy=1),
            Word("Mali", field="countries"),
            Phrase("en cours", field="status"),
        )
    )


def test_parentheses_group():
    tree = parse_query("(Libye OU Maroc) retour").tree
    assert tree == And((Or((Word("Libye"), Word("Maroc"))), Word("retour")))


def test_unknown_field_is_read_as_words():
    parsed = parse_query("foo:bar")
    assert parsed.tree == And((Word("foo"), Word("bar")))
    assert parsed.notices == ["Champ inconnu « foo » : cherché comme mot."]


def test_repairs_are_reported():
    parsed = parse_query('(retour "volontaire')
    assert parsed.tree == And((Word("retour"), Word("volontaire")))
    assert any("Guillemet" in n for n in parsed.notices) and any("Parenthèse" in n for n in parsed.notices)
    assert parse_query("retour )").tree == Word("retour")


def test_lone_operators_and_symbols_are_dropped():
    for text in ("AND OR NOT", "-", '"', "(((", ")", ":", "*", "~", "ET"):
        assert parse_query(text).tree is None, text


def test_fuzziness_is_capped():
    parsed = parse_query("reintegration~5")
    assert parsed.tree == Word("reintegration", fuzzy=2)
    assert parsed.notices


def test_limits():
    assert len(parse_query("a" * 10_000).tree.text) == MAX_QUERY_CHARS
    many = parse_query(" ".join(f"mot{i}" for i in range(100)))
    assert len(many.tree.children) == MAX_TERMS
    nested = parse_query("(" * 200 + "retour" + ")" * 200)
    assert nested.tree == Word("retour") and any(str(MAX_DEPTH) in n for n in nested.notices)


def test_invisible_characters_are_removed_and_accents_composed():
    assert parse_query("re\u0301inte\u0301gration\u200b").tree == Word("réintégration")
    assert parse_query("\u202eLibye\x00").tree == Word("Libye")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses_without_error(text):
    parsed = parse_query(text)
    if parsed.tree is not None:
        assert parsed.understood_as
