"""End-to-end fixtures: the real app on a real WSGI server, driven by Debian's headless Chromium.

The app is served by werkzeug's threaded server on 127.0.0.1 (port 0 = a free port) from an
index built with the real indexer. A second server serves a 24-record corpus (the six real
records plus 18 copies with other ids and countries) so that results span several pages.

Chromium is not optional: when it cannot be found the tests fail (they are never skipped),
because CI must run them (``make test`` installs Debian's ``chromium``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import ConsoleMessage, Page
from werkzeug.serving import make_server

from indexer.build import build_index
from indexer.corpus import load_corpus, record_paths, render_record
from search_app import create_app

E2E_DIR = Path(__file__).resolve().parent
ROOT = E2E_DIR.parent.parent
CORPUS_DIR = ROOT / "corpus" / "programmes"
ACRONYMS = ROOT / "corpus" / "acronyms.txt"
SCREENSHOT_DIR = ROOT / "test-artifacts" / "screenshots"

#: Headless as root, and off the network (see /work/shared/TOOLCHAIN.md): without the
#: resolver rules Chromium looks up Google hosts at start; the EXCLUDEs keep 127.0.0.1 working.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]

#: Extra countries given to the copies of the records in the pagination corpus.
EXTRA_COUNTRIES = ["Pérou", "Chili", "Panama"]  # in no real record
COPIES_PER_RECORD = 3


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/e2e runs in the browser."""
    for item in items:
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.browser)


def chromium_executable() -> str:
    """Debian's Chromium: ``$CHROMIUM_PATH``, else ``chromium`` on the PATH; fail (never skip) otherwise."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            pytest.fail(f"CHROMIUM_PATH={configured!r} is not an executable file.", pytrace=False)
        return configured
    found = shutil.which("chromium")
    if not found:
        pytest.fail(
            "Chromium not found: the browser tests need Debian's chromium "
            "(`make browser`, or `apt-get install -y chromium` as root), "
            "or set CHROMIUM_PATH to a Chromium executable. These tests are never skipped.",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options plus Debian's Chromium and its offline flags."""
    return {
        **browser_type_launch_args,
        "executable_path": chromium_executable(),
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_FLAGS],
    }


@dataclasses.dataclass(frozen=True)
class LiveServer:
    """A running server: ``url("/aide")`` is an absolute URL on it."""

    base_url: str

    def url(self, path: str = "/") -> str:
        return self.base_url + path


@pytest.fixture(scope="session")
def serve() -> Iterator[Callable[[Path], LiveServer]]:
    """Start the real app on a real threaded WSGI server for an index; all are shut down at the end."""
    servers = []
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log in the test output

    def start(index_root: Path) -> LiveServer:
        analytics = index_root.parent / f"analytics-{len(servers)}.sqlite3"
        app = create_app({"SEARCH_INDEX_DIR": str(index_root), "SEARCH_LOG": False, "ANALYTICS_DB": str(analytics)})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name=f"e2e-server-{server.port}", daemon=True)
        thread.start()
        servers.append((server, thread))
        return LiveServer(f"http://127.0.0.1:{server.port}")

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(serve: Callable[[Path], LiveServer], index_root: Path) -> LiveServer:
    """The app over the six real programmes."""
    return serve(index_root)


@pytest.fixture(scope="session")
def big_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The six real record files plus 18 copies with other ids and countries (24 records)."""
    corpus = tmp_path_factory.mktemp("corpus-24")
    for path in record_paths(CORPUS_DIR):
        shutil.copy(path, corpus / path.name)
    for programme in load_corpus(CORPUS_DIR):
        for number in range(1, COPIES_PER_RECORD + 1):
            copy = dataclasses.replace(
                programme,
                id=f"{programme.id}-copie-{number}",
                title=f"{programme.title} (copie {number})",
                countries=(*programme.countries[:1], EXTRA_COUNTRIES[number - 1]),
            )
            (corpus / f"{copy.id}.md").write_text(render_record(copy), encoding="utf-8")
    return corpus


@pytest.fixture(scope="session")
def big_server(
    serve: Callable[[Path], LiveServer], big_corpus: Path, tmp_path_factory: pytest.TempPathFactory
) -> LiveServer:
    """The app over the 24-record corpus (three pages of results at 10 per page)."""
    root = tmp_path_factory.mktemp("index-24")
    result = build_index(big_corpus, root, ACRONYMS)
    assert result.documents == 6 * (COPIES_PER_RECORD + 1)
    return serve(root)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any], live_server: LiveServer) -> dict[str, Any]:
    """Relative URLs in ``page.goto`` go to the main live server; French locale, desktop size."""
    return {
        **browser_context_args,
        "base_url": live_server.base_url,
        "locale": "fr-FR",
        "viewport": {"width": 1280, "height": 900},
    }


#: Reports CSP violations on the console, where the ``page`` fixture collects them.
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


@pytest.fixture
def page_errors() -> list[str]:
    """Console errors, uncaught exceptions and CSP violations seen during the test."""
    return []


@pytest.fixture
def page(page: Page, page_errors: list[str]) -> Iterator[Page]:
    """pytest-playwright's page, watched: any console error or page error fails the test."""

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            page_errors.append(f"console.error on {page.url}: {message.text}")

    page.add_init_script(CSP_REPORTER)
    page.on("console", on_console)
    page.on("pageerror", lambda error: page_errors.append(f"uncaught exception on {page.url}: {error}"))
    page.set_default_timeout(5000)
    yield page
    assert not page_errors, "errors in the browser:\n" + "\n".join(page_errors)


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Screenshots are test artifacts (gitignored), kept under test-artifacts/screenshots/."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


@pytest.fixture(scope="session")
def axe() -> Axe:
    """axe-core, injected into pages by axe-playwright-python."""
    return Axe()
