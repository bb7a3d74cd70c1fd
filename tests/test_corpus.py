"""Loading and validating the record files: every problem reported with file, line and field."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from indexer.corpus import CorpusError, CorpusProblem, load_corpus, render_record
from indexer.records import KNOWN_STATUSES, normalise_space
from tests.paths import CORPUS_DIR

RADA = "afghanistan-rada.md"
BANGLADESH = "bangladesh-reintegration-durable.md"
MENA = "moyen-orient-et-afrique-du-nord-initiative-conjointe.md"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A private copy of the real corpus, to break at will."""
    directory = tmp_path / "programmes"
    directory.mkdir()
    for path in CORPUS_DIR.glob("*.md"):
        shutil.copy(path, directory / path.name)
    return directory


def edit(path: Path, pattern: str, replacement: str) -> None:
    """Replace exactly one line matching ``pattern`` (a regex over whole lines)."""
    text = path.read_text(encoding="utf-8")
    new, count = re.subn(pattern, replacement, text, count=1, flags=re.MULTILINE)
    assert count == 1, pattern
    path.write_text(new, encoding="utf-8")


def line_of(path: Path, prefix: str) -> int:
    lines = path.read_text(encoding="utf-8").split("\n")
    return next(number for number, line in enumerate(lines, start=1) if line.startswith(prefix))


def problems(directory: Path) -> list[CorpusProblem]:
    with pytest.raises(CorpusError) as caught:
        load_corpus(directory)
    assert caught.value.problems
    return caught.value.problems


def only_problem(directory: Path) -> CorpusProblem:
    found = problems(directory)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def test_real_corpus_is_valid(programmes):
    assert len(programmes) == 6
    assert {p.id for p in programmes} == {path.stem for path in CORPUS_DIR.glob("*.md")}
    assert {p.status for p in programmes} <= set(KNOWN_STATUSES)
    assert all(p.title and p.region and p.countries and p.description and p.source for p in programmes)


def test_missing_required_field(corpus: Path):
    edit(corpus / BANGLADESH, r"^region: .*\n", "")
    problem = only_problem(corpus)
    assert problem.path == str(corpus / BANGLADESH)
    assert problem.field == "region"
    assert problem.line == 1  # absent: reported at the start of the header
    assert "champ obligatoire manquant" in problem.message
    assert str(problem).startswith(f"{corpus / BANGLADESH}:1: [region] ")


@pytest.mark.parametrize("empty", ["''", '""', "' '", ""])
def test_empty_field(corpus: Path, empty: str):
    edit(corpus / RADA, r"^title: .*$", f"title: {empty}")
    problem = only_problem(corpus)
    assert (problem.path, problem.field) == (str(corpus / RADA), "title")
    assert problem.line == line_of(corpus / RADA, "title:") == 3
    assert "manquant ou vide" in problem.message


def test_empty_country_list(corpus: Path):
    path = corpus / BANGLADESH
    edit(path, r"^- Bangladesh\n", "")
    edit(path, r"^countries:$", "countries: []")
    problem = only_problem(corpus)
    assert (problem.field, problem.line) == ("countries", line_of(path, "countries:"))


def test_unknown_status(corpus: Path):
    edit(corpus / RADA, r"^status: .*$", "status: Terminé")
    problem = only_problem(corpus)
    assert (problem.path, problem.field) == (str(corpus / RADA), "status")
    assert problem.line == line_of(corpus / RADA, "status:")
    assert "statut inconnu « Terminé »" in problem.message
    assert all(status in problem.message for status in KNOWN_STATUSES)


@pytest.mark.parametrize(
    "value",
    ["www.iom.int/fr", "ftp://iom.int/page", "javascript:alert(1)", "https://", "https://iom.int/a page", "/relative",
     "http://iom.int:99999/", "12", "[https://iom.int]"],
)
def test_invalid_source_url(corpus: Path, value: str):
    edit(corpus / RADA, r"^source_url: .*$", f"source_url: {value}")
    problem = only_problem(corpus)
    assert (problem.path, problem.field) == (str(corpus / RADA), "source_url")
    assert problem.line == line_of(corpus / RADA, "source_url:")
    assert "http:// ou https://" in problem.message


@pytest.mark.parametrize("value", ["https://www.iom.int/fr/eu-iom", "http://example.org/p?id=1&x=2#section"])
def test_valid_source_url_is_kept(corpus: Path, value: str):
    edit(corpus / RADA, r"^source_url: .*$", f"source_url: '{value}'")
    (programme,) = [p for p in load_corpus(corpus) if p.id == "afghanistan-rada"]
    assert programme.source_url == value
    assert programme.to_dict()["source_url"] == value


def test_source_url_may_be_absent_or_empty(corpus: Path, programmes):
    assert all(p.source_url == "" for p in programmes)  # the page gives no address: none invented
    edit(corpus / RADA, r"^source_url: .*\n", "")
    assert {p.id: p.source_url for p in load_corpus(corpus)}["afghanistan-rada"] == ""


def test_duplicate_id_across_two_files(corpus: Path):
    copy = corpus / "zz-copie-de-rada.md"
    shutil.copy(corpus / RADA, copy)
    problem = only_problem(corpus)
    assert (problem.path, problem.field, problem.line) == (str(copy), "id", 2)
    assert "afghanistan-rada" in problem.message
    assert str(corpus / RADA) in problem.message  # names the file that has it first


