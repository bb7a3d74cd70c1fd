"""The search service against real indexes on disk (no Flask)."""

from __future__ import annotations

import shutil
from pathlib import Path

from indexer.build import build_index
from search_app.search import SearchRequest, SearchService
from tests.paths import ACRONYMS, CORPUS_DIR


def _corpus_copy(tmp_path: Path) -> Path:
    corpus = tmp_path / "programmes"
    shutil.copytree(CORPUS_DIR, corpus)
    return corpus


def test_service_picks_up_a_new_generation_without_restart(tmp_path: Path):
    corpus, root = _corpus_copy(tmp_path), tmp_path / "index"
    build_index(corpus, root, ACRONYMS)
    service = SearchService(root)
    first = service.search(SearchRequest())
    assert first.total == 6
    text = (corpus / "afghanistan-rada.md").read_text(encoding="utf-8")
    extra = text.replace("id: afghanistan-rada", "id: afghanistan-copie").replace("canaux d’irrigation", "zanzibarite")
    (corpus / "afghanistan-copie.md").write_text(extra, encoding="utf-8")
    build_index(corpus, root, ACRONYMS)
    second = service.search(SearchRequest(text="zanzibarite"))
    assert second.total == 1 and second.generation != first.generation
    assert service.search(SearchRequest()).total == 7


def test_generation_state_is_reused_between_searches(index_root: Path):
    service = SearchService(index_root)
    service.search(SearchRequest(text="libye"))
    state = service.status()
    service.search(SearchRequest(text="maroc"))
    assert service.status() is state


def test_snippets_are_bounded(index_root: Path):
    page = SearchService(index_root).search(SearchRequest(text="migrants", per_page=50))
    for hit in page.hits:
        for snippet in hit.snippets.values():
            visible = str(snippet).replace("<mark>", "").replace("</mark>", "")
            # Two fragments of at most 300 characters (plus the word that crosses the limit), and fewer than
            # MIN_CUT_WORDS (4) words rejoined at each of the three places « … » could have stood.
            assert len(visible) <= 2 * (300 + 30) + 3 * 3 * 25
            assert str(snippet).count("…") <= 3


def test_ties_are_broken_by_title(index_root: Path):
    page = SearchService(index_root).search(SearchRequest(text="OIM", per_page=50))
    pairs = [(-(hit.score or 0), hit.title) for hit in page.hits]
    assert pairs == sorted(pairs, key=lambda pair: (pair[0], pair[1].casefold()))


def test_similar_programmes_exclude_itself(index_root: Path):
    detail = SearchService(index_root).programme("afghanistan-rada", "irrigation")
    assert detail is not None
    assert "afghanistan-rada" not in [s.id for s in detail.similar]
    assert detail.similar[0].id == "bangladesh-reintegration-durable"  # same region (see tests/test_similar.py)
    assert any("<mark>irrigation</mark>" in str(p) for p in detail.description)


def test_pages_are_cached_per_generation(tmp_path: Path):
    corpus, root = _corpus_copy(tmp_path), tmp_path / "index"
    build_index(corpus, root, ACRONYMS)
    service = SearchService(root, cache_size=8)
    first = service.search(SearchRequest(text="libye"))
    again = service.search(SearchRequest(text="libye"))
    assert (service.cache.hits, service.cache.misses) == (1, 1)
    assert again.hits == first.hits and again.total == first.total
    build_index(corpus, root, ACRONYMS, force=True)
    fresh = service.search(SearchRequest(text="libye"))
    assert fresh.generation != first.generation and service.cache.misses == 2


def test_page_cache_evicts_the_least_recently_used():
    from search_app.page_cache import PageCache

    cache: PageCache[str] = PageCache(2)
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"
    cache.put("c", "C")
    assert (cache.get("b"), cache.get("a"), cache.get("c")) == (None, "A", "C")
    disabled: PageCache[str] = PageCache(0)
    disabled.put("a", "A")
    assert disabled.get("a") is None
