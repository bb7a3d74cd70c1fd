"""Scored matches kept as numpy arrays, and the best few of them for a page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from search_app.docsets import DocSet


@dataclass(frozen=True)
class Ranking:
    """Every match with its score; :meth:`top` gives Whoosh's order (best score, then docnum)."""

    docs: np.ndarray  # int64 document numbers
    scores: np.ndarray  # float64, same length

    @classmethod
    def from_items(cls, items: Iterable[tuple[int, float]]) -> Ranking:
        """From ``(docnum, score)`` pairs (Whoosh's ``Results.items()``)."""
        pairs = list(items)
        docs = np.fromiter((d for d, _ in pairs), dtype=np.int64, count=len(pairs))
        scores = np.fromiter((s for _, s in pairs), dtype=np.float64, count=len(pairs))
        return cls(docs, scores)

    def __len__(self) -> int:
        return len(self.docs)

    def top(self, members: DocSet, count: int) -> list[tuple[int, float]]:
        """The first ``count`` matches that are in ``members``, best score first,
        equal scores by document number (as Whoosh sorts all of them)."""
        if count <= 0:
            return []
        keep = members[self.docs]
        docs, scores = self.docs[keep], self.scores[keep]
        if len(docs) > count:
            threshold = np.partition(scores, len(scores) - count)[len(scores) - count]
            above = np.flatnonzero(scores > threshold)
            level = np.flatnonzero(scores == threshold)
            level = level[np.argsort(docs[level], kind="stable")][: count - len(above)]
            chosen = np.concatenate([above, level])
            docs, scores = docs[chosen], scores[chosen]
        order = np.lexsort((docs, -scores))
        return list(zip(docs[order].tolist(), scores[order].tolist(), strict=True))
