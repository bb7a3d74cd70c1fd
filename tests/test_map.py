"""The « Carte »: the committed shapes, the map presenter, and the map on the search page."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path
from types import ModuleType

import pytest
from bs4 import BeautifulSoup

from indexer.build import build_index
from indexer.geography import GLOBAL
from search_app import create_app, map_presenter
from search_app.map_presenter import ASSET, MapAsset, Outline, bucket_of, country_map, legend, load_asset
from search_app.presenters import FacetLink
from tests.paths import ACRONYMS, CORPUS_DIR, ROOT

OUEST = "afrique-centrale-et-de-l-ouest-initiative-conjointe.md"


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def shaded_codes(page: BeautifulSoup) -> set[str]:
    return {shape["data-code"] for shape in page.select(".map-svg .map-country") if "map-b0" not in shape["class"]}


def map_link(page: BeautifulSoup, code: str):
    return page.select_one(f'.map-svg a.map-country[data-code="{code}"]')


# --- the committed asset --------------------------------------------------------------------


def test_asset_is_small_and_records_projection_and_source():
    assert ASSET.stat().st_size < 300_000
    data = json.loads(ASSET.read_text(encoding="utf-8"))
    assert data["projection"]["name"] == "equirectangular" and data["projection"]["frame"]
    assert data["viewBox"][:2] == [0, 0] and data["viewBox"][2] > data["viewBox"][3] > 0
    assert "Natural Earth" in data["source"] and "public domain" in data["source"]


def test_asset_has_every_corpus_country(index_root: Path):
    from indexer.store import current_generation

    codes = current_generation(index_root).meta["country_codes"]
    outlines = load_asset().outlines
    missing = {name for name, code in codes.items() if code != GLOBAL and code not in outlines}
    assert not missing
    for code in ("AFG", "BGD", "EGY", "ZAF", "MAR", "IND", "CHN", "IDN"):  # Africa, Middle East, Asia
        assert re.fullmatch(r"m[-\d. mz]+z", outlines[code].d), code


# --- the presenter --------------------------------------------------------------------------


def test_buckets_and_legend():
    assert [bucket_of(n) for n in (0, 1, 2, 4, 5, 9, 10, 250)] == [0, 1, 2, 2, 3, 3, 4, 4]
    assert [(b.index, b.low, b.high) for b in legend()] == [(1, 1, 1), (2, 2, 4), (3, 5, 9), (4, 10, None)]


def test_country_map_from_links_and_codes():
    asset = MapAsset("0 0 10 10", {code: Outline(code, "m0 0 1 1z", 0.5, 0.5, False) for code in ("MLI", "NER", "FRA")})
    links = [
        FacetLink("Mali", "Mali", 3, True, "/?"),
        FacetLink("Monde", "Monde", 1, False, "/?country=Monde"),
        FacetLink("Pérou", "Pérou", 1, False, "/?country=P%C3%A9rou"),
    ]
    codes = {"Mali": "MLI", "Niger": "NER", "Monde": GLOBAL, "Pérou": "PER"}
    result = country_map(links, codes, asset)
    by_code = {shape.outline.code: shape for shape in result.countries}
    assert (by_code["MLI"].count, by_code["MLI"].bucket, by_code["MLI"].selected) == (3, 2, True)
    assert by_code["MLI"].toggle_url == "/?"
    assert (by_code["NER"].count, by_code["NER"].toggle_url) == (0, None), "no result: drawn, not a link"
    assert [o.code for o in result.background] == ["FRA"]
    assert [link.value for link in result.world] == ["Monde"]
    assert [link.value for link in result.off_map] == ["Pérou"], "not on the map: listed apart"
    assert result.countries[-1].selected, "selected countries are drawn last (on top)"


def test_generation_codes_of_the_live_index(app):
    codes = map_presenter.generation_codes(app.extensions["search_service"])
    assert codes["Mali"] == "MLI" and codes["Monde"] == GLOBAL


# --- the search page ------------------------------------------------------------------------


def test_search_page_has_an_inline_svg_map_with_a_title_per_programme_country(client, programmes):
    page = soup(client.get("/"))
    section = page.select_one("section.map")
    assert section["aria-labelledby"] == "map-title" and page.select_one("#map-title").get_text() == "Carte"
    svg = section.select_one("svg.map-svg")
    assert svg["viewbox"] == load_asset().view_box
    countries = {name for p in programmes for name in p.countries} - {"Monde"}
    titles = {shape.select_one("title").get_text() for shape in svg.select(".map-country")}
    assert titles == {f"{name} : 1 programme" for name in countries}
    assert len(svg.select("a.map-country[href]")) == len(countries), "every programme country is a link"
    assert svg.select(".map-land path"), "other countries drawn as background"
    assert svg.select_one(".map-land")["aria-hidden"] == "true"


def test_counts_follow_the_query(client):
    assert shaded_codes(soup(client.get("/?q=Afghanistan"))) == {"AFG"}
    page = soup(client.get("/?q=Bangladesh"))
    assert shaded_codes(page) == {"BGD"}
    assert map_link(page, "AFG") is None, "a country without result for the query is not a link"
    mali = page.select_one('.map-svg .map-country[data-code="MLI"] title').get_text()
    assert mali == "Mali : aucun programme pour cette recherche"
    assert len(shaded_codes(soup(client.get("/")))) == 29


def test_counts_follow_the_filters(client):
    page = soup(client.get("/?region=Asie+et+Pacifique"))
    assert shaded_codes(page) == {"AFG", "BGD"}


def test_map_links_carry_the_country_facet_toggle_url(client):
    page = soup(client.get("/?q=retour&country=Mali"))
    facet = {a.select_one(".label").get_text(): a["href"] for a in page.select('[aria-labelledby="facet-country"] a')}
    assert map_link(page, "NER")["href"] == facet["Niger"]
    assert map_link(page, "MLI")["href"] == facet["Mali"]
    assert map_link(page, "CIV")["href"] == facet["Côte d’Ivoire"]


def test_clicking_a_country_link_applies_the_filter(client):
    page = soup(client.get("/"))
    filtered = soup(client.get(map_link(page, "MLI")["href"]))
    assert filtered.select_one("#results-title").get_text(strip=True) == "1 programme"
    assert "Pays : Mali" in filtered.select_one(".chips").get_text(" ", strip=True)


def test_selected_country_is_marked_and_its_link_removes_it(client):
    page = soup(client.get("/?country=Mali"))
    mali = map_link(page, "MLI")
    assert "is-selected" in mali["class"] and mali["aria-current"] == "true"
    assert mali.select_one("title").get_text() == "Mali : 1 programme (filtre actif, activer pour le retirer)"
    assert mali["href"] == "/"
    assert "is-selected" not in map_link(page, "NER")["class"]


def test_monde_is_a_global_marker_not_a_country(client):
    page = soup(client.get("/"))
    world = page.select_one(".map-extra a.map-world")
    assert world.get_text(" ", strip=True).startswith("Monde : 1 programme")
    assert world["href"] == "/?country=Monde"
    assert "Monde" not in page.select_one(".map-svg").get_text()
    selected = soup(client.get("/?country=Monde")).select_one("a.map-world")
    assert "is-selected" in selected["class"] and selected["href"] == "/"


def test_legend_lists_the_buckets(client):
    legend_text = soup(client.get("/")).select_one(".map-legend").get_text(" ", strip=True)
    for text in ("aucun", "1", "2 à 4", "5 à 9", "10 et plus", "pays sélectionné"):
        assert text in legend_text


def test_map_uses_no_inline_style_or_script(client):
    html = client.get("/").get_data(as_text=True)
    section = html[html.index('<section class="map"') : html.index("</section>", html.index('<section class="map"'))]
    assert "style=" not in section and "<script" not in section and "on" + "click" not in section


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory: pytest.TempPathFactory):
    """An app over a corpus whose Mali is named with markup (an alias gives it its code)."""
    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "programmes"
    shutil.copytree(CORPUS_DIR, corpus)
    path = corpus / OUEST
    path.write_text(path.read_text(encoding="utf-8").replace("- Mali\n", "- 'Mali <script>x</script> & \"co\"'\n"))
    (root / "country_codes.yaml").write_text(
        "aliases:\n  'Mali <script>x</script> & \"co\"': MLI\nglobal:\n  - Monde\n", encoding="utf-8"
    )
    build_index(corpus, root / "index", ACRONYMS)
    app = create_app(
        {"SEARCH_INDEX_DIR": str(root / "index"), "SEARCH_LOG": False, "TESTING": True, "ANALYTICS_ENABLED": False}
    )
    return app.test_client()


def test_everything_on_the_map_is_escaped(hostile_client):
    html = hostile_client.get("/").get_data(as_text=True)
    assert "<script>x</script>" not in html
    assert "<title>Mali &lt;script&gt;x&lt;/script&gt; &amp; &#34;co&#34; : 1 programme</title>" in html
    page = BeautifulSoup(html, "html.parser")
    link = map_link(page, "MLI")
    assert link["href"].startswith("/?country=Mali+%3Cscript%3E")


# --- the conversion script ------------------------------------------------------------------


@pytest.fixture(scope="module")
def build_map() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_map", ROOT / "scripts" / "build_map.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_topojson_arcs_are_decoded_and_rings_assembled(build_map):
    topology = {
        "transform": {"scale": [0.5, 2], "translate": [10, 20]},
        "arcs": [[[0, 0], [2, 0], [0, 1]], [[2, 1], [-2, -1]]],
    }
    arcs = build_map.decode_arcs(topology)
    assert arcs == [[(10, 20), (11, 20), (11, 22)], [(11, 22), (10, 20)]]
    assert build_map.ring_points([0, 1], arcs) == [(10, 20), (11, 20), (11, 22), (10, 20)]
    assert build_map.ring_points([~1], arcs) == [(10, 20), (11, 22)]


def test_path_data_is_compact_and_relative(build_map):
    assert [build_map.number(n) for n in (15, -3, 20, 0, -105)] == ["1.5", "-.3", "2", "0", "-10.5"]
    assert build_map.path_data([[(0, 0), (10, 0), (10, 10)], [(20, 20), (25, 20), (25, 25)]]) == (
        "m0 0 1 0 0 1zm2 2 .5 0 0 .5z"
    )


def test_clip_and_simplify(build_map):
    square = [(-5.0, -5.0), (5.0, -5.0), (5.0, 5.0), (-5.0, 5.0)]
    clipped = build_map.clip(square, (0.0, 0.0, 10.0, 10.0))
    assert {(round(x, 6), round(y, 6)) for x, y in clipped} == {(0, 0), (5, 0), (5, 5), (0, 5)}
    line = [(0.0, 0.0), (1.0, 0.01), (2.0, 0.0), (3.0, 2.0)]
    assert build_map.simplify(line, 0.1) == [(0.0, 0.0), (2.0, 0.0), (3.0, 2.0)]
