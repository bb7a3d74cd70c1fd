"""A build that dies cleanly (issue 14, point 3): real ``python -m indexer build`` processes, real files.

A 12,000-record build is stopped at several moments: SIGTERM and SIGINT take its whole process
tree down within a second, remove its staging folder, release the lock and leave the served
generation as it was; after ``kill -9`` no worker is left either, and the next build removes the
staging folder the killed one left and runs at once. A build that must wait says for whom.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks.corpus import generate_corpus
from benchmarks.textsource import corpus_source
from indexer.build import build_index
from indexer.store import LOCK_NAME, STAGING_PREFIX
from tests.paths import ACRONYMS, CORPUS_DIR
from tests.reliability.build_processes import BUILD, WatchedProcess, descendants, lock_held_by_a_thread, lock_is_free
from tests.reliability.helpers import run_indexer, snapshot, wait_for

SIZE = 12_000
#: Seconds the whole tree may take to go after SIGTERM or SIGINT, and after kill -9.
STOP_SECONDS, KILL_SECONDS = 1.0, 2.0
SMALL_BUILD = ("--force", "--corpus", CORPUS_DIR, "--acronyms", ACRONYMS)
UNCHANGED = "l’index en service est inchangé"


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12,000 generated records (the benchmark's generator, the real records' text), about 15 s."""
    records = tmp_path_factory.mktemp("big-corpus") / "programmes"
    generate_corpus(records, SIZE, 7, corpus_source(CORPUS_DIR))
    return records


@pytest.fixture
def served(tmp_path: Path) -> tuple[Path, dict]:
    """An index root serving a generation of the six programmes, and a snapshot of it."""
    root = tmp_path / "index"
    build_index(CORPUS_DIR, root, ACRONYMS)
    return root, _served_files(root)


def _served_files(root: Path) -> dict:
    """Every file of the index root but the lock file (its content and mtime change with each build)
    and staging folders."""
    return {
        name: value
        for name, value in snapshot(root).items()
        if name != LOCK_NAME and not name.startswith(STAGING_PREFIX)
    }


def _reading(build: WatchedProcess) -> None:
    """The first pass: workers read and validate the records (before the lock, no staging folder yet)."""
    build.wait_for_workers()
    assert build.indexed() == 0


def _writing(build: WatchedProcess) -> None:
    """The second pass: workers write their segments into the staging folder."""
    build.wait_for_progress(2000, timeout=120)


def _finishing(build: WatchedProcess) -> None:
    """Every record indexed, the workers flushing their segments (several seconds at this size)."""
    build.wait_for_progress(SIZE, timeout=180)
    assert descendants(build.pid), "workers still at work"


MOMENTS: dict[str, Callable[[WatchedProcess], None]] = {
    "reading": _reading,
    "writing": _writing,
    "finishing": _finishing,
}


def _staging(root: Path) -> list[Path]:
    return list(root.glob(f"{STAGING_PREFIX}*"))


def _assert_served_unchanged(root: Path, before: dict) -> None:
    assert _served_files(root) == before
    assert not _staging(root)


def _seconds(stdout: str) -> float:
    """The duration a build reports (« … en 0.12 s »), lock wait included."""
    match = re.search(r"documents en ([\d.]+) s", stdout)
    assert match, stdout
    return float(match.group(1))


@pytest.mark.slow
@pytest.mark.parametrize("moment", MOMENTS)
def test_kill_9_leaves_no_process_and_the_next_build_starts_at_once(big_corpus, served, watch, moment):
    root, before = served
    build = watch(*BUILD, "--corpus", big_corpus, "--index", root)
    MOMENTS[moment](build)
    sent = build.send(signal.SIGKILL)
    gone = build.seconds_until_gone(sent, timeout=10)
    print(f"kill -9 while {moment}: {build.workers()} workers, tree gone after {gone * 1000:.0f} ms")
    assert gone < KILL_SECONDS and build.workers() >= 2
    assert wait_for(lambda: lock_is_free(root), timeout=1.0)
    assert len(_staging(root)) == (moment != "reading") and _served_files(root) == before

    after = run_indexer("build", *SMALL_BUILD, "--index", root, timeout=30)
    assert after.returncode == 0, after.stderr
    print(f"  next build: {_seconds(after.stdout):.2f} s")
    assert _seconds(after.stdout) < 1.0 and "attente" not in after.stderr
    if moment != "reading":
        assert f"construction interrompue (PID {build.pid})\u00a0: dossier {root}/{STAGING_PREFIX}{build.pid}-" in (
            after.stderr
        )
    assert not _staging(root) and "Traceback" not in after.stderr


