"""« Programmes similaires »: true reasons, score order, a threshold chosen on the real corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from indexer.build import build_index
from indexer.records import Programme
from search_app import create_app
from search_app.holder import IndexHolder
from search_app.similar import SIMILAR_LIMIT, THRESHOLD, rarity, score_matrix, similar_programmes
from tests.paths import ACRONYMS, ROOT

AFG, BGD = "afghanistan-rada", "bangladesh-reintegration-durable"
AUSTRALE = "afrique-australe-action-pilote"
MENA = "moyen-orient-et-afrique-du-nord-initiative-conjointe"


def state_of(root: Path):
    return IndexHolder(root).current()


def records_of(state) -> dict[str, tuple[int, Programme]]:
    reader = state.searcher().reader()
    return {fields["id"]: (number, state.programme(number)) for number, fields in reader.iter_docs()}


def test_rarity_is_zero_for_a_theme_every_programme_has():
    assert rarity(6, 6) == 0.0
    assert rarity(1, 6) == 1.0
    assert rarity(5, 6) < rarity(3, 6) < rarity(2, 6)


def test_every_reason_is_true_and_the_list_is_ordered_by_score(index_root: Path):
    state = state_of(index_root)
    records = records_of(state)
    everywhere = {t for t in records[AFG][1].themes if all(t in r.themes for _, r in records.values())}
    assert everywhere  # the real corpus has themes every programme shares: they must never be a reason
    listed = 0
    for programme_id, (number, record) in records.items():
        found = similar_programmes(state, number, record)
        assert len(found) <= SIMILAR_LIMIT and programme_id not in [f.id for f in found]
        assert [f.score for f in found] == sorted((f.score for f in found), reverse=True)
        for other in found:
            other_record = records[other.id][1]
            assert other.score >= THRESHOLD
            assert other.same_region or other.countries or other.themes
            assert other.same_region in ("", record.region) and (other.same_region == "") == (
                record.region != other_record.region
            )
            assert all(c in record.countries and c in other_record.countries for c in other.countries)
            assert all(t in record.themes and t in other_record.themes for t in other.themes)
            assert not set(other.themes) & everywhere
            listed += 1
    assert listed  # not a vacuous loop


def test_the_threshold_sits_in_a_gap_of_the_real_scores(index_root: Path):
    """The figures of the similar module's docstring: no pair of the six programmes scores within
    0.05 of the threshold, the matrix is symmetric, and the pages list what it says."""
    state = state_of(index_root)
    ids, scores = score_matrix(state)
    assert len(ids) == 6
    pairs = [scores[i][j] for i in range(6) for j in range(6) if i != j]
    assert all(abs(score - THRESHOLD) > 0.05 for score in pairs), sorted(pairs)
    assert all(abs(scores[i][j] - scores[j][i]) < 1e-9 for i in range(6) for j in range(6))
    records = records_of(state)
    for i, programme_id in enumerate(ids):
        number, record = records[programme_id]
        above = {ids[j]: scores[i][j] for j in range(6) if j != i and scores[i][j] >= THRESHOLD}
        found = similar_programmes(state, number, record)
        assert {f.id: pytest.approx(f.score) for f in found} == above
    # What the docstring says of the figures: the pilot action shares only a theme five programmes
    # have with the others (not listed anywhere), the two Asian projects come first for each other.
    assert similar_programmes(state, *records[AUSTRALE]) == []
    first = similar_programmes(state, *records[AFG])[0]
    assert (first.id, first.same_region) == (BGD, "Asie et Pacifique")
    assert AFG not in [f.id for f in similar_programmes(state, *records[MENA])]


LIBYA_RECORD = """---
id: libye-retours
title: 'Libye — <script>alert(1)</script> Projet de retours'
region: Moyen-Orient et Afrique du Nord
countries:
- Libye
- Niger
status: En cours
source: sources/actions-ue-oim.fr.txt
source_url: https://example.org/programmes/libye?a=1&b=2
objectives:
- section: Objectif global
  text: Appuyer le retour volontaire des migrants bloqués en Libye.
notes: []
---

