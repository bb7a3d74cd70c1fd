"""Real user flows in headless Chromium against the app on a real WSGI server."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import Dialog, Locator, Page, expect

from .conftest import LiveServer

QUERY = "reintegration"
REGION = "Asie et Pacifique"
COUNTRY = "Bangladesh"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 800}}


# --- helpers -------------------------------------------------------------------------------------


def params(page: Page) -> dict[str, list[str]]:
    """The query-string parameters of the page's current URL."""
    return parse_qs(urlsplit(page.url).query)


def fold(text: str) -> str:
    """Lower case without accents, to compare what the page shows with what was typed."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


def hit_titles(page: Page) -> list[str]:
    return page.locator(".hit .hit-title a").all_inner_texts()


def total(page: Page) -> Locator:
    return page.locator("#results-title")


def facet_link(page: Page, facet: str, value: str) -> Locator:
    """The link of one facet value (its visible label is exactly ``value``)."""
    label = page.locator(".label", has_text=re.compile(rf"^\s*{re.escape(value)}\s*$"))
    return page.locator(f'section.facet[aria-labelledby="facet-{facet}"] a').filter(has=label)


def facet_counts(page: Page, facet: str) -> dict[str, int]:
    """Visible label → count of every value of a facet (including those under « Afficher … autres »)."""
    links = page.locator(f'section.facet[aria-labelledby="facet-{facet}"] a')
    return {
        (link.locator(".label").text_content() or "").strip(): int(link.locator(".count").text_content() or "")
        for link in links.all()
    }


def search(page: Page, text: str) -> None:
    """Type a query in the search box and submit it with the button, as a user does."""
    box = page.get_by_role("combobox", name="Rechercher des programmes")
    box.fill(text)
    with page.expect_navigation():
        page.get_by_role("button", name="Rechercher").click()


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the focused element matches ``selector`` (keyboard only, no click)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"{selector} never got the focus after {limit} presses of Tab")


def assert_focus_visible(page: Page) -> None:
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert outline[0] != "none" and outline[1] != "0px", f"no visible focus outline: {outline}"


# --- search and highlighting ---------------------------------------------------------------------


def test_type_a_query_and_see_highlighted_results(page: Page) -> None:
    page.goto("/")
    expect(page).to_have_title(re.compile("Recherche des programmes UE-OIM"))
    search(page, QUERY)

    assert params(page)["q"] == [QUERY]
    expect(total(page)).to_have_text("6 programmes")
    expect(page.locator(".hit")).to_have_count(6)
    # The accent-less query marks the accented word in the snippets.
    marks = page.locator(".hit .snippet mark").all_inner_texts()
    assert marks, "no <mark> in the snippets"
    assert "réintégration" in [m.lower() for m in marks]
    assert all(fold(m).startswith("reintegr") for m in marks), marks
    # The search box keeps the query; « Pourquoi ce résultat ? » opens and explains the match.
    expect(page.locator("#q")).to_have_value(QUERY)
    why = page.locator(".hit").first.locator("details.why")
    why.locator("summary", has_text="Pourquoi ce résultat ?").click()
    expect(why).to_have_attribute("open", "")
    expect(why.locator("li").first).to_contain_text("réintégration")


def test_sort_by_title(page: Page) -> None:
    page.goto(f"/?q={QUERY}")
    expect(page.locator(".sort strong[aria-current]")).to_have_text("pertinence")
    by_relevance = hit_titles(page)
    page.locator(".sort").get_by_role("link", name="titre").click()

    expect(page.locator(".sort strong[aria-current]")).to_have_text("titre")
    assert params(page)["sort"] == ["title"] and params(page)["q"] == [QUERY]
    by_title = hit_titles(page)
    assert sorted(by_title) == sorted(by_relevance)
    assert by_title == sorted(by_title, key=fold)
    assert by_title != by_relevance


# --- facets and chips ----------------------------------------------------------------------------


def test_tick_a_region_then_a_country_and_remove_the_filters(page: Page) -> None:
    page.goto(f"/?q={QUERY}")
    expect(total(page)).to_have_text("6 programmes")
    countries_before = facet_counts(page, "country")
    assert len(countries_before) > 2

    facet_link(page, "region", REGION).click()
    expect(total(page)).to_have_text("2 programmes")
    assert params(page)["region"] == [REGION]
    # Disjunctive counts: the region facet still offers the other regions, the country facet shrinks.
    assert facet_counts(page, "region")[REGION] == 2
    assert len(facet_counts(page, "region")) > 1
    assert facet_counts(page, "country") == {"Afghanistan": 1, COUNTRY: 1}
    expect(facet_link(page, "region", REGION)).to_have_attribute("aria-current", "true")

    facet_link(page, "country", COUNTRY).click()
    expect(total(page)).to_have_text("1 programme")
    assert params(page)["region"] == [REGION] and params(page)["country"] == [COUNTRY]
    assert params(page)["q"] == [QUERY]
    assert {k: v for k, v in facet_counts(page, "region").items() if v} == {REGION: 1}
    assert [t.split(" — ")[0] for t in hit_titles(page)] == [COUNTRY]
    chips = page.locator(".chip")
    expect(chips).to_have_count(2)
    expect(chips.nth(0)).to_contain_text(REGION)
    expect(chips.nth(1)).to_contain_text(COUNTRY)

    # Remove the region chip: it is gone, the country filter stays.
    page.locator(".chip", has_text=REGION).click()
    expect(page.locator(".chip")).to_have_count(1)
    expect(page.locator(".chip", has_text=REGION)).to_have_count(0)
    assert "region" not in params(page) and params(page)["country"] == [COUNTRY]
    expect(total(page)).to_have_text("1 programme")

    # « Tout effacer »: no filter left, the words stay.
    facet_link(page, "status", "Activités achevées").click()
    expect(page.locator(".chip")).to_have_count(2)
    page.locator(".clear-all", has_text="Tout effacer").click()
    expect(page.locator(".chip")).to_have_count(0)
    expect(page.locator(".clear-all")).to_have_count(0)
    assert params(page) == {"q": [QUERY]}
    expect(total(page)).to_have_text("6 programmes")


def test_facets_with_the_keyboard_only(page: Page) -> None:
    page.goto(f"/?q={QUERY}")
    tab_to(page, "section.facet a")
    assert_focus_visible(page)
    value = page.evaluate("() => document.activeElement.querySelector('.label').textContent.trim()")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert params(page)["region"] == [value]
    expect(page.locator(".chip")).to_have_count(1)
    expect(facet_link(page, "region", value)).to_have_attribute("aria-current", "true")

    # The chip is reachable with Tab too, and Enter removes the filter.
    tab_to(page, "a.chip")
    assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".chip")).to_have_count(0)
    assert params(page) == {"q": [QUERY]}


# --- detail page and back button -----------------------------------------------------------------


def test_open_a_detail_page_and_go_back(page: Page) -> None:
    page.goto("/")
    search(page, QUERY)
    titles = hit_titles(page)
    results_url = page.url
    first = page.locator(".hit .hit-title a").first
    first.click()

    expect(page).to_have_url(re.compile(r"/programmes/[a-z0-9-]+\?q=reintegration$"))
    expect(page.locator("article.programme h1")).to_have_text(titles[0])
    marks = page.locator("article.programme mark").all_inner_texts()
    assert marks and all(fold(m).startswith("reintegr") for m in marks), marks
    expect(page.get_by_role("heading", name="Programmes similaires")).to_be_visible()
    similar = page.locator(".similar > ul > li > a").all_inner_texts()
    assert 1 <= len(similar) <= 5 and titles[0] not in similar
    expect(page.locator(".similar .why").first).to_be_visible()  # each with why
    expect(page.locator(".back a")).to_contain_text("« reintegration »")

    page.go_back()
    expect(page).to_have_url(results_url)
    expect(page.locator("#q")).to_have_value(QUERY)
    assert hit_titles(page) == titles

    # The back link leads to the same results too.
    page.go_forward()
    page.locator(".back a").click()
    assert params(page) == {"q": [QUERY]}
    assert hit_titles(page) == titles


# --- pagination ----------------------------------------------------------------------------------


def test_page_through_results(page: Page, big_server: LiveServer) -> None:
    page.goto(big_server.url("/"))
    expect(total(page)).to_have_text("24 programmes")
    expect(page.locator(".hit")).to_have_count(10)
    nav = page.get_by_role("navigation", name="Pages de résultats")
    expect(nav.locator('[aria-current="page"]')).to_have_text("1")
    first_page = hit_titles(page)

    nav.get_by_role("link", name="Suivante ›").click()
    assert params(page)["page"] == ["2"]
    expect(nav.locator('[aria-current="page"]')).to_have_text("2")
    expect(page.locator(".hit")).to_have_count(10)
    second_page = hit_titles(page)
    assert not set(first_page) & set(second_page)

    # The last page with the keyboard only.
    tab_to(page, ".pagination a[rel=next]")
    assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert params(page)["page"] == ["3"]
    expect(nav.locator('[aria-current="page"]')).to_have_text("3")
    expect(page.locator(".hit")).to_have_count(4)
    expect(nav.get_by_role("link", name="Suivante ›")).to_have_count(0)
    assert len(set(first_page + second_page + hit_titles(page))) == 24

    nav.get_by_role("link", name="‹ Précédente").click()
    assert params(page)["page"] == ["2"]
    assert hit_titles(page) == second_page


def test_pages_keep_the_sort_and_the_filters(page: Page, big_server: LiveServer) -> None:
    page.goto(big_server.url("/?q=migrants"))
    peru = facet_link(page, "country", "Pérou")
    expect(peru.locator(".count")).to_have_text("6")
    peru.click()
    page.locator(".sort").get_by_role("link", name="titre").click()
    expect(total(page)).to_have_text("6 programmes")
    assert params(page) == {"q": ["migrants"], "country": ["Pérou"], "sort": ["title"]}
    expect(page.locator(".pagination")).to_have_count(0)
    facet_link(page, "country", "Pérou").click()  # untick: every programme again, still sorted by title
    assert params(page) == {"q": ["migrants"], "sort": ["title"]}
    page.get_by_role("navigation", name="Pages de résultats").get_by_role("link", name="2", exact=True).click()
    assert params(page) == {"q": ["migrants"], "sort": ["title"], "page": ["2"]}
    titles = hit_titles(page)
    assert len(titles) == 10 and titles == sorted(titles, key=fold)


# --- autocomplete --------------------------------------------------------------------------------


def test_autocomplete_with_the_keyboard(page: Page) -> None:
    page.goto("/")
    box = page.get_by_role("combobox", name="Rechercher des programmes")
    listbox = page.get_by_role("listbox", name="Suggestions")
    box.focus()
    box.press_sequentially("rein", delay=30)
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    expect(options.first).to_have_text("réintégration")

    # Escape closes the list and keeps what was typed.
    page.keyboard.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_have_value("rein")

    # Type again, ArrowDown selects the first suggestion, Enter runs it.
    page.keyboard.press("Backspace")
    page.keyboard.type("n", delay=30)
    expect(listbox).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "suggestion-0")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert params(page)["q"] == ["réintégration"]
    expect(page.locator("#q")).to_have_value("réintégration")
    expect(total(page)).to_have_text("6 programmes")
    assert "réintégration" in [m.lower() for m in page.locator(".hit mark").all_inner_texts()]


# --- security ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "shown"),
    [
        ('"><img src=x onerror=alert(1)>', '"><img src=x onerror=alert(1)>'),
        ("<script>alert(1)</script>", "<script>alert"),  # « Recherche comprise comme : <script>alert ET 1 … »
    ],
)
def test_query_with_markup_is_shown_escaped(page: Page, payload: str, shown: str) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto("/")
    search(page, payload)
    assert params(page)["q"] == [payload]
    expect(page.locator("#q")).to_have_value(payload)
    expect(page.locator("main")).to_contain_text(shown)  # shown as text …
    expect(page.locator("img[src=x], main script")).to_have_count(0)  # … never as markup
    assert payload in page.title()

    # The detail page echoes the query in its back link: escaped there too.
    page.goto(f"/programmes/afghanistan-rada?q={quote(payload)}")
    expect(page.locator(".back a")).to_contain_text(f"« {payload} »")
    expect(page.locator("img[src=x], main script")).to_have_count(0)
    page.locator(".back a").click()
    expect(page.locator("#q")).to_have_value(payload)
    page.wait_for_timeout(100)
    assert dialogs == []


#: The most characters on one rendered line of the programme page's texts (one range per character).
LONGEST_LINE = """() => {
  let longest = 0;
  const range = document.createRange();
  for (const block of document.querySelectorAll('article.programme p, article.programme li, .similar li')) {
    const perLine = new Map();
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      for (let i = 0; i < node.length; i++) {
        range.setStart(node, i); range.setEnd(node, i + 1);
        const rect = range.getClientRects()[0];
        if (rect) perLine.set(Math.round(rect.top), (perLine.get(Math.round(rect.top)) || 0) + 1);
      }
    }
    for (const count of perLine.values()) longest = Math.max(longest, count);
  }
  return longest;
}"""


def test_programme_page_lines_are_about_75_characters_on_a_laptop(page: Page) -> None:
    page.set_viewport_size(VIEWPORTS["desktop"])
    for path in ("/programmes/afghanistan-rada", "/programmes/afrique-centrale-et-de-l-ouest-initiative-conjointe"):
        page.goto(path)
        longest = page.evaluate(LONGEST_LINE)
        assert 60 <= longest <= 80, (path, longest)  # wide enough to use the screen, short enough to read


# --- console, screenshots, responsive layout -----------------------------------------------------


def test_no_console_errors_on_any_page(page: Page, page_errors: list[str], big_server: LiveServer) -> None:
    for path in [
        "/",
        f"/?q={QUERY}&region={REGION}",
        "/?q=reintegraton",
        "/programmes/afghanistan-rada?q=irrigation",
        "/aide",
        big_server.url("/?page=2"),
    ]:
        page.goto(path)
        page.wait_for_load_state("load")
        expect(page.locator("main")).to_be_visible()
        assert page_errors == [], path
    # The autocomplete's fetch is allowed by the CSP and works without errors.
    page.goto("/")
    page.locator("#q").press_sequentially("afgh", delay=20)
    expect(page.locator("#suggestions [role=option]").first).to_be_visible()
    assert page_errors == []


SCREENSHOT_PAGES = {
    "home": "/",
    "results": "/?q=migrants",
    "filtered": f"/?q={QUERY}&region={REGION}",
    "programme": f"/programmes/afrique-centrale-et-de-l-ouest-initiative-conjointe?q={QUERY}",
}


@pytest.mark.parametrize("device_name", list(VIEWPORTS))
def test_screenshots_and_no_horizontal_scroll(page: Page, device_name: str, screenshot_dir: Path) -> None:
    size = VIEWPORTS[device_name]
    page.set_viewport_size(size)
    for name, path in SCREENSHOT_PAGES.items():
        page.goto(path)
        target = screenshot_dir / f"{name}-{device_name}.png"
        page.screenshot(path=str(target), full_page=True)
        assert target.stat().st_size > 1000
        scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
        assert scroll_width <= size["width"], f"{name} page scrolls horizontally at {size['width']} px: {scroll_width}"
