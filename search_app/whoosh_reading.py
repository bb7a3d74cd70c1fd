"""The engine adapter, reading side: every use of whoosh3's internals by the search service.

Checked against whoosh3 3.54.0 (the exact pin in pyproject.toml). What it relies on:

- **posting blocks**: ``W3LeafMatcher``'s ``_postfile``, ``_dataoffset``, ``_nextoffset``,
  ``_compression``, ``_blocklength``, ``_maxid``, ``_byteids``, ``_fixedsize`` and
  ``_next_block()``; a block is a protocol-2 pickle ``(ids, weights, values)`` whose values
  start at the ``_codecs.encode`` global (cut there to skip them);
- **positions**: ``whoosh.formats.Positions`` values are a 4-byte count then a protocol-2
  pickle of position deltas;
- **scoring**: ``BM25F``'s ``_field_B`` (per-field B values, unsupported here).

Anything unexpected falls back to Whoosh's public API (stepping a matcher,
``decode_positions``); field lengths, read once per generation, use ``doc_field_length``;
and :func:`search_app.fast_check.check_fast_path` compares this module's answers with
Whoosh's public path when a generation opens.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pickle import dumps, loads

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import Matcher
from whoosh.reading import IndexReader
from whoosh.scoring import BM25F, WeightingModel


def plain_bm25f(weighting: WeightingModel) -> bool:
    """Whether ``weighting`` is Whoosh's BM25F with one B for every field and no final step."""
    return type(weighting) is BM25F and not weighting._field_B and not weighting.use_final


def field_lengths(reader: IndexReader, fieldname: str) -> np.ndarray:
    """Every document's length in ``fieldname`` as Whoosh scores it (0 where absent), by docnum.

    Paid once per generation and field, so through the public ``doc_field_length``
    (16 ms at 10,000 documents).
    """
    parts = []
    for leaf, _offset in leaves(reader):
        count = leaf.doc_count_all()
        lengths = (leaf.doc_field_length(docnum, fieldname, 0) or 0 for docnum in range(count))
        parts.append(np.fromiter(lengths, dtype=np.float64, count=count))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64)


def leaves(reader: IndexReader) -> list[tuple[IndexReader, int]]:
    """The segments of ``reader`` with the document number each starts at."""
    return [(reader, 0)] if reader.is_atomic() else reader.leaf_readers()


@dataclass
class Postings:
    """One term's postings over the whole index: global docnums, weights, and the raw
    blocks their encoded values (positions) are read from on demand."""

    ids: np.ndarray
    weights: np.ndarray
    blocks: list[tuple[int, bytes, bool]]  # (index of the block's first posting, block pickle, compressed)

    def values(self, indexes: np.ndarray) -> list[bytes]:
        """The encoded values of the postings at ``indexes`` (ascending), unpickling only their blocks."""
        starts = np.array([block[0] for block in self.blocks], dtype=np.int64)
        which = np.searchsorted(starts, indexes, side="right") - 1
        loaded: dict[int, tuple] = {}
        found = []
        for index, block in zip(indexes.tolist(), which.tolist(), strict=True):
            block_values = loaded.get(block)
            start, data, compressed = self.blocks[block]
            if block_values is None:
                block_values = loaded[block] = loads(zlib.decompress(data) if compressed else data)[2]
            found.append(block_values[index - start])
        return found


#: Start of the encoded values in a whoosh3 block pickle: the ``_codecs.encode`` global
#: that rebuilds each ``bytes`` value under pickle protocol 2.
_VALUES_GLOBAL = b"c_codecs\nencode\n"
_MARK = b"("
#: Completes a block pickle cut before its values: None for the values, then the 3-tuple.
_NO_VALUES = b"N\x87."
#: Enough inflated bytes for a block's ids and weights, per posting (an int, a float: ≤ 14).
_HEAD_BYTES_PER_POSTING = 14


def _ids_and_weights(stored: bytes, compressed: bool, size: int) -> tuple:
    """(ids, weights) of a block without inflating and unpickling its values (most of the
    cost: one ``bytes`` rebuilt per posting); the whole block if the cut does not give them."""
    if compressed:
        inflater = zlib.decompressobj()
        data = inflater.decompress(stored, size * _HEAD_BYTES_PER_POSTING + 64)
        cut = data.find(_VALUES_GLOBAL)
        while cut < 0 and inflater.unconsumed_tail:
            data += inflater.decompress(inflater.unconsumed_tail, 4096)
            cut = data.find(_VALUES_GLOBAL)
    else:
        data = stored
        cut = data.find(_VALUES_GLOBAL)
    if cut > 0:
        if data[cut - 1 : cut] == _MARK:
            cut -= 1
        try:
            ids, weights, _ = loads(data[:cut] + _NO_VALUES)
            if len(ids) == size and (weights is None or isinstance(weights, float) or len(weights) == size):
                return ids, weights
        except Exception:  # a cut in the wrong place: read the whole block
            pass
    ids, weights, _ = loads(zlib.decompress(stored) if compressed else stored)
    return ids, weights


