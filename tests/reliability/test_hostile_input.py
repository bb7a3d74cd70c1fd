"""Hostile and malformed input on the HTML page and the JSON API: 200 or 400 with a clear message, never a 500.

Every item of issue 4's « Hostile and malformed input » list, through the Flask test prod_client over a real
index, plus Hypothesis property tests with arbitrary Unicode in every parameter.
"""

from __future__ import annotations

import html
import re
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

import search_app.params
import search_app.query_parser
from search_app.facets import MAX_VALUES_PER_FACET
from search_app.query_parser import MAX_DEPTH, MAX_QUERY_CHARS, MAX_TERMS, parse_query
from tests.reliability.helpers import (
    HTML_RECORD_ID,
    assert_no_traceback,
    assert_safe_fragment,
    assert_safe_html,
    body_text,
    json_of,
)

ENDPOINTS = ("/", "/api/search")
#: Each request must answer well within this (seconds): no hang, no runaway expansion.
MAX_SECONDS = 5.0
DOCUMENTS = 6

Params = dict[str, object] | list[tuple[str, str]]
PROGRAMME_LINK_RE = re.compile(r'href="/programmes/([a-z0-9-]+)')

#: (id, query text, a French notice the answer must carry, or None).
HOSTILE_QUERIES: list[tuple[str, str, str | None]] = [
    ("empty", "", None),
    ("one-char", "a", None),
    ("one-letter-word", "é", None),
    ("10000-chars", "migrants " * 1111 + "x", f"seuls les {MAX_QUERY_CHARS} premiers caractères"),
    ("10000-one-word", "x" * 10_000, f"seuls les {MAX_QUERY_CHARS} premiers caractères"),
    ("punctuation-only", "!?.,;:/\\&%$#@^=+[]{}<>|'`’«»…", None),
    ("stop-words-only", "le la les de", "Mots trop courants ignorés"),
    ("operators-and-or-not", "AND OR NOT", "Opérateur"),
    ("operators-french", "ET OU SAUF", "Opérateur"),
    ("minus", "-", None),
    ("double-quote", '"', "Guillemet non fermé"),
    ("open-parens", "(((", "Parenthèse non fermée"),
    ("close-paren", ")", "Parenthèse fermante en trop"),
    ("colon", ":", "Deux-points"),
    ("star", "*", "Joker"),
    ("tilde", "~", None),
    ("all-operators", 'AND OR NOT - " ((( ) : * ~', None),
    ("unbalanced-quote", '"migrants de retour', "Guillemet non fermé"),
    ("unbalanced-quotes-3", 'a "b" "c', "Guillemet non fermé"),
    ("unbalanced-open-paren", "(migrants OU retour", "Parenthèse non fermée"),
    ("unbalanced-close-paren", "migrants) retour)", "Parenthèse fermante en trop"),
    ("unknown-field", "foo:bar", "Champ inconnu « foo »"),
    ("unknown-field-phrase", 'foo:"bar baz"', "Champ inconnu « foo »"),
    ("empty-field", "pays:", None),
    ("leading-wildcard", "*tion", "Joker en début de mot"),
    ("bare-star-with-word", "migrants *", "Joker"),
    ("fuzzy-5", "mot~5", "ramenée à ~1"),
    ("fuzzy-huge", "reintegration~99999999999", "ramenée à ~2"),
    ("fuzzy-empty", "~5", None),
    ("control-chars", "migrants\x01\x02\x1b[31m\x7f\x08", None),
    ("nul-bytes", "\x00migr\x00ants\x00", None),
    ("only-nul", "\x00" * 50, None),
    ("rtl-override", "\u202emigrants\u202c \u200fretour", None),
    ("zero-width", "\u200bmigrants\u200c\u200d\ufeff", None),
    ("arabic", "الهجرة والعودة", None),
    ("emoji", "🧳✈️ migrants 👨‍👩‍👧 🇫🇷", None),
    ("emoji-only", "😀😀😀", None),
    ("combining-stack", "e" + "\u0301" * 200, None),
    ("private-use-and-noncharacters", "\ue000\uf8ff\ufffe\U0010fffd", None),
    ("many-terms", " ".join(f"mot{i}" for i in range(200)), f"{MAX_TERMS} premiers mots"),
    ("many-prefixes", " ".join(f"{c}*" for c in "abcdefghijklmnopqrstuvwxyz"), None),
    ("many-fuzzy", " OU ".join(f"reintegration{c}~2" for c in "abcdefghijklmnopqrstuvwxyz"), None),
    ("nested-within-limit", "(" * 240 + "migrants" + ")" * 240, f"au-delà de {MAX_DEPTH} niveaux"),
    ("nested-2000", "(" * 2000 + "migrants" + ")" * 2000, f"au-delà de {MAX_DEPTH} niveaux"),
    ("nested-2000-unclosed", "(" * 2000, None),
    ("closing-2000", ")" * 2000, "Parenthèse fermante en trop"),
    ("sql-ish", "' OR 1=1 --; DROP TABLE programmes", None),
    ("format-string", "%s %n %x {0} {__class__} ${jndi:ldap://x}", None),
    ("path-traversal", "../../etc/passwd", None),
    ("hyphenated-stop-words", "J-J d-l", None),
    ("hyphenated-stop-words-phrase", '"l-l de-la" migrants', None),
]


