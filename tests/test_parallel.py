"""Chunked parallel mapping used by large builds."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest

from indexer import parallel


def _sum(chunk):
    return sum(chunk)


@pytest.mark.parametrize("size", [10, 5000])
def test_map_chunks_covers_every_item_once_in_order(monkeypatch, size):
    monkeypatch.setattr(parallel, "workers", lambda: 3)
    items = list(range(size))
    results = parallel.map_chunks(_sum, items)
    assert sum(results) == sum(items)
    assert [x for chunk in parallel.map_chunks(list, items) for x in chunk] == items
    assert len(results) == (1 if size < parallel.PARALLEL_THRESHOLD else 3)


def test_parallel_corpus_load_reports_problems_from_every_chunk(tmp_path, monkeypatch):
    from indexer.corpus import CorpusError, load_corpus

    monkeypatch.setattr(parallel, "PARALLEL_THRESHOLD", 2)
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    for index in range(4):
        status = "Inconnu" if index in (0, 3) else "En cours"
        (tmp_path / f"p{index}.md").write_text(
            f"---\nid: p{index}\ntitle: T\nregion: R\ncountries: [Mali]\nstatus: {status}\nsource: s\n---\n\nTexte.\n",
            encoding="utf-8",
        )
    with pytest.raises(CorpusError) as error:
        load_corpus(tmp_path)
    assert sorted(p.path.rsplit("/", 1)[-1] for p in error.value.problems) == ["p0.md", "p3.md"]


def _count_each(chunk):
    for _ in chunk:
        parallel.advance()
    return len(chunk)


@pytest.mark.parametrize("size", [10, 5000])
def test_progress_counts_items_reported_by_every_worker(monkeypatch, size):
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    seen: list[int] = []
    assert sum(parallel.map_chunks(_count_each, list(range(size)), seen.append)) == size
    assert seen and seen[-1] == size and seen == sorted(seen)


def test_a_failing_worker_fails_the_whole_map(monkeypatch):
    monkeypatch.setattr(parallel, "workers", lambda: 2)

    def failing(chunk):
        if chunk[0] == 0:
            raise ValueError("chunk 0")
        return len(chunk)

    with pytest.raises(ValueError, match="chunk 0"):
        parallel.map_chunks(failing, list(range(5000)))


def _fail_fast_or_sleep(chunk):
    if chunk[0] == 0:
        raise ValueError("chunk 0")
    time.sleep(60)  # a long chunk the failure must not wait for
    return len(chunk)


def test_a_failure_stops_the_other_workers_at_once(monkeypatch):
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    started = time.monotonic()
    with pytest.raises(ValueError, match="chunk 0"):
        parallel.map_chunks(_fail_fast_or_sleep, list(range(5000)))
    assert time.monotonic() - started < 20


def _killed_or_sleep(chunk):
    if chunk[0] == 0:
        os.kill(os.getpid(), signal.SIGKILL)  # what the out-of-memory killer does
    time.sleep(60)
    return len(chunk)


def test_a_killed_worker_fails_the_map_at_once_instead_of_hanging(monkeypatch):
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    started = time.monotonic()
    with pytest.raises(parallel.WorkerDied, match=r"a été tué par SIGKILL \(mémoire épuisée\u00a0\?\)"):
        parallel.map_chunks(_killed_or_sleep, list(range(5000)))
    assert time.monotonic() - started < 20
    assert not multiprocessing.active_children()  # the sleeping worker was stopped too


def _unpicklable(chunk):
    return lambda: chunk


def test_a_result_that_cannot_cross_the_pipe_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    with pytest.raises(RuntimeError, match="résultat intransmissible"):
        parallel.map_chunks(_unpicklable, list(range(5000)))
