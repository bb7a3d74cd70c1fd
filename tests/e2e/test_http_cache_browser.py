"""Issue 13's caching target in a real browser: a second view of a page downloads no static asset, and a
reload gets 304 for the page (Chromium sends the ETag back), on a server that records what it answered."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser
from werkzeug.serving import make_server

from search_app import create_app

PAGES = ["/?q=migrants", "/programmes/afghanistan-rada", "/aide"]


@dataclass
class Recorded:
    """Every request the server answered: (path, status, If-None-Match sent)."""

    answers: list[tuple[str, int, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> list[tuple[str, int, bool]]:
        with self.lock:
            answers, self.answers = self.answers, []
        return answers


def _recording(app: Callable[..., Iterable[bytes]], recorded: Recorded) -> Callable[..., Iterable[bytes]]:
    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            with recorded.lock:
                recorded.answers.append((environ["PATH_INFO"], int(status[:3]), "HTTP_IF_NONE_MATCH" in environ))
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return middleware


@pytest.fixture
def recorded_server(index_root: Path, tmp_path: Path) -> Iterator[tuple[str, Recorded]]:
    app = create_app({"SEARCH_INDEX_DIR": str(index_root), "SEARCH_LOG": False, "ANALYTICS_DB": str(tmp_path / "a.db")})
    recorded = Recorded()
    app.wsgi_app = _recording(app.wsgi_app, recorded)  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}", recorded
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.mark.parametrize("path", PAGES)
def test_a_second_view_downloads_no_static_asset_and_a_reload_gets_304(
    browser: Browser, recorded_server: tuple[str, Recorded], path: str
) -> None:
    base, recorded = recorded_server
    context = browser.new_context(base_url=base)  # a fresh HTTP cache
    try:
        page = context.new_page()
        page.goto(path, wait_until="networkidle")
        first = recorded.take()
        assert first[0] == (path.split("?")[0], 200, False)
        assert any(p.startswith("/static/") and status == 200 for p, status, _ in first), first

        page.goto("/aide" if path != "/aide" else "/", wait_until="networkidle")
        recorded.take()
        page.goto(path, wait_until="networkidle")
        second = recorded.take()
        assert not [answer for answer in second if answer[0].startswith("/static/")], second
        assert all(status == 304 for _, status, _ in second), "within max-age: from the cache, or revalidated"

        page.reload(wait_until="networkidle")
        reloaded = recorded.take()
        assert reloaded == [(path.split("?")[0], 304, True)], reloaded
    finally:
        context.close()