def get(prod_client: FlaskClient, path: str, params: Params) -> tuple[TestResponse, float]:
    started = time.perf_counter()
    response = prod_client.get(path, query_string=params)
    return response, time.perf_counter() - started


def check_answer(response: TestResponse, path: str, seconds: float) -> str:
    """200 or 400, a sane body, no trace; returns the page text (HTML unescaped) or the JSON notices joined."""
    assert response.status_code in (200, 400), (response.status_code, response.get_data()[:300])
    assert seconds < MAX_SECONDS
    text = body_text(response)
    assert_no_traceback(text)
    if path.startswith("/api/"):
        assert response.mimetype == "application/json"
        body = json_of(response)
        if response.status_code == 400:
            assert body["error"].strip(), "a 400 must say what is wrong"
            return body["error"]
        assert isinstance(body["total"], int) and 0 <= body["total"] <= DOCUMENTS
        return " ".join(body["notices"])
    assert response.mimetype == "text/html"
    assert_safe_html(text)
    return html.unescape(text)


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    ("text", "notice"), [(q, n) for _, q, n in HOSTILE_QUERIES], ids=[i for i, _, _ in HOSTILE_QUERIES]
)
def test_hostile_query_gets_an_answer_and_any_repair_is_explained(
    prod_client: FlaskClient, path: str, text: str, notice
):
    response, seconds = get(prod_client, path, {"q": text})
    said = check_answer(response, path, seconds)
    assert response.status_code == 200  # the parser repairs queries; it never refuses one
    if notice:
        assert notice in said


@pytest.mark.parametrize("path", ENDPOINTS)
def test_empty_and_stop_word_queries_browse_everything(prod_client: FlaskClient, path: str):
    for text in ("", "   ", "le la les de", "*", "AND OR NOT"):
        response, _ = get(prod_client, "/api/search", {"q": text})
        assert json_of(response)["total"] == DOCUMENTS, text
        page, seconds = get(prod_client, path, {"q": text})
        check_answer(page, path, seconds)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_query_over_the_app_limit_is_truncated_and_the_page_says_so(prod_client: FlaskClient, path: str):
    text = "réintégration " + "x" * 9_986
    assert len(text) == 10_000
    response, seconds = get(prod_client, path, {"q": text})
    said = check_answer(response, path, seconds)
    assert response.status_code == 200
    assert f"Requête trop longue : seuls les {MAX_QUERY_CHARS} premiers caractères sont pris en compte." in said
    if path == "/api/search":
        assert json_of(response)["total"] > 0  # the first 500 characters were searched