@pytest.mark.slow
def test_after_kill_9_the_same_corpus_builds(big_corpus, served, watch):
    root, _ = served
    killed = watch(*BUILD, "--corpus", big_corpus, "--index", root)
    _writing(killed)
    killed.seconds_until_gone(killed.send(signal.SIGKILL), timeout=10)
    again = watch(*BUILD, "--corpus", big_corpus, "--index", root)
    assert again.finish(timeout=300) == 0, again.output()
    assert f"{SIZE} documents" in again.output() and "attente" not in again.output()
    assert f"construction interrompue (PID {killed.pid})" in again.output()
    assert not _staging(root) and lock_is_free(root)


STOPS = {"SIGTERM": (signal.SIGTERM, False), "SIGINT": (signal.SIGINT, False), "Ctrl-C": (signal.SIGINT, True)}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stop", "moment"),
    [
        ("SIGTERM", "reading"),
        ("SIGTERM", "writing"),
        ("SIGTERM", "finishing"),
        ("SIGINT", "writing"),
        ("Ctrl-C", "reading"),
        ("Ctrl-C", "writing"),
    ],
)
def test_sigterm_and_sigint_stop_the_build_cleanly(big_corpus, served, watch, stop, moment):
    root, before = served
    signum, group = STOPS[stop]
    build = watch(*BUILD, "--corpus", big_corpus, "--index", root)
    MOMENTS[moment](build)
    sent = build.send(signum, group=group)
    gone = build.seconds_until_gone(sent, timeout=10)
    print(f"{stop} while {moment}: {build.workers()} workers, tree gone after {gone * 1000:.0f} ms")
    assert gone < STOP_SECONDS and build.workers() >= 2
    assert build.process.returncode == 128 + signum
    build.finish(timeout=5)
    name = signal.Signals(signum).name
    assert f"construction interrompue ({name})\u00a0: {UNCHANGED}" in build.output()
    assert "Traceback" not in build.output() and "Error" not in build.output()
    assert lock_is_free(root) and (root / LOCK_NAME).read_text() == ""
    _assert_served_unchanged(root, before)


@pytest.mark.slow
def test_a_waiting_build_names_the_one_it_waits_for_and_runs_once_it_stops(big_corpus, served, watch):
    root, _ = served
    first = watch(*BUILD, "--corpus", big_corpus, "--index", root)
    _writing(first)
    assert (root / LOCK_NAME).read_text() == f"{first.pid}\n"
    second = watch(*BUILD, *SMALL_BUILD, "--index", root)
    second.wait_for_line(f"une autre construction est en cours (PID {first.pid})\u00a0: attente…")
    assert not wait_for(lambda: second.process.poll() is not None, timeout=1.0)  # it does wait
    sent = first.send(signal.SIGTERM)
    assert second.finish(timeout=30) == 0, second.output()
    print(f"waiting build done {second.seconds_until_gone(sent):.2f} s after the first was stopped")
    assert second.output().count("attente") == 1 and "en service\u00a0: 6 documents" in second.output()
    assert not _staging(root)


def test_the_waiting_message_names_the_holder(served, watch):
    """A build started while this process holds the lock says so, with this PID, then builds."""
    root, _ = served
    with lock_held_by_a_thread(root):
        waiting = watch(*BUILD, *SMALL_BUILD, "--index", root)
        waiting.wait_for_line(f"une autre construction est en cours (PID {os.getpid()})\u00a0: attente…")
        assert waiting.process.poll() is None
    assert waiting.finish(timeout=30) == 0, waiting.output()
    assert waiting.output().count("attente…") == 1 and "en service\u00a0: 6 documents" in waiting.output()

