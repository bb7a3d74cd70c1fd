"""The CSV export, read back as French-locale Excel and LibreOffice read it: BOM, « ; », CRLF."""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest

from indexer.records import ObjectiveItem, Programme
from search_app.export import BULLET, LIST_SEPARATOR, objectives_cell, records_csv

FRENCH_HEADERS = ["identifiant", "titre", "région", "pays", "statut", "thèmes", "lien", "objectifs", "description",
                  "notes"]
BOM = "\ufeff"


def read_csv(text: str) -> list[list[str]]:
    """Rows of an export, with Python's csv module in the « ; » dialect, after the BOM."""
    assert text.startswith(BOM), "without the BOM, Excel reads UTF-8 as Windows-1252"
    return list(csv.reader(io.StringIO(text[len(BOM):], newline=""), delimiter=";"))


def _record(**fields: object) -> Programme:
    record: dict[str, object] = {
        "id": "x", "title": "T", "region": "R", "countries": ["Mali"], "status": "En cours", "themes": [],
        "objectives": [], "description": ["D"], "notes": [],
    }
    return Programme.from_dict({**record, **fields})


def _export(*records: Programme) -> str:
    return records_csv(records, lambda programme_id: f"https://example.org/programmes/{programme_id}")


def test_header_line_is_french_separated_by_semicolons_and_ends_with_crlf():
    text = _export(_record())
    assert text.startswith(BOM + ";".join(FRENCH_HEADERS) + "\r\n")
    assert read_csv(text)[0] == FRENCH_HEADERS
    assert text.endswith("\r\n") and text.count("\r\n") == 2  # header and one record, nothing else


def test_hostile_cells_round_trip_and_formulas_are_neutralised():
    title = 'Titre ; avec « guillemets » et "quotes"\nsur deux lignes'
    record = _record(
        id="hostile", title=title, region="=HYPERLINK(\"http://x\")", countries=["+Mali", "Niger ; Tchad"],
        status="-s", themes=["@thème", "Aide"], description=["Premier ; paragraphe", '"Second"\r\nparagraphe'],
        objectives=[{"section": "Piliers", "heading": "", "text": "=1+1"}], notes=["\tnote"],
    )
    [row] = read_csv(_export(record))[1:]
    assert dict(zip(FRENCH_HEADERS, row, strict=True)) == {
        "identifiant": "hostile",
        "titre": title,
        "région": "'=HYPERLINK(\"http://x\")",
        "pays": "'+Mali, Niger ; Tchad",
        "statut": "'-s",
        "thèmes": "'@thème, Aide",
        "lien": "https://example.org/programmes/hostile",
        "objectifs": "Piliers\u00a0: =1+1",  # a formula only counts at the start of a cell
        "description": 'Premier ; paragraphe\n\n"Second"\r\nparagraphe',
        "notes": "'\tnote",
    }


def test_objectives_keep_sections_and_headings_one_item_per_line():
    objectives = [
        {"section": "Objectif global", "heading": "", "text": "Contribuer."},
        {"section": "Piliers d’action :", "heading": "AIDE", "text": "Répondre."},
        {"section": "Piliers d’action :", "heading": "", "text": "Informer."},
        {"section": "", "heading": "", "text": "Sans section."},
    ]
    assert objectives_cell([ObjectiveItem(**item) for item in objectives]) == (
        "Objectif global\u00a0: Contribuer.\n"
        "Piliers d’action\u00a0:\n"
        "• AIDE — Répondre.\n"
        "• Informer.\n"
        "• Sans section."
    )


def _parse_objectives(cell: str) -> list[tuple[str, str]]:
    """(section, body) pairs read back from an « objectifs » cell."""
    items: list[tuple[str, str]] = []
    section = ""
    for line in cell.split("\n"):
        if line.startswith(BULLET):
            items.append((section, line[len(BULLET):]))
        elif line.endswith("\u00a0:"):
            section = line[: -len("\u00a0:")]
        else:
            label, body = line.split("\u00a0: ", 1)
            items.append((label, body))
    return items


def _stored(client, programme_id: str) -> dict:
    response = client.get(f"/api/programmes/{programme_id}")
    assert response.status_code == 200
    return response.get_json()


def test_every_programme_exports_its_stored_record_whole(client):
    rows = read_csv(client.get("/api/search?format=csv").get_data(as_text=True))
    assert rows[0] == FRENCH_HEADERS and len(rows) == 7
    for row in rows[1:]:
        cells = dict(zip(FRENCH_HEADERS, row, strict=True))
        record = _stored(client, cells["identifiant"])
        expected = [
            (o["section"].rstrip(" :\u00a0"), f"{o['heading']} — {o['text']}" if o["heading"] else o["text"])
            for o in record["objectives"]
        ]
        assert _parse_objectives(cells["objectifs"]) == expected
        assert cells["titre"] == record["title"] and cells["statut"] == record["status"]
        assert cells["pays"].split(LIST_SEPARATOR) == record["countries"]
        assert (cells["thèmes"].split(LIST_SEPARATOR) if cells["thèmes"] else []) == record["themes"]
        assert cells["description"].split("\n\n") == record["description"]
        assert cells["lien"] == f"http://localhost/programmes/{record['id']}"


def test_a_real_programme_with_headings_pillars_and_a_note(client):
    mena = "moyen-orient-et-afrique-du-nord-initiative-conjointe"
    rows = read_csv(client.get("/api/search?q=Libye&format=csv").get_data(as_text=True))
    cells = next(dict(zip(FRENCH_HEADERS, row, strict=True)) for row in rows[1:] if row[0] == mena)
    record = _stored(client, mena)
    lines = cells["objectifs"].split("\n")
    assert len([line for line in lines if line.startswith(BULLET)]) >= 3  # the three pillars, under their section
    assert any("PROTECTION ET AIDE AU RETOUR VOLONTAIRE* — " in line for line in lines)
    assert cells["notes"] == record["notes"][0] and cells["notes"].startswith("*En Libye")
    assert "Aide à la réintégration" in cells["thèmes"].split(LIST_SEPARATOR)


def test_theme_column_agrees_with_the_theme_facet(client):
    """The themes exported are those the index files under the ``theme`` facet."""
    rows = read_csv(client.get("/api/search?format=csv").get_data(as_text=True))[1:]
    exported = Counter(theme for row in rows for theme in row[5].split(LIST_SEPARATOR) if row[5])
    facet = client.get("/api/search?per_page=1").get_json()["facets"]["theme"]
    assert exported and exported == {value["label"]: value["count"] for value in facet}


@pytest.mark.parametrize("field", ["countries", "themes"])
def test_joined_cells_split_back(client, field):
    """« , » is a safe separator only while no country or theme name holds a comma."""
    data = client.get("/api/search?per_page=1").get_json()["facets"]
    names = [value["label"] for value in data["country" if field == "countries" else "theme"]]
    assert names and not [name for name in names if "," in name]
