"""Unit tests of the small rooms: parameters, facet selection and filters, highlighting, presenters."""

from __future__ import annotations

import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from indexer.analysis import TermSpans, french_analyzer
from search_app import docsets
from search_app.facets import apply_filters, normalise_selection
from search_app.highlight import explain, find_matches, lead, mark_all, snippet
from search_app.params import BadParameter, parse_search_args
from search_app.query_builder import QueryTerms

SPANS = TermSpans(french_analyzer())
TEXT = "Les migrants de retour reçoivent une aide à la réintégration <b>durable</b> & psychosociale."


def _terms(**typed_by_term: str) -> QueryTerms:
    return QueryTerms(terms=dict(typed_by_term))


# --- parameters ---------------------------------------------------------------------------------


def test_lenient_parameters_repair_and_say_so():
    parsed = parse_search_args(MultiDict({"q": "migrants", "page": "deux", "per_page": "500"}), strict=False)
    assert parsed.request.page == 1 and parsed.request.per_page == 10
    assert len(parsed.problems) == 2 and all("Valeur par défaut utilisée" in p for p in parsed.problems)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"page": "0"}, "« page » doit être compris entre"),
        ({"page": "²"}, "« page » doit être un entier"),
        ({"per_page": "51"}, "« per_page » doit être compris entre"),
        ({"sort": "date"}, "« sort » doit valoir relevance ou title"),
    ],
)
def test_strict_parameters_are_refused_with_a_french_message(args, message):
    with pytest.raises(BadParameter, match=message):
        parse_search_args(MultiDict(args), strict=True)


def test_filters_keep_their_values_as_typed_and_drop_blank_ones():
    parsed = parse_search_args(MultiDict([("country", "Mali"), ("country", " "), ("region", "Asie")]), strict=True)
    assert parsed.request.filters["country"] == ("Mali",) and parsed.request.filters["region"] == ("Asie",)


# --- facets -------------------------------------------------------------------------------------


def test_selected_values_become_keys_accent_and_case_insensitively_once_each():
    assert normalise_selection(["Sénégal", "SENEGAL", "senegal", "Côte d'Ivoire", ""]) == ("senegal", "cote-d-ivoire")


def test_filters_intersect_every_facet_but_the_one_being_counted():
    every = docsets.everything(4)
    filters = {"country": docsets.of([1, 2], 4), "region": docsets.of([0, 1], 4), "status": None}
    assert apply_filters(every, filters).tolist() == [False, True, False, False]
    # disjunctive counts for « country »: its own filter is left out
    assert apply_filters(every, filters, skip="country").tolist() == [True, True, False, False]
    assert apply_filters(every, {"status": None}).tolist() == [True] * 4


# --- highlighting -------------------------------------------------------------------------------


def test_matches_are_the_written_words_of_any_form_in_text_order():
    terms = _terms(**{SPANS.term("migrant"): "migrant", SPANS.term("réintégrations"): "reintegrations"})
    found = [(TEXT[m.start : m.end], m.typed) for m in find_matches(SPANS, TEXT, terms)]
    assert found == [("migrants", "migrant"), ("réintégration", "reintegrations")]


def test_marking_escapes_the_text_first_then_marks():
    marked = mark_all(SPANS, TEXT, _terms(**{SPANS.term("durable"): "durable"}))
    assert isinstance(marked, Markup)
    assert "&lt;b&gt;<mark>durable</mark>&lt;/b&gt; &amp; psychosociale" in marked
    assert "<b>" not in marked


def test_a_snippet_is_a_verbatim_run_and_says_where_it_cut():
    long_text = " ".join(["mot"] * 80) + " réintégration " + " ".join(["fin"] * 80)
    cut = snippet(SPANS, long_text, _terms(**{SPANS.term("réintégration"): "réintégration"}))
    assert cut is not None and "<mark>réintégration</mark>" in cut
    assert str(cut).startswith("…") and str(cut).endswith("…")
    assert snippet(SPANS, long_text, _terms(**{SPANS.term("absent"): "absent"})) is None


def test_the_lead_of_a_text_without_match_is_escaped_and_cut_on_a_word():
    text = "<i>Début</i> " + "long " * 100
    start = lead(text)
    assert str(start).startswith("&lt;i&gt;Début&lt;/i&gt;") and str(start).endswith("…")


def test_explanations_pair_what_was_typed_with_what_was_found():
    terms = _terms(**{SPANS.term("migrant"): "migrant", SPANS.term("aide"): "aide"})
    assert explain(SPANS, {"description": TEXT, "title": "Rien"}, terms) == {
        "description": ["migrant ≈ migrants", "aide"]
    }


# --- presenters ---------------------------------------------------------------------------------


def _page(total: int, number: int):
    from search_app.facets import FACETS
    from search_app.search import SearchPage, SearchRequest

    return SearchPage(
        request=SearchRequest(text="migrants", page=number), understood_as="migrants", notices=[], fallback=None,
        total=total, hits=[], facets={f: [] for f in FACETS}, selected={}, suggestion=None, generation="g",
        elapsed_ms=1.0,
    )


@pytest.mark.parametrize(
    ("total", "number", "shown"),
    [
        (200, 10, "1 2 … 8 9 [10] 11 12 … 19 20"),
        (200, 1, "[1] 2 3 … 19 20"),
        (40, 3, "1 2 [3] 4"),
        (5, 1, ""),
    ],
)
def test_pagination_shows_the_ends_and_the_neighbours_with_one_gap_between(app, total, number, shown):
    from search_app.presenters import pagination

    with app.test_request_context():
        links = pagination(_page(total, number))
    text = " ".join("…" if e.gap else f"[{e.number}]" if e.current else str(e.number) for e in links.entries)
    assert text == shown
    assert (links.previous_url is None) == (number == 1 or not shown)
    assert all(f"page={e.number}" in e.url or e.number == 1 for e in links.entries if not e.gap)


@pytest.mark.parametrize(
    ("count", "label"),
    [(0, "Aucun programme"), (1, "1 programme"), (2, "2 programmes"), (12345, "12\u202f345 programmes")],
)
def test_programme_counts_read_as_french(count, label):
    from search_app.presenters import programme_count

    assert programme_count(count) == label