def test_invalid_utf8_reports_the_line_of_the_bad_byte(corpus: Path):
    path = corpus / MENA
    lines = path.read_bytes().split(b"\n")
    lines[24] = lines[24][:10] + b"\xe9" + lines[24][10:]  # Latin-1 « é » on line 25
    path.write_bytes(b"\n".join(lines))
    problem = only_problem(corpus)
    assert (problem.path, problem.line) == (str(path), 25)
    assert "encodage invalide" in problem.message and "UTF-8" in problem.message


def test_malformed_yaml(corpus: Path):
    path = corpus / RADA
    edit(path, r"^region: .*$", "region: Asie: et: Pacifique")
    problem = only_problem(corpus)
    assert (problem.path, problem.line) == (str(path), line_of(path, "region:"))
    assert "en-tête YAML invalide" in problem.message


def test_header_that_is_not_a_mapping(corpus: Path):
    (corpus / "liste.md").write_text("---\n- a\n- b\n---\n\nTexte.\n", encoding="utf-8")
    problem = only_problem(corpus)
    assert (problem.path, problem.line) == (str(corpus / "liste.md"), 2)
    assert "nom: valeur" in problem.message


def test_missing_front_matter_fence(corpus: Path):
    path = corpus / RADA
    path.write_text(path.read_text(encoding="utf-8").removeprefix("---\n"), encoding="utf-8")
    problem = only_problem(corpus)
    assert (problem.path, problem.line) == (str(path), 1)
    assert "en-tête manquant" in problem.message


def test_unclosed_front_matter(corpus: Path):
    path = corpus / RADA
    text = path.read_text(encoding="utf-8")
    head, _, body = text.partition("\n---\n")
    path.write_text(head + "\n" + body, encoding="utf-8")
    problem = only_problem(corpus)
    assert (problem.path, problem.line) == (str(path), 1)
    assert "non fermé" in problem.message


@pytest.mark.parametrize("body", ["", "\n\n   \n\t\n"])
def test_empty_description(corpus: Path, body: str):
    path = corpus / BANGLADESH
    head, fence, _ = path.read_text(encoding="utf-8").partition("\n---\n")
    path.write_text(head + fence + body, encoding="utf-8")
    problem = only_problem(corpus)
    assert (problem.path, problem.field) == (str(path), "description")
    assert problem.line is not None and problem.line > line_of(path, "notes:")
    assert "description vide" in problem.message


def test_objective_without_text(corpus: Path):
    path = corpus / BANGLADESH
    edit(path, r"^objectives:$", "objectives:\n- section: Sans texte")
    problem = only_problem(corpus)
    assert (problem.field, problem.line) == ("objectives", line_of(path, "objectives:"))


def test_every_problem_in_every_file_is_reported_at_once(corpus: Path):
    edit(corpus / RADA, r"^status: .*$", "status: Terminé")
    edit(corpus / RADA, r"^title: .*$", "title: ''")
    edit(corpus / BANGLADESH, r"^source: .*\n", "")
    (corpus / MENA).write_bytes(b"---\nid: \xff\n---\n")
    found = problems(corpus)
    located = sorted((Path(p.path).name, p.field) for p in found)
    assert located == [(RADA, "status"), (RADA, "title"), (BANGLADESH, "source"), (MENA, "id")]
    assert all(p.line for p in found)


def test_missing_or_empty_corpus_directory(tmp_path: Path):
    assert "introuvable" in only_problem(tmp_path / "absent").message
    (tmp_path / "vide").mkdir()
    assert "aucune fiche" in only_problem(tmp_path / "vide").message


def test_no_break_spaces_and_apostrophes_preserved_through_load(programmes):
    mena = next(p for p in programmes if p.id == MENA.removesuffix(".md"))
    assert "conjointe\u00a0UE-OIM" in mena.description[0]
    assert "l’Afrique" in mena.description[0]
    assert mena.notes[0].startswith("*En Libye, seuls les piliers 2 et 3 s’appliquent.")


def test_hand_written_record_keeps_no_break_spaces_and_normalises_other_whitespace(corpus: Path):
    path = corpus / BANGLADESH
    head, fence, _ = path.read_text(encoding="utf-8").partition("\n---\n")
    path.write_text(
        head + fence + "\nPlus de 10\u202f000   migrants\n  de retour\u00a0:\tBangladesh.\n", encoding="utf-8"
    )
    (programme,) = [p for p in load_corpus(corpus) if p.id == "bangladesh-reintegration-durable"]
    assert programme.description == ("Plus de 10\u202f000 migrants de retour\u00a0: Bangladesh.",)


def test_combining_accents_are_normalised_to_nfc_on_load(corpus: Path):
    path = corpus / RADA
    edit(path, r"^region: .*$", "region: Asie et Pacifique — re\u0301gion")
    (programme,) = [p for p in load_corpus(corpus) if p.id == "afghanistan-rada"]
    assert programme.region == "Asie et Pacifique — région"


def test_render_then_load_round_trip(programmes, tmp_path: Path):
    for programme in programmes:
        (tmp_path / f"{programme.id}.md").write_text(render_record(programme), encoding="utf-8")
    assert load_corpus(tmp_path) == programmes


def test_render_then_load_keeps_source_url(programmes, tmp_path: Path):
    programme = replace(programmes[0], source_url="https://www.iom.int/fr/programme?x=1&y=2")
    (tmp_path / f"{programme.id}.md").write_text(render_record(programme), encoding="utf-8")
    assert load_corpus(tmp_path) == [programme]


def test_normalise_space():
    assert normalise_space("  a \t b\n\nc  ") == "a b c"
    assert normalise_space("10\u202f000 et\u00a0:") == "10\u202f000 et\u00a0:"
    assert normalise_space("a \u00a0 b") == "a\u00a0b"
