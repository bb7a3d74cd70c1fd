"""The generation holder: a replaced generation keeps serving the requests that hold it, then its
searchers (every thread's readers and files) are closed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import search_app.holder as holder_module
from indexer.build import build_index
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


def test_a_generation_taken_out_of_service_is_closed_too(root: Path) -> None:
    clock = Clock()
    holder = IndexHolder(root, clock=clock)
    broken = holder.current()
    searcher = broken.searcher()
    holder.mark_broken(ValueError("octets corrompus"))
    clock.now += holder_module.RETIRE_SECONDS
    build_index(CORPUS_DIR, root, ACRONYMS, force=True)
    assert holder.current().name != broken.name
    assert searcher.is_closed
