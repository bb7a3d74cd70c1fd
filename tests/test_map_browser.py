"""The « Carte » in headless Chromium: click or press Enter on a country and the filter applies; axe audit.

The real app is served by werkzeug's threaded server on 127.0.0.1 (port 0: a free port) over the session
index; Debian's Chromium is driven through Playwright's sync API, kept off the network by its flags
(see /work/shared/TOOLCHAIN.md). Screenshots go to test-artifacts/screenshots/map-*.png (gitignored).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from search_app import create_app
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
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


@pytest.fixture(scope="module")
def server_url(index_root: Path) -> Iterator[str]:
    """The real app on a real threaded WSGI server, stopped at the end of the module."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_app({"SEARCH_INDEX_DIR": str(index_root), "SEARCH_LOG": False, "ANALYTICS_ENABLED": False})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="map-browser-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium ($CHROMIUM_PATH or ``chromium`` on the PATH); a missing browser fails, never skips."""
    executable = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not executable:
        pytest.fail("Chromium not found: `make browser` (apt-get install -y chromium) or set CHROMIUM_PATH.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def map_page(chromium: Browser, server_url: str) -> Iterator[Page]:
    """A fresh French page on the server; any console error or uncaught exception fails the test."""
    context = chromium.new_context(base_url=server_url, locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(5000)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, errors


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("section.map").screenshot(path=str(SCREENSHOTS / f"map-{name}.png"))


def test_clicking_a_country_applies_the_country_filter(map_page: Page):
    page = map_page
    page.goto("/")
    mali = page.locator('.map-svg a.map-country[data-code="MLI"]')
    expect(mali).to_have_accessible_name("Mali : 1 programme")
    screenshot(page, "all")
    mali.click()
    expect(page).to_have_url(re.compile(r"[?&]country=Mali(&|$)"))
    expect(page.locator(".chips")).to_contain_text("Pays : Mali")
    expect(page.locator("#results-title")).to_have_text("1 programme")
    selected = page.locator('.map-svg a.map-country[data-code="MLI"]')
    expect(selected).to_have_class(re.compile(r"\bis-selected\b"))
    screenshot(page, "mali-selected")


def test_enter_on_a_focused_country_applies_the_filter(map_page: Page):
    page = map_page
    page.goto("/?q=Afghanistan")
    afghanistan = page.locator('.map-svg a.map-country[data-code="AFG"]')
    page.locator("#q").focus()
    for _ in range(60):  # through the search form, the facets and the result header, as a keyboard user
        page.keyboard.press("Tab")
        if afghanistan.evaluate("element => element === document.activeElement"):
            break
    expect(afghanistan).to_be_focused()
    expect(page.locator(".map-caption")).to_have_text("Afghanistan : 1 programme")
    screenshot(page, "focus")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"\?q=Afghanistan&country=Afghanistan$"))
    expect(page.locator(".chips")).to_contain_text("Pays : Afghanistan")


def test_map_scales_down_to_a_narrow_screen(map_page: Page):
    page = map_page
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/")
    box = page.locator(".map-svg").bounding_box()
    assert box and 250 < box["width"] <= 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "no horizontal scrolling"
    screenshot(page, "narrow")


def test_map_page_has_no_serious_accessibility_violation(map_page: Page):
    page = map_page
    page.goto("/?country=Mali")
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, results.generate_report()
