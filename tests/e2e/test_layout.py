"""The results page as a keyboard user and a phone user meet it (issue 12, points 2 and 4).

- From the search box, the first result is reached in at most 10 presses of Tab; the skip link goes to the
  results.
- At 360 px the filters sit above the results behind « Filtres (n) » (a <details>, closed), the first result
  is on the first screen, and opening the control shows the filters and the map.
- On a wide screen the filters are shown beside the results, with no control to open.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

PHONE = {"width": 360, "height": 740}
FIRST_RESULT = "article.hit:first-of-type .hit-title a"


def tabs_to_first_result(page: Page, limit: int = 40) -> int:
    """Presses of Tab from the search box until the first result's link has the focus."""
    page.locator("#q").focus()
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", FIRST_RESULT):
            return presses
    raise AssertionError(f"the first result never got the focus in {limit} presses of Tab")


def test_the_first_result_is_at_most_10_tabs_from_the_search_box(page: Page) -> None:
    counts = {}
    for path in ("/?q=migrants", "/?q=retour&country=Mali&region=Afrique+centrale+et+de+l%E2%80%99Ouest", "/"):
        page.goto(path)
        counts[path] = tabs_to_first_result(page)
    assert max(counts.values()) <= 10, counts
    page.set_viewport_size(PHONE)
    page.goto("/?q=migrants")
    assert tabs_to_first_result(page) <= 10


def test_the_skip_link_goes_to_the_results(page: Page) -> None:
    page.goto("/?q=migrants")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_have_text("Aller aux résultats")
    page.keyboard.press("Enter")
    expect(page.locator("#resultats")).to_be_focused()
    for _ in range(3):  # past the export and sort links of the results' header
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.querySelector('#resultats').contains(document.activeElement)")
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", FIRST_RESULT):
            break
    expect(page.locator(FIRST_RESULT)).to_be_focused()


def test_on_a_phone_the_filters_come_first_behind_a_closed_control(page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/?q=retour&country=Mali")
    toggle = page.locator("summary.filters-toggle")
    expect(toggle).to_have_text("Filtres (1)")
    first = page.locator("article.hit").first
    toggle_box, first_box = toggle.bounding_box(), first.bounding_box()
    assert toggle_box and first_box and toggle_box["y"] < first_box["y"], "the filters control is above the results"
    assert first_box["y"] < PHONE["height"], f"first result below the first screen: {first_box['y']}"
    expect(page.locator("#facet-country")).not_to_be_visible()
    expect(page.locator("section.map")).not_to_be_visible()
    expect(page.locator(".chips")).to_be_visible()  # the active filter is visible with the panel closed
    toggle.click()
    expect(page.locator("#facet-country")).to_be_visible()
    expect(page.locator("section.map")).to_be_visible()
    selected = page.locator('section.facet[aria-labelledby="facet-country"] a.is-selected')
    expect(selected).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_on_a_wide_screen_the_filters_are_open_beside_the_results(page: Page) -> None:
    page.goto("/?q=migrants")
    expect(page.locator("summary.filters-toggle")).not_to_be_visible()
    facets, results = page.locator("#facet-region").bounding_box(), page.locator("#results-title").bounding_box()
    assert facets and results and facets["x"] < results["x"], "filters on the left of the results"
    expect(page.locator("section.map")).to_be_visible()


def test_on_a_wide_screen_the_filters_show_without_javascript(browser, live_server) -> None:
    viewport = {"width": 1280, "height": 900}
    context = browser.new_context(java_script_enabled=False, base_url=live_server.base_url, viewport=viewport)
    try:
        page = context.new_page()
        page.goto("/?q=migrants")
        expect(page.locator("#facet-region")).to_be_visible()
        expect(page.locator("section.map")).to_be_visible()
        page.locator('.map-svg a:has(use[href$="#MLI"])').click()
        expect(page.locator("#results-title")).to_have_text("1 programme")
    finally:
        context.close()
