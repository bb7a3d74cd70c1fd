"""The generation holder: a replaced generation keeps serving the requests that hold it, then its
searchers (every thread's readers and files) are closed; a damaged one gives way to the previous one."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

import search_app.holder as holder_module
from indexer.build import build_index
from indexer.manifest import GenerationDamaged
from indexer.store import POINTER_NAME, IndexUnavailable, pointed_generation
from search_app.holder import IndexHolder
from tests.paths import ACRONYMS, CORPUS_DIR


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A fresh index root with one live generation."""
    build_index(CORPUS_DIR, tmp_path / "index", ACRONYMS)
    return tmp_path / "index"


def test_a_replaced_generation_is_closed_after_the_grace_period(root: Path) -> None:
    clock = Clock()
    holder = IndexHolder(root, clock=clock)
    old = holder.current()
    searchers = [old.searcher()]
    worker = threading.Thread(target=lambda: searchers.append(old.searcher()))
    worker.start()
    worker.join()
    assert len({id(s) for s in searchers}) == 2, "one searcher per thread"

    build_index(CORPUS_DIR, root, ACRONYMS, force=True)  # a new generation goes live
    new = holder.current()
    assert new.name != old.name
    assert not any(s.is_closed for s in searchers), "requests still using the old generation keep working"
    assert old.searcher().document_number(id="afghanistan-rada") is not None

    clock.now += holder_module.RETIRE_SECONDS
    assert holder.current() is new
    assert all(s.is_closed for s in searchers), "every thread's searcher of the old generation is closed"
    assert not new.searcher().is_closed


def _two_generations(root: Path) -> tuple[str, str]:
    """(previous, live) after a forced rebuild of the same corpus."""
    previous = pointed_generation(root)
    live = build_index(CORPUS_DIR, root, ACRONYMS, force=True).generation
    return previous, live


def _segment(root: Path, name: str) -> Path:
    return next((root / name).glob("*.seg"))


