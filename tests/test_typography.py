"""French typography on every page and message: the space before « : ; ? ! » and inside « guillemets » is a
no-break space."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.paths import ROOT

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


#: SQL text among the literals: its ``?`` are placeholders, not French punctuation.
SQL = re.compile(r"\b(SELECT|ATTACH DATABASE|INSERT INTO|GROUP BY)\b")
#: A literal that closes on a replacement field, then an ordinary space and high punctuation (f"{x} : ").
FIELD_THEN_ORDINARY_SPACE = re.compile(r"\} [:;?!](?=\s|$)")


def _messages(path: Path) -> list[tuple[int, str]]:
    """Every string literal of a module (f-string parts included) but its docstrings, with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def _source_lines(path: Path) -> list[tuple[int, str]]:
    return list(enumerate(path.read_text(encoding="utf-8").splitlines(), start=1))


@pytest.mark.parametrize("package", ["indexer", "search_app"])
def test_messages_in_the_code_follow_the_rule(package: str):
    """CLI output, log lines, /healthz reasons and errors: what pages alone would not show."""
    offending = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, text in _messages(path):
            if not SQL.search(text) and ORDINARY_SPACE_BEFORE.search(text):
                offending.append(f"{path.relative_to(ROOT)}:{line}: {text.strip()[:60]!r}")
        for line, text in _source_lines(path):
            if 'f"' in text and FIELD_THEN_ORDINARY_SPACE.search(text):
                offending.append(f"{path.relative_to(ROOT)}:{line}: {text.strip()[:60]!r}")
    assert not offending, offending
