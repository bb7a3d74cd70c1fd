"""The ``python -m indexer`` command line, run for real."""

from __future__ import annotations

import errno
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

import indexer.build
import indexer.cli
import indexer.documents
import indexer.parallel
from indexer.analysis import TermSpans, query_positions
from indexer.analyze import index_terms, index_tokens, open_analyzer, query_terms, query_tokens
from indexer.cli import main
from indexer.store import LOCK_NAME, IndexUnavailable, current_generation, current_generation_name
from tests.paths import ACRONYMS, CORPUS_DIR, ROOT

COMMANDS = ("import", "check", "build", "stats", "analyze")


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
    assert f"{rada}:7: [status] statut inconnu « Fini »" in err
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
    assert generation and f"{generation} en service : 6 documents" in out
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


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_build_stopped_by_a_signal_exits_128_plus_its_number_and_leaves_the_live_index(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, signum: int
):
    index = tmp_path / "index"
    assert run(capsys, *build_args(index))[0] == 0
    live = current_generation_name(index)
    original = indexer.documents.document_for
    seen: list[str] = []

    def signalled(programme, record=None):  # the third record: the staging folder is half written
        seen.append(programme.id)
        if len(seen) == 3:
            os.kill(os.getpid(), signum)
        return original(programme, record)

    monkeypatch.setattr(indexer.documents, "document_for", signalled)
    code, out, err = run(capsys, *build_args(index, "--force"))
    name = signal.Signals(signum).name
    assert (code, out) == (128 + signum, "")
    assert err.endswith(f"construction interrompue ({name})\u00a0: l’index en service est inchangé\n"), err
    assert len(seen) == 3 and "Traceback" not in err
    assert current_generation_name(index) == live and not list(index.glob(".building-*"))
    assert (index / LOCK_NAME).read_text() == ""
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handlers are back


def test_a_build_over_quota_names_the_index_folder(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch):
    """The errno decides the message; the index folder is named (a real full disk: test_index_lifecycle.py)."""

    def over_quota(*args, **kwargs):
        raise OSError(errno.EDQUOT, "Disk quota exceeded")

    monkeypatch.setattr(indexer.build, "_write_metadata", over_quota)
    index = tmp_path / "index"
    code, _, err = run(capsys, *build_args(index))
    assert code == 2
    assert f"Erreur\u00a0: quota disque dépassé pour l’index {index}\u00a0: construction abandonnée, " in err
    assert f"l’index en service est inchangé ([Errno {errno.EDQUOT}] Disk quota exceeded)" in err
    assert not list(index.glob(".building-*"))


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
    expected = {"import": "--force", "check": "--corpus", "build": "--index", "stats": "--index", "analyze": "--query"}
    expected = expected[command]
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


# ``analyze``: the live generation's own analyser, read from the index on disk.

TRICKY_TEXTS = (
    "l’OIM et les migrants",
    "UE-OIM 10\u00a0000 2,5 J-J",
    "Côte-d’Ivoire réinté\u00adgration aujourd’hui",
    "Les femmes éclairées du Moyen-Orient, au moyen de 12 ateliers",
    "le la les",
    "",
)


def run_indexer_process(*argv: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "indexer", *map(str, argv)],
        cwd=ROOT, env={**os.environ, **(env or {})}, input=stdin, capture_output=True, text=True, check=False,
    )


def test_analyze_library_uses_the_generations_own_analyser(index_root: Path):
    state = open_analyzer(index_root, with_lexicon=True)
    generation = current_generation(index_root)
    assert state.generation == generation.name
    on_disk = whoosh_index.open_dir(str(generation.path)).schema["content"].analyzer
    assert state.analyzer == on_disk and state.lexicon is not None
    assert open_analyzer(index_root).lexicon is None  # the index side needs no lexicon
    for text in TRICKY_TEXTS:
        expected = list(TermSpans(state.analyzer).positions(text))
        assert index_terms(state.analyzer, text) == [term for term, _ in expected]
        tokens = index_tokens(state.analyzer, text)
        assert [(t["term"], t["position"]) for t in tokens] == expected  # JSON and plain agree
        alternatives = query_positions(state.analyzer, text, state.lexicon)
        assert query_terms(state.analyzer, text, state.lexicon) == [term for found, _ in alternatives for term in found]
        assert query_tokens(state.analyzer, text, state.lexicon) == [
            {"position": position, "alternatives": list(found)} for found, position in alternatives
        ]