def _damage(path: Path, keep_mtime: bool = False) -> None:
    """Overwrite 512 bytes in the middle of ``path`` (optionally putting its mtime back)."""
    info = path.stat()
    with open(path, "r+b") as handle:
        handle.seek(info.st_size // 2)
        handle.write(os.urandom(512))
    if keep_mtime:
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def test_a_damaged_generation_gives_way_to_the_previous_one_and_is_closed(root: Path) -> None:
    clock = Clock()
    previous, live = _two_generations(root)
    holder = IndexHolder(root, clock=clock)
    damaged = holder.current()
    searcher = damaged.searcher()
    assert damaged.name == live and not holder.serving().is_fallback

    _damage(_segment(root, live))
    serving = holder.serving()
    assert serving.state.name == previous and serving.pointed == live and serving.is_fallback
    assert serving.fallback_reason == f"index « {live} » endommagé"
    assert serving.state.searcher().document_number(id="afghanistan-rada") is not None
    clock.now += holder_module.RETIRE_SECONDS
    holder.current()
    assert searcher.is_closed, "the damaged generation's searchers are closed after the grace period"

    repaired = build_index(CORPUS_DIR, root, ACRONYMS)
    assert repaired.repaired and not repaired.skipped, "a plain build repairs the damaged live generation"
    assert holder.current().name == repaired.generation and not holder.serving().is_fallback
    assert not (root / live).exists(), "the damaged generation is removed, the intact previous one kept"
    assert (root / previous).is_dir()


def test_without_an_intact_generation_the_reason_says_so(root: Path) -> None:
    live = pointed_generation(root)
    _damage(_segment(root, live))
    with pytest.raises(IndexUnavailable) as raised:
        IndexHolder(root).current()
    assert str(raised.value) == f"index « {live} » endommagé et aucune génération précédente intacte"
    assert ".seg" in raised.value.detail, "the operator's detail names the damaged file"


def test_a_deleted_generation_is_noticed_at_the_next_request(root: Path) -> None:
    previous, live = _two_generations(root)
    holder = IndexHolder(root)
    assert holder.current().name == live
    shutil.rmtree(root / live)
    serving = holder.serving()
    assert serving.state.name == previous and serving.fallback_reason == "génération en service introuvable"


def test_a_garbage_pointer_is_never_echoed_and_the_newest_intact_generation_serves(root: Path) -> None:
    _, live = _two_generations(root)
    (root / POINTER_NAME).write_text("<script>x</script> ../../etc", encoding="utf-8")
    serving = IndexHolder(root).serving()
    assert serving.state.name == live and serving.pointed is None
    assert serving.fallback_reason == f"pointeur {POINTER_NAME} invalide"


def test_a_rejected_generation_is_hashed_again_only_when_its_files_change(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    previous, live = _two_generations(root)
    segment = _segment(root, live)
    good = segment.read_bytes()
    _damage(segment)
    verified: list[str] = []
    real = holder_module.verify_generation
    monkeypatch.setattr(holder_module, "verify_generation", lambda path: verified.append(path.name) or real(path))
    holder = IndexHolder(root, clock=clock)
    assert holder.current().name == previous
    assert verified == [live, previous]
    (root / POINTER_NAME).touch()  # the pointer changes stamp, the damaged files do not
    clock.now += 5
    assert holder.current().name == previous
    assert verified == [live, previous], "neither the known-bad nor the served generation is hashed again"

    segment.write_bytes(good)  # repaired in place: its stamp changes
    (root / POINTER_NAME).touch()
    assert holder.current().name == live and not holder.serving().is_fallback
    assert verified == [live, previous, live]


def test_a_failure_to_read_the_files_is_tried_again_after_the_retry_delay(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Too many open files, say: nothing is wrong with the bytes, so the generation is not out for good."""
    clock = Clock()
    real = holder_module.verify_generation
    failures = [GenerationDamaged("meta.json", "illisible (Too many open files)", lasting=False)]

    def flaky(path: Path):
        if failures:
            raise failures.pop()
        return real(path)

    monkeypatch.setattr(holder_module, "verify_generation", flaky)
    holder = IndexHolder(root, clock=clock)
    with pytest.raises(IndexUnavailable, match="endommagé"):
        holder.current()
    clock.now += holder_module.RETRY_SECONDS
    assert holder.current().name == pointed_generation(root)


def test_a_generation_without_manifest_says_so(root: Path) -> None:
    live = pointed_generation(root)
    (root / live / "manifest.json").unlink()
    with pytest.raises(IndexUnavailable, match=r"sans manifeste .*make index"):
        IndexHolder(root).current()


def test_an_unlisted_table_of_contents_is_damage(root: Path) -> None:
    """Whoosh opens the highest-numbered _MAIN_N.toc it finds, listed or not."""
    live = pointed_generation(root)
    (root / live / "_MAIN_9.toc").write_bytes(b"garbage")
    with pytest.raises(IndexUnavailable) as raised:
        IndexHolder(root).current()
    assert "_MAIN_9.toc : fichier absent du manifeste" in raised.value.detail


def test_retiring_from_many_threads_never_fails(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests in several threads while generations switch and are closed at once (no grace period)."""
    monkeypatch.setattr(holder_module, "RETIRE_SECONDS", 0.0)
    holder = IndexHolder(root, clock=Clock())
    errors: list[BaseException] = []
    stop = threading.Event()

    def requests() -> None:
        while not stop.is_set():
            try:
                holder.current()
            except BaseException as error:
                errors.append(error)
                return

    threads = [threading.Thread(target=requests) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(8):
            build_index(CORPUS_DIR, root, ACRONYMS, force=True)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []


def test_an_error_while_searching_re_verifies_the_files(root: Path) -> None:
    clock = Clock()
    previous, live = _two_generations(root)
    holder = IndexHolder(root, clock=clock)
    assert holder.current().name == live
    assert holder.verify_after_error(KeyError("bug")) is None, "intact files: a bug, not damage"
    assert holder.current().name == live

    _damage(_segment(root, live), keep_mtime=True)  # invisible to the stamps
    assert holder.current().name == live
    assert holder.verify_after_error(KeyError("bug")) is None, "at most one re-verification per interval"
    clock.now += holder_module.REVERIFY_SECONDS
    rejection = holder.verify_after_error(KeyError("bug"))
    assert rejection is not None and str(rejection) == f"index « {live} » endommagé"
    assert holder.current().name == previous and holder.serving().is_fallback


def test_a_repair_keeps_the_newest_intact_older_generation(root: Path) -> None:
    """Intact old one (served as the fallback), damaged previous one, damaged live one: the build keeps the
    intact one for the next fallback."""
    old = pointed_generation(root)
    damaged_previous = build_index(CORPUS_DIR, root, ACRONYMS, force=True).generation
    shutil.copytree(root / old, root.parent / old)  # a build keeps two generations: put the third back
    damaged_live = build_index(CORPUS_DIR, root, ACRONYMS, force=True).generation
    shutil.move(root.parent / old, root / old)
    for name in (damaged_previous, damaged_live):
        _damage(_segment(root, name))
    assert IndexHolder(root).current().name == old
    repaired = build_index(CORPUS_DIR, root, ACRONYMS)
    assert repaired.repaired and (root / old).is_dir() and not (root / damaged_live).exists()
    _damage(_segment(root, repaired.generation))
    assert IndexHolder(root).current().name == old, "the fallback is still there after the repair"