def ids_for(prod_client: FlaskClient, text: str) -> list[str]:
    response = prod_client.get("/api/search", query_string={"q": text, "per_page": "50"})
    assert response.status_code == 200
    return [hit["id"] for hit in json_of(response)["results"]]


@pytest.mark.parametrize(
    ("composed", "precomposed"),
    [
        ("re\u0301inte\u0301gration", "réintégration"),
        ("Re\u0301inte\u0301gration", "Réintégration"),
        ("capacite\u0301s", "capacités"),
        ("Alge\u0301rie", "Algérie"),
        ('"migrants de retour" re\u0301seaux', '"migrants de retour" réseaux'),
    ],
)
def test_combining_accents_behave_like_precomposed_letters(prod_client: FlaskClient, composed: str, precomposed: str):
    expected = ids_for(prod_client, precomposed)
    assert expected, f"« {precomposed} » should match something in the corpus"
    assert ids_for(prod_client, composed) == expected
    linked = [
        set(PROGRAMME_LINK_RE.findall(body_text(prod_client.get("/", query_string={"q": q}))))
        for q in (composed, precomposed)
    ]
    assert linked[0] == linked[1] == set(expected)


def test_zero_width_and_bidi_marks_are_ignored(prod_client: FlaskClient):
    assert ids_for(prod_client, "\u202emigrants\u202c") == ids_for(prod_client, "migrants")
    assert ids_for(prod_client, "\ufeffréintégration\u200e") == ids_for(prod_client, "réintégration")


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "raw", ["q=%FF%FE", "q=%C3%28", "q=migr%E9", "q=%ED%A0%80", "q=%00%00", "q=\xff\xfe", "q=\xe9t\xe9"]
)
def test_invalid_utf8_in_the_raw_query_string(prod_client: FlaskClient, path: str, raw: str):
    # Raw (not percent-encoded) bytes reach WSGI as latin-1 characters, as gunicorn passes them.
    started = time.perf_counter()
    response = prod_client.get(path, environ_overrides={"QUERY_STRING": raw})
    check_answer(response, path, time.perf_counter() - started)
    assert response.status_code == 200


@pytest.mark.parametrize("raw", ["country=\xff&region=%FF", "page=%FF", "sort=\xe9", "q=a&status=%C0%AF"])
def test_invalid_utf8_in_other_parameters(prod_client: FlaskClient, raw: str):
    for path in ENDPOINTS:
        response = prod_client.get(path, environ_overrides={"QUERY_STRING": raw})
        check_answer(response, path, 0)


@pytest.mark.parametrize(
    "path", ["/programmes/%FF%FE", "/programmes/%00", "/api/programmes/%FF", "/api/programmes/%C3%28"]
)
def test_invalid_utf8_and_nul_in_the_path(prod_client: FlaskClient, path: str):
    response = prod_client.get(path)
    assert response.status_code == 404
    assert_no_traceback(body_text(response))


def test_raw_latin1_bytes_in_the_path(prod_client: FlaskClient):
    response = prod_client.get("/", environ_overrides={"PATH_INFO": "/programmes/\xff\xfe"})
    assert response.status_code == 404
    assert_no_traceback(body_text(response))


# --- repeated, unknown and out-of-range parameters -----------------------------------------------------------


def test_500_country_values_are_capped_and_the_cap_is_said(prod_client: FlaskClient):
    params = [("country", f"Pays {i}") for i in range(500)] + [("country", "Mali")]
    for path in ENDPOINTS:
        response, seconds = get(prod_client, path, params)
        said = check_answer(response, path, seconds)
        assert response.status_code == 200
        assert f"Au plus {MAX_VALUES_PER_FACET} valeurs par filtre" in said, path


def test_many_values_in_every_facet_at_once(prod_client: FlaskClient):
    params = [(facet, f"valeur {i}") for facet in ("region", "country", "status") for i in range(500)]
    for path in ENDPOINTS:
        response, seconds = get(prod_client, path, params)
        check_answer(response, path, seconds)
        assert response.status_code == 200


