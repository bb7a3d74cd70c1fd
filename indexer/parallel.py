"""Spread CPU-bound work over the machine's cores for large corpora (build only).

Workers are forked after the items are set aside in this module, so they inherit
them instead of receiving pickled copies; only index ranges and results cross
process boundaries.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

#: Below this many items, one process is faster than starting workers.
PARALLEL_THRESHOLD = 2000
_shared: tuple[Callable[[Sequence[Any]], Any], Sequence[Any]] | None = None


def workers() -> int:
    """Worker processes to use: one per core, at most 4."""
    return max(1, min(os.cpu_count() or 1, 4))


def _ranges(length: int, count: int) -> list[tuple[int, int]]:
    size = -(-length // count)
    return [(start, min(start + size, length)) for start in range(0, length, size)]


def _run_range(bounds: tuple[int, int]) -> Any:
    assert _shared is not None, "map_chunks sets the work before forking"
    function, items = _shared
    return function(items[bounds[0] : bounds[1]])


def map_chunks(function: Callable[[Sequence[Item]], Result], items: Sequence[Item]) -> list[Result]:
    """``function`` applied to contiguous chunks of ``items`` (in order), in parallel when it pays off."""
    global _shared
    if len(items) < PARALLEL_THRESHOLD or workers() == 1:
        return [function(items)]
    _shared = (function, items)
    try:
        context = multiprocessing.get_context("fork")
        ranges = _ranges(len(items), workers())
        with ProcessPoolExecutor(max_workers=len(ranges), mp_context=context) as pool:
            return list(pool.map(_run_range, ranges))
    finally:
        _shared = None
