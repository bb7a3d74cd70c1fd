"""Spread CPU-bound work over the machine's cores for large corpora (build only).

One worker process is forked per chunk, after the items are set aside in this module,
so they inherit them instead of receiving pickled copies; only the result of each
chunk crosses a process boundary, on a pipe of its own. (No ``multiprocessing`` pool:
a pool replaces a killed worker, loses its chunk and can hang when terminated.)
Workers may report progress with :func:`advance`; the parent passes the running total
to its ``progress`` callback while it waits. When one chunk fails, or the parent is
interrupted, the other workers are stopped at once and the error is raised. A worker
that dies (killed by the kernel's out-of-memory killer, say) fails the map with
:class:`WorkerDied`. Workers leave SIGINT and SIGTERM to the parent and die with it,
even when it is killed (see :mod:`indexer.processes`).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, NoReturn, TypeVar

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


class WorkerDied(Exception):
    """A worker process ended before its chunk was done (its chunk's work is lost)."""


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


def _run_range(bounds: tuple[int, int]) -> Any:
    assert _shared is not None, "map_chunks sets the work before forking"
    function, items = _shared
    return function(items[bounds[0] : bounds[1]])


def _worker(results: Connection, parent: int, bounds: tuple[int, int]) -> None:
    """One chunk in a forked process: ``("done", result)`` or ``("failed", error)`` on the pipe."""
    _start_worker(parent)
    try:
        outcome: tuple[str, Any] = ("done", _run_range(bounds))
    except Exception as error:  # handed to the parent, which raises it
        outcome = ("failed", error)
    try:
        results.send(outcome)
    except Exception as error:  # a result or an error that does not pickle: say what it was
        results.send(("failed", RuntimeError(f"résultat intransmissible ({type(error).__name__}: {error})")))
    finally:
        results.close()


@dataclass
class _Chunk:
    """A worker process, the pipe its outcome comes on, and the outcome once received."""

    process: Any
    pipe: Connection
    result: Any = None
    done: bool = False


@contextmanager
def _workers(context: Any, ranges: Sequence[tuple[int, int]]) -> Iterator[list[_Chunk]]:
    """One forked process per range, killed on leaving the block if still running.

    A stop signal waits while they start and while they are stopped: arriving in the middle, it
    would leave some unaccounted for. The workers are forked by this thread, which waits for them:
    the parent-death signal fires when it ends.
    """
    chunks: list[_Chunk] = []
    try:
        with signals_held():
            for bounds in ranges:
                receiving, sending = context.Pipe(duplex=False)
                process = context.Process(target=_worker, args=(sending, os.getpid(), bounds), daemon=True)
                process.start()
                sending.close()
                chunks.append(_Chunk(process, receiving))
        yield chunks
    finally:
        with signals_held():
            for chunk in chunks:
                if chunk.process.is_alive():
                    chunk.process.kill()
            for chunk in chunks:
                chunk.process.join()
                chunk.pipe.close()


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
    try:
        with _workers(context, _ranges(len(items), workers())) as chunks:
            while not all(chunk.done for chunk in chunks):
                if progress is not None:
                    progress(_counter.value)
                _collect(chunks, PROGRESS_INTERVAL)
            if progress is not None:
                progress(_counter.value)
            return [chunk.result for chunk in chunks]
    finally:
        _shared = _counter = None


def _collect(chunks: Sequence[_Chunk], timeout: float) -> None:
    """Wait up to ``timeout`` for outcomes; raise the first failure, or :class:`WorkerDied`."""
    running = [chunk for chunk in chunks if not chunk.done]
    ready = set(wait([c.pipe for c in running] + [c.process.sentinel for c in running], timeout))
    for chunk in running:
        if chunk.pipe in ready or (chunk.process.sentinel in ready and chunk.pipe.poll()):
            try:
                kind, value = chunk.pipe.recv()
            except EOFError:
                _died(chunk)
            if kind == "failed":
                raise value
            chunk.result, chunk.done = value, True
        elif chunk.process.sentinel in ready:
            _died(chunk)


def _died(chunk: _Chunk) -> NoReturn:
    """Raise :class:`WorkerDied` for a worker that ended without sending its outcome."""
    chunk.process.join()
    code = chunk.process.exitcode
    how = f"a été tué par {signal.Signals(-code).name}" if code < 0 else f"s’est arrêté (code {code})"
    hint = " (mémoire épuisée\u00a0?)" if code == -signal.SIGKILL else ""
    raise WorkerDied(f"un processus de construction (PID {chunk.process.pid}) {how}{hint}\u00a0; son lot est perdu")