@pytest.mark.parametrize("path", ENDPOINTS)
def test_unknown_facet_values_give_no_results_not_an_error(prod_client: FlaskClient, path: str):
    unknown = [("country", "Atlantide"), ("region", "Mordor"), ("status", "Abandonné")]
    response, seconds = get(prod_client, path, unknown)
    check_answer(response, path, seconds)
    assert response.status_code == 200
    api = json_of(prod_client.get("/api/search", query_string={"country": "Atlantide"}))
    assert api["total"] == 0
    assert ("Atlantide", 0, True) in [(f["value"], f["count"], f["selected"]) for f in api["facets"]["country"]]


def test_unknown_parameters_are_ignored(prod_client: FlaskClient):
    for path in ENDPOINTS:
        response, seconds = get(prod_client, path, {"q": "migrants", "foo": "bar", "debug": "1", "__proto__": "x"})
        check_answer(response, path, seconds)
        assert response.status_code == 200


BAD_NUMBERS = [
    ("page", "-1"),
    ("page", "0"),
    ("page", str(10**9)),
    ("page", str(10**30)),
    ("page", "abc"),
    ("page", "1e3"),
    ("page", "1.5"),
    ("page", "0x10"),
    ("page", "²"),
    ("page", "٣"),
    ("page", "\x00"),
    ("page", " "),
    ("per_page", "100000"),
    ("per_page", "0"),
    ("per_page", "-5"),
    ("per_page", "dix"),
    ("per_page", "³"),
]


@pytest.mark.parametrize(("name", "value"), BAD_NUMBERS)
def test_bad_numbers_are_400_in_the_api(prod_client: FlaskClient, name: str, value: str):
    response, seconds = get(prod_client, "/api/search", {name: value})
    message = check_answer(response, "/api/search", seconds)
    assert response.status_code == 400
    assert f"« {name} »" in message


@pytest.mark.parametrize(("name", "value"), BAD_NUMBERS)
def test_bad_numbers_fall_back_to_defaults_on_the_page(prod_client: FlaskClient, name: str, value: str):
    response, seconds = get(prod_client, "/", {"q": "migrants", name: value})
    said = check_answer(response, "/", seconds)
    assert response.status_code == 200
    if name == "page":
        assert "« page »" in said and "Valeur par défaut utilisée." in said


@pytest.mark.parametrize("path", ENDPOINTS)
def test_deepest_allowed_page_says_the_depth_limit(prod_client: FlaskClient, path: str):
    response, seconds = get(prod_client, path, {"q": "migrants", "page": str(search_app.params.MAX_PAGE)})
    said = check_answer(response, path, seconds)
    assert response.status_code == 200
    assert "premiers résultats peuvent être parcourus" in said


def test_per_page_within_bounds_is_honoured(prod_client: FlaskClient):
    body = json_of(prod_client.get("/api/search", query_string={"per_page": "2", "page": "3"}))
    assert (body["page"], body["per_page"], len(body["results"])) == (3, 2, 2)


def test_repeated_q_uses_the_first(prod_client: FlaskClient):
    body = json_of(prod_client.get("/api/search", query_string=[("q", "Afghanistan"), ("q", "<script>")]))
    assert body["query"] == "Afghanistan"