def read_postings(reader: IndexReader, fieldname: str, text: bytes) -> Postings:
    """Every posting of a term, across segments, in docnum order."""
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    blocks: list[tuple[int, bytes, bool]] = []
    count = 0
    for leaf, offset in leaves(reader):
        if (fieldname, text) not in leaf:
            continue
        matcher = leaf.postings(fieldname, text)
        if isinstance(matcher, W3LeafMatcher) and not matcher._byteids and matcher._fixedsize is None:
            leaf_ids, leaf_weights = _read_blocks(matcher, blocks, count)
        else:
            leaf_ids, leaf_weights = _read_slowly(matcher, blocks, count)
        ids.append(leaf_ids + offset)
        weights.append(leaf_weights)
        count += len(leaf_ids)
    if not ids:
        return Postings(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64), blocks)
    return Postings(np.concatenate(ids), np.concatenate(weights), blocks)


def _read_blocks(
    matcher: W3LeafMatcher, blocks: list[tuple[int, bytes, bool]], count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Decode a whoosh3 posting list a block at a time (the block data its matcher reads)."""
    deltas: list[int] = []
    weights: list[float] = []
    starts: list[int] = []
    previous_max: list[int] = []
    last_max = 0
    postfile = matcher._postfile
    while matcher.is_active():
        data = bytes(postfile.get(matcher._dataoffset, matcher._nextoffset - matcher._dataoffset))
        compressed = bool(matcher._compression)
        size = matcher._blocklength
        block_ids, block_weights = _ids_and_weights(data, compressed, size)
        blocks.append((count + len(deltas), data, compressed))
        starts.append(len(deltas))
        previous_max.append(last_max)
        deltas.extend(block_ids)
        if block_weights is None:
            weights.extend([1.0] * size)
        elif isinstance(block_weights, float):
            weights.extend([block_weights] * size)
        else:
            weights.extend(block_weights)
        last_max = matcher._maxid
        matcher._next_block()
    ids = np.array(deltas, dtype=np.int64)
    # Each block's ids are deltas from 0: make them deltas from the previous block's last id.
    ids[starts] -= np.array(previous_max, dtype=np.int64)
    return np.cumsum(ids), np.array(weights, dtype=np.float64)


def _read_slowly(matcher: Matcher, blocks: list[tuple[int, bytes, bool]], count: int) -> tuple[np.ndarray, np.ndarray]:
    """Any other matcher (inlined postings): step through it (values kept as one block)."""
    ids: list[int] = []
    weights: list[float] = []
    values: list[bytes] = []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        values.append(matcher.value() if matcher.supports("positions") else b"")
        matcher.next()
    blocks.append((count, dumps((None, None, tuple(values)), 2), False))
    return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64)


#: How ``whoosh.formats.Positions`` pickles a value's position deltas (after a 4-byte count).
_POSITIONS_HEADER = b"\x80\x02"


def decode_positions(values: list[bytes], decode: Callable[[bytes], list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(count per value, all positions) of encoded position lists, in one unpickling:
    the values' pickled delta lists are joined into one pickled list of lists."""
    bodies = []
    for value in values:
        if value[4:6] != _POSITIONS_HEADER:
            deltas = None
            break
        bodies.append(value[6:-1] if value.endswith(b".") else value[6:])
    else:
        deltas = loads(b"\x80\x02(" + b"".join(bodies) + b"l.")
    if deltas is None or len(deltas) != len(values):  # another encoding: Whoosh decodes each
        lists = [decode(value) for value in values]
        counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        return counts, np.fromiter(itertools.chain.from_iterable(lists), dtype=np.int64, count=int(counts.sum()))
    counts = np.fromiter(map(len, deltas), dtype=np.int64, count=len(deltas))
    total = np.cumsum(np.fromiter(itertools.chain.from_iterable(deltas), dtype=np.int64, count=int(counts.sum())))
    before = np.concatenate([[0], total])[np.cumsum(counts) - counts]  # running sum before each list
    return counts, total - np.repeat(before, counts)
