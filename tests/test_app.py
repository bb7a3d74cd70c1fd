"""The Flask app through its test client, over a real index."""

from __future__ import annotations

import base64

import pytest
from bs4 import BeautifulSoup

AFG = "afghanistan-rada"
OUEST = "afrique-centrale-et-de-l-ouest-initiative-conjointe"


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def facet_counts(data: dict, facet: str) -> dict[str, int]:
    return {item["value"]: item["count"] for item in data["facets"][facet]}


# --- HTML page -----------------------------------------------------------------------------


def test_home_lists_all_programmes_browsable_by_facets(client):
    page = soup(client.get("/"))
    assert page.html["lang"] == "fr"
    assert page.select_one("label[for=q]").get_text(strip=True) == "Rechercher des programmes"
    assert len(page.select(".hit")) == 6
    assert page.select_one("#results-title").get_text(strip=True) == "6 programmes"
    assert page.select("main") and page.select("header") and page.select("footer")


def test_results_have_title_link_meta_status_and_marked_snippets(client):
    page = soup(client.get("/?q=reintegration"))
    hit = page.select(".hit")[0]
    link = hit.select_one(".hit-title a")
    assert link["href"].startswith("/programmes/") and "q=reintegration" in link["href"]
    assert hit.select_one(".status").get_text(strip=True) in ("En cours", "Activités achevées")
    marks = {m.get_text() for m in page.select(".snippet mark")}
    assert "réintégration" in marks, "an accent-less query marks the accented word"


def test_accented_and_plain_queries_mark_the_same_words(client):
    plain = {m.get_text() for m in soup(client.get("/?q=capacites")).select("mark")}
    accented = {m.get_text() for m in soup(client.get("/?q=capacités")).select("mark")}
    assert plain == accented and "capacités" in plain


def test_stemming_marks_other_forms(client):
    """« migrant » (never written so) marks « migrants »: only stemming joins them; « migration » is
    another family."""
    marks = {m.get_text().lower() for m in soup(client.get("/?q=migrant")).select(".snippet mark")}
    assert "migrants" in marks and "migration" not in marks and "migrations" not in marks


def test_why_this_result_lists_fields_and_words(client):
    page = soup(client.get("/?q=reintegration"))
    why = page.select_one("details.why").get_text(" ", strip=True)
    assert "Pourquoi ce résultat ?" in why
    assert "reintegration ≈ réintégration" in why


def test_browse_with_filter_and_empty_query(client):
    page = soup(client.get("/?region=Asie+et+Pacifique"))
    titles = [a.get_text(strip=True) for a in page.select(".hit-title a")]
    assert len(titles) == 2 and titles[0].startswith("Afghanistan")
    chip = page.select_one(".chip")
    assert "Région : Asie et Pacifique" in chip.get_text(" ", strip=True)
    assert "region=" not in chip["href"]


def test_facet_links_toggle_values_and_clear_all(client):
    page = soup(client.get("/?q=migrants&country=Mali"))
    selected = page.select(".facet a.is-selected")
    assert [s.select_one(".label").get_text() for s in selected] == ["Mali"]
    assert "country=" not in selected[0]["href"]
    assert page.select_one(".clear-all")["href"] == "/?q=migrants"


def test_unknown_page_parameter_gets_french_message_and_defaults(client):
    response = client.get("/?q=libye&page=abc")
    assert response.status_code == 200
    text = soup(response).get_text(" ")
    assert "« page » doit être un entier" in text and "Valeur par défaut utilisée" in text


def test_page_past_the_end_is_an_empty_page(client):
    response = client.get("/?page=5")
    assert response.status_code == 200
    assert "au-delà des résultats" in soup(response).get_text(" ")


def test_or_fallback_is_announced(client):
    text = soup(client.get("/?q=libye+maroc+bangladesh")).get_text(" ")
    assert "Aucun programme ne contient tous les mots\u00a0: voici ceux qui en contiennent au moins 2 sur 3." in text


def test_repaired_query_says_how_it_was_understood(client):
    text = soup(client.get('/?q=(retour+"volontaire')).get_text(" ")
    assert "Recherche comprise comme" in text
    assert "Guillemet non fermé" in text and "Parenthèse non fermée" in text


