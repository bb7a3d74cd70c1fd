"""The vectorised evaluator (search_app/scoring.py) against Whoosh's own search.

For every query (the golden queries on the real index, the benchmark's query mix and
hand-written operators on a generated index), in AND and OR modes as the service builds
them: the same matching documents, scores equal within 1e-6 (relative), and the same
order up to ties (documents whose scores are equal within that tolerance).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from whoosh import query as wq

from benchmarks.corpus import ACRONYMS, generate_corpus
from benchmarks.queries import make_queries
from benchmarks.textsource import corpus_source
from indexer.build import build_index
from indexer.corpus import load_corpus
from search_app.index_state import GenerationState, open_generation
from search_app.query_builder import QueryBuilder
from search_app.query_parser import parse_query
from search_app.ranking import Ranking
from search_app.scoring import Evaluator, Unsupported
from search_app.search import whoosh_matching
from search_app.suggest import similar_words
from search_app.whoosh_reading import field_lengths
from tests.paths import ROOT

GOLDEN = yaml.safe_load((Path(__file__).parent / "golden_queries.yaml").read_text(encoding="utf-8"))
GENERATED_SIZE = 400
#: Operators, prefixes, typos, field queries, exclusions, phrases with stop-word gaps.
HANDWRITTEN = [
    "réintégration OU migrants",
    "retour -Afghanistan",
    "migr*",
    "réintégraton~",
    "titre:action",
    "pays:Libye OU pays:Bangladesh",
    '"mise en œuvre"',
    '"appui à la réintégration"',
    "(retour OU réintégration) ET -Libye",
    "-retour",
    "soutien OU -retour",
    "statut:actif",
    "région:Asie",
    '"réintégration durable" communautés',
]
RELATIVE = 1e-6


@pytest.fixture(scope="module")
def generated_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of a few hundred generated records (the benchmark's generator, real text)."""
    corpus = tmp_path_factory.mktemp("scoring-corpus")
    root = tmp_path_factory.mktemp("scoring-index")
    generate_corpus(corpus, GENERATED_SIZE, 7, corpus_source(ROOT / "corpus" / "programmes"))
    build_index(corpus, root, ACRONYMS)
    return root


@pytest.fixture(scope="module")
def generated_queries(generated_root: Path, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    corpus = next(p for p in tmp_path_factory.getbasetemp().iterdir() if p.name.startswith("scoring-corpus"))
    return [q.text for q in make_queries(load_corpus(corpus), 11) if q.text] + HANDWRITTEN


def _queries(state: GenerationState, texts: list[str]) -> list[tuple[str, wq.Query, bool]]:
    """(text, Whoosh query, ranked) for each text in both modes, as the service builds them."""
    builder = QueryBuilder(
        state.analyzer,
        state.searcher().reader(),
        lambda w, d: similar_words(state, w, d),
        state.synonym_table,
        state.lexicon,
    )
    built = []
    for text in texts:
        parsed = parse_query(text)
        if parsed.tree is None:
            continue
        for mode in ("and", "or"):
            query = builder.build(parsed.tree, mode=mode)
            built.append((f"{text} [{mode}]", query.query, query.terms.has_positive))
    return built


def _check(state: GenerationState, label: str, query: wq.Query, ranked: bool) -> None:
    searcher = state.searcher()
    size = searcher.doc_count_all()
    matches = Evaluator(searcher, state.field_lengths).run(query, scored=ranked)
    if not ranked:
        expected = sorted(whoosh_matching(searcher, query))
        assert np.flatnonzero(matches.mask).tolist() == expected, label
        return
    allowed = whoosh_matching(searcher, query)  # Whoosh ignores Or.minmatch: count it as the service does
    whoosh = [(d, score) for d, score in searcher.search(query, limit=None).items() if d in allowed]
    docs = np.flatnonzero(matches.mask)
    assert docs.tolist() == sorted(d for d, _ in whoosh), label
    ours = dict(zip(docs.tolist(), matches.scores[docs].tolist(), strict=True))
    for docnum, score in whoosh:
        assert ours[docnum] == pytest.approx(score, rel=RELATIVE), (label, docnum)
    ordered = Ranking(docs, matches.scores[docs]).top(np.ones(size, dtype=bool), len(docs))
    assert [d for d, _ in ordered] == _untie(whoosh, ordered), label


def _untie(whoosh: list[tuple[int, float]], ordered: list[tuple[int, float]]) -> list[int]:
    """Whoosh's order, with runs of scores equal within the tolerance taken in our order."""
    position = {docnum: i for i, (docnum, _) in enumerate(ordered)}
    result: list[int] = []
    run: list[int] = []
    for docnum, score in whoosh:
        if run and score < whoosh[len(result)][1] * (1 - RELATIVE):
            result += sorted(run, key=position.__getitem__)
            run = []
        run.append(docnum)
    return result + sorted(run, key=position.__getitem__)


def test_golden_queries_score_as_whoosh(index_root: Path) -> None:
    state = open_generation(index_root)
    texts = [case["q"] for case in GOLDEN["cases"]] + HANDWRITTEN
    for label, query, ranked in _queries(state, texts):
        _check(state, label, query, ranked)


def test_generated_queries_score_as_whoosh(generated_root: Path, generated_queries: list[str]) -> None:
    state = open_generation(generated_root)
    checked = _queries(state, generated_queries)
    assert len(checked) > 300
    for label, query, ranked in checked:
        _check(state, label, query, ranked)


def test_field_lengths_are_whooshs(generated_root: Path) -> None:
    state = open_generation(generated_root)
    reader = state.searcher().reader()
    for fieldname in ("content", "title", "countries", "status"):
        lengths = field_lengths(reader, fieldname)
        expected = [reader.doc_field_length(d, fieldname, 0) or 0 for d in range(reader.doc_count_all())]
        assert lengths.tolist() == expected, fieldname


def test_unhandled_queries_are_refused(index_root: Path) -> None:
    state = open_generation(index_root)
    evaluator = Evaluator(state.searcher(), state.field_lengths)
    for query in (wq.Prefix("content", "migr"), wq.Term("content", "retour", boost=2.0), wq.DisjunctionMax([])):
        with pytest.raises(Unsupported):
            evaluator.run(query)


def test_ranking_top_is_whooshs_order() -> None:
    rng = np.random.default_rng(3)
    docs = np.arange(500, dtype=np.int64)
    scores = rng.integers(0, 20, size=500).astype(np.float64)  # many ties
    members = rng.random(500) < 0.6
    expected = sorted(((d, s) for d, s in zip(docs.tolist(), scores.tolist(), strict=True) if members[d]),
                      key=lambda hit: (-hit[1], hit[0]))
    ranking = Ranking(docs, scores)
    for count in (1, 10, 37, 299, 10_000):
        assert ranking.top(members, count) == expected[:count]
