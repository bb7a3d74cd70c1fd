"""Building index generations: atomic switch, skip when unchanged, cleanup, accent-insensitive search."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh.qparser import QueryParser
from whoosh.query import Term

import indexer.build
import indexer.documents
import indexer.parallel
import indexer.store
from indexer.analysis import ANALYZER_VERSION, fold
from indexer.build import BuildError, build_index, fingerprint, prepare_corpus, protected_vocabulary
from indexer.corpus import CorpusError
from indexer.french import Lexicon
from indexer.records import Programme
from indexer.scan import record_data
from indexer.schema import CONTENT_FIELD
from indexer.store import (
    LOCK_NAME,
    POINTER_NAME,
    build_lock,
    current_generation,
    current_generation_name,
    generation_names,
    staged_generation,
    switch_to,
)
from search_app.query_builder import QueryBuilder
from search_app.query_parser import FIELD_LABELS, parse_query
from tests.paths import ACRONYMS, CORPUS_DIR
from tests.reliability.build_processes import lock_held_by_a_thread

QUERIES = ("réintégration", "migrants de retour", '"UE OIM"', "Afghanistan", "capacités données", "Libye", "Mali")


def build(root: Path, corpus: Path = CORPUS_DIR, force: bool = False):
    return build_index(corpus, root, ACRONYMS, force=force)


def open_live(root: Path):
    return whoosh_index.open_dir(str(current_generation(root).path))


def search(index, text: str, fields: tuple[str, ...] = (CONTENT_FIELD,)) -> list[tuple[str, float]]:
    """Search ``index`` the way the service does (our parser, query builder and lexicon), in one field."""
    if fields != (CONTENT_FIELD,):
        (field,) = fields
        text = f"{FIELD_LABELS[field]}:{text if text.startswith(chr(34)) else chr(34) + text + chr(34)}"
    with index.searcher() as searcher:
        reader = searcher.reader()
        lexicon = Lexicon.from_terms(raw.decode() for raw in reader.lexicon(CONTENT_FIELD))
        builder = QueryBuilder(index.schema[CONTENT_FIELD].analyzer, reader, lexicon=lexicon)
        built = builder.build(parse_query(text).tree)
        return [(hit["id"], hit.score) for hit in searcher.search(built.query, limit=None)]


def ids(index, text: str, fields: tuple[str, ...] = (CONTENT_FIELD,)) -> set[str]:
    return {doc_id for doc_id, _ in search(index, text, fields)}


def tree(root: Path, lock: bool = True) -> dict[str, tuple[bytes, int] | None]:
    """Every file (content, mtime) and directory under ``root``; ``lock=False`` skips the build lock file."""
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns) if p.is_file() else None
        for p in sorted(root.rglob("*"))
        if lock or p.name != ".build.lock"
    }


def broken_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "broken"
    shutil.copytree(CORPUS_DIR, corpus)
    path = corpus / "afghanistan-rada.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("status: Activités achevées", "status: Abandonné"), "utf-8"
    )
    return corpus


def test_builds_six_documents(tmp_path: Path, programmes: list[Programme]):
    result = build(tmp_path)
    assert (result.documents, result.skipped) == (6, False)
    assert current_generation_name(tmp_path) == result.generation
    assert generation_names(tmp_path) == [result.generation]
    index = open_live(tmp_path)
    with index.searcher() as searcher:
        assert searcher.doc_count() == 6
        assert {fields["id"] for fields in searcher.all_stored_fields()} == {p.id for p in programmes}
        rada = searcher.document(id="afghanistan-rada")
        assert rada["record"]["countries"] == ["Afghanistan"]
        assert rada["title"].startswith("Afghanistan — RADA")


def test_progress_is_reported(tmp_path: Path):
    calls: list[tuple[int, int]] = []
    build_index(CORPUS_DIR, tmp_path, ACRONYMS, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (6, 6)


def test_unchanged_corpus_is_skipped_and_force_rebuilds(tmp_path: Path):
    first = build(tmp_path)
    again = build(tmp_path)
    assert again.skipped and again.generation == first.generation
    assert generation_names(tmp_path) == [first.generation]
    forced = build(tmp_path, force=True)
    assert not forced.skipped and forced.generation != first.generation
    assert current_generation_name(tmp_path) == forced.generation
    assert generation_names(tmp_path) == [first.generation, forced.generation]


def test_changed_corpus_is_rebuilt_without_force(tmp_path: Path):
    first = build(tmp_path / "index")
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    path = corpus / "afghanistan-rada.md"
    path.write_text(path.read_text(encoding="utf-8").replace("huit provinces", "neuf provinces"), "utf-8")
    second = build(tmp_path / "index", corpus)
    assert not second.skipped and second.generation != first.generation
    assert ids(open_live(tmp_path / "index"), "neuf") == {"afghanistan-rada"}


def test_only_current_and_previous_generations_are_kept(tmp_path: Path):
    names = [build(tmp_path, force=True).generation for _ in range(4)]
    assert len(set(names)) == 4
    assert generation_names(tmp_path) == names[-2:]
    assert current_generation_name(tmp_path) == names[-1]
    assert not list(tmp_path.glob(".building-*"))


def _assert_live_index_intact(root: Path, live: str, before: dict) -> None:
    assert current_generation_name(root) == live
    assert tree(root, lock=False) == before
    assert not list(root.glob(".building-*"))
    index = open_live(root)
    with index.searcher() as searcher:
        assert searcher.doc_count() == 6
    assert "afghanistan-rada" in ids(index, "Afghanistan")


def test_build_failing_midway_leaves_the_live_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    live = build(tmp_path).generation
    before = tree(tmp_path, lock=False)
    original = indexer.documents.document_for
    seen: list[str] = []

    def failing(programme: Programme, record: dict | None = None) -> dict[str, object]:
        seen.append(programme.id)
        if len(seen) == 3:
            raise RuntimeError("disque plein")
        return original(programme, record)

    monkeypatch.setattr(indexer.documents, "document_for", failing)
    with pytest.raises(RuntimeError, match="disque plein"):
        build(tmp_path, force=True)
    assert len(seen) == 3
    _assert_live_index_intact(tmp_path, live, before)

    monkeypatch.setattr(indexer.documents, "document_for", original)
    assert build(tmp_path, force=True).generation != live  # the lock was released


def test_build_failing_verification_leaves_the_live_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    live = build(tmp_path).generation
    before = tree(tmp_path, lock=False)
    staged: list[Path] = []

    def failing_verify(path: Path, programmes: list[Programme]) -> None:
        staged.append(path)
        assert (path / "meta.json").exists()  # the new generation was written completely...
        raise BuildError("vérification : échec simulé")  # ...but is never switched to

    monkeypatch.setattr(indexer.build, "_verify", failing_verify)
    with pytest.raises(BuildError):
        build(tmp_path, force=True)
    assert staged and staged[0].parent == tmp_path and staged[0].name.startswith(".building-")
    _assert_live_index_intact(tmp_path, live, before)


def test_failed_first_build_leaves_no_pointer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def failing_verify(path: Path, programmes: list[Programme]) -> None:
        raise BuildError("vérification : échec simulé")

    monkeypatch.setattr(indexer.build, "_verify", failing_verify)
    with pytest.raises(BuildError):
        build(tmp_path)
    assert not (tmp_path / POINTER_NAME).exists()
    assert generation_names(tmp_path) == [] and not list(tmp_path.glob(".building-*"))


def test_invalid_corpus_writes_nothing(tmp_path: Path):
    root = tmp_path / "index"
    build(root)
    before = tree(root)
    with pytest.raises(CorpusError) as caught:
        build(root, broken_corpus(tmp_path), force=True)
    assert [p.field for p in caught.value.problems] == ["status"]
    assert tree(root) == before

    fresh = tmp_path / "fresh"
    with pytest.raises(CorpusError):
        build(fresh, broken_corpus(tmp_path / "again"))
    assert not fresh.exists()


def test_forced_rebuild_of_unchanged_corpus_gives_identical_results(tmp_path: Path):
    first_name = build(tmp_path).generation
    second_name = build(tmp_path, force=True).generation
    assert first_name != second_name
    first = whoosh_index.open_dir(str(tmp_path / first_name))
    second = whoosh_index.open_dir(str(tmp_path / second_name))
    for query in QUERIES:
        results = search(first, query)
        assert results, query
        assert search(second, query) == results, query


def test_metadata(tmp_path: Path, programmes: list[Programme]):
    result = build(tmp_path)
    generation = current_generation(tmp_path)
    meta = json.loads((generation.path / "meta.json").read_text(encoding="utf-8"))
    assert meta == generation.meta
    assert meta["fingerprint"] == prepare_corpus(CORPUS_DIR, ACRONYMS).fingerprint
    assert result.generation.endswith(meta["fingerprint"][:8])
    assert meta["analyzer_version"] == ANALYZER_VERSION
    assert meta["documents"] == 6
    assert meta["generation"] == result.generation
    assert meta["facets"]["region"]["Asie et Pacifique"] == 2
    assert meta["facets"]["status"] == {"Activités achevées": 4, "En cours": 2}
    assert meta["facets"]["country"]["Côte d’Ivoire"] == 1
    vocabulary = json.loads((generation.path / "vocabulary.json").read_text(encoding="utf-8"))
    assert vocabulary["reintegration"][0] == "réintégration"


def test_fingerprint_tracks_records_and_protected_words(programmes: list[Programme]):
    protected = protected_vocabulary(programmes, [])
    digests = [(p.id, record_data(p)[1]) for p in programmes]
    assert fingerprint(digests, protected) == fingerprint(list(reversed(digests)), protected)
    assert fingerprint(digests, protected) != fingerprint(digests[1:], protected)
    assert fingerprint(digests, protected) != fingerprint(digests, protected | {"frontex"})
    edited = replace(programmes[0], description=("Autre texte.",))
    edited_digests = [(edited.id, record_data(edited)[1]), *digests[1:]]
    assert fingerprint(edited_digests, protected) != fingerprint(digests, protected)


# --- accent-insensitive search in the built index --------------------------------------------


def _searchable_text(programme: Programme) -> str:
    return " ".join(
        (
            programme.title,
            programme.region,
            ", ".join(programme.countries),
            programme.description_text,
            programme.objectives_text,
            programme.notes_text,
        )
    )


@pytest.mark.parametrize(
    "variants",
    [
        ("réintégration", "reintegration", "RÉINTÉGRATION", "Réintégration"),
        ("l’OIM", "l'OIM", "L'oim", "OIM"),
        ("capacités", "capacites", "CAPACITÉS"),
        ("Guinée", "guinee", "GUINEE"),
        ("données", "donnees", "DONNÉES"),
        ("Égypte", "egypte"),
        ("Côte d’Ivoire", "cote d'ivoire", "COTE D’IVOIRE"),
        ("psychosociaux", "psychosociale", "psychosocial"),
        ("œuvre", "oeuvre"),
    ],
)
def test_same_documents_with_and_without_accents(index_root: Path, programmes: list[Programme], variants):
    index = open_live(index_root)
    found = {variant: ids(index, variant) for variant in variants}
    assert len({frozenset(hits) for hits in found.values()}) == 1, found
    hits = found[variants[0]]
    # Lower bound from the raw text: every record containing the word (folded) is found.
    needle = re.compile(rf"\b{fold(variants[0].split('’')[-1].split()[0])}\b")
    containing = {p.id for p in programmes if needle.search(fold(_searchable_text(p)))}
    assert containing and containing <= hits


def test_accented_term_lookup_with_query_parser_and_term(index_root: Path):
    index = open_live(index_root)
    analyzer = index.schema[CONTENT_FIELD].analyzer
    (term,) = [t.text for t in analyzer("réintégration")]
    with index.searcher() as searcher:
        by_term = {hit["id"] for hit in searcher.search(Term(CONTENT_FIELD, term), limit=None)}
        parsed = QueryParser(CONTENT_FIELD, index.schema).parse("RÉINTÉGRATION")  # Whoosh's own parser
        assert {hit["id"] for hit in searcher.search(parsed, limit=None)} == by_term
        assert ids(index, "REINTEGRATION") == by_term  # accent-less: through the lexicon
    assert len(by_term) == 6


def test_oim_and_ue_oim_find_the_joint_initiative(index_root: Path, programmes: list[Programme]):
    index = open_live(index_root)
    with_ue_oim = {p.id for p in programmes if "UE-OIM" in p.description_text}
    assert len(with_ue_oim) >= 3
    for query in ("UE-OIM", "ue-oim", '"UE OIM"', "OIM"):
        assert with_ue_oim <= ids(index, query, (CONTENT_FIELD,)), query


def test_countries_are_searchable_and_protected(index_root: Path):
    index = open_live(index_root)
    west = "afrique-centrale-et-de-l-ouest-initiative-conjointe"
    assert ids(index, "Mali", ("countries",)) == {west}
    assert ids(index, "mal", ("countries",)) == set()
    assert ids(index, "Guinée Bissau", ("countries",)) == {west}
    assert ids(index, "Afrique", ("countries",)) == {"afrique-australe-action-pilote"}  # « Afrique du Sud »


def test_libya_note_is_searchable(index_root: Path):
    index = open_live(index_root)
    # « prétendre » and « formule » occur only in the asterisk note
    assert ids(index, "prétendre formule") == {"moyen-orient-et-afrique-du-nord-initiative-conjointe"}


# --- the two-pass, multi-process build --------------------------------------------------------


def _postings(index) -> dict:
    """Every posting of every field, by programme id (independent of document numbers)."""
    with index.searcher() as searcher:
        reader = searcher.reader()
        ids = [reader.stored_fields(docnum)["id"] for docnum in range(reader.doc_count())]
        postings = {}
        for fieldname, term in reader.all_terms():
            matcher = reader.postings(fieldname, term)
            entries = []
            while matcher.is_active():
                entries.append((ids[matcher.id()], round(matcher.weight(), 6), matcher.value()))
                matcher.next()
            postings[fieldname, term] = sorted(entries)
        stored = {fields["id"]: fields for fields in reader.all_stored_fields()}
        lengths = {ids[d]: reader.doc_field_length(d, CONTENT_FIELD) for d in range(reader.doc_count())}
    return {"postings": postings, "stored": stored, "lengths": lengths, "ids": ids}


def _segment_count(index) -> int:
    with index.reader() as reader:
        return 1 if reader.is_atomic() else len(reader.leaf_readers())


def test_parallel_build_writes_one_segment_per_worker_with_the_same_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    single = build(tmp_path / "single")
    monkeypatch.setattr(indexer.parallel, "PARALLEL_THRESHOLD", 2)
    monkeypatch.setattr(indexer.parallel, "workers", lambda: 2)
    calls: list[tuple[int, int]] = []
    parallel = build_index(CORPUS_DIR, tmp_path / "parallel", ACRONYMS, progress=lambda *c: calls.append(c))
    assert parallel.documents == single.documents == 6 and calls[-1] == (6, 6)
    one, two = open_live(tmp_path / "single"), open_live(tmp_path / "parallel")
    assert _segment_count(one) == 1 and _segment_count(two) == 2
    assert _postings(one) == _postings(two)
    assert _postings(two)["ids"] == sorted(_postings(two)["ids"])  # file order (files are named by id)
    for name in ("vocabulary.json", "titles.json", "synonyms.json"):
        assert (current_generation(tmp_path / "single").path / name).read_text(encoding="utf-8") == (
            current_generation(tmp_path / "parallel").path / name
        ).read_text(encoding="utf-8")
    for query in QUERIES:
        assert search(one, query) == search(two, query), query


def test_record_edited_during_the_build_fails_it_and_leaves_the_live_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    root = tmp_path / "index"
    live = build(root, corpus).generation
    before = tree(root, lock=False)
    scan = indexer.build.scan_corpus

    def scan_then_edit(*args, **kwargs):
        result = scan(*args, **kwargs)
        path = corpus / "afghanistan-rada.md"
        path.write_text(path.read_text(encoding="utf-8").replace("huit provinces", "neuf provinces"), "utf-8")
        return result

    monkeypatch.setattr(indexer.build, "scan_corpus", scan_then_edit)
    with pytest.raises(BuildError, match=re.escape("afghanistan-rada.md : fiche modifiée pendant la construction")):
        build(root, corpus, force=True)
    assert current_generation_name(root) == live and tree(root, lock=False) == before
    assert not list(root.glob(".building-*"))


# --- the build lock and the leftovers of killed builds ----------------------------------------


def test_the_lock_names_its_holder_and_a_waiting_build_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    lock = tmp_path / LOCK_NAME
    with lock_held_by_a_thread(tmp_path) as release:
        assert lock.read_text() == f"{os.getpid()}\n"
        timer = threading.Timer(0.3, release.set)
        timer.start()
        with caplog.at_level("WARNING", logger="indexer.store"), build_lock(tmp_path):
            assert release.is_set()  # it waited for the holder
            assert lock.read_text() == f"{os.getpid()}\n"
        timer.join(10)
    assert caplog.messages == [f"une autre construction est en cours (PID {os.getpid()})\u00a0: attente…"]
    assert lock.read_text() == ""  # nobody holds it


def _dead_pid() -> int:
    finished = subprocess.Popen(["true"])
    finished.wait(10)
    return finished.pid


def test_the_staging_folders_of_dead_builders_are_removed_once_the_lock_is_held(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    dead_pid = _dead_pid()
    dead = tmp_path / f".building-{dead_pid}-gen-20260101T000000000000Z-00000000"
    older = tmp_path / ".building-gen-20250101T000000000000Z-00000000"  # before PIDs were in the names
    running = tmp_path / f".building-{os.getpid()}-gen-20260101T000000000001Z-00000000"
    for folder in (dead, older, running):
        folder.mkdir()
        (folder / "_MAIN_1.toc").write_bytes(b"x")
    with caplog.at_level("WARNING", logger="indexer.store"), build_lock(tmp_path):
        assert not dead.exists() and not older.exists() and running.exists()
    assert caplog.messages == [
        f"construction interrompue (PID {dead_pid})\u00a0: dossier {dead} supprimé",
        f"construction interrompue (version précédente)\u00a0: dossier {older} supprimé",
    ]


def test_the_staging_folder_is_named_after_its_builder(tmp_path: Path):
    with staged_generation(tmp_path, "gen-x") as staging:
        assert staging.name == f".building-{os.getpid()}-gen-x"
    assert (tmp_path / "gen-x").is_dir() and not staging.exists()


def test_a_pointer_that_cannot_be_written_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    live = build(tmp_path).generation

    def disk_full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(indexer.store.os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        switch_to(tmp_path, "gen-autre")
    assert current_generation_name(tmp_path) == live
    assert not list(tmp_path.glob(".CURRENT*"))