def test_typo_gets_one_click_suggestion_with_accents(client):
    page = soup(client.get("/?q=reintegraton"))
    link = page.select_one(".suggestion a")
    assert link.get_text() == "réintégration"
    assert client.get(link["href"]).status_code == 200


def test_correct_query_has_no_suggestion(client):
    assert soup(client.get("/?q=réintégration")).select_one(".suggestion") is None


def test_sort_by_title(client):
    titles = [a.get_text() for a in soup(client.get("/?q=migrants&sort=title")).select(".hit-title a")]
    assert titles == sorted(titles, key=lambda t: t.replace("’", "'").casefold())


def test_detail_page_highlights_query_and_lists_similar(client):
    page = soup(client.get(f"/programmes/{AFG}?q=irrigation"))
    assert page.select_one("h1").get_text().startswith("Afghanistan")
    assert [m.get_text() for m in page.select("mark")] == ["irrigation"]
    similar = [a["href"] for a in page.select(".similar a")]
    assert 0 < len(similar) <= 5 and f"/programmes/{AFG}" not in similar
    assert page.select_one(".similar .why").get_text(" ", strip=True).startswith("Même région\u00a0: Asie et Pacifique")
    assert page.select_one(".back a")["href"] == "/?q=irrigation"
    assert page.select_one(".back a").get_text() == "‹ Retour aux résultats pour «\u00a0irrigation\u00a0»"


def test_single_item_sections_are_paragraphs_longer_ones_lists(client):
    page = soup(client.get(f"/programmes/{AFG}"))
    sections = {h3.get_text(): h3.find_next_sibling() for h3 in page.select("article h3")}
    assert sections["Objectif global"].name == "p" and "10.7" in sections["Objectif global"].get_text()
    assert sections["Objectif spécifique"].name == "p"
    results = sections["Le projet RADA comprend quatre domaines de résultat"]
    assert results.name == "ol" and len(results.select("li")) == 4
    assert not [ol for ol in page.select("article ol") if len(ol.select("li")) == 1]


def test_no_source_link_when_the_record_has_no_address(client):
    page = soup(client.get(f"/programmes/{AFG}"))
    assert page.select_one(".source-link") is None and "Page source" not in page.get_text()


def test_unknown_programme_is_a_404_page(client):
    response = client.get("/programmes/nope")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


def test_help_and_opensearch(client):
    assert "Syntaxe des requêtes" in client.get("/aide").get_data(as_text=True)
    response = client.get("/opensearch.xml")
    assert response.mimetype == "application/opensearchdescription+xml"
    assert "{searchTerms}" in response.get_data(as_text=True)


