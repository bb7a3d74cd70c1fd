"""Snippets quote the text: verbatim fragments, « … » only where words were cut, marked countries.

Everything runs on the real corpus and a real index (the session's ``index_root``).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from indexer.records import ObjectiveItem, Programme, objectives_display
from search_app import highlight
from search_app.query_builder import QueryBuilder, QueryTerms
from search_app.query_parser import parse_query
from search_app.search import Hit, SearchRequest, SearchService
from tests.paths import ROOT

ELLIPSIS = highlight.ELLIPSIS
MIN_CUT = highlight.MIN_CUT_WORDS
QUERIES = [
    "",
    "migrations",
    "migrants",
    "interventions",
    "reintegration",
    "retour",
    "migrants de retour",
    '"retour volontaire"',
    "migr*",
    "capacites",
    "OIM",
    "UE-OIM",
    "gouvernance",
    "communautés",
    "données factuelles",
    "irrigation",
    "reintegraton~1",
    "ODD",
    "10.7",
    "protection migrants",
    "Libye OU Maroc",
    "aide -Libye",
    "Mali",
    "pays",
]


@pytest.fixture(scope="module")
def service(index_root: Path) -> SearchService:
    return SearchService(index_root, cache_size=0)


@pytest.fixture(scope="module")
def by_id(programmes: list[Programme]) -> dict[str, Programme]:
    return {p.id: p for p in programmes}


def _field_texts(programme: Programme) -> dict[str, str]:
    """A record's texts as snippets quote them (objectives as displayed)."""
    return {
        "description": programme.description_text,
        "objectives": objectives_display(programme.objectives),
        "notes": programme.notes_text,
    }


def _visible(markup: str) -> str:
    return html.unescape(re.sub(r"</?mark>", "", markup))


def _words(text: str) -> int:
    """Words (not lone punctuation) of a cut-out run, split on breaking spaces."""
    return sum(1 for run in re.split(r"[ \t\r\n]+", text) if re.search(r"\w", run))


def _cuts(snippet: str, text: str) -> list[int]:
    """Words cut before, between and after the fragments of ``snippet``, each fragment found verbatim."""
    visible = _visible(snippet)
    lead, tail = visible.startswith(ELLIPSIS + " "), visible.endswith(" " + ELLIPSIS)
    body = visible[2 if lead else 0 : len(visible) - (2 if tail else 0)]
    cuts, cursor = [], 0
    for index, fragment in enumerate(body.split(f" {ELLIPSIS} ")):
        found = text.find(fragment, cursor)
        assert found >= 0, f"not a verbatim run of the text: {fragment!r}"
        if index or lead:
            cuts.append(_words(text[cursor:found]))
        else:
            assert found == 0, f"words cut without « … » before {fragment[:40]!r}"
        cursor = found + len(fragment)
    if tail:
        cuts.append(_words(text[cursor:]))
    else:
        assert cursor == len(text), f"words cut without « … » after {body[-40:]!r}"
    return cuts


def _terms(service: SearchService, text: str) -> QueryTerms:
    """What the live generation makes of a query, for highlighting."""
    state = service.status()
    reader = state.searcher().reader()
    builder = QueryBuilder(state.analyzer, reader, synonyms=state.synonym_table, lexicon=state.lexicon)
    return builder.build(parse_query(text).tree).terms


def _hits(service: SearchService, text: str) -> list[Hit]:
    return service.search(SearchRequest(text=text, per_page=50)).hits


@pytest.mark.parametrize("query", QUERIES)
def test_fragments_are_verbatim_and_ellipses_stand_for_cut_words(service, by_id, query):
    hits = _hits(service, query)
    assert hits or query in {"Libye OU Maroc"}
    for hit in hits:
        texts = _field_texts(by_id[hit.id])
        for field, snippet in hit.snippets.items():
            cuts = _cuts(str(snippet), texts[field])
            assert all(cut >= MIN_CUT for cut in cuts), (hit.id, field, cuts, str(snippet))


def test_no_word_is_dropped_between_close_fragments(service):
    """« et des … structurelles » dropped « interventions »: close fragments are one run now."""
    for hit in _hits(service, "reintegration"):
        visible = _visible(str(hit.snippets.get("description", "")))
        assert "des … structurelles" not in visible
        if "structurelles" in visible:
            assert "des interventions structurelles" in visible