# --- parentheses ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [MAX_DEPTH, MAX_DEPTH + 1, 240, 2000, 20_000])
def test_parser_survives_deep_nesting(depth: int, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(search_app.query_parser, "MAX_QUERY_CHARS", 100_000)
    parsed = parse_query("(" * depth + "migrants OU retour" + ")" * depth)
    assert parsed.understood_as == "migrants OU retour"
    assert (f"Parenthèses imbriquées au-delà de {MAX_DEPTH} niveaux : ignorées." in parsed.notices) == (
        depth > MAX_DEPTH
    )


def test_parser_survives_deep_nesting_at_the_default_length_limit():
    parsed = parse_query("(" * 2000 + "migrants" + ")" * 2000)
    assert parsed.tree is None  # the first 500 characters are all parentheses
    assert any("trop longue" in notice for notice in parsed.notices)


def test_2000_nested_parentheses_within_raised_length_limits(prod_client: FlaskClient, monkeypatch: pytest.MonkeyPatch):
    """With the length limits raised, the parser itself sees all 2 000 levels (no RecursionError)."""
    monkeypatch.setattr(search_app.query_parser, "MAX_QUERY_CHARS", 100_000)
    monkeypatch.setattr(search_app.params, "MAX_PARAM_CHARS", 100_000)
    text = "(" * 2000 + "migrants OU (retour (" + ")" * 2000
    assert len(text) > 4000
    for path in ENDPOINTS:
        response, seconds = get(prod_client, path, {"q": text})
        said = check_answer(response, path, seconds)
        assert response.status_code == 200
        assert f"au-delà de {MAX_DEPTH} niveaux" in said
        assert "trop longue" not in said


# --- XSS ----------------------------------------------------------------------------------------------------------

XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)"]
XSS_PARAMS = ["q", "region", "country", "status", "page", "per_page", "sort"]


@pytest.mark.parametrize("name", XSS_PARAMS)
@pytest.mark.parametrize("payload", XSS, ids=["script", "img-onerror", "javascript-url"])
def test_xss_payload_in_any_parameter_never_reaches_the_page_unescaped(
    prod_client: FlaskClient, name: str, payload: str
):
    params = {name: payload, "q": f"migrants {payload}"} if name != "q" else {"q": payload}
    page, seconds = get(prod_client, "/", params)
    check_answer(page, "/", seconds)
    assert page.status_code == 200
    assert_safe_html(body_text(page), payload)
    api, seconds = get(prod_client, "/api/search", params)
    check_answer(api, "/api/search", seconds)
    if api.status_code == 200:
        for hit in json_of(api)["results"]:
            for snippet in hit["snippets"].values():
                assert_safe_fragment(snippet, payload)


@pytest.mark.parametrize("payload", XSS, ids=["script", "img-onerror", "javascript-url"])
def test_xss_payload_in_chips_and_hidden_fields(prod_client: FlaskClient, payload: str):
    params = [("country", payload), ("region", payload), ("status", payload), ("country", "Mali"), ("q", payload)]
    page = prod_client.get("/", query_string=params)
    assert page.status_code == 200
    text = body_text(page)
    assert 'class="chip"' in text  # the chips are shown, and escaped
    assert_safe_html(text, payload)


@pytest.mark.parametrize("payload", XSS, ids=["script", "img-onerror", "javascript-url"])
def test_xss_payload_in_a_query_with_a_suggestion(prod_client: FlaskClient, payload: str):
    page = prod_client.get("/", query_string={"q": f"reintegratoin {payload}"})
    text = body_text(page)
    assert page.status_code == 200
    # The payload's words are in no programme and have no correction: no half-corrected suggestion.
    assert "Essayez avec" not in text
    assert_safe_html(text, payload)
    corrected = body_text(prod_client.get("/", query_string={"q": "reintegratoin", "country": payload}))
    assert "Essayez avec" in corrected and "réintégration" in corrected
    assert_safe_html(corrected, payload)


@pytest.mark.parametrize("payload", XSS, ids=["script", "img-onerror", "javascript-url"])
def test_xss_payload_on_the_detail_page(prod_client: FlaskClient, payload: str):
    page = prod_client.get("/programmes/afghanistan-rada", query_string={"q": f"réintégration {payload}"})
    assert page.status_code == 200
    text = body_text(page)
    assert "<mark>" in text  # the query is used for highlighting, and escaped
    assert_safe_html(text, payload)