def test_analyze_index_tokens_offsets_and_joined_forms(index_root: Path):
    analyzer = open_analyzer(index_root).analyzer
    text = "l’initiative UE-OIM"
    tokens = index_tokens(analyzer, text)
    assert [(t["term"], t["position"], t["joined"]) for t in tokens] == [
        ("initi", 0, False), ("ueoim", 1, True), ("UE", 1, False), ("OIM", 2, False)
    ]
    assert [text[t["start"] : t["end"]] for t in tokens] == ["initiative", "UE-OIM", "UE", "OIM"]
    positions = [t["position"] for t in index_tokens(analyzer, TRICKY_TEXTS[3])]
    assert positions == sorted(positions)


def test_analyze_examples_on_the_real_index(index_root: Path, capsys):
    texts = ("l’OIM et les migrants", "UE-OIM", "le la les", "Mali")
    code, out, err = run(capsys, "analyze", "--index", index_root, *texts)
    assert code == 0 and err == ""
    assert out == "OIM migr\nueoim UE OIM\n\nMALI\n"
    code, out, err = run(capsys, "analyze", "--index", index_root, "--query", "eclairees", "l’OIM")
    assert code == 0 and err == ""
    eclairees, oim = out.splitlines()
    assert "éclair" in eclairees.split() and len(eclairees.split()) > 1
    assert oim == "OIM"


def test_analyze_json(index_root: Path, capsys):
    code, out, _ = run(capsys, "analyze", "--index", index_root, "--json", "l’OIM et les migrants", "le la les")
    assert code == 0
    first, second = (json.loads(line) for line in out.splitlines())
    assert first == {
        "text": "l’OIM et les migrants",
        "tokens": [
            {"term": "OIM", "start": 2, "end": 5, "position": 0, "joined": False},
            {"term": "migr", "start": 13, "end": 21, "position": 3, "joined": False},
        ],
    }
    assert second == {"text": "le la les", "tokens": []}
    code, out, _ = run(capsys, "analyze", "--index", index_root, "--json", "--query", "eclairees Mali")
    (document,) = (json.loads(line) for line in out.splitlines())
    eclairees, mali = document["tokens"]
    assert eclairees["position"] == 0 and "éclair" in eclairees["alternatives"]
    assert mali == {"position": 1, "alternatives": ["MALI"]}


def test_analyze_reads_standard_input_line_by_line(index_root: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("retour volontaire\nle la les\nMali\n"))
    code, out, _ = run(capsys, "analyze", "--index", index_root)
    assert code == 0 and out == "retour volontair\n\nMALI\n"


def test_analyze_with_another_acronyms_file_uses_that_generations_analyser(tmp_path: Path, capsys):
    acronyms = tmp_path / "acronyms.txt"
    acronyms.write_text(ACRONYMS.read_text(encoding="utf-8") + "Migrants\n", encoding="utf-8")
    index = tmp_path / "index"
    code, _, err = run(capsys, "build", "--corpus", CORPUS_DIR, "--acronyms", acronyms, "--index", index)
    assert code == 0, err
    code, out, _ = run(capsys, "analyze", "--index", index, "Migrants migrants")
    assert code == 0 and out == "MIGRANTS migr\n"