def _opensearch_templates(client) -> dict[str, str]:
    """The ``template`` of each ``<Url>`` of the OpenSearch description, by ``type``."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(client.get("/opensearch.xml").data)
    urls = root.findall("{http://a9.com/-/spec/opensearch/1.1/}Url")
    return {url.get("type"): url.get("template") for url in urls}


def _suggestions(client, query: str):
    """What a browser gets for ``query`` from the suggestions URL of the OpenSearch description."""
    import json
    from urllib.parse import quote

    template = _opensearch_templates(client)["application/x-suggestions+json"]
    response = client.get(template.replace("{searchTerms}", quote(query)))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-suggestions+json; charset=utf-8"
    return json.loads(response.data)


def test_opensearch_description_points_to_the_suggestions(client):
    from urllib.parse import parse_qs, urlsplit

    templates = _opensearch_templates(client)
    assert templates["text/html"] == "http://localhost/?q={searchTerms}"
    suggest = urlsplit(templates["application/x-suggestions+json"])
    assert (suggest.scheme, suggest.netloc, suggest.path) == ("http", "localhost", "/api/suggest")
    assert parse_qs(suggest.query) == {"format": ["opensearch"], "q": ["{searchTerms}"]}


def _completes(query: str, completion: str) -> bool:
    """Whether ``completion`` is ``query`` completed: some of its first words kept as typed, then a text
    holding a word that begins like the last typed word (accents, case and elision aside)."""
    import re

    from indexer.analysis import fold

    words = query.split()
    last = re.findall(r"\w+", fold(words[-1]))[-1]
    for kept in range(len(words)):
        prefix = " ".join(words[:kept])
        if completion.startswith(prefix):
            rest = re.findall(r"\w+", fold(completion[len(prefix):]))
            if any(word.startswith(last) for word in rest):
                return True
    return False


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("retour vol", "retour volontaire"),
        ("cote d", "Côte d’Ivoire"),
        ("Réin", "réintégration"),
        ("afgh", "Afghanistan"),
    ],
)
def test_browser_suggestions_complete_the_query(client, query, expected):
    body = _suggestions(client, query)
    assert isinstance(body, list) and len(body) == 4 and body[0] == query
    completions, descriptions, urls = body[1:]
    assert expected in completions
    assert all(isinstance(text, str) and _completes(query, text) for text in completions), completions
    assert len(descriptions) == len(urls) == len(completions)
    for text, kind, url in zip(completions, descriptions, urls, strict=True):
        page = client.get(url)
        assert page.status_code == 200
        if kind == "programme":
            assert soup(page).select_one("h1").get_text(" ", strip=True) == text
        else:
            assert url.startswith("http://localhost/?q=") and soup(page).select(".hit")


def test_browser_suggestions_echo_any_query_and_refuse_an_unknown_format(client):
    assert _suggestions(client, "zzqx") == ["zzqx", [], [], []]
    long = "migrants " * 20  # past the 100 characters completed: its completions would not be its own
    assert _suggestions(client, long) == [long, [], [], []]
    assert client.get("/api/suggest?q=mig&format=xml").status_code == 400


# --- JSON API ------------------------------------------------------------------------------


def test_api_search_shape(client):
    data = client.get("/api/search?q=reintegration&per_page=2").get_json()
    assert set(data) >= {"query", "understood_as", "fallback", "total", "page", "per_page", "results", "facets",
                         "suggestion"}
    assert (data["total"], data["page"], data["per_page"], len(data["results"])) == (6, 1, 2, 2)
    result = data["results"][0]
    assert set(result) == {"id", "title", "url", "region", "countries", "status", "score", "snippets", "matched",
                           "highlighted"}
    assert result["url"] == f"/programmes/{result['id']}?q=reintegration"
    assert "<mark>réintégration</mark>" in " ".join(result["snippets"].values())


def test_api_pages_cover_all_results_once(client):
    ids = []
    for page in (1, 2, 3):
        ids += [r["id"] for r in client.get(f"/api/search?per_page=2&page={page}").get_json()["results"]]
    assert len(ids) == len(set(ids)) == 6


def test_disjunctive_facet_counts(client):
    data = client.get("/api/search?q=migrants&region=Asie+et+Pacifique").get_json()
    # the region facet ignores its own filter: other regions still show what they would give
    regions = facet_counts(data, "region")
    assert regions["Asie et Pacifique"] == 2 and regions["Afrique australe"] == 1
    assert data["total"] == 2
    # other facets apply the region filter
    assert facet_counts(data, "status") == {"Activités achevées": 2}
    assert set(facet_counts(data, "country")) == {"Afghanistan", "Bangladesh"}


def test_multi_select_is_or_within_and_across_facets(client):
    both = client.get("/api/search?country=Mali&country=Afghanistan").get_json()
    assert both["total"] == 2
    narrowed = client.get("/api/search?country=Mali&country=Afghanistan&status=En+cours").get_json()
    assert [r["id"] for r in narrowed["results"]] == [OUEST]


@pytest.mark.parametrize("value", ["senegal", "Senegal", "Sénégal", "SÉNÉGAL"])
def test_facet_values_match_accent_and_case_insensitively(client, value):
    data = client.get(f"/api/search?country={value}").get_json()
    assert [r["id"] for r in data["results"]] == [OUEST]
    assert ("Sénégal", 1, True) in [(f["value"], f["count"], f["selected"]) for f in data["facets"]["country"]]


def test_facet_lists_are_ordered_by_count_then_name(client):
    countries = client.get("/api/search").get_json()["facets"]["country"]
    assert len(countries) == 30
    keys = [(-c["count"], c["value"]) for c in countries]
    assert countries[0]["value"] == "Afghanistan" and keys == sorted(keys, key=lambda k: (k[0], _folded(k[1])))


def _folded(text: str) -> str:
    from indexer.analysis import fold

    return fold(text)


def test_unknown_facet_value_gives_no_results_and_is_kept_selected(client):
    data = client.get("/api/search?country=Atlantide").get_json()
    assert data["total"] == 0
    assert ("Atlantide", 0, True) in [(f["value"], f["count"], f["selected"]) for f in data["facets"]["country"]]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=0", "page"),
        ("page=abc", "page"),
        ("per_page=0", "per_page"),
        ("per_page=51", "per_page"),
        ("per_page=x", "per_page"),
        ("sort=date", "sort"),
    ],
)
def test_api_invalid_parameters_are_400_with_message(client, query, message):
    response = client.get(f"/api/search?{query}")
    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_api_page_past_end_is_empty(client):
    data = client.get("/api/search?page=99").get_json()
    assert (data["total"], data["results"]) == (6, [])


def test_api_sort_title(client):
    titles = [r["title"] for r in client.get("/api/search?sort=title").get_json()["results"]]
    assert titles[0].startswith("Afghanistan") and titles[-1].startswith("Moyen-Orient")


def test_api_programme_record_and_404(client):
    data = client.get(f"/api/programmes/{AFG}").get_json()
    assert data["id"] == AFG and data["countries"] == ["Afghanistan"]
    assert isinstance(data["objectives"], list) and data["objectives"][0]["section"] == "Objectif global"
    missing = client.get("/api/programmes/nope")
    assert missing.status_code == 404 and "error" in missing.get_json()


def test_api_suggest_words_and_programmes(client):
    data = client.get("/api/suggest?q=rein").get_json()
    words = [s["text"] for s in data["suggestions"] if s["kind"] == "word"]
    assert words[0] == "réintégration"
    programmes = [s for s in data["suggestions"] if s["kind"] == "programme"]
    assert programmes and all(s["url"].startswith("/programmes/") for s in programmes)
    assert client.get("/api/suggest?q=afgh").get_json()["suggestions"][-1]["url"] == f"/programmes/{AFG}"


def test_healthz_reports_generation(client, index_root):
    data = client.get("/healthz").get_json()
    assert data["status"] == "ok" and data["documents"] == 6
    assert data["index"] == (index_root / "CURRENT").read_text().strip()


def test_openapi_document(client):
    data = client.get("/api/openapi.json").get_json()
    assert data["openapi"].startswith("3.") and "/api/search" in data["paths"]


def test_api_snippets_escape_before_marking(client):
    data = client.get('/api/search?q=<script>"retour').get_json()
    assert "<script>" not in str(data["results"])


# --- CSV export ----------------------------------------------------------------------------


def _csv_rows(response) -> list[list[str]]:
    """The rows of a CSV download, read as French-locale spreadsheets read it (BOM, « ; »)."""
    from tests.test_export import read_csv

    return read_csv(response.get_data(as_text=True))


@pytest.mark.parametrize(
    "query", ["q=migrants", "q=reintegration&region=Asie+et+Pacifique", "", "q=libye+maroc+bangladesh"]
)
def test_csv_export_has_one_row_per_result(client, query):
    from search_app.export import CSV_COLUMNS

    total = client.get(f"/api/search?{query}&per_page=1").get_json()["total"]
    response = client.get(f"/api/search?{query}&format=csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="programmes-ue-oim.csv"'
    rows = _csv_rows(response)
    assert rows[0] == list(CSV_COLUMNS)
    assert len(rows) - 1 == total
    assert all(len(row) == len(CSV_COLUMNS) for row in rows)
    assert all(row[6].startswith("http://localhost/programmes/") for row in rows[1:])


def test_csv_link_on_the_page_carries_the_filters(client):
    link = soup(client.get("/?q=migrants&country=Mali")).select_one(".export a")
    assert "format=csv" in link["href"] and "country=Mali" in link["href"]
    assert len(_csv_rows(client.get(link["href"]))) == 2


def test_unknown_format_is_400(client):
    assert client.get("/api/search?format=xml").status_code == 400


def test_back_link_returns_to_the_same_results_with_filters_and_sort(client):
    page = soup(client.get("/?q=migrants&country=Mali&sort=title"))
    detail_url = page.select_one(".hit-title a")["href"]
    assert "country=Mali" in detail_url and "sort=title" in detail_url
    back = soup(client.get(detail_url)).select_one(".back a")["href"]
    assert back == "/?q=migrants&country=Mali&sort=title"


def test_status_badges_follow_the_status_table(client, programmes):
    """Each hit's badge says active for « En cours » and done otherwise, from STATUS_STATES."""
    from indexer.records import STATUS_STATES

    page = BeautifulSoup(client.get("/?q=").get_data(as_text=True), "html.parser")
    badges = [(b.get_text(strip=True), b["class"]) for b in page.select(".status")]
    assert len(badges) == len(programmes)
    for text, classes in badges:
        assert f"status-{STATUS_STATES[text]}" in classes
    assert {STATUS_STATES[p.status] for p in programmes} == {"active", "done"}
    detail = BeautifulSoup(client.get(f"/programmes/{programmes[0].id}").get_data(as_text=True), "html.parser")
    assert f"status-{STATUS_STATES[programmes[0].status]}" in detail.select_one(".status")["class"]