@pytest.mark.parametrize("payload", XSS, ids=["script", "img-onerror", "javascript-url"])
def test_xss_payload_in_error_pages(prod_client: FlaskClient, payload: str):
    for path in (f"/programmes/{quote(payload, safe='')}", f"/{quote(payload, safe='')}", f"/aide/{quote(payload)}"):
        page = prod_client.get(path)
        assert page.status_code == 404
        assert_safe_html(body_text(page), payload)
    api = prod_client.get(f"/api/programmes/{quote(payload, safe='')}")
    assert api.status_code == 404
    assert api.mimetype == "application/json"
    assert api.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("payload", XSS, ids=["script", "img-onerror", "javascript-url"])
def test_xss_payload_in_autocomplete(prod_client: FlaskClient, payload: str):
    response = prod_client.get("/api/suggest", query_string={"q": payload})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    for item in json_of(response)["suggestions"]:
        assert "<" not in item["text"]


def test_queries_listed_on_the_stats_page_are_escaped(prod_app, prod_client: FlaskClient):
    """Search analytics store what users type: the /stats page must show it as text (no stored XSS)."""
    for payload in XSS:
        prod_client.get("/", query_string={"q": payload})
        prod_client.get("/api/search", query_string={"q": f"migrants {payload}"})
        prod_client.get("/programmes/afghanistan-rada", query_string={"q": payload})
    prod_app.extensions["analytics"].flush()
    for days in ("", "7", "90", "<script>alert(1)</script>", "-1", "²", "9" * 40):
        page = prod_client.get("/stats", query_string={"days": days})
        assert page.status_code == 200
        text = body_text(page)
        assert_safe_html(text, *XSS)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # listed, as text


# --- HTML inside the corpus itself --------------------------------------------------------------------------------


