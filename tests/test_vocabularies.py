"""corpus/synonyms.yaml and corpus/themes.yaml: validation, theme assignment, use at query time."""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from indexer.build import build_index, prepare_corpus
from indexer.corpus import CorpusError
from indexer.scan import scan_corpus
from indexer.store import current_generation
from indexer.synonym_groups import analysed_synonyms
from indexer.vocabularies import check_theme_expressions, load_synonyms, parse_themes, read_synonyms
from tests.paths import CORPUS_DIR

ROOT = CORPUS_DIR.parent


def themes_by_id(path: Path) -> dict[str, set[str]]:
    """The themes of each real record, assigned and checked as the build does (prepare_corpus)."""
    themes = parse_themes(path)
    scan = scan_corpus(CORPUS_DIR, themes)
    check_theme_expressions(path, themes, scan.expressions)
    return {record.id: set(record.themes) for record in scan.records}


def test_real_files_are_valid(programmes):
    groups = load_synonyms(ROOT / "synonyms.yaml")
    assert groups[0][:3] == ("OIM", "IOM", "Organisation internationale pour les migrations")
    assert len(parse_themes(ROOT / "themes.yaml")) == 7
    assert all(themes_by_id(ROOT / "themes.yaml").values())  # every programme has a theme


def test_bangladesh_components_and_rada_result_areas_share_the_pillars_themes(programmes):
    by_id = themes_by_id(ROOT / "themes.yaml")
    pillars = by_id["afrique-centrale-et-de-l-ouest-initiative-conjointe"]
    assert {"Aide à la réintégration", "Information et sensibilisation", "Gouvernance des migrations"} <= (
        by_id["bangladesh-reintegration-durable"]
    )
    assert {"Aide à la réintégration", "Renforcement des capacités", "Données migratoires"} <= by_id["afghanistan-rada"]
    assert by_id["bangladesh-reintegration-durable"] <= pillars and by_id["afghanistan-rada"] <= pillars


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- [OIM]\n", "au moins deux formes"),
        ("- [OIM, IOM]\n- [oim, UN]\n", "figure déjà dans le groupe de la ligne 1"),
        ("- [OIM, IOM\n", "YAML invalide"),
        ("groupe: OIM\n", "liste de groupes"),
    ],
)
def test_bad_synonyms_are_reported_with_line(tmp_path, text, message):
    with pytest.raises(CorpusError) as error:
        load_synonyms(_write(tmp_path, "synonyms.yaml", text))
    assert message in str(error.value) and "synonyms.yaml" in str(error.value)


def test_a_synonym_made_of_stop_words_is_refused():
    with pytest.raises(CorpusError) as error:
        analysed_synonyms([("UE", "eu")], frozenset(), "corpus/synonyms.yaml")
    assert "« eu »" in str(error.value)  # the participle; « EU » in capitals is the Union


def test_a_synonym_made_of_stop_words_is_reported_with_its_line(tmp_path: Path):
    path = _write(tmp_path, "synonyms.yaml", "- [OIM, IOM]\n- [UE, eu]\n")
    with pytest.raises(CorpusError) as error:
        analysed_synonyms(read_synonyms(path), frozenset({"ue"}))
    assert f"{path}:2: forme(s) faite(s) uniquement de mots vides, introuvables : « eu »" in str(error.value)


def test_a_form_written_twice_in_one_group_is_searched_once():
    group = ("ONG", "organisation non gouvernementale", "organisations non gouvernementales")
    groups = analysed_synonyms([group], frozenset())
    assert [form["text"] for form in groups[0]] == ["ONG", "organisation non gouvernementale"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- theme: Eau\n  headings: [irrigatoin des champs]\n", "ne correspond à aucun objectif"),
        ("- headings: [AIDE À LA RÉINTÉGRATION]\n", "nom de thème manquant"),
        ("- theme: Eau\n", "liste d’intitulés manquante"),
    ],
)
def test_bad_themes_are_reported_with_line(tmp_path, programmes, text, message):
    with pytest.raises(CorpusError) as error:
        themes_by_id(_write(tmp_path, "themes.yaml", text))
    assert message in str(error.value) and ":1:" in str(error.value)


def test_prepared_records_carry_their_themes_into_the_stored_records(tmp_path: Path):
    prepared = prepare_corpus(CORPUS_DIR)
    assert all(r.themes for r in prepared.records)
    build_index(CORPUS_DIR, tmp_path)
    with whoosh_index.open_dir(str(current_generation(tmp_path).path)).searcher() as searcher:
        stored = {fields["id"]: fields["record"]["themes"] for fields in searcher.all_stored_fields()}
    assert stored == {r.id: list(r.themes) for r in prepared.records}


def test_synonym_search_says_it_was_broadened_and_marks_the_form_found(client):
    data = client.get("/api/search?q=SDG").get_json()
    assert any("Recherche élargie à\u00a0: ODD" in notice for notice in data["notices"])
    snippets = " ".join(" ".join(r["snippets"].values()) for r in data["results"])
    assert "<mark>ODD</mark>" in snippets and "<mark>SDG</mark>" in snippets
    assert "<mark>objectifs</mark> de <mark>développement</mark> <mark>durable</mark>" in snippets


def test_theme_facet_has_disjunctive_counts_and_filters(client):
    data = client.get("/api/search?theme=Stabilisation+des+communautes").get_json()
    assert [r["id"] for r in data["results"]] == ["afrique-centrale-et-de-l-ouest-initiative-conjointe"]
    themes = {f["value"]: f["count"] for f in data["facets"]["theme"]}
    assert themes["Aide à la réintégration"] == 6 and themes["Stabilisation des communautés"] == 1
