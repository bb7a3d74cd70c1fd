"""Issue 6 features in the browser: themes, synonyms, CSV export, analytics page, Open Graph."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from .test_accessibility import audit


def test_theme_facet_filters_and_shows_a_chip(page: Page) -> None:
    page.goto("/")
    page.locator('section.facet[aria-labelledby="facet-theme"] a', has_text="Stabilisation").click()
    expect(page.locator("#results-title")).to_have_text("1 programme")
    expect(page.locator(".chip")).to_contain_text("Thème : Stabilisation des communautés")
    expect(page.locator(".hit-title a")).to_contain_text("Afrique centrale et de l’Ouest")


def test_synonym_search_is_announced_and_marks_both_forms(page: Page) -> None:
    page.goto("/")
    page.locator("#q").fill("SDG")
    page.locator("#q").press("Enter")
    expect(page.locator(".notice", has_text="Recherche élargie à")).to_contain_text("ODD")
    marks = page.locator(".snippet mark").all_inner_texts()
    assert "ODD" in marks and "SDG" in marks


def test_csv_download_has_one_row_per_result(page: Page, tmp_path: Path) -> None:
    page.goto("/?q=migrants&region=Asie+et+Pacifique")
    expect(page.locator("#results-title")).to_have_text("2 programmes")
    with page.expect_download() as info:
        page.locator(".export a").click()
    path = tmp_path / "export.csv"
    info.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0][:3] == ["identifiant", "titre", "région"] and len(rows) == 3


def test_stats_page_after_searches(page: Page, axe: Axe) -> None:
    page.goto("/?q=irrigation")
    page.locator(".hit-title a").first.click()
    page.goto("/?q=zzzqqq")
    for _ in range(50):  # events are written by a background thread: wait for them, bounded
        page.goto("/stats")
        if page.locator(".stats-tables", has_text="zzzqqq").count():
            break
        page.wait_for_timeout(100)
    expect(page.locator("h1")).to_have_text("Statistiques de recherche")
    expect(page.locator("svg.chart rect").first).to_be_attached()
    expect(page.locator("svg.chart text.axis-title")).to_have_text("Recherches par jour")
    expect(page.locator("svg.chart text.day").last).to_be_visible()
    expect(page.locator("svg.chart text.tick").first).to_have_text("0")
    expect(page.locator(".stats-tables")).to_contain_text("zzzqqq")
    audit(axe, page, "statistics page")


def test_results_page_has_title_and_open_graph_tags(page: Page) -> None:
    page.goto("/?q=Libye")
    assert "«\u00a0Libye\u00a0»" in page.title()
    assert page.locator('meta[property="og:title"]').get_attribute("content") == page.title()
    assert "1 programme" in (page.locator('meta[property="og:description"]').get_attribute("content") or "")
    assert (page.locator('meta[property="og:url"]').get_attribute("content") or "").endswith("/?q=Libye")
