"""French typography on every page and message: the space before « : ; ? ! » and inside « guillemets » is a
no-break space."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

#: A letter, digit, closing bracket or guillemet, an ordinary space, then high punctuation.
ORDINARY_SPACE_BEFORE = re.compile(r"[\w»)\]] [:;?!](?=\s|$)|« | »")
PAGES = [
    "/",
    "/?q=reintegration",
    "/?q=Kenya+Mali",
    "/?q=reintegratoin",
    "/?q=(retour+%22volontaire",
    "/?q=migrants&country=Mali&region=Asie+et+Pacifique",
    "/aide",
    "/programmes/afghanistan-rada?q=irrigation",
    "/stats",
]


def _corpus_text(programmes) -> str:
    """Every record text, quoted verbatim by the pages (the source page's own spacing is kept)."""
    parts = [p.title for p in programmes] + [p.description_text + p.objectives_text + p.notes_text for p in programmes]
    return _squeeze(" ".join(parts))


def _squeeze(text: str) -> str:
    """Runs of ordinary white space as one space (no-break spaces kept: str.split would drop them)."""
    return re.sub(r"[ \t\r\n]+", " ", text)


@pytest.mark.parametrize("url", PAGES)
def test_high_punctuation_follows_a_no_break_space(client, programmes, url: str):
    page = client.get(url)
    assert page.status_code == 200
    soup = BeautifulSoup(page.data, "html.parser")
    attributes = [tag[attr] for attr in ("aria-label", "title", "alt") for tag in soup.select(f"[{attr}]")]
    corpus = _corpus_text(programmes)
    offending = []
    for text in [_squeeze(soup.get_text(" ")), *attributes]:
        for match in ORDINARY_SPACE_BEFORE.finditer(text):
            quoted = text[max(0, match.start() - 12) : match.end()]
            if quoted not in corpus:  # interface text, not a quotation of the record
                offending.append(quoted)
    assert not offending, offending[:10]


@pytest.mark.parametrize(
    "url",
    [
        "/api/search?q=SDG+Kenya+Mali",
        "/api/search?q=migr*+reintegraton~3+pays:Mali+ET",
        "/api/search?q=(retour+%22volontaire+SAUF",
        "/api/search?q=titre:retour+zorglub:x",
    ],
)
def test_api_notices_follow_the_rule_too(client, url: str):
    data = client.get(url).get_json()
    assert data["notices"]
    assert not [n for n in data["notices"] if ORDINARY_SPACE_BEFORE.search(n)], data["notices"]


@pytest.mark.parametrize(
    "url", ["/api/search?page=x", "/api/search?sort=date", "/api/search?format=xml", "/api/programmes/inconnu"]
)
def test_api_errors_follow_the_rule_too(client, url: str):
    error = client.get(url).get_json()["error"]
    assert "«\u00a0" in error and not ORDINARY_SPACE_BEFORE.search(error), error
