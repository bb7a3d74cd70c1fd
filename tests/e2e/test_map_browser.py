"""The « Carte » in headless Chromium: click or press Enter on a country and the filter applies; axe audit.

Uses the end-to-end fixtures (the real app on a real WSGI server, Debian's Chromium through
pytest-playwright). Screenshots go to test-artifacts/screenshots/map-*.png (gitignored).
"""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.paths import ROOT

from .test_accessibility import audit

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("section.map").screenshot(path=str(SCREENSHOTS / f"map-{name}.png"))


def test_clicking_a_country_applies_the_country_filter(page: Page):
    page.goto("/")
    mali = page.locator('.map-svg a.map-country[data-code="MLI"]')
    expect(mali).to_have_accessible_name("Mali : 1 programme")
    screenshot(page, "all")
    mali.click()
    expect(page).to_have_url(re.compile(r"[?&]country=Mali(&|$)"))
    expect(page.locator(".chips")).to_contain_text("Pays : Mali")
    expect(page.locator("#results-title")).to_have_text("1 programme")
    selected = page.locator('.map-svg a.map-country[data-code="MLI"]')
    expect(selected).to_have_class(re.compile(r"\bis-selected\b"))
    screenshot(page, "mali-selected")


def test_enter_on_a_focused_country_applies_the_filter(page: Page):
    page.goto("/?q=Afghanistan")
    afghanistan = page.locator('.map-svg a.map-country[data-code="AFG"]')
    page.locator("#q").focus()
    for _ in range(60):  # through the search form, the facets and the result header, as a keyboard user
        page.keyboard.press("Tab")
        if afghanistan.evaluate("element => element === document.activeElement"):
            break
    expect(afghanistan).to_be_focused()
    expect(page.locator(".map-caption")).to_have_text("Afghanistan : 1 programme")
    screenshot(page, "focus")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"\?q=Afghanistan&country=Afghanistan$"))
    expect(page.locator(".chips")).to_contain_text("Pays : Afghanistan")


def test_map_scales_down_to_a_narrow_screen(page: Page):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/")
    box = page.locator(".map-svg").bounding_box()
    assert box and 250 < box["width"] <= 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "no horizontal scrolling"
    screenshot(page, "narrow")


def test_map_page_has_no_serious_accessibility_violation(page: Page, axe: Axe):
    page.goto("/?country=Mali")
    audit(axe, page, "search page with the map and a country selected")