@pytest.mark.parametrize("query", ["réintégraton~", "réintégration", "réinteg*"])
def test_the_programme_page_marks_what_the_results_page_marks(client, query):
    """Results and programme page build the query the same way (typos included): a word marked
    in the results' snippets is marked on the programme page too."""
    results = BeautifulSoup(client.get("/", query_string={"q": query}).get_data(as_text=True), "html.parser")
    first = results.select_one(".hit")
    marked = {m.get_text(strip=True).lower() for m in first.select("mark")}
    assert marked, query
    link = first.select_one("a[href*='/programmes/']")["href"]
    page = BeautifulSoup(client.get(link).get_data(as_text=True), "html.parser")
    on_page = {m.get_text(strip=True).lower() for m in page.select("main mark")}
    assert marked <= on_page, (query, marked - on_page)


def test_facet_values_have_one_shape_in_html_and_json_and_their_api_toggles_work(client):
    """{value, label, count, matching, selected, toggle_url} in both; the API's toggle_url selects, then clears;
    ``matching`` counts the current results (so after « Pays : Mali » only Mali's programmes count)."""
    data = client.get("/api/search", query_string={"q": "migrants"}).get_json()
    html = soup(client.get("/", query_string={"q": "migrants"}))
    for facet, values in data["facets"].items():
        assert all(set(v) == {"value", "label", "count", "matching", "selected", "toggle_url"} for v in values)
        assert all(v["matching"] == v["count"] for v in values), facet  # nothing selected: the two agree
        shown = [(a.select_one(".label").get_text(strip=True), int(a.select_one(".count").get_text()))
                 for a in html.select(f"section[aria-labelledby=facet-{facet}] a")]
        assert shown == [(v["label"], v["count"]) for v in values][: len(shown)], facet
    mali = next(v for v in data["facets"]["country"] if v["value"] == "Mali")
    assert mali["toggle_url"].startswith("/api/search?")
    selected = client.get(mali["toggle_url"]).get_json()
    again = next(v for v in selected["facets"]["country"] if v["value"] == "Mali")
    assert again["selected"] and selected["total"] == mali["count"] == again["matching"]
    others = [v for v in selected["facets"]["country"] if not v["selected"]]
    assert others and all(v["matching"] <= selected["total"] for v in others)
    assert any(v["count"] > v["matching"] for v in others)  # « also possible », not matching
    cleared = client.get(again["toggle_url"]).get_json()
    assert not any(v["selected"] for v in cleared["facets"]["country"]) and cleared["total"] == data["total"]


