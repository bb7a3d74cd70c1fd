"""The self-check of the fast path: the vectorised evaluator against Whoosh's public search.

When a generation opens, a few sample queries built from its own words (frequent and rare
terms of the first stored record, an And, an Or, an AndNot, one of its phrases) are run both ways: the evaluator
(over :mod:`search_app.whoosh_reading`) and ``searcher.search(q, limit=None)``. Any
difference in the documents matched or their scores means the internals the fast path
reads are not what it expects (another whoosh3, a damaged file): the generation is then
served by Whoosh alone, and the reason is logged.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable

import numpy as np
from whoosh import query as wq
from whoosh.searching import Searcher

from indexer.schema import CONTENT_FIELD
from search_app.highlight import Spans
from search_app.scoring import Evaluator, Unsupported

log = logging.getLogger(__name__)

#: Relative tolerance on scores: the evaluator sums in another order than Whoosh.
SCORE_TOLERANCE = 1e-6
#: Terms sampled from the first record: half its most frequent, half its rarest.
SAMPLE_TERMS = 6
#: The frequent sample terms are the most frequent in at most this many documents (Whoosh's
#: own search steps through every posting in Python: the check must stay cheap at 100k).
MAX_SAMPLE_FREQUENCY = 500


def sample_queries(searcher: Searcher, spans: Spans) -> list[wq.Query]:
    """Queries over the terms of the first stored record: its most frequent terms (within
    :data:`MAX_SAMPLE_FREQUENCY`) and its rarest, alone, in And, Or, AndNot, and a phrase."""
    reader = searcher.reader()
    found = _first_text_terms(searcher, spans)
    if not found:
        return []
    frequencies = {(reader.doc_frequency(CONTENT_FIELD, t), t) for t, _ in found}
    terms = sorted(frequencies, key=lambda item: (-item[0], item[1]))
    common = [t for df, t in terms if df <= MAX_SAMPLE_FREQUENCY][: SAMPLE_TERMS // 2]
    chosen = list(dict.fromkeys(common + [t for _, t in terms[-(SAMPLE_TERMS // 2) :]]))
    queries: list[wq.Query] = [wq.Term(CONTENT_FIELD, t) for t in chosen]
    queries.append(wq.Or([wq.Term(CONTENT_FIELD, t) for t in chosen]))
    if len(chosen) > 1:
        queries.append(wq.And([wq.Term(CONTENT_FIELD, t) for t in chosen[:2]]))
        queries.append(wq.AndNot(wq.Term(CONTENT_FIELD, chosen[0]), wq.Term(CONTENT_FIELD, chosen[1])))
    pairs = [(a, b) for (a, p1), (b, p2) in itertools.pairwise(found) if p2 == p1 + 1]
    if pairs:
        queries.append(wq.Phrase(CONTENT_FIELD, list(pairs[len(pairs) // 2])))
    return queries


def _first_text_terms(searcher: Searcher, spans: Spans) -> list[tuple[str, int]]:
    """(term, position) of the first stored record's description."""
    reader = searcher.reader()
    if not reader.doc_count_all():
        return []
    record = reader.stored_fields(0).get("record") or {}
    text = " ".join(record.get("description") or []) if isinstance(record, dict) else ""
    return [(term, pos) for term, _, _, pos in spans(text)]


def check_fast_path(searcher: Searcher, lengths: Callable[[str], np.ndarray], spans: Spans) -> str | None:
    """None when the evaluator agrees with Whoosh on every sample query, else why it does not."""
    for query in sample_queries(searcher, spans):
        try:
            fast = Evaluator(searcher, lengths).run(query, scored=True)
        except Unsupported as error:
            return f"évaluateur non applicable ({error})"
        except Exception as error:  # internals not as expected: the public path still works
            return f"lecture rapide impossible sur {query!r} : {type(error).__name__}: {error}"
        expected = dict(searcher.search(query, limit=None).items())
        docs = np.flatnonzero(fast.mask)
        if set(docs.tolist()) != set(expected):
            return f"documents différents pour {query!r} ({len(docs)} contre {len(expected)})"
        assert fast.scores is not None  # evaluated with scored=True
        wanted = np.array([expected[d] for d in docs.tolist()], dtype=np.float64)
        if not np.allclose(fast.scores[docs], wanted, rtol=SCORE_TOLERANCE, atol=0.0):
            return f"scores différents pour {query!r}"
    return None
