"""Golden queries: the relevance regression suite (tests/golden_queries.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from search_app.search import SearchRequest, SearchService

GOLDEN = yaml.safe_load((Path(__file__).parent / "golden_queries.yaml").read_text(encoding="utf-8"))
ALIASES: dict[str, str] = GOLDEN["aliases"]


def _ids(names: list[str]) -> list[str]:
    return [ALIASES.get(name, name) for name in names]


@pytest.fixture(scope="module")
def service(index_root: Path) -> SearchService:
    return SearchService(index_root)


def test_the_suite_is_large_enough():
    assert len(GOLDEN["cases"]) >= 30


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=lambda case: f"{case['q']!r}{case.get('filters', '')}")
def test_golden_query(service: SearchService, case: dict):
    filters = {facet: tuple(values) for facet, values in case.get("filters", {}).items()}
    page = service.search(SearchRequest(text=case["q"], filters=filters, per_page=50))
    found = [hit.id for hit in page.hits]
    if "ids" in case:
        assert sorted(found) == sorted(_ids(case["ids"]))
    if "order" in case:
        assert found == _ids(case["order"])
    if "top" in case:
        assert found[:1] == [ALIASES[case["top"]]]
    if "top_k" in case:
        expected = _ids(case["top_k"])
        assert len(set(expected)) == len(expected), "top_k lists each programme once"
        assert sorted(found[: len(expected)]) == sorted(expected)
    if "total" in case:
        assert page.total == case["total"]
    assert page.total == len(found)
    assert page.fallback == case.get("fallback")
    if "suggestion" in case:
        assert page.suggestion == case["suggestion"]
    else:
        assert page.suggestion is None, "a correctly spelled query gets no suggestion"
