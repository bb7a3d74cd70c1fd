"""The ``python -m indexer`` command line, run for real."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.cli import main
from indexer.store import current_generation, current_generation_name
from tests.conftest import ACRONYMS, CORPUS_DIR, ROOT

COMMANDS = ("import", "check", "build", "stats")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


def build_args(index: Path, *extra: str) -> list[str]:
    return ["build", "--corpus", str(CORPUS_DIR), "--acronyms", str(ACRONYMS), "--index", str(index), *extra]


def test_check_real_corpus(capsys):
    code, out, err = run(capsys, "check", "--corpus", CORPUS_DIR)
    assert code == 0, err
    assert out.startswith("6 fiches valides")


def test_check_bad_corpus_lists_every_problem_with_file_line_and_field(tmp_path: Path, capsys):
    corpus = tmp_path / "programmes"
    shutil.copytree(CORPUS_DIR, corpus)
    rada = corpus / "afghanistan-rada.md"
    rada.write_text(rada.read_text(encoding="utf-8").replace("status: Activités achevées", "status: Fini"), "utf-8")
    bangladesh = corpus / "bangladesh-reintegration-durable.md"
    bangladesh.write_text(bangladesh.read_text(encoding="utf-8").replace("\nregion: Asie et Pacifique", ""), "utf-8")
    code, out, err = run(capsys, "check", "--corpus", corpus)
    assert code == 2
    assert out == ""
    assert "Corpus invalide (2 problème(s))" in err
    assert f"{rada}:7: [status] statut inconnu « Fini »" in err
    assert f"{bangladesh}:1: [region] champ obligatoire manquant ou vide" in err
    assert "Traceback" not in err


def test_build_with_bad_corpus_exits_2_and_writes_nothing(tmp_path: Path, capsys):
    corpus = tmp_path / "programmes"
    shutil.copytree(CORPUS_DIR, corpus)
    (corpus / "vide.md").write_text("---\nid: vide\n---\n", encoding="utf-8")
    index = tmp_path / "index"
    code, _, err = run(capsys, "build", "--corpus", corpus, "--acronyms", ACRONYMS, "--index", index)
    assert code == 2
    assert f"{corpus / 'vide.md'}:" in err and "[description]" in err and "[title]" in err
    assert "l’index en service est inchangé" in err
    assert not index.exists()


def test_build_then_stats(tmp_path: Path, capsys):
    index = tmp_path / "index"
    code, out, err = run(capsys, *build_args(index))
    assert code == 0, err
    generation = current_generation_name(index)
    assert generation and f"{generation} en service : 6 documents" in out
    assert "indexé 6/6" in err  # progress

    code, out, _ = run(capsys, *build_args(index))
    assert code == 0 and "corpus inchangé" in out and generation in out
    code, out, _ = run(capsys, *build_args(index, "--force"))
    assert code == 0 and current_generation_name(index) != generation

    code, out, err = run(capsys, "stats", "--index", index)
    assert code == 0, err
    lines = out.splitlines()
    assert f"génération  {current_generation_name(index)}" in lines
    assert "documents   6" in lines
    assert "     2  Asie et Pacifique" in lines
    assert "     1  Moyen-Orient et Afrique du Nord" in lines
    assert "     1  Côte d’Ivoire" in lines
    assert "     4  Activités achevées" in lines
    assert "     2  En cours" in lines
    assert {"Régions", "Pays", "Statuts"} <= set(lines)
    # One line per country of the corpus: 5 + 7 + 12 + 4 + 1 + 1.
    pays = lines.index("Pays")
    assert len([line for line in lines[pays + 1 : lines.index("Statuts")] if line.strip()]) == 30


def test_stats_without_index_is_a_clear_error(tmp_path: Path, capsys):
    code, out, err = run(capsys, "stats", "--index", tmp_path / "rien")
    assert code == 2 and out == ""
    assert "aucun index construit" in err and "Traceback" not in err


def test_search_index_dir_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    target = tmp_path / "from-env"
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(target))
    monkeypatch.chdir(tmp_path)  # if the variable were ignored, var/index would appear here
    code, _, err = run(capsys, "build", "--corpus", CORPUS_DIR, "--acronyms", ACRONYMS)
    assert code == 0, err
    assert current_generation(target).meta["documents"] == 6
    assert not (tmp_path / "var").exists()
    code, out, _ = run(capsys, "stats")
    assert code == 0 and "documents   6" in out
    # An explicit --index wins over the variable.
    code, _, _ = run(capsys, *build_args(tmp_path / "explicit"))
    assert code == 0 and current_generation_name(tmp_path / "explicit")


def test_import_command(tmp_path: Path, capsys):
    out_dir = tmp_path / "programmes"
    page = ROOT / "corpus" / "sources" / "actions-ue-oim.fr.txt"
    code, out, _ = run(capsys, "import", page, "--out", out_dir)
    assert code == 0 and out.count("écrit") == 6
    code, out, _ = run(capsys, "import", page, "--out", out_dir)
    assert code == 0 and out.count("inchangé") == 6 and "écrit" not in out
    code, out, _ = run(capsys, "check", "--corpus", out_dir)
    assert code == 0 and out.startswith("6 fiches valides")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_of_each_command(command: str, capsys):
    with pytest.raises(SystemExit) as caught:
        main([command, "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m indexer {command}")
    expected = {"import": "--force", "check": "--corpus", "build": "--index", "stats": "--index"}[command]
    assert expected in out


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["indexer-tout"])
    assert caught.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_python_m_indexer_runs(tmp_path: Path):
    env = {**os.environ, "SEARCH_INDEX_DIR": str(tmp_path / "index")}
    done = subprocess.run(
        [sys.executable, "-m", "indexer", "--help"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert all(command in done.stdout for command in COMMANDS)
    done = subprocess.run(
        [sys.executable, "-m", "indexer", "check"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "6 fiches valides dans corpus/programmes" in done.stdout
