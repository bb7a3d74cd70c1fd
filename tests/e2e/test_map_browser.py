"""The « Carte » in headless Chromium: the sprite draws, a click or Enter on a country applies the filter,
small countries are big enough to tap on a phone, « Monde entier » switches frames; axe audit.

Uses the end-to-end fixtures (the real app on a real WSGI server, Debian's Chromium through
pytest-playwright). Screenshots go to test-artifacts/screenshots/map-*.png (gitignored).
"""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

from tests.paths import ROOT

from .test_accessibility import audit

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PHONE = {"width": 360, "height": 740}


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("section.map").screenshot(path=str(SCREENSHOTS / f"map-{name}.png"))


def country(page: Page, code: str) -> Locator:
    """The map's link for country ``code``."""
    return page.locator(f'.map-svg a:has(use[href$="#{code}"])')


def test_the_sprite_is_drawn_and_clicking_a_country_applies_the_filter(page: Page):
    page.goto("/")
    mali = country(page, "MLI")
    expect(mali).to_have_accessible_name("Mali\u00a0: 1 programme")
    size = mali.evaluate("a => { const b = a.getBBox(); return [b.width, b.height]; }")
    assert size[0] > 5 and size[1] > 5, f"the sprite's shape of Mali was not drawn: {size}"
    fill = mali.locator("use").evaluate("u => getComputedStyle(u).fill")
    assert fill == "rgb(74, 134, 197)", "one result: the first bucket's colour"
    screenshot(page, "all")
    mali.click()
    expect(page).to_have_url(re.compile(r"[?&]country=Mali(&|$)"))
    expect(page.locator(".chips")).to_contain_text("Pays\u00a0: Mali")
    expect(page.locator("#results-title")).to_have_text("1 programme")
    expect(country(page, "MLI")).to_have_class(re.compile(r"\bmap-selected\b"))
    expect(country(page, "SEN")).to_have_class(re.compile(r"\bmap-matching\b"))
    expect(country(page, "AFG")).to_have_class(re.compile(r"\bmap-possible\b"))
    screenshot(page, "mali-selected")


def test_enter_on_a_focused_country_applies_the_filter(page: Page):
    page.goto("/?q=Afghanistan")
    afghanistan = country(page, "AFG")
    page.locator("#q").focus()
    for _ in range(80):  # through the results, then the filters, as a keyboard user
        page.keyboard.press("Tab")
        if afghanistan.evaluate("element => element === document.activeElement"):
            break
    expect(afghanistan).to_be_focused()
    expect(page.locator(".map-caption")).to_have_text("Afghanistan\u00a0: 1 programme")
    screenshot(page, "focus")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"\?q=Afghanistan&country=Afghanistan$"))
    expect(page.locator(".chips")).to_contain_text("Pays\u00a0: Afghanistan")


def test_every_country_is_a_tap_target_of_24_px_on_a_phone(page: Page):
    page.set_viewport_size(PHONE)
    page.goto("/")
    page.locator("summary.filters-toggle").click()
    sizes = page.locator(".map-svg a").evaluate_all(
        "links => links.map(a => { const r = a.getBoundingClientRect();"
        " return [a.querySelector('title').textContent, r.width, r.height]; })"
    )
    assert len(sizes) == 29
    smallest = min(sizes, key=lambda s: min(s[1], s[2]))
    assert min(smallest[1], smallest[2]) >= 24, f"too small to tap: {smallest}"
    djibouti = country(page, "DJI").bounding_box()
    assert djibouti and djibouti["width"] >= 24 and djibouti["height"] >= 24
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no horizontal scrolling"
    screenshot(page, "narrow")


def test_monde_entier_switches_to_the_world_and_back(page: Page):
    page.goto("/")
    svg = page.locator(".map-svg")
    frame = svg.get_attribute("viewBox")
    button = page.get_by_role("button", name="Monde entier")
    expect(button).to_have_attribute("aria-pressed", "false")
    target = page.locator(".map-target").first
    radius = float(target.get_attribute("r") or 0)
    button.click()
    expect(svg).to_have_attribute("viewBox", svg.get_attribute("data-world") or "")
    expect(button).to_have_attribute("aria-pressed", "true")
    assert float(target.get_attribute("r") or 0) > radius, "targets keep their size on screen"
    screenshot(page, "world")
    button.click()
    expect(svg).to_have_attribute("viewBox", frame or "")


def test_map_page_has_no_serious_accessibility_violation(page: Page, axe: Axe):
    page.goto("/?country=Mali")
    audit(axe, page, "search page with the map and a country selected")
