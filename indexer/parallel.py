"""Spread CPU-bound work over the machine's cores for large corpora (build only).

Workers are forked after the items are set aside in this module, so they inherit
them instead of receiving pickled copies; only index ranges and results cross
process boundaries. Workers may report progress with :func:`advance`; the parent
passes the running total to its ``progress`` callback while it waits. When one chunk
fails, or the parent is interrupted, the other workers are stopped at once and the error
is raised. Workers leave SIGINT and SIGTERM to the parent and die with it, even when it
is killed (see :mod:`indexer.processes`).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.pool import Pool
from typing import Any, TypeVar

from indexer.processes import die_with_parent, leave_signals_to_parent, signals_held

Item = TypeVar("Item")
Result = TypeVar("Result")

#: Below this many items, one process is faster than starting workers.
PARALLEL_THRESHOLD = 2000
#: Seconds between two progress reports while workers run.
PROGRESS_INTERVAL = 0.5
_shared: tuple[Callable[[Sequence[Any]], Any], Sequence[Any]] | None = None
_counter: Any = None  # a shared multiprocessing.Value while workers run
_report: Callable[[int], None] | None = None  # the progress callback when running in-process
_done = 0


def workers() -> int:
    """Worker processes to use: one per core, at most 4."""
    return max(1, min(os.cpu_count() or 1, 4))


def advance(count: int = 1) -> None:
    """Count ``count`` more items done (from a worker, or in-process)."""
    global _done
    if _counter is not None:
        with _counter.get_lock():
            _counter.value += count
    elif _report is not None:
        _done += count
        _report(_done)


def _ranges(length: int, count: int) -> list[tuple[int, int]]:
    size = -(-length // count)
    return [(start, min(start + size, length)) for start in range(0, length, size)]


def _start_worker(parent: int) -> None:
    """A worker's first step: signals are the parent's business, and it dies with the parent."""
    leave_signals_to_parent()
    die_with_parent(parent)


@contextmanager
def _pool(context: Any, count: int) -> Iterator[Pool]:
    """``count`` workers, terminated on leaving the block.

    A stop signal waits while the pool starts and while it is terminated: arriving in the middle, it
    would leave it half made (workers forked but no pool to terminate them). The workers are forked
    by this thread, which waits for them: the parent-death signal fires when it ends.
    """
    pool = None
    try:
        with signals_held():
            pool = context.Pool(count, _start_worker, (os.getpid(),))
        yield pool
    finally:
        if pool is not None:
            with signals_held():
                pool.terminate()


def _run_range(bounds: tuple[int, int]) -> Any:
    assert _shared is not None, "map_chunks sets the work before forking"
    function, items = _shared
    return function(items[bounds[0] : bounds[1]])


def map_chunks(
    function: Callable[[Sequence[Item]], Result],
    items: Sequence[Item],
    progress: Callable[[int], None] | None = None,
) -> list[Result]:
    """``function`` applied to contiguous chunks of ``items`` (in order), in parallel when it pays off.

    ``progress`` receives the number of items reported done with :func:`advance` so far.
    """
    global _shared, _counter, _report, _done
    if len(items) < PARALLEL_THRESHOLD or workers() == 1:
        _report, _done = progress, 0
        try:
            return [function(items)]
        finally:
            _report = None
    context = multiprocessing.get_context("fork")
    _shared, _counter = (function, items), context.Value("q", 0)
    ranges = _ranges(len(items), workers())
    try:
        with _pool(context, len(ranges)) as pool:
            results = [pool.apply_async(_run_range, (bounds,)) for bounds in ranges]
            while True:
                if progress is not None:
                    progress(_counter.value)
                pending = [result for result in results if not result.ready()]
                if not pending or any(not r.successful() for r in results if r.ready()):
                    break  # all done, or one failed: no need to wait for the others
                pending[0].wait(PROGRESS_INTERVAL)
            return [result.get() for result in results]  # raises the first failure
    finally:
        _shared = _counter = None