def test_a_selected_facet_value_comes_first_and_is_never_folded_away(client):
    """A country far down the list (few programmes), once selected, is the first value shown."""
    countries = client.get("/api/search").get_json()["facets"]["country"]
    last = countries[-1]["value"]  # the 30th: folded under « Afficher 20 autres » when not selected
    page = soup(client.get("/", query_string={"country": last}))
    section = page.select_one("section[aria-labelledby=facet-country]")
    first = section.select_one("a")
    assert first.select_one(".label").get_text(strip=True) == last and "is-selected" in first["class"]
    assert first.find_parent("details", class_="more") is None
    unselected = soup(client.get("/")).select_one("section[aria-labelledby=facet-country]")
    folded = [a.select_one(".label").get_text(strip=True) for a in unselected.select("details.more a")]
    assert last in folded


@pytest.mark.parametrize(("query", "heading"), [("Libye", "1 programme"), ("zzzqqq", "Aucun programme")])
def test_the_results_heading_counts_in_french(client, query, heading):
    page = soup(client.get("/", query_string={"q": query}))
    assert page.select_one("#results-title").get_text(strip=True) == heading


@pytest.mark.parametrize(("url", "active"), [("/", "titre"), ("/?region=Asie+et+Pacifique", "titre"),
                                             ("/?q=migrants", "pertinence"), ("/?q=migrants&sort=title", "titre")])