def test_html_in_a_record_is_text_on_the_results_page(html_client: FlaskClient):
    page = html_client.get("/", query_string={"q": "zorglub"})
    assert page.status_code == 200
    text = body_text(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Programme" in text  # the title, as text
    assert "&lt;script&gt;" in text and "&lt;img src=x onerror=alert(1)&gt;" in text  # the snippets
    assert "&lt;i&gt;Atlantide&lt;/i&gt;" in text  # the region, in the hit and the facet panel
    assert_safe_html(text, *XSS, "<i>Atlantide</i>", "<b>gras</b>", '<a href="javascript:alert(1)">')


def test_html_in_a_record_is_text_in_chips(html_client: FlaskClient):
    page = html_client.get("/", query_string=[("region", "<i>Atlantide</i>"), ("q", "zorglub")])
    text = body_text(page)
    assert "Région : &lt;i&gt;Atlantide&lt;/i&gt;" in text
    assert_safe_html(text, *XSS, "<i>Atlantide</i>")


def test_html_in_a_record_is_text_in_json_snippets(html_client: FlaskClient):
    body = json_of(html_client.get("/api/search", query_string={"q": "zorglub alert"}))
    [hit] = [hit for hit in body["results"] if hit["id"] == HTML_RECORD_ID]
    assert hit["title"].startswith("<script>alert(1)</script>")  # JSON carries data, not markup
    assert set(hit["snippets"]) == {"description", "objectives", "notes"}
    for snippet in hit["snippets"].values():
        assert_safe_fragment(snippet, *XSS, "<i>Atlantide</i>", "<iframe", '<a href="javascript:alert(1)">')
    assert "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;" in hit["snippets"]["description"]
    assert "&lt;img src=x onerror=<mark>alert</mark>(1)&gt;" in hit["snippets"]["objectives"]
    assert "&lt;a href=&#34;javascript:<mark>alert</mark>(1)&#34;&gt;" in hit["snippets"]["notes"]


def test_html_in_a_record_is_text_without_a_query(html_client: FlaskClient):
    body = json_of(html_client.get("/api/search", query_string={"region": "<i>Atlantide</i>"}))
    [hit] = body["results"]
    assert hit["snippets"]["description"].startswith("Description zorglub avec &lt;script&gt;")
    assert_safe_fragment(hit["snippets"]["description"], *XSS)


def test_html_in_a_record_is_text_on_the_detail_page(html_client: FlaskClient):
    for params in ({}, {"q": "zorglub alert img"}):
        page = html_client.get(f"/programmes/{HTML_RECORD_ID}", query_string=params)
        assert page.status_code == 200
        text = body_text(page)
        assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt; Programme" in text
        assert "&lt;iframe src=" in text
        assert_safe_html(text, *XSS, "<i>Atlantide</i>", "<u>global</u>", "<iframe")


def test_html_in_a_record_is_text_in_similar_programmes(html_client: FlaskClient):
    page = html_client.get("/programmes/afrique-centrale-et-de-l-ouest-initiative-conjointe")
    assert_safe_html(body_text(page), *XSS)


def test_html_title_in_autocomplete_is_data(html_client: FlaskClient):
    body = json_of(html_client.get("/api/suggest", query_string={"q": "<script"}))
    titles = [item for item in body["suggestions"] if item["kind"] == "programme"]
    assert titles and titles[0]["text"].startswith("<script>")  # rendered with textContent by app.js
    assert titles[0]["url"] == f"/programmes/{HTML_RECORD_ID}"


def test_app_js_never_renders_suggestions_as_html():
    script = (Path(search_app.__file__).parent / "static" / "app.js").read_text(encoding="utf-8")
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "outerHTML" not in script


# --- property-based ---------------------------------------------------------------------------------------------

#: Any Unicode text (Hypothesis leaves out lone surrogates, which cannot be sent as UTF-8).
ANY_TEXT = st.text(max_size=300)
NUMBER_LIKE = st.one_of(
    st.none(),
    st.integers(min_value=-(10**15), max_value=10**15).map(str),
    st.text(alphabet="0123456789-+ .e²³٣", max_size=14),
    st.text(max_size=20),
)
FACET_VALUES = st.lists(st.one_of(st.sampled_from(["Mali", "Asie et Pacifique", "En cours"]), ANY_TEXT), max_size=6)
SORT = st.one_of(st.none(), st.sampled_from(["relevance", "title"]), st.text(max_size=20))


def check_property(response: TestResponse) -> None:
    assert response.status_code in (200, 400), response.get_data()[:500]
    text = body_text(response)
    assert "Traceback (most recent call last)" not in text
    if response.mimetype == "application/json":
        body = json_of(response)
        assert ("error" in body) if response.status_code == 400 else ("total" in body)


@pytest.mark.parametrize("path", ENDPOINTS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(ANY_TEXT, st.text(alphabet='()"*~:-+ ORANDTmigrants', max_size=200)))
def test_any_unicode_query(prod_client: FlaskClient, path: str, text: str):
    response = prod_client.get(path, query_string={"q": text})
    check_property(response)
    assert response.status_code == 200  # queries are always repaired, never refused


@pytest.mark.parametrize("path", ENDPOINTS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.one_of(st.none(), ANY_TEXT),
    region=FACET_VALUES,
    country=FACET_VALUES,
    status=FACET_VALUES,
    page=NUMBER_LIKE,
    per_page=NUMBER_LIKE,
    sort=SORT,
)
def test_any_parameter_values(prod_client: FlaskClient, path: str, text, region, country, status, page, per_page, sort):
    params: list[tuple[str, str]] = [("q", text)] if text is not None else []
    params += [("region", v) for v in region] + [("country", v) for v in country] + [("status", v) for v in status]
    params += [
        (name, value) for name, value in (("page", page), ("per_page", per_page), ("sort", sort)) if value is not None
    ]
    response = prod_client.get(path, query_string=params)
    check_property(response)
    if path == "/":
        assert response.status_code == 200  # the page is lenient: defaults and a notice


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=ANY_TEXT)
def test_any_unicode_in_autocomplete_and_detail_query(prod_client: FlaskClient, text: str):
    response = prod_client.get("/api/suggest", query_string={"q": text})
    assert response.status_code == 200
    json_of(response)
    response = prod_client.get("/programmes/afghanistan-rada", query_string={"q": text})
    assert response.status_code == 200
    assert "Traceback (most recent call last)" not in body_text(response)
