"""The « Carte »: the committed shapes, the map presenter, and the map on the search page."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path
from types import ModuleType
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup

from indexer.build import build_index
from indexer.geography import GLOBAL
from search_app import create_app, map_presenter
from search_app.map_presenter import (
    ASPECT_MAX,
    ASPECT_MIN,
    ASSET,
    MAP_WIDTH_PX,
    Box,
    MapAsset,
    Outline,
    bucket_of,
    corpus_frame,
    country_map,
    legend,
    load_asset,
)
from search_app.presenters import FacetLink
from tests.paths import ACRONYMS, CORPUS_DIR, ROOT

OUEST = "afrique-centrale-et-de-l-ouest-initiative-conjointe.md"
SPRITE_FILE = ASSET.parent / "world.svg"


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def shape_of(page: BeautifulSoup, code: str):
    """The map's element (link or plain group) that draws country ``code``."""
    use = page.select_one(f'.map-svg use[href$="#{code}"]')
    return use.parent if use else None


def map_link(page: BeautifulSoup, code: str):
    shape = shape_of(page, code)
    return shape if shape is not None and shape.name == "a" else None


def codes_in(page: BeautifulSoup, state: str) -> set[str]:
    """Codes of the countries drawn in ``state`` (selected, matching, possible, other)."""
    return {el.select_one("use")["href"].rsplit("#", 1)[1] for el in page.select(f".map-svg .map-{state}")}


def shaded_codes(page: BeautifulSoup) -> set[str]:
    selected = {code for code in codes_in(page, "selected") if "map-b0" not in shape_of(page, code)["class"]}
    return codes_in(page, "matching") | selected


# --- the committed assets -------------------------------------------------------------------


def test_assets_are_small_and_record_projection_and_source():
    assert ASSET.stat().st_size < 50_000 and SPRITE_FILE.stat().st_size < 200_000
    data = json.loads(ASSET.read_text(encoding="utf-8"))
    assert data["projection"]["name"] == "equirectangular"
    assert data["projection"]["frame"] == {"west": -180.0, "south": -58.0, "east": 180.0, "north": 84.0}
    assert data["viewBox"][:2] == [0, 0] and data["viewBox"][2] > data["viewBox"][3] > 0
    assert "Natural Earth" in data["source"] and "public domain" in data["source"]


def test_sprite_and_boxes_cover_every_corpus_country_and_the_world(index_root: Path):
    from indexer.store import current_generation

    codes = current_generation(index_root).meta["country_codes"]
    outlines = load_asset().outlines
    sprite = ElementTree.parse(SPRITE_FILE).getroot()
    paths = {el.get("id"): el.get("d") for el in sprite.iter("{http://www.w3.org/2000/svg}path")}
    assert paths.keys() == outlines.keys()
    missing = {name for name, code in codes.items() if code != GLOBAL and code not in outlines}
    assert not missing
    for code in ("AFG", "BGD", "EGY", "ZAF", "COL", "UKR", "USA", "AUS", "BRA"):  # the whole world
        assert re.fullmatch(r"m[-\d. mz]+z", paths[code]), code
        box = outlines[code].box
        assert 0 <= box.x0 < box.x1 <= load_asset().world.x1 and box.x0 <= outlines[code].x <= box.x1, code
    assert outlines["COL"].box.x1 < outlines["MLI"].box.x0 < outlines["AFG"].box.x0  # west to east


# --- the presenter --------------------------------------------------------------------------


def test_buckets_and_legend():
    assert [bucket_of(n) for n in (0, 1, 2, 4, 5, 9, 10, 250)] == [0, 1, 2, 2, 3, 3, 4, 4]
    assert [(b.index, b.low, b.high) for b in legend()] == [(1, 1, 1), (2, 2, 4), (3, 5, 9), (4, 10, None)]


def _asset(**boxes: tuple[float, float, float, float]) -> MapAsset:
    outlines = {
        code: Outline(code, Box(*box), (box[0] + box[2]) / 2, (box[1] + box[3]) / 2) for code, box in boxes.items()
    }
    return MapAsset(Box(0, 0, 2000, 1000), outlines)


def test_the_frame_holds_the_corpus_countries_with_a_margin_in_landscape_shape():
    asset = _asset(
        MLI=(900, 400, 960, 460), NER=(960, 400, 1020, 460), COL=(500, 500, 560, 580), FRA=(950, 200, 990, 240)
    )
    frame = corpus_frame(["MLI", "NER"], asset)
    assert frame.x0 < 900 and frame.x1 > 1020 and frame.y0 < 400 and frame.y1 > 460
    assert ASPECT_MIN <= frame.width / frame.height <= ASPECT_MAX + 1e-9
    wider = corpus_frame(["MLI", "NER", "COL"], asset)
    assert wider.x0 < 500 < 560 < wider.x1 and wider.y1 > 580, "a Colombian programme widens the frame"
    assert corpus_frame(["XXX"], asset) == asset.world, "nothing on the map: the whole world"
    assert corpus_frame(["MLI"], _asset(MLI=(0, 0, 1990, 10))).x0 == 0, "the frame stays inside the world"


