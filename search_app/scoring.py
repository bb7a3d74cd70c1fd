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
:class:`Unsupported`: the caller then runs Whoosh itself. Postings, positions and field
lengths come from :mod:`search_app.whoosh_reading`, the one module that reads whoosh3's
internals; :mod:`search_app.fast_check` compares this evaluator with Whoosh when a
generation opens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from whoosh import query as wq
from whoosh.searching import Searcher

from search_app.docsets import DocSet
from search_app.whoosh_reading import Postings, decode_positions, plain_bm25f, read_postings


class Unsupported(Exception):
    """A query node or index this module does not evaluate: use Whoosh instead."""


@dataclass
class Matches:
    """What a query matches: a document set (writable while the evaluator combines it), scores where scored."""

    mask: DocSet
    scores: np.ndarray | None


class Evaluator:
    """Evaluates one query tree on one searcher (a request's worth of cached postings)."""

    def __init__(self, searcher: Searcher, lengths: Callable[[str], np.ndarray]) -> None:
        weighting = searcher.weighting
        if not plain_bm25f(weighting):
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
        evaluate = self._BY_TYPE.get(type(query))  # exact types: a subclass may match otherwise
        if evaluate is None:
            raise Unsupported(f"query {query!r}")
        return evaluate(self, query, scored)

    def _term_node(self, query: wq.Term, scored: bool) -> Matches:
        return self._term(query.fieldname, query.text, scored)

    def _and(self, query: wq.And, scored: bool) -> Matches:
        return self._compound(query.subqueries, scored, np.logical_and)

    def _or(self, query: wq.Or, scored: bool) -> Matches:
        if query.scale:
            raise Unsupported(f"scaled Or {query!r}")
        if query.minmatch > 1:
            return self._at_least(query.subqueries, query.minmatch, scored)
        return self._compound(query.subqueries, scored, np.logical_or)

    def _and_not(self, query: wq.AndNot, scored: bool) -> Matches:
        base = self._node(query.a, scored)
        base.mask &= ~self._node(query.b, False).mask
        return _only_matching(base)

    def _not(self, query: wq.Not, scored: bool) -> Matches:
        """Every other document, weight 1 (Whoosh's InverseMatcher)."""
        mask = ~self._node(query.query, False).mask
        return Matches(mask, mask.astype(np.float64) if scored else None)

    def _every(self, query: wq.Every, scored: bool) -> Matches:
        if query.fieldname not in (None, "", "*"):
            raise Unsupported(f"query {query!r}")
        return Matches(np.ones(self.size, dtype=bool), np.ones(self.size) if scored else None)

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

    #: How each (exact) query type is evaluated.
    _BY_TYPE: ClassVar[dict[type, Callable[..., Matches]]] = {
        wq.Term: _term_node,
        wq.Phrase: _phrase,
        wq.And: _and,
        wq.Or: _or,
        wq.AndNot: _and_not,
        wq.Not: _not,
        wq.Every: _every,
    }


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
        counts, flat = decode_positions(postings.values(np.searchsorted(postings.ids, docs)), decode)
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
