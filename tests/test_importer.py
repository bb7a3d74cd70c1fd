"""The importer: the real page into record files, idempotently, never clobbering hand edits."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from indexer.cli import main
from indexer.corpus import load_corpus
from indexer.importer import MANIFEST_NAME, import_page
from indexer.source_page import SourceFormatError
from tests.paths import CORPUS_DIR, SOURCE_PAGE

REAL_IDS = {
    "moyen-orient-et-afrique-du-nord-initiative-conjointe",
    "afrique-de-l-est-et-corne-de-l-afrique-initiative-conjointe",
    "afrique-centrale-et-de-l-ouest-initiative-conjointe",
    "afrique-australe-action-pilote",
    "bangladesh-reintegration-durable",
    "afghanistan-rada",
}
RADA = "afghanistan-rada.md"


def records(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.glob("*.md"))}


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Content and modification time of every file, manifest included."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.iterdir())}


def page_blocks() -> tuple[list[str], list[list[str]]]:
    """The real page cut into (introduction lines, programme blocks), by its « Pays / Région » headers."""
    lines = SOURCE_PAGE.read_text(encoding="utf-8").split("\n")
    starts = [i for i in range(len(lines) - 2) if lines[i].strip() == "Pays" and lines[i + 2].strip() == "Région"]
    assert len(starts) == 6
    bounds = [*starts, len(lines)]
    return lines[: starts[0]], [lines[a:b] for a, b in itertools.pairwise(bounds)]


def with_countries(block: list[str], countries: str) -> list[str]:
    assert block[0].strip() == "Pays"
    return [block[0], countries, *block[2:]]


@pytest.fixture
def imported(tmp_path: Path) -> Path:
    out = tmp_path / "programmes"
    report = import_page(SOURCE_PAGE, out)
    assert len(report.written) == 6 and not report.unchanged and not report.refused
    return out


def test_real_page_writes_six_valid_records(imported: Path):
    assert {name.removesuffix(".md") for name in records(imported)} == REAL_IDS
    assert (imported / MANIFEST_NAME).exists()
    programmes = {p.id: p for p in load_corpus(imported)}
    assert set(programmes) == {p.stem for p in CORPUS_DIR.glob("*.md")}
    mena = programmes["moyen-orient-et-afrique-du-nord-initiative-conjointe"]
    assert mena.region == "Moyen-Orient et Afrique du Nord"
    assert mena.countries == ("Algérie", "Égypte", "Libye", "Maroc", "Tunisie")
    assert mena.status == "Activités achevées"
    assert mena.notes[0].startswith("*En Libye, seuls les piliers 2 et 3 s’appliquent.")
    assert programmes["afrique-australe-action-pilote"].status == "En cours"
    assert programmes["afrique-australe-action-pilote"].countries[0] == "Monde"
    assert all(p.source == "sources/actions-ue-oim.fr.txt" for p in programmes.values())


def test_record_files_are_hand_editable_utf8(imported: Path):
    text = (imported / "moyen-orient-et-afrique-du-nord-initiative-conjointe.md").read_text(encoding="utf-8")
    assert text.startswith("---\nid: moyen-orient-et-afrique-du-nord-initiative-conjointe\n")
    assert "Algérie" in text and "\\u" not in text  # written as UTF-8, not escaped
    assert "conjointe\u00a0UE-OIM" in text


def test_second_run_is_idempotent(imported: Path):
    before = snapshot(imported)
    report = import_page(SOURCE_PAGE, imported)
    assert report.written == [] and report.refused == []
    assert sorted(report.unchanged) == sorted(f"{i}.md" for i in REAL_IDS)
    after = snapshot(imported)
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}
    assert {k: v[1] for k, v in after.items() if k != MANIFEST_NAME} == {
        k: v[1] for k, v in before.items() if k != MANIFEST_NAME
    }


def test_hand_edited_record_is_refused_without_force(imported: Path, capsys: pytest.CaptureFixture[str]):
    target = imported / RADA
    original = target.read_text(encoding="utf-8")
    edited = original.replace("huit provinces", "huit provinces afghanes")
    assert edited != original
    target.write_text(edited, encoding="utf-8")
    others = {k: v for k, v in records(imported).items() if k != RADA}

    report = import_page(SOURCE_PAGE, imported)
    assert report.refused == [RADA] and report.written == []
    assert target.read_text(encoding="utf-8") == edited

    capsys.readouterr()
    assert main(["import", str(SOURCE_PAGE), "--out", str(imported)]) == 1
    err = capsys.readouterr().err
    assert "refusé" in err and RADA in err and "--force" in err
    assert target.read_text(encoding="utf-8") == edited
    assert {k: v for k, v in records(imported).items() if k != RADA} == others

    assert main(["import", str(SOURCE_PAGE), "--out", str(imported), "--force"]) == 0
    assert f"écrit      {imported / RADA}" in capsys.readouterr().out
    assert target.read_text(encoding="utf-8") == original
    # The forced file is the importer's again: the next plain run accepts it as unchanged.
    assert len(import_page(SOURCE_PAGE, imported).unchanged) == 6


def test_records_the_importer_wrote_follow_page_changes_without_force(imported: Path, tmp_path: Path):
    page = tmp_path / "actions-ue-oim.fr.txt"
    page.write_text(
        SOURCE_PAGE.read_text(encoding="utf-8").replace("dans huit provinces", "dans neuf provinces"), encoding="utf-8"
    )
    report = import_page(page, imported)
    assert report.written == [RADA] and report.refused == []
    assert "neuf provinces" in (imported / RADA).read_text(encoding="utf-8")


def test_a_source_url_written_by_hand_survives_a_reimport(imported: Path, tmp_path: Path):
    target = imported / RADA
    target.write_text(
        target.read_text(encoding="utf-8").replace("source_url: ''", "source_url: https://www.iom.int/fr/rada"),
        encoding="utf-8",
    )
    report = import_page(SOURCE_PAGE, imported)
    assert RADA in report.unchanged and not report.refused  # the address is no hand edit to refuse
    page = tmp_path / "actions-ue-oim.fr.txt"
    page.write_text(
        SOURCE_PAGE.read_text(encoding="utf-8").replace("dans huit provinces", "dans neuf provinces"), encoding="utf-8"
    )
    assert import_page(page, imported, force=True).written == [RADA]
    (rada,) = [p for p in load_corpus(imported) if p.id == "afghanistan-rada"]
    assert rada.source_url == "https://www.iom.int/fr/rada"
    assert "neuf provinces" in rada.description_text


def test_record_without_manifest_entry_is_treated_as_hand_edited(imported: Path):
    (imported / MANIFEST_NAME).unlink()
    (imported / RADA).write_text((imported / RADA).read_text(encoding="utf-8") + "\nAjout.\n", encoding="utf-8")
    assert import_page(SOURCE_PAGE, imported).refused == [RADA]
    assert json.loads((imported / MANIFEST_NAME).read_text(encoding="utf-8")).keys() == {
        f"{i}.md" for i in REAL_IDS if f"{i}.md" != RADA
    }


def test_page_with_two_programmes(tmp_path: Path):
    intro, blocks = page_blocks()
    page = tmp_path / "deux.txt"
    page.write_text("\n".join(intro + blocks[0] + blocks[5]), encoding="utf-8")
    report = import_page(page, tmp_path / "out")
    assert sorted(report.written) == [
        "afghanistan-rada.md",
        "moyen-orient-et-afrique-du-nord-initiative-conjointe.md",
    ]
    programmes = {p.id: p for p in load_corpus(tmp_path / "out")}
    real = {p.id: p for p in load_corpus(CORPUS_DIR)}
    assert programmes["afghanistan-rada"].objectives == real["afghanistan-rada"].objectives
    assert programmes["moyen-orient-et-afrique-du-nord-initiative-conjointe"].notes == (
        real["moyen-orient-et-afrique-du-nord-initiative-conjointe"].notes
    )
    assert programmes["afghanistan-rada"].source == "sources/deux.txt"


def test_page_with_seven_programmes(tmp_path: Path):
    intro, blocks = page_blocks()
    extra = with_countries(blocks[4], "Népal")  # a copy of the Bangladesh block for another country
    page = tmp_path / "sept.txt"
    page.write_text("\n".join(intro + [line for block in blocks for line in block] + extra), encoding="utf-8")
    report = import_page(page, tmp_path / "out")
    assert len(report.written) == 7
    programmes = {p.id: p for p in load_corpus(tmp_path / "out")}
    assert set(programmes) == REAL_IDS | {"nepal-reintegration-durable"}
    nepal, bangladesh = programmes["nepal-reintegration-durable"], programmes["bangladesh-reintegration-durable"]
    assert nepal.countries == ("Népal",)
    assert nepal.title.startswith("Népal — ")
    assert (nepal.region, nepal.status, nepal.description, nepal.objectives) == (
        bangladesh.region,
        bangladesh.status,
        bangladesh.description,
        bangladesh.objectives,
    )


def test_page_without_programme_blocks_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    intro, _ = page_blocks()
    page = tmp_path / "intro.txt"
    page.write_text("\n".join(intro), encoding="utf-8")
    with pytest.raises(SourceFormatError):
        import_page(page, tmp_path / "out")
    assert main(["import", str(page), "--out", str(tmp_path / "out")]) == 2
    assert "aucun bloc" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_two_blocks_deriving_the_same_id_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """A second Afghanistan RADA block must not silently overwrite the first record."""
    intro, blocks = page_blocks()
    second = [line.replace("huit provinces", "neuf provinces") for line in blocks[5]]
    page = tmp_path / "doublon.txt"
    page.write_text("\n".join(intro + [line for block in blocks for line in block] + second), encoding="utf-8")
    first_line = 1 + len(intro) + sum(len(block) for block in blocks[:5])
    second_line = first_line + len(blocks[5])
    with pytest.raises(SourceFormatError) as caught:
        import_page(page, tmp_path / "out")
    assert caught.value.line == second_line
    assert "afghanistan-rada" in caught.value.message and f"ligne {first_line}" in caught.value.message
    assert main(["import", str(page), "--out", str(tmp_path / "out")]) == 2
    assert f"{page}:{second_line}:" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