def test_country_map_states_from_links_and_codes():
    asset = _asset(
        MLI=(900, 400, 960, 460), NER=(960, 400, 1020, 460), TCD=(1020, 400, 1080, 460), SEN=(880, 420, 882, 422)
    )
    links = [
        FacetLink("Mali", "Mali", 3, True, "/?", matching=3),
        FacetLink("Niger", "Niger", 2, False, "/?country=Mali&country=Niger", matching=1),
        FacetLink("Tchad", "Tchad", 1, False, "/?country=Mali&country=Tchad", matching=0),
        FacetLink("Monde", "Monde", 1, False, "/?country=Monde"),
        FacetLink("Pérou", "Pérou", 1, False, "/?country=P%C3%A9rou"),
    ]
    codes = {"Mali": "MLI", "Niger": "NER", "Tchad": "TCD", "Sénégal": "SEN", "Monde": GLOBAL, "Pérou": "PER"}
    result = country_map(links, codes, asset)
    by_code = {shape.outline.code: shape for shape in result.countries}
    assert [(c, by_code[c].state, by_code[c].bucket) for c in ("MLI", "NER", "TCD", "SEN")] == [
        ("MLI", "selected", 2), ("NER", "matching", 1), ("TCD", "possible", 0), ("SEN", "other", 0)
    ]
    assert by_code["MLI"].toggle_url == "/?" and by_code["TCD"].toggle_url.endswith("Tchad")
    assert by_code["SEN"].toggle_url is None, "nothing to choose: drawn, not a link"
    assert by_code["SEN"].dot and not by_code["SEN"].marker, "a speck: a dot, but no target without a link"
    assert [link.value for link in result.global_links] == ["Monde"]
    assert [link.value for link in result.off_map] == ["Pérou"], "not on the map: listed apart"
    assert result.countries[-1].selected, "selected countries are drawn last (on top)"
    assert result.states == {"selected", "matching", "possible", "other"}


def test_small_countries_get_a_target_of_24_px_at_the_phone_width():
    asset = _asset(BIG=(0, 0, 400, 300), DJI=(390, 150, 393, 153))
    links = [FacetLink("Djibouti", "Djibouti", 1, False, "/?c", matching=1)]
    result = country_map(links, {"Grand": "BIG", "Djibouti": "DJI"}, asset)
    px_per_unit = MAP_WIDTH_PX / result.frame.width
    djibouti = next(s for s in result.countries if s.outline.code == "DJI")
    assert djibouti.marker and djibouti.dot
    assert 2 * result.marker_radius * px_per_unit >= 24


def test_generation_codes_of_the_live_index(app):
    codes = map_presenter.generation_codes(app.extensions["search_service"])
    assert codes["Mali"] == "MLI" and codes["Monde"] == GLOBAL


# --- the search page ------------------------------------------------------------------------


def test_the_map_draws_the_cached_sprite_with_a_title_per_programme_country(client, programmes):
    page = soup(client.get("/"))
    section = page.select_one("section.map")
    assert section["aria-labelledby"] == "map-title" and page.select_one("#map-title").get_text() == "Carte"
    svg = section.select_one("svg.map-svg")
    codes = map_presenter.generation_codes(client.application.extensions["search_service"])
    frame = corpus_frame(set(codes.values()), load_asset())
    assert svg["viewbox"] == frame.view_box and svg["data-world"] == load_asset().world.view_box
    countries = {name for p in programmes for name in p.countries} - {"Monde"}
    titles = {shape.select_one("title").get_text() for shape in svg.select("a, .map-other")}
    assert titles == {f"{name}\u00a0: 1 programme" for name in countries}
    assert len(svg.select("a[href]")) == len(countries), "every programme country is a link"
    land = svg.select_one("image.map-land")
    assert re.fullmatch(r"/static/map/world.svg\?v=[0-9a-f]+", land["href"]) and land["aria-hidden"] == "true"
    assert (float(land["width"]), float(land["height"])) == (load_asset().world.width, load_asset().world.height)
    assert not svg.select("path"), "no shape inline: every one is a <use> of the sprite"
    sprite = client.get(land["href"])
    sprite.close()
    assert sprite.status_code == 200 and sprite.mimetype == "image/svg+xml"


def test_a_results_page_weighs_under_30_kb(client):
    assert len(client.get("/?q=migrants").data) < 30_000


