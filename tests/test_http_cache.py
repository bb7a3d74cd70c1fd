"""HTTP caching: ETags that follow the generation and the request, 304 without a search, Cache-Control
per kind of answer, fingerprinted static files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from indexer.build import build_index
from search_app import create_app, http_cache
from tests.paths import ACRONYMS, CORPUS_DIR


def fresh_app(root: Path):
    return create_app({"SEARCH_INDEX_DIR": str(root), "SEARCH_LOG": False, "TESTING": True, "ANALYTICS_ENABLED": False})


URLS = ["/?q=migrants", "/programmes/afghanistan-rada?q=retour", "/aide", "/api/search?q=Libye"]


@pytest.mark.parametrize("url", URLS)
def test_an_answer_the_client_holds_is_a_304_and_no_search_runs(client, monkeypatch, url: str):
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and re.fullmatch(r'"[0-9a-f]{24}"', etag)
    assert client.get(url, headers={"If-None-Match": '"autre"'}).status_code == 200, "another ETag: the answer"
    service = client.application.extensions["search_service"]
    monkeypatch.setattr(service, "search", lambda *_: pytest.fail("a 304 must not search"))
    monkeypatch.setattr(service, "programme", lambda *_: pytest.fail("a 304 must not read the record"))
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag and again.headers["Cache-Control"] == first.headers["Cache-Control"]


def test_the_etag_follows_the_request(client):
    etags = {client.get(url).headers["ETag"] for url in ("/?q=migrants", "/?q=retour", "/?q=migrants&page=2", "/")}
    assert len(etags) == 4
    assert client.get("/?q=migrants").headers["ETag"] == client.get("/?q=migrants").headers["ETag"]


def test_the_etag_of_a_page_follows_the_footer_the_client_gets(client):
    local = client.get("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}).headers["ETag"]
    remote = client.get("/", environ_base={"REMOTE_ADDR": "203.0.113.9"}).headers["ETag"]
    assert local != remote, "only the local client's footer links to the statistics"


def test_a_new_generation_changes_every_etag(tmp_path: Path):
    root = tmp_path / "index"
    build_index(CORPUS_DIR, root, ACRONYMS)
    client = fresh_app(root).test_client()
    before = {url: client.get(url).headers["ETag"] for url in ("/?q=migrants", "/api/search?q=migrants")}
    build_index(CORPUS_DIR, root, ACRONYMS, force=True)
    for url, etag in before.items():
        changed = client.get(url, headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["ETag"] != etag, url


def test_cache_control_fits_each_kind_of_answer(client):
    assert client.get("/?q=migrants").headers["Cache-Control"] == "private, max-age=60"
    assert client.get("/api/search?q=migrants").headers["Cache-Control"] == "public, max-age=60"
    for url in ("/healthz", "/stats", "/programmes/inconnu", "/api/programmes/inconnu", "/api/search?page=x"):
        response = client.get(url)
        assert response.headers["Cache-Control"] == "no-store", url
        assert "ETag" not in response.headers or response.status_code < 400, url
    assert "Accept-Encoding" in client.get("/api/search?q=retour").headers["Vary"]


def test_static_files_are_linked_by_fingerprint_and_cached_for_a_year(client):
    html = client.get("/").get_data(as_text=True)
    links = re.findall(r'(?:href|src)="(/static/[^"#]+)', html)
    assert {"style.css", "app.js", "favicon.svg", "map/world.svg"} <= {re.sub(r"^/static/|\?.*$", "", u) for u in links}
    for link in links:
        assert re.search(r"\?v=[0-9a-f]{10}$", link), link
        response = client.get(link.replace("&amp;", "&"))
        response.close()
        assert response.status_code == 200 and response.headers["Cache-Control"] == http_cache.IMMUTABLE, link
    old = client.get("/static/style.css?v=000000000000")
    old.close()
    assert old.headers["Cache-Control"] == "no-cache", "a link to an older file revalidates"


def test_a_changed_file_gets_another_fingerprint(tmp_path: Path):
    first, second = tmp_path / "a.css", tmp_path / "b.css"
    first.write_text("body { color: red; }", encoding="utf-8")
    second.write_text("body { color: blue; }", encoding="utf-8")
    assert http_cache.fingerprint(first) != http_cache.fingerprint(second)
    assert len(http_cache.fingerprint(first)) == http_cache.FINGERPRINT_CHARS