def test_the_sort_shows_the_order_the_page_is_in(client, url, active):
    """Browsing (no word to rank) is alphabetical: « titre » is shown active."""
    page = soup(client.get(url))
    assert page.select_one(".sort strong[aria-current]").get_text(strip=True) == active


def test_an_unknown_filter_value_is_shown_as_typed_and_said_to_match_nothing(client):
    page = soup(client.get("/", query_string={"country": "Atlantide", "q": "migrants"}))
    assert page.select_one("#results-title").get_text(strip=True) == "Aucun programme"
    notices = [p.get_text() for p in page.select(".results .notice")]
    assert "Pays\u00a0: «\u00a0Atlantide\u00a0» ne correspond à aucun programme du corpus." in notices
    assert "Atlantide" in page.select_one(".chips").get_text()
    known = soup(client.get("/", query_string={"country": "Mali", "q": "Bangladesh"}))  # known, 0 here
    assert not [p for p in known.select(".results .notice") if "corpus" in p.get_text()]


def test_the_help_page_lists_every_facet_and_explains_the_counts(client):
    from search_app.facets import FACETS
    from search_app.presenters import FACET_LABELS

    text = soup(client.get("/aide")).get_text(" ", strip=True)
    listed = [li.select_one("strong").get_text() for li in soup(client.get("/aide")).select("ul.facet-help li")]
    assert listed == [FACET_LABELS[facet] for facet in FACETS]
    assert "Thème" in listed
    assert "s’additionnent (OU" in text and "choisie seule dans son filtre" in text


def test_the_footer_links_to_the_statistics_only_for_those_allowed(app, index_root):
    from search_app import create_app

    assert client_footer(app.test_client(), "127.0.0.1") is True
    assert client_footer(app.test_client(), "203.0.113.9") is False, "/stats would answer 403"
    guarded = create_app({**app.config, "STATS_TOKEN": "s3cret", "ANALYTICS_ENABLED": False})
    assert client_footer(guarded.test_client(), "127.0.0.1") is False, "/stats would ask for the token"
    auth = {"Authorization": "Basic " + base64.b64encode(b"x:s3cret").decode()}
    assert client_footer(guarded.test_client(), "203.0.113.9", auth) is True


def client_footer(client, address: str, headers: dict | None = None) -> bool:
    """Whether the footer of / links to /stats for a client at ``address``; checks /stats agrees."""
    environ = {"REMOTE_ADDR": address}
    page = soup(client.get("/", environ_base=environ, headers=headers or {}))
    shown = page.select_one('footer a[href="/stats"]') is not None
    allowed = client.get("/stats", environ_base=environ, headers=headers or {}).status_code == 200
    assert shown == allowed
    return shown