def test_python_m_indexer_analyze_stdin_and_environment(index_root: Path):
    env = {"SEARCH_INDEX_DIR": str(index_root)}
    done = run_indexer_process("analyze", stdin="retour volontaire\nle la les\r\nMali\n", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "retour volontair\n\nMALI\n" and done.stderr == ""
    done = run_indexer_process("analyze", "--query", "--json", "--", "-Libye", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"text": "-Libye", "tokens": [{"position": 0, "alternatives": ["LIBYE"]}]}
    done = subprocess.run(
        [sys.executable, "-m", "indexer", "analyze"], cwd=ROOT, env={**os.environ, **env},
        input="caf\xe9 Mali\n".encode("latin-1"), capture_output=True, check=False,
    )
    assert done.returncode == 0 and done.stdout.decode("utf-8").endswith(" MALI\n")  # undecodable bytes: no crash


@pytest.mark.parametrize("extra", [(), ("--query",), ("--json",)])
def test_python_m_indexer_analyze_without_index_is_a_clear_error(tmp_path: Path, extra: tuple[str, ...]):
    done = run_indexer_process("analyze", *extra, "--index", tmp_path / "rien", "Mali")
    assert done.returncode == 2 and done.stdout == ""
    assert "aucun index construit" in done.stderr and "Traceback" not in done.stderr


def _garbage_meta(root: Path) -> None:
    (current_generation(root).path / "meta.json").write_text("{", encoding="utf-8")


def _meta_not_an_object(root: Path) -> None:
    (current_generation(root).path / "meta.json").write_text("[]", encoding="utf-8")


def _empty_index_files(root: Path) -> None:
    for path in current_generation(root).path.iterdir():
        if path.suffix in {".toc", ".seg"}:
            path.write_bytes(b"")


def _generation_deleted(root: Path) -> None:
    shutil.rmtree(current_generation(root).path)


def _pointer_not_utf8(root: Path) -> None:
    (root / "CURRENT").write_bytes(b"\xff\xfe")


DAMAGES = {
    "garbage-meta": _garbage_meta,
    "meta-not-an-object": _meta_not_an_object,
    "empty-index-files": _empty_index_files,
    "generation-deleted": _generation_deleted,
    "pointer-not-utf8": _pointer_not_utf8,
}


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("damage", DAMAGES)
def test_analyze_damaged_index_is_a_clear_error(index_root: Path, tmp_path: Path, damage: str, capsys):
    index = tmp_path / "index"
    shutil.copytree(index_root, index)
    DAMAGES[damage](index)
    problem = "illisible|introuvable|invalide"
    with pytest.raises(IndexUnavailable, match=problem):
        open_analyzer(index, with_lexicon=True)
    for extra in ((), ("--query",)):
        code, out, err = run(capsys, "analyze", *extra, "--index", index, "Mali")
        assert code == 2 and out == ""
        assert err.startswith("Erreur") and re.search(problem, err) and "Traceback" not in err


def test_analyze_index_of_another_analyser_version_warns(index_root: Path, tmp_path: Path, capsys):
    index = tmp_path / "index"
    shutil.copytree(index_root, index)
    meta_path = current_generation(index).path / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["analyzer_version"] = "0"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    code, out, err = run(capsys, "analyze", "--index", index, "Mali")
    assert code == 0 and out == "MALI\n"
    assert "l’analyseur « 0 »" in err and "build --force" in err


def test_check_index_names_the_damaged_file_and_exits_2(tmp_path: Path, capsys):
    index = tmp_path / "index"
    for _ in range(2):
        assert main(build_args(index, "--force")) == 0
    capsys.readouterr()
    live = current_generation(index)
    code, out, err = run(capsys, "check", "--index", index)
    assert code == 0 and err == ""
    assert out.splitlines()[0].startswith(f"{live.name}  en service  intacte (")
    assert out.splitlines()[1].endswith("fichiers vérifiés)") and "précédente" in out.splitlines()[1]

    segment = next(live.path.glob("*.seg"))
    with open(segment, "r+b") as handle:
        handle.seek(100)
        handle.write(b"\0" * 8 if handle.read(8) != b"\0" * 8 else b"\1" * 8)
    code, out, err = run(capsys, "check", "--index", index)
    assert code == 2
    assert f"{live.name}  en service  ENDOMMAGÉE : {segment} : contenu altéré" in err
    assert "précédente  intacte" in out and "Traceback" not in err


def test_check_index_with_a_garbage_pointer_exits_2(tmp_path: Path, capsys):
    index = tmp_path / "index"
    assert main(build_args(index)) == 0
    (index / "CURRENT").write_text("n’importe quoi", encoding="utf-8")
    capsys.readouterr()
    code, out, err = run(capsys, "check", "--index", index)
    assert code == 2 and "pointeur CURRENT invalide" in err and "intacte" in out


def test_ctrl_c_in_a_command_is_a_message_and_exit_130(monkeypatch: pytest.MonkeyPatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(indexer.cli.COMMANDS, "check", interrupted)
    code, out, err = run(capsys, "check", "--corpus", CORPUS_DIR)
    assert code == 130
    assert err == "check interrompu (Ctrl-C).\n" and "Traceback" not in out + err


def test_a_build_whose_worker_is_killed_fails_at_once_and_leaves_the_live_index(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
):
    """What the kernel's out-of-memory killer does to a worker writing a segment."""
    index = tmp_path / "index"
    assert run(capsys, *build_args(index))[0] == 0
    live = current_generation_name(index)
    monkeypatch.setattr(indexer.parallel, "PARALLEL_THRESHOLD", 2)
    monkeypatch.setattr(indexer.parallel, "workers", lambda: 2)
    original = indexer.documents.document_for
    parent = os.getpid()

    def killed_in_a_worker(programme, record=None):  # documents are made by the segment writers
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(programme, record)

    monkeypatch.setattr(indexer.documents, "document_for", killed_in_a_worker)
    code, _, err = run(capsys, *build_args(index, "--force"))
    assert code == 2 and "Traceback" not in err
    assert "a été tué par SIGKILL (mémoire épuisée\u00a0?)\u00a0; son lot est perdu" in err, err
    assert current_generation_name(index) == live and not list(index.glob(".building-*"))
    assert (index / LOCK_NAME).read_text() == ""