def test_a_snippet_of_a_short_text_is_the_whole_text(service):
    terms = _terms(service, "migrants")
    spans = service.status().spans
    text = "Aide aux migrants de retour et à leurs communautés."
    assert highlight.snippet(spans, text, terms) == "Aide aux <mark>migrants</mark> de retour et à leurs communautés."
    assert ELLIPSIS not in highlight.lead(text)


def test_objective_heading_and_text_are_separated(service):
    hit = next(h for h in _hits(service, "reintegration") if h.id.startswith("afrique-centrale"))
    visible = _visible(str(hit.snippets["objectives"]))
    assert "AIDE À LA RÉINTÉGRATION — Répondre aux besoins" in visible
    assert visible.count("Piliers d’action") <= 1  # the section is named once, not before every pillar
    assert "RÉINTÉGRATION Répondre" not in visible


def test_objective_display_has_the_indexed_words(service, programmes):
    """The separators are punctuation only: shown text and indexed text analyse alike."""
    spans = service.status().spans
    items = [item for p in programmes for item in p.objectives]
    assert any(item.heading for item in items) and any(not item.heading for item in items)
    for item in items:
        shown, indexed = spans(item.display_text()), spans(item.full_text())
        assert [t[0] for t in shown] == [t[0] for t in indexed]
        assert [t[3] for t in shown] == [t[3] for t in indexed]


def test_objective_display_forms():
    pillar = ObjectiveItem("Piliers d’action", "Texte.", "TITRE")
    assert pillar.display_text() == "Piliers d’action\u00a0: TITRE — Texte."
    assert ObjectiveItem("Objectif global", "Texte.").display_text() == "Objectif global\u00a0: Texte."
    assert ObjectiveItem("", "Texte.", "TITRE").display_text() == "TITRE — Texte."
    assert ObjectiveItem("Les objectifs sont :", "Texte.").display_text() == "Les objectifs sont\u00a0: Texte."


# --- countries and region ------------------------------------------------------------------


def _meta(client, query: str) -> list[BeautifulSoup]:
    page = BeautifulSoup(client.get("/", query_string={"q": query}).get_data(as_text=True), "html.parser")
    return page.select(".hit-meta")


def test_a_matched_country_is_marked_in_the_countries_line(client):
    metas = _meta(client, "Mali")
    assert metas
    for meta in metas:
        assert [m.get_text() for m in meta.select(".countries mark")] == ["Mali"]
        assert not meta.select(".region mark")
        assert "Burkina Faso, Cameroun" in meta.select_one(".countries").get_text()


def test_a_matched_region_is_marked(client):
    metas = _meta(client, "asie")
    assert metas and all([m.get_text() for m in meta.select(".region mark")] == ["Asie"] for meta in metas)


def test_nothing_is_marked_in_the_meta_line_when_no_name_matched(client):
    assert all(not meta.select("mark") for meta in _meta(client, "irrigation"))


def test_api_marks_countries_and_region_in_added_fields(client):
    data = client.get("/api/search", query_string={"q": "Mali"}).get_json()
    assert data["results"]
    for result in data["results"]:
        assert "Mali" in result["countries"] and "<mark>" not in str(result["countries"])
        marked = result["highlighted"]
        assert "<mark>Mali</mark>" in marked["countries"]
        assert len(marked["countries"]) == len(result["countries"])
        assert [re.sub(r"</?mark>", "", c) for c in marked["countries"]] == result["countries"]
        assert marked["region"] == html.escape(result["region"], quote=False).replace("'", "&#39;")


def test_openapi_documents_the_added_fields(client):
    result = client.get("/api/openapi.json").get_json()["paths"]["/api/search"]["get"]["responses"]["200"]
    schema = result["content"]["application/json"]["schema"]["properties"]["results"]["items"]
    assert set(schema["properties"]["highlighted"]["properties"]) == {"region", "countries"}


def test_names_are_escaped_before_marking(service):
    spans = service.status().spans
    marked = highlight.mark_all(spans, "<i>Mali</i> & Niger", _terms(service, "Mali"))
    assert marked == "&lt;i&gt;<mark>Mali</mark>&lt;/i&gt; &amp; Niger"


def test_the_hit_template_never_trusts_corpus_text():
    template = (ROOT / "templates" / "_hit.html").read_text(encoding="utf-8")
    assert not re.search(r"\|\s*safe", template)
