"""Country names → ISO codes (indexer.geography), and the corpus check that refuses unknown names."""

from __future__ import annotations

import shutil
from pathlib import Path

import pycountry
import pytest

from indexer.build import build_index, prepare_corpus
from indexer.cli import main
from indexer.corpus import CorpusError
from indexer.geography import (
    DEFAULT_COUNTRY_CODES,
    GLOBAL,
    Gazetteer,
    codes_file_for,
    country_codes,
    french_names,
    load_gazetteer,
)
from indexer.records import Programme
from tests.paths import ACRONYMS, CORPUS_DIR, ROOT

OUEST = "afrique-centrale-et-de-l-ouest-initiative-conjointe.md"


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer(DEFAULT_COUNTRY_CODES)


def test_the_project_file_is_the_corpus_one():
    assert DEFAULT_COUNTRY_CODES == ROOT / "corpus" / "country_codes.yaml"
    assert codes_file_for(CORPUS_DIR.parent) == DEFAULT_COUNTRY_CODES


def test_every_corpus_country_maps_to_an_iso_code(programmes: list[Programme], gazetteer: Gazetteer):
    codes = country_codes(programmes, gazetteer)
    names = {name for p in programmes for name in p.countries}
    assert set(codes) == names
    for name, code in codes.items():
        if name != "Monde":
            assert pycountry.countries.get(alpha_3=code) is not None, name


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Guinée Bissau", "GNB"),  # no hyphen
        ("Côte d’Ivoire", "CIV"),  # typographic apostrophe
        ("Soudan du Sud", "SSD"),
        ("Soudan", "SDN"),
        ("Nigéria", "NGA"),  # pycountry's French writes « Nigeria »
        ("Niger", "NER"),
        ("Égypte", "EGY"),
        ("Afrique du Sud", "ZAF"),
        ("Guinée", "GIN"),
        ("AFGHANISTAN", "AFG"),
        ("Tanzanie", "TZA"),  # a French common name
        ("RDC", "COD"),  # an alias of the reviewed file
        ("Vietnam", "VNM"),
    ],
)
def test_names_as_written_in_french(gazetteer: Gazetteer, name: str, code: str):
    assert gazetteer.code(name) == code


def test_monde_is_a_global_marker_not_a_country(gazetteer: Gazetteer):
    assert gazetteer.code("Monde") == GLOBAL
    assert gazetteer.code("monde") == GLOBAL
    assert pycountry.countries.get(alpha_3=GLOBAL.upper()) is None


def test_unknown_names_have_no_code(gazetteer: Gazetteer):
    assert gazetteer.code("Atlantide") is None
    assert gazetteer.code("") is None


def test_french_names_come_from_pycountry_catalogue():
    names = french_names()
    assert names["allemagne"] == "DEU" and names["royaume uni"] == "GBR"
    assert "congo" not in names  # ambiguous keys are left out, the reviewed file decides


def copy_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "programmes"
    shutil.copytree(CORPUS_DIR, corpus)
    return corpus


def rename_country(corpus: Path, old: str, new: str) -> Path:
    path = corpus / OUEST
    text = path.read_text(encoding="utf-8")
    assert f"- {old}\n" in text
    path.write_text(text.replace(f"- {old}\n", f"- {new}\n"), encoding="utf-8")
    return path


def test_unknown_country_fails_prepare_corpus_with_file_line_and_field(tmp_path: Path):
    corpus = copy_corpus(tmp_path)
    path = rename_country(corpus, "Mali", "Atlantide")
    line = path.read_text(encoding="utf-8").split("\n").index("- Atlantide") + 1
    with pytest.raises(CorpusError) as raised:
        prepare_corpus(corpus)
    [problem] = raised.value.problems
    assert (problem.path, problem.line, problem.field) == (str(path), line, "countries")
    assert "pays inconnu « Atlantide »" in problem.message and "country_codes.yaml" in problem.message


def test_unknown_country_fails_the_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    corpus = copy_corpus(tmp_path)
    path = rename_country(corpus, "Mali", "Atlantide")
    assert main(["check", "--corpus", str(corpus)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:" in err and "[countries] pays inconnu « Atlantide »" in err
    assert "Traceback" not in err


def test_unknown_country_fails_the_build_and_writes_nothing(tmp_path: Path):
    corpus = copy_corpus(tmp_path)
    rename_country(corpus, "Mali", "Atlantide")
    with pytest.raises(CorpusError):
        build_index(corpus, tmp_path / "index", ACRONYMS)
    assert not (tmp_path / "index").exists() or not any((tmp_path / "index").iterdir())


def test_an_alias_in_the_corpus_file_makes_a_name_known(tmp_path: Path):
    corpus = copy_corpus(tmp_path)
    rename_country(corpus, "Mali", "Soudan français")
    (tmp_path / "country_codes.yaml").write_text(
        "aliases:\n  Soudan français: MLI\nglobal:\n  - Monde\n", encoding="utf-8"
    )
    prepared = prepare_corpus(corpus)
    assert prepared.country_codes["Soudan français"] == "MLI"


def test_check_reports_the_count_of_country_names(capsys: pytest.CaptureFixture[str]):
    assert main(["check", "--corpus", str(CORPUS_DIR)]) == 0
    assert "30 noms de pays reconnus" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("aliases:\n  Syrie: XYZ\n", 2, "« XYZ » n’est pas un code ISO 3166-1 alpha-3"),
        ("aliases:\n  - Syrie\n", 2, "« aliases » doit être une table"),
        ("global: Monde\n", 1, "« global » doit être une liste"),
        ("aliases: {}\npays: []\n", 2, "section inconnue « pays »"),
        ("- Monde\n", 1, "le fichier doit être une table"),
    ],
)
def test_invalid_exceptions_file_is_reported_with_line(tmp_path: Path, text: str, line: int, expected: str):
    path = tmp_path / "country_codes.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CorpusError) as raised:
        load_gazetteer(path)
    [problem] = raised.value.problems
    assert problem.path == str(path) and problem.line == line and expected in problem.message


def test_country_codes_are_recorded_in_the_generation(index_root: Path):
    from indexer.store import current_generation

    codes = current_generation(index_root).meta["country_codes"]
    assert codes["Guinée Bissau"] == "GNB" and codes["Monde"] == GLOBAL
