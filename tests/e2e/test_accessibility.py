"""Accessibility audit with axe-core (shipped by axe-playwright-python) in headless Chromium.

No violation of impact « serious » or « critical » is allowed on the search, results and
detail pages; minor and moderate ones are printed for information.
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

BLOCKING = {"serious", "critical"}
#: WCAG 2.x A and AA rules plus axe's best practices (landmarks, headings, …).
AXE_OPTIONS = {
    "resultTypes": ["violations", "incomplete"],
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
}


def describe(results: list[dict]) -> str:
    return "\n".join(
        f"[{r['impact']}] {r['id']}: {r['help']} ({r['helpUrl']})\n"
        + "\n".join(f"    {', '.join(map(str, node['target']))}: {node['html'][:160]}" for node in r["nodes"])
        for r in results
    )


def audit(axe: Axe, page: Page, what: str) -> None:
    """Run axe on the page as it is now; fail on serious or critical violations, listing them all.

    Results axe cannot decide alone (« incomplete », to review by hand) are printed, not failed on.
    """
    response = axe.run(page, options=AXE_OPTIONS).response
    assert response["passes"], "axe ran no check at all"
    violations, to_review = response["violations"], response["incomplete"]
    if violations or to_review:
        print(f"axe on the {what} ({page.url}):\n{describe(violations)}\nto review:\n{describe(to_review)}")
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"serious or critical accessibility violations on the {what}:\n{describe(violations)}"


def test_search_page(page: Page, axe: Axe) -> None:
    page.goto("/")
    expect(page.locator("#q")).to_be_visible()
    audit(axe, page, "search page")


def test_search_page_with_the_suggestions_open(page: Page, axe: Axe) -> None:
    page.goto("/")
    page.locator("#q").press_sequentially("rein", delay=20)
    expect(page.locator("#suggestions")).to_be_visible()
    audit(axe, page, "search page with the autocomplete open")


def test_results_page_with_filters(page: Page, axe: Axe) -> None:
    page.goto("/?q=reintegration")
    page.locator('section.facet[aria-labelledby="facet-region"] a', has_text="Asie et Pacifique").click()
    page.locator('section.facet[aria-labelledby="facet-status"] a', has_text="Activités achevées").click()
    expect(page.locator(".chip")).to_have_count(2)
    page.locator(".hit details.why summary").first.click()  # the « Pourquoi ce résultat ? » panel, open
    audit(axe, page, "results page with filters")


def test_results_page_after_the_or_fallback(page: Page, axe: Axe) -> None:
    page.goto("/?q=irrigation+Libye&sort=title")
    expect(page.locator(".fallback")).to_be_visible()
    audit(axe, page, "results page after the OR fallback")


def test_detail_page(page: Page, axe: Axe) -> None:
    page.goto("/programmes/afghanistan-rada?q=reintegration")
    expect(page.locator("article.programme mark").first).to_be_visible()
    audit(axe, page, "detail page")


def test_help_page(page: Page, axe: Axe) -> None:
    page.goto("/aide")
    audit(axe, page, "help page")


def test_results_page_on_a_phone(page: Page, axe: Axe) -> None:
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto("/?q=reintegration&region=Asie+et+Pacifique")
    audit(axe, page, "results page at 360 px")
