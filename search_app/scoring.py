"""Vectorised matching and BM25F scoring of the Whoosh query trees QueryBuilder makes.

Whoosh's own ``searcher.search(q, limit=None)`` steps through every matching
posting in Python, scoring each one. Here each term's posting list is read block
by block into numpy arrays (document numbers, weights, and positions for phrase
terms), scored with Whoosh's BM25F formula and statistics (idf, average field
length, the encoded field lengths), and combined with boolean masks over all
documents: ``And``/``Or`` sum child scores, ``AndNot`` keeps its left side's,
phrases check positions on the documents having all their words, as
``SpanNear2`` does. Scores equal Whoosh's up to float summation order.

Any query node, weighting or index state not handled here raises
:class:`Unsupported`: the caller then runs Whoosh itself.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pickle import dumps, loads

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.matching import Matcher
from whoosh.reading import IndexReader
from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

#: Field length (as Whoosh decodes it) for each of the 256 length bytes.
_BYTE_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


class Unsupported(Exception):
    """A query node or index this module does not evaluate: use Whoosh instead."""


def field_lengths(reader: IndexReader, fieldname: str) -> np.ndarray:
    """Every document's length in ``fieldname`` as Whoosh scores it (0 where absent), by docnum."""
    parts = []
    for leaf, _offset in _leaves(reader):
        count = leaf.doc_count_all()
        raw = _length_bytes(leaf, fieldname, count)
        if raw is None:  # another codec: the public, per-document way
            part = np.array([leaf.doc_field_length(d, fieldname, 0) or 0 for d in range(count)], dtype=np.float64)
        else:
            part = _BYTE_LENGTHS[raw]
        parts.append(part)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64)


def _leaves(reader: IndexReader) -> list[tuple[IndexReader, int]]:
    return [(reader, 0)] if reader.is_atomic() else reader.leaf_readers()


def _length_bytes(leaf: IndexReader, fieldname: str, count: int) -> np.ndarray | None:
    """The segment's length column as bytes (whoosh3 codec internals; None if not that codec)."""
    perdoc = getattr(leaf, "_perdoc", None)
    try:
        column = perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)  # type: ignore[union-attr]
        if column is None:
            return np.zeros(count, dtype=np.uint8)
        if column._fixedlen != 1:
            return None
        stored = min(column._count, count)
        raw = np.frombuffer(column._dbfile.get(column._basepos, stored), dtype=np.uint8)
    except AttributeError:
        return None
    return np.concatenate([raw, np.zeros(count - stored, dtype=np.uint8)]) if stored < count else raw


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
    for leaf, offset in _leaves(reader):
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


@dataclass
class Matches:
    """What a query matches: a boolean mask over documents, scores where scored."""

    mask: np.ndarray
    scores: np.ndarray | None


