"""StateUrls gives byte for byte the URLs ``url_for`` gives, whatever the values."""

from __future__ import annotations

import pytest
from flask import url_for
from hypothesis import given, settings
from hypothesis import strategies as st

from search_app.facets import FACETS
from search_app.presenters import facet_links, selected_values, state_params
from search_app.search import SearchRequest
from search_app.state_urls import StateUrls

HOSTILE = ["", " ", "l’OIM & <b>", "a+b=c&d", "100 %", "%20", "é\u00a0:", "#frag?x=1", "/chemin;x", "🙂"]
VALUES = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12))
PARAMS = st.dictionaries(
    st.sampled_from(["q", "country", "region", "status", "theme", "sort", "page", "format", "x y", "é"]),
    st.one_of(VALUES, st.lists(VALUES, max_size=3), st.integers(min_value=1, max_value=10_000), st.none()),
    max_size=6,
)


@pytest.mark.parametrize("script_root", ["", "/recherche"])
@pytest.mark.parametrize("endpoint", ["views.search", "api.search"])
def test_the_same_urls_as_url_for(app, endpoint, script_root):
    states = [
        {},
        {"q": "retour volontaire"},
        {"q": "l’OIM & <b>", "country": ["Côte d’Ivoire", "Mali"], "status": ["En cours"], "sort": "title", "page": 3},
        {"country": [], "region": None, "q": "a+b=c&d #x"},
    ]
    with app.test_request_context("/", environ_base={"SCRIPT_NAME": script_root}):
        urls = StateUrls(endpoint)
        for state in states * 2:  # the second round reads the encoded pairs kept by the first
            assert urls.url(state) == url_for(endpoint, **state)


def test_a_path_value_is_built_by_url_for(app):
    with app.test_request_context("/"):
        urls = StateUrls("views.programme", programme_id="afghanistan rada/é")
        assert urls.url({"q": "Mali"}) == url_for("views.programme", programme_id="afghanistan rada/é", q="Mali")


@settings(max_examples=300, deadline=None)
@given(PARAMS)
def test_any_values_give_url_for_s_url(app, params):
    with app.test_request_context("/"):
        assert StateUrls("api.search").url(params) == url_for("api.search", **params)


@pytest.mark.parametrize(
    "args",
    [
        {"q": "migrants"},
        {"q": "l’OIM & co", "country": ["Mali", "Niger"], "sort": "title"},
        {"country": ["Côte d’Ivoire"], "status": ["En cours"], "region": ["Asie et Pacifique"]},
        {"q": "retour", "theme": ["Données migratoires"], "country": ["Atlantide"]},
    ],
)
@pytest.mark.parametrize("endpoint", ["views.search", "api.search"])
def test_facet_toggles_are_search_url_s_urls(app, endpoint, args):
    """Each toggle URL is url_for's URL of the state with that value added (last) or removed."""
    filters = {facet: tuple(args.get(facet, ())) for facet in FACETS if args.get(facet)}
    request = SearchRequest(text=args.get("q", ""), filters=filters, sort=args.get("sort", "relevance"))
    with app.test_request_context("/"):
        page = app.extensions["search_service"].search(request)
        selected = selected_values(page)
        links = facet_links(page, endpoint)
        assert any(link.selected for facet in FACETS for link in links[facet]) == bool(filters)
        for facet in FACETS:
            for link in links[facet]:
                rest = [v for v in selected[facet] if v != link.value]
                values = rest if link.selected else [*selected[facet], link.value]
                expected = url_for(endpoint, **state_params(request.text, {**selected, facet: values}, request.sort))
                assert link.toggle_url == expected