Le projet aide les migrants bloqués en Libye et au Niger à rentrer chez eux dans la dignité.
"""

NOTHING_IN_COMMON = """---
id: colombie-cartes
title: Colombie — Cartographie des glaciers andins
region: Amérique latine et Caraïbes
countries:
- Colombie
status: En cours
source: sources/actions-ue-oim.fr.txt
objectives: []
notes: []
---

Relevés topographiques des glaciers de la cordillère, photographies aériennes et cartes altimétriques.
"""


@pytest.fixture(scope="module")
def extra_client(tmp_path_factory: pytest.TempPathFactory):
    """The real corpus plus a Libya record (shares countries and a region) and one sharing nothing."""
    root = tmp_path_factory.mktemp("similar")
    shutil.copytree(ROOT / "corpus", root / "corpus")
    (root / "corpus" / "programmes" / "libye-retours.md").write_text(LIBYA_RECORD, encoding="utf-8")
    (root / "corpus" / "programmes" / "colombie-cartes.md").write_text(NOTHING_IN_COMMON, encoding="utf-8")
    build_index(root / "corpus" / "programmes", root / "index", ACRONYMS)
    app = create_app(
        {"SEARCH_INDEX_DIR": str(root / "index"), "SEARCH_LOG": False, "TESTING": True, "ANALYTICS_ENABLED": False}
    )
    return app.test_client()


def page_of(client, programme_id: str) -> BeautifulSoup:
    response = client.get(f"/programmes/{programme_id}")
    assert response.status_code == 200
    return BeautifulSoup(response.data, "html.parser")


def test_a_programme_sharing_nothing_has_no_similar_section(extra_client):
    page = page_of(extra_client, "colombie-cartes")
    assert page.select_one(".similar") is None
    assert "Programmes similaires" not in page.get_text()
    assert page.select_one(".source-link") is None  # no source_url: nothing shown
    for other in ("libye-retours", MENA, AFG):
        assert "colombie-cartes" not in " ".join(a["href"] for a in page_of(extra_client, other).select(".similar a"))


def test_shared_countries_and_region_are_said_and_escaped(extra_client):
    page = page_of(extra_client, MENA)
    items = page.select(".similar > ul > li")
    (libya,) = [li for li in items if li.a["href"] == "/programmes/libye-retours"]
    assert libya.a.get_text() == "Libye — <script>alert(1)</script> Projet de retours"
    reasons = [li.get_text() for li in libya.select(".why li")]
    assert reasons[:2] == ["Même région\u00a0: Moyen-Orient et Afrique du Nord", "Pays en commun\u00a0: Libye"]
    html = extra_client.get(f"/programmes/{MENA}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    data = extra_client.get(f"/api/programmes/{MENA}").get_json()
    (entry,) = [s for s in data["similar"] if s["id"] == "libye-retours"]
    assert entry["reasons"]["region"] == "Moyen-Orient et Afrique du Nord"
    assert entry["reasons"]["countries"] == ["Libye"]


def test_source_url_is_a_link_when_present(extra_client):
    page = page_of(extra_client, "libye-retours")
    link = page.select_one(".source-link a")
    assert link.get_text() == "Page source du programme"
    assert link["href"] == "https://example.org/programmes/libye?a=1&b=2"
    assert 'href="https://example.org/programmes/libye?a=1&amp;b=2"' in str(
        extra_client.get("/programmes/libye-retours").get_data(as_text=True)
    )
    assert extra_client.get("/api/programmes/libye-retours").get_json()["source_url"] == link["href"]


def test_similar_command_prints_the_matrix_and_the_threshold(app):
    result = app.test_cli_runner().invoke(args=["similar"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"seuil\u00a0: {THRESHOLD}"
    rows = {line.split()[-1]: line.split()[1:-1] for line in lines[2:]}
    assert len(rows) == 6 and rows[AFG][0] == "-"
    ids, scores = score_matrix(state_of_app(app))
    assert rows[AFG][ids.index(BGD)] == f"{scores[ids.index(AFG)][ids.index(BGD)]:.2f}"


def state_of_app(app):
    return app.extensions["search_service"].holder.current()


def test_docstring_examples():
    import doctest

    from search_app import similar

    assert doctest.testmod(similar).failed == 0
