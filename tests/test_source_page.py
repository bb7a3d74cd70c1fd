"""The importer on the real page."""

from __future__ import annotations

from indexer.source_page import parse_page
from tests.paths import SOURCE_PAGE


def _parsed():
    return parse_page(SOURCE_PAGE.read_text(encoding="utf-8"), "sources/actions-ue-oim.fr.txt")


def test_six_programmes_with_regions_and_statuses():
    programmes = _parsed()
    assert [(p.region, p.status) for p in programmes] == [
        ("Moyen-Orient et Afrique du Nord", "Activités achevées"),
        ("Afrique de l’Est et Corne de l’Afrique", "Activités achevées"),
        ("Afrique centrale et de l’Ouest", "En cours"),
        ("Afrique australe", "En cours"),
        ("Asie et Pacifique", "Activités achevées"),
        ("Asie et Pacifique", "Activités achevées"),
    ]


def test_countries_kept_exactly_as_written():
    programmes = _parsed()
    assert programmes[1].countries == ("Djibouti", "Éthiopie", "Kenya", "Somalie", "Soudan du Sud", "Soudan", "Ouganda")
    assert "Côte d’Ivoire" in programmes[2].countries
    assert "Guinée Bissau" in programmes[2].countries
    assert programmes[3].countries[0] == "Monde"


def test_libya_note_is_kept():
    notes = _parsed()[0].notes
    assert len(notes) == 1
    assert notes[0].startswith("*En Libye, seuls les piliers 2 et 3 s’appliquent.")


def test_pillars_have_section_and_heading():
    pillars = _parsed()[2].objectives
    assert [item.heading for item in pillars][:2] == [
        "RENFORCEMENT DES CAPACITÉS",
        "PROTECTION ET AIDE AU RETOUR VOLONTAIRE",
    ]
    assert len(pillars) == 6
    assert {item.section for item in pillars} == {"Piliers d’action"}


def test_titles_and_ids_derived_from_the_text():
    programmes = _parsed()
    assert programmes[5].id == "afghanistan-rada"
    assert "RADA" in programmes[5].title
    assert programmes[3].title == "Afrique australe — Action pilote"
    assert len({p.id for p in programmes}) == 6


def test_no_break_spaces_and_typographic_apostrophes_kept():
    first = _parsed()[0].description[0]
    assert "conjointe\u00a0UE-OIM" in first
    assert "l’Afrique" in first