def test_counts_follow_the_query(client):
    assert shaded_codes(soup(client.get("/?q=Afghanistan"))) == {"AFG"}
    page = soup(client.get("/?q=Bangladesh"))
    assert shaded_codes(page) == {"BGD"}
    assert map_link(page, "AFG") is None, "a country without result for the query is not a link"
    assert shape_of(page, "MLI").select_one("title").get_text() == "Mali\u00a0: aucun programme pour cette recherche"
    assert len(shaded_codes(soup(client.get("/")))) == 29


def test_counts_follow_the_filters(client):
    page = soup(client.get("/?region=Asie+et+Pacifique"))
    assert shaded_codes(page) == {"AFG", "BGD"}


def test_after_choosing_mali_the_map_does_not_say_that_29_countries_match(client, programmes):
    page = soup(client.get("/?country=Mali"))
    with_mali = {name for p in programmes if "Mali" in p.countries for name in p.countries}
    codes = map_presenter.generation_codes(client.application.extensions["search_service"])
    assert codes_in(page, "selected") == {"MLI"}
    assert codes_in(page, "matching") == {codes[name] for name in with_mali} - {"MLI"}
    possible = codes_in(page, "possible")
    assert possible and not possible & codes_in(page, "matching")
    assert "aussi possible" in page.select_one(".map-legend").get_text()
    title = shape_of(page, next(iter(possible))).select_one("title").get_text()
    assert "aucun des résultats actuels, 1 programme en l’ajoutant au filtre" in title


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
    assert "Pays\u00a0: Mali" in filtered.select_one(".chips").get_text(" ", strip=True)


def test_selected_country_is_marked_and_its_link_removes_it(client):
    page = soup(client.get("/?country=Mali"))
    mali = map_link(page, "MLI")
    assert "map-selected" in mali["class"] and mali["aria-current"] == "true"
    assert mali.select_one("title").get_text() == "Mali\u00a0: 1 programme (filtre actif, activer pour le retirer)"
    assert mali["href"] == "/"
    assert "map-selected" not in map_link(page, "NER")["class"]


def test_monde_is_a_global_marker_not_a_country(client):
    page = soup(client.get("/"))
    world = page.select_one(".map-extra a.map-world")
    assert world.get_text(" ", strip=True).startswith("Monde\u00a0: 1 programme")
    assert world["href"] == "/?country=Monde"
    assert "Monde" not in page.select_one(".map-svg").get_text()
    selected = soup(client.get("/?country=Monde")).select_one("a.map-world")
    assert "is-selected" in selected["class"] and selected["href"] == "/"


def test_legend_lists_the_buckets(client):
    legend_text = soup(client.get("/")).select_one(".map-legend").get_text(" ", strip=True)
    for text in ("1", "2 à 4", "5 à 9", "10 et plus"):
        assert text in legend_text
    assert "pays sélectionné" not in legend_text, "the legend names only what the map shows"
    assert "pays sélectionné" in soup(client.get("/?country=Mali")).select_one(".map-legend").get_text()


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
    assert "<title>Mali &lt;script&gt;x&lt;/script&gt; &amp; &#34;co&#34;\u00a0: 1 programme</title>" in html
    page = BeautifulSoup(html, "html.parser")
    link = map_link(page, "MLI")
    assert link["href"].startswith("/?country=Mali+%3Cscript%3E")


@pytest.fixture(scope="module")
def colombian_client(tmp_path_factory: pytest.TempPathFactory):
    """An app over the corpus plus a programme in Colombia (nowhere near the others)."""
    root = tmp_path_factory.mktemp("colombia")
    corpus = root / "programmes"
    shutil.copytree(CORPUS_DIR, corpus)
    source = (corpus / "bangladesh-reintegration-durable.md").read_text(encoding="utf-8")
    text = source.replace("id: bangladesh-reintegration-durable", "id: colombie-retour")
    text = text.replace("- Bangladesh\n", "- Colombie\n")
    (corpus / "colombie-retour.md").write_text(text, encoding="utf-8")
    build_index(corpus, root / "index", ACRONYMS)
    app = create_app(
        {"SEARCH_INDEX_DIR": str(root / "index"), "SEARCH_LOG": False, "TESTING": True, "ANALYTICS_ENABLED": False}
    )
    return app.test_client()


def test_a_programme_in_colombia_widens_the_frame_without_touching_code(client, colombian_client):
    usual = [float(v) for v in soup(client.get("/")).select_one(".map-svg")["viewbox"].split()]
    page = soup(colombian_client.get("/"))
    frame = [float(v) for v in page.select_one(".map-svg")["viewbox"].split()]
    colombia = load_asset().outlines["COL"].box
    assert frame[0] < colombia.x0 and colombia.x1 < frame[0] + frame[2] and frame[0] < usual[0]
    assert map_link(page, "COL")["href"] == "/?country=Colombie"


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