class Evaluator:
    """Evaluates one query tree on one searcher (a request's worth of cached postings)."""

    def __init__(self, searcher: Searcher, lengths: Callable[[str], np.ndarray]) -> None:
        weighting = searcher.weighting
        if type(weighting) is not BM25F or weighting._field_B or weighting.use_final:
            raise Unsupported(f"weighting {weighting!r}")
        reader = searcher.reader()
        if reader.has_deletions():
            raise Unsupported("deleted documents")
        self.searcher = searcher
        self.reader = reader
        self.schema = searcher.schema
        self.lengths = lengths
        self.size = reader.doc_count_all()
        self.B = weighting.B
        self.K1 = weighting.K1
        self._read: dict[tuple[str, bytes], Postings] = {}

    def run(self, query: wq.Query, scored: bool = True) -> Matches:
        """The matching documents of ``query`` (and their scores if ``scored``)."""
        return self._node(query, scored)

    def _empty(self, scored: bool) -> Matches:
        return Matches(np.zeros(self.size, dtype=bool), np.zeros(self.size) if scored else None)

    def _node(self, query: wq.Query, scored: bool) -> Matches:
        if query is wq.NullQuery:
            return self._empty(scored)
        if getattr(query, "boost", 1.0) != 1.0:
            raise Unsupported(f"boost in {query!r}")
        if type(query) is wq.Term:
            return self._term(query.fieldname, query.text, scored)
        if type(query) is wq.Phrase:
            return self._phrase(query, scored)
        if type(query) is wq.And:
            return self._compound(query.subqueries, scored, np.logical_and)
        if type(query) is wq.Or:
            if query.scale:
                raise Unsupported(f"scaled Or {query!r}")
            if query.minmatch > 1:
                return self._at_least(query.subqueries, query.minmatch, scored)
            return self._compound(query.subqueries, scored, np.logical_or)
        if type(query) is wq.AndNot:
            base = self._node(query.a, scored)
            base.mask &= ~self._node(query.b, False).mask
            return _only_matching(base)
        if type(query) is wq.Not:  # InverseMatcher: every other document, weight 1
            mask = ~self._node(query.query, False).mask
            return Matches(mask, mask.astype(np.float64) if scored else None)
        if type(query) is wq.Every and query.fieldname in (None, "", "*"):
            return Matches(np.ones(self.size, dtype=bool), np.ones(self.size) if scored else None)
        raise Unsupported(f"query {query!r}")

    def _compound(
        self, subqueries: Sequence[wq.Query], scored: bool, combine: Callable[..., np.ndarray]
    ) -> Matches:
        if not subqueries:
            return self._empty(scored)
        result = self._node(subqueries[0], scored)
        for sub in subqueries[1:]:
            other = self._node(sub, scored)
            combine(result.mask, other.mask, out=result.mask)
            if scored:
                _add_scores(result, other)
        return _only_matching(result) if combine is np.logical_and else result

    def _postings(self, fieldname: str, tbytes: bytes) -> Postings:
        """A term's postings, read once per evaluation (a phrase reads its words' lists again)."""
        key = (fieldname, tbytes)
        postings = self._read.get(key)
        if postings is None:
            postings = self._read[key] = read_postings(self.reader, fieldname, tbytes)
        return postings

    def _at_least(self, subqueries: Sequence[wq.Query], needed: int, scored: bool) -> Matches:
        """Documents matching ``needed`` of the subqueries or more, scored as their Or."""
        result = self._empty(scored)
        counts = np.zeros(self.size, dtype=np.int32)
        for sub in subqueries:
            other = self._node(sub, scored)
            counts += other.mask
            if scored:
                _add_scores(result, other)
        result.mask = counts >= needed
        return _only_matching(result)

    def _bytes(self, fieldname: str, text: str | bytes) -> bytes | None:
        if fieldname not in self.schema:
            return None
        try:
            return self.schema[fieldname].to_bytes(text)
        except ValueError:
            return None

    def _term_scores(self, fieldname: str, tbytes: bytes, postings: Postings) -> np.ndarray:
        """BM25F contributions of each posting, as ``whoosh.scoring.BM25FScorer`` computes them."""
        if not self.schema[fieldname].scorable:
            return postings.weights
        idf = self.searcher.idf(fieldname, tbytes)
        avgfl = self.searcher.avg_field_length(fieldname) or 1
        B, K1 = self.B, self.K1
        tf = postings.weights
        fl = self.lengths(fieldname)[postings.ids]
        return idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))

    def _term(self, fieldname: str, text: str | bytes, scored: bool) -> Matches:
        tbytes = self._bytes(fieldname, text)
        if tbytes is None:
            return self._empty(scored)
        postings = self._postings(fieldname, tbytes)
        result = self._empty(scored)
        result.mask[postings.ids] = True
        if scored:
            assert result.scores is not None  # scored matches carry scores
            result.scores[postings.ids] = self._term_scores(fieldname, tbytes, postings)
        return result

    def _phrase(self, query: wq.Phrase, scored: bool) -> Matches:
        fieldname = query.fieldname
        if fieldname not in self.schema:
            return self._empty(scored)
        field = self.schema[fieldname]
        if not field.format or not field.format.supports("positions"):
            raise Unsupported(f"phrase on {fieldname} without positions")
        found = [self._bytes(fieldname, word) for word in query.words]
        words = [w for w in found if w is not None and (fieldname, w) in self.reader]
        if not words or len(words) < len(found):
            return self._empty(scored)
        lists = [self._postings(fieldname, w) for w in words]
        candidates = np.ones(self.size, dtype=bool)
        for postings in lists:
            present = np.zeros(self.size, dtype=bool)
            present[postings.ids] = True
            candidates &= present
        docs = np.flatnonzero(candidates)
        matched = _phrase_docs(docs, lists, field.format.decode_positions, query.slop)
        result = self._empty(scored)
        result.mask[matched] = True
        if scored and len(matched):
            assert result.scores is not None  # scored matches carry scores
            term_scores = []
            for w, postings in zip(words, lists, strict=True):
                selected = np.searchsorted(postings.ids, matched)
                chosen = Postings(postings.ids[selected], postings.weights[selected], [])
                term_scores.append(self._term_scores(fieldname, w, chosen))
            result.scores[matched] = _binary_tree_sum(term_scores)
        return result


def _add_scores(result: Matches, other: Matches) -> None:
    """Add ``other``'s scores to ``result``'s (both scored)."""
    assert result.scores is not None and other.scores is not None  # both evaluated with scored=True
    result.scores += other.scores


def _only_matching(matches: Matches) -> Matches:
    """Zero the scores of documents outside the mask (so that an enclosing Or adds nothing)."""
    if matches.scores is not None:
        matches.scores[~matches.mask] = 0.0
    return matches


def _binary_tree_sum(parts: list[np.ndarray]) -> np.ndarray:
    """Sum in ``whoosh.util.make_binary_tree`` order (how a phrase's intersection adds scores)."""
    if len(parts) == 1:
        return parts[0]
    half = len(parts) // 2
    return _binary_tree_sum(parts[:half]) + _binary_tree_sum(parts[half:])


#: How ``whoosh.formats.Positions`` pickles a value's position deltas (after a 4-byte count).
_POSITIONS_HEADER = b"\x80\x02"


def _positions(values: list[bytes], decode: Callable[[bytes], list[int]]) -> tuple[np.ndarray, np.ndarray]:
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


def _phrase_docs(
    docs: np.ndarray, lists: list[Postings], decode: Callable[[bytes], list[int]], slop: int
) -> np.ndarray:
    """Documents among ``docs`` where the terms occur in order, each 1 to ``slop`` positions
    after the previous one (``SpanNear2(ordered=True, mindist=1)``: a chain of positions).

    Positions become keys ``doc * stride + position`` so one sorted search serves all documents.
    """
    if not len(docs):
        return docs
    keyed = []
    for postings in lists:
        counts, flat = _positions(postings.values(np.searchsorted(postings.ids, docs)), decode)
        keyed.append((np.repeat(docs.astype(np.int64), counts), flat))
    stride = int(max(int(flat.max(initial=0)) for _, flat in keyed)) + slop + 2
    reached = np.unique(keyed[0][0] * stride + keyed[0][1])  # phrase ends reached so far
    for owners, flat in keyed[1:]:
        keys = np.unique(owners * stride + flat)
        before = np.searchsorted(reached, keys, side="left") - 1  # last end strictly before each key
        ok = before >= 0
        gap = keys - reached[np.maximum(before, 0)]
        reached = keys[ok & (gap >= 1) & (gap <= slop)]
        if not len(reached):
            break
    return np.unique(reached // stride)
