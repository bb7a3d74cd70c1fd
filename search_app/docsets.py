"""Sets of documents, in one form everywhere: a read-only numpy boolean mask over document numbers.

What the evaluator matches, a facet value's programmes, a request's filters, the ranking's
candidates and a similar programme's reasons are all :data:`DocSet` masks of one generation's
size. Set algebra is numpy's (``a & b``, ``a | b``, ``~a``), membership is ``docs[docnum]``, and
nothing converts between forms on the way. Counting one set inside many (a facet's values) packs it
once, eight documents a byte, and counts every value in one vectorised pass (:func:`count_each`).

Masks handed around are read-only (:func:`frozen`): set operations make new arrays, so a shared set
(every document, a facet value) is never changed by accident.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

#: A set of documents: ``docs[d]`` is True when document ``d`` is in it.
DocSet = npt.NDArray[np.bool_]
#: Several sets packed for counting, one row each (:func:`pack_rows`).
PackedSets = npt.NDArray[np.uint8]


def frozen(docs: DocSet) -> DocSet:
    """``docs``, made read-only (in place) and returned."""
    docs.flags.writeable = False
    return docs


def nothing(size: int) -> DocSet:
    """The empty set over ``size`` documents."""
    return frozen(np.zeros(size, dtype=bool))


def everything(size: int) -> DocSet:
    """Every one of ``size`` documents."""
    return frozen(np.ones(size, dtype=bool))


def of(docnums: Iterable[int], size: int) -> DocSet:
    """The set of these document numbers."""
    docs = np.zeros(size, dtype=bool)
    docs[np.fromiter(docnums, dtype=np.int64)] = True
    return frozen(docs)


def count(docs: DocSet) -> int:
    """How many documents the set holds."""
    return int(np.count_nonzero(docs))


def members(docs: DocSet) -> npt.NDArray[np.int64]:
    """The set's document numbers, ascending."""
    return np.flatnonzero(docs)


def union(sets: Sequence[DocSet], size: int) -> DocSet:
    """Documents in any of ``sets`` (the empty set when there are none)."""
    if not sets:
        return nothing(size)
    return frozen(np.logical_or.reduce(sets))


def pack_rows(sets: Sequence[DocSet], size: int) -> PackedSets:
    """``sets`` packed eight documents a byte, one row each, for :func:`count_each`."""
    if not sets:
        return np.zeros((0, (size + 7) // 8), dtype=np.uint8)
    return np.packbits(np.stack(sets), axis=1, bitorder="little")


def count_each(rows: PackedSets, docs: DocSet) -> npt.NDArray[np.int64]:
    """For each packed row, how many of its documents are in ``docs``."""
    if not len(rows):
        return np.zeros(0, dtype=np.int64)
    packed = np.packbits(docs, bitorder="little")
    return np.bitwise_count(rows & packed).sum(axis=1, dtype=np.int64)
