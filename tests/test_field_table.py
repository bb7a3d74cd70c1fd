"""The field and facet table of indexer/schema.py is the one source: every consumer reads it, and adding
a facet (or a field query) is one line there."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from bs4 import BeautifulSoup

from indexer.cli import main
from indexer.schema import (
    FACET_FIELDS,
    FACET_TABLE,
    FIELD_BOOSTS,
    FIELD_TABLE,
    QUERY_FIELDS,
    SCHEMA_REVISION,
    SCHEMA_VERSION,
    SNIPPET_FIELDS,
)
from search_app.facets import FACETS
from search_app.openapi import openapi_document
from search_app.presenters import FACET_HELP, FACET_LABELS
from search_app.query_parser import FIELD_ALIASES, OPERATORS, Word, parse_query
from tests.paths import ACRONYMS, CORPUS_DIR, ROOT


def test_every_consumer_names_the_table_s_facets(client, index_root: Path, capsys):
    names = [facet.name for facet in FACET_TABLE]
    assert list(FACETS) == names == list(FACET_FIELDS) == list(FACET_LABELS)
    assert [(facet.label, facet.help) for facet in FACET_TABLE] == FACET_HELP
    search = openapi_document()["paths"]["/api/search"]["get"]["parameters"]
    assert [p["name"] for p in search if p["name"] in names] == names
    page = BeautifulSoup(client.get("/?q=retour").data, "html.parser")
    assert [h.get_text() for h in page.select(".facet h3")] == [facet.label for facet in FACET_TABLE]
    assert list(client.get("/api/search?q=retour").get_json()["facets"]) == names
    assert main(["stats", "--index", str(index_root)]) == 0
    headings = [line for line in capsys.readouterr().out.splitlines() if line and not line.startswith(" ")][3:]
    assert headings == [facet.heading for facet in FACET_TABLE]


def test_every_consumer_names_the_table_s_fields(client):
    assert {alias: f.name for f in FIELD_TABLE for alias in f.aliases} == FIELD_ALIASES
    for field in QUERY_FIELDS:
        for alias in field.aliases:
            parsed = parse_query(f"{alias}:Mali")
            assert parsed.tree == Word("Mali", field.name) and parsed.understood_as == f"{field.aliases[0]}:Mali"
    # the order of the texts in ``content`` (positions, hence the index) is the boost order, as before the table
    content_order = ["title", "countries", "status", "region", "themes", "objectives", "description", "notes"]
    assert list(FIELD_BOOSTS) == content_order
    page = BeautifulSoup(client.get("/?q=reintegration+Afghanistan").data, "html.parser")
    shown = {span.get_text().rstrip(" :\u00a0") for span in page.select(".snippet-field, .why li strong")}
    labels = {field.label.capitalize() for field in FIELD_TABLE if field.snippet or field.explain}
    assert {"Description", "Titre", "Pays"} <= shown <= labels
    assert set(SNIPPET_FIELDS) == {"description", "objectives", "notes"}


def test_the_help_page_lists_what_the_parser_understands(client):
    codes = [code.get_text() for code in BeautifulSoup(client.get("/aide").data, "html.parser").select("td code")]
    for alias in FIELD_ALIASES:
        assert f"{alias}:" in codes or any(code.startswith(f"{alias}:") for code in codes), alias
    words = {word for code in codes for word in code.split()}
    assert set(OPERATORS) <= words, set(OPERATORS) - words
    for field in QUERY_FIELDS:
        assert parse_query(f"{field.aliases[0]}:{field.example}").tree.field == field.name


#: The two lines the test adds to the table: a facet over the records' ``id`` and a field query over ``source``.
ADDED_FACET = '    Facet("programme", "id", "Programme", "Programmes", "la fiche elle-même"),\n'
ADDED_FIELD = '    Field("source", "source", aliases=("source", "origine")),\n'

#: Run in a copy of the packages whose table has the two lines: build, then look at every consumer.
CHILD = """
import contextlib, io, json, sys
from pathlib import Path
import indexer.schema
assert indexer.schema.__file__.startswith(sys.argv[1]), indexer.schema.__file__
from indexer.build import build_index
from indexer.cli import main
from search_app import create_app
root = Path(sys.argv[2])
build_index(Path(sys.argv[3]), root, Path(sys.argv[4]))
app = create_app({"SEARCH_INDEX_DIR": str(root), "SEARCH_LOG": False, "TESTING": True,
                  "ANALYTICS_DB": str(root / "analytics.sqlite3")})
client = app.test_client()
api = lambda url: client.get(url).get_json()
out = io.StringIO()
with contextlib.redirect_stdout(out):
    main(["stats", "--index", str(root)])
print(json.dumps({
    "filtered": api("/api/search?programme=Afghanistan-RADA"),
    "all": api("/api/search"),
    "field_query": api("/api/search?q=origine:actions"),
    "field_query_none": api("/api/search?q=source:zorglub"),
    "html": client.get("/?programme=afghanistan-rada").data.decode(),
    "help": client.get("/aide").data.decode(),
    "openapi": api("/api/openapi.json"),
    "stats": out.getvalue(),
    "schema_version": indexer.schema.SCHEMA_VERSION,
}))
"""


def _table_with_added_lines(copy: Path) -> None:
    schema = copy / "indexer" / "schema.py"
    lines = schema.read_text(encoding="utf-8").splitlines(keepends=True)
    facet_end = next(i for i, line in enumerate(lines) if line.startswith('    Facet("theme"'))
    field_end = next(i for i, line in enumerate(lines) if line.startswith('    Field("notes"'))
    lines.insert(facet_end + 1, ADDED_FACET)
    lines.insert(field_end + 1, ADDED_FIELD)
    schema.write_text("".join(lines), encoding="utf-8")


def test_a_facet_and_a_field_query_are_one_line_each_in_the_table(tmp_path: Path):
    copy = tmp_path / "project"
    for name in ("indexer", "search_app", "templates"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    _table_with_added_lines(copy)
    args = [str(copy), str(tmp_path / "index"), str(CORPUS_DIR), str(ACRONYMS)]
    run = subprocess.run(
        [sys.executable, "-c", CHILD, *args], cwd=copy, env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    seen = json.loads(run.stdout)
    assert seen["filtered"]["total"] == 1 and seen["filtered"]["results"][0]["id"] == "afghanistan-rada"
    values = {v["value"]: v["count"] for v in seen["all"]["facets"]["programme"]}
    assert len(values) == seen["all"]["total"] == 6 and set(values.values()) == {1}
    assert seen["field_query"]["total"] == 6 and seen["field_query"]["understood_as"] == "source:actions"
    assert seen["field_query_none"]["total"] == 0
    page = BeautifulSoup(seen["html"], "html.parser")
    assert page.select_one("#facet-programme").get_text() == "Programme"
    assert "afghanistan-rada" in page.select_one(".chips").get_text()
    assert "Programme" in [li.strong.get_text() for li in BeautifulSoup(seen["help"], "html.parser").select(
        "ul.facet-help li")]
    help_codes = [code.get_text() for code in BeautifulSoup(seen["help"], "html.parser").select("td code")]
    assert "source:…" in help_codes and "origine:" in help_codes, "/aide lists the new field query"
    search = seen["openapi"]["paths"]["/api/search"]["get"]["parameters"]
    assert "programme" in [p["name"] for p in search]
    assert "\nProgrammes\n" in seen["stats"] and "afghanistan-rada" in seen["stats"]
    assert seen["schema_version"] != SCHEMA_VERSION, "another table: generations of this one are refused"
    assert seen["schema_version"].startswith(f"{SCHEMA_REVISION}-")
