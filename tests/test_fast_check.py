"""The fast path's self-check: it agrees with Whoosh on a sound index, catches a reader that
does not, and the normal queries never fall back to Whoosh silently."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import search_app.scoring
from search_app.index_state import open_generation
from search_app.search import SearchRequest, SearchService
from search_app.whoosh_reading import Postings, read_postings

GOLDEN = yaml.safe_load((Path(__file__).parent / "golden_queries.yaml").read_text(encoding="utf-8"))
OPERATORS = [
    "réintégration OU migrants",
    "retour -Afghanistan",
    "migr*",
    "réintégraton~",
    '"appui à la réintégration"',
    "(retour OU réintégration) ET -Libye",
    "retour volontaire Libye Maroc Kenya",  # relaxed: Or with minmatch
    "-retour",
]


def _texts() -> list[str]:
    return [case["q"] for case in GOLDEN["cases"] if case.get("q")] + OPERATORS


def _results(service: SearchService, text: str) -> tuple[int, list[tuple[str, float]]]:
    page = service.search(SearchRequest(text=text, per_page=50))
    return page.total, [(hit.id, round(hit.score or 0.0, 6)) for hit in page.hits]


def test_the_fast_path_agrees_with_whoosh_on_the_real_index(index_root: Path) -> None:
    assert open_generation(index_root).fast_path_problem is None


def test_the_normal_queries_never_fall_back_to_whoosh(index_root: Path) -> None:
    service = SearchService(index_root, cache_size=0)
    for text in _texts():
        service.search(SearchRequest(text=text))
    state = service.holder.current()
    assert state.fast_path_problem is None
    assert state.whoosh_runs == 0


def _dropping_last_posting(reader, fieldname: str, text: bytes) -> Postings:
    postings = read_postings(reader, fieldname, text)
    if len(postings.ids) < 2:
        return postings
    return Postings(postings.ids[:-1], postings.weights[:-1], postings.blocks)


def test_a_fast_path_that_disagrees_is_switched_off_and_whoosh_answers(
    index_root: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    expected = {text: _results(SearchService(index_root, cache_size=0), text) for text in OPERATORS}
    monkeypatch.setattr(search_app.scoring, "read_postings", _dropping_last_posting)
    state = open_generation(index_root)
    assert state.fast_path_problem is not None and "différents" in state.fast_path_problem
    assert "évaluation vectorisée désactivée" in caplog.text
    service = SearchService(index_root, cache_size=0)
    for text in OPERATORS:
        assert _results(service, text) == expected[text], text
