"""Helpers of the reliability tests: apps over real indexes, builds, waits, HTML safety checks."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

from flask import Flask
from werkzeug.test import TestResponse

from indexer.build import build_index
from search_app import create_app
from tests.paths import ACRONYMS, CORPUS_DIR, ROOT

PYTHON = sys.executable
#: Marks of a Python stack trace or exception leaking into a response body.
TRACEBACK_MARKS = ("Traceback (most recent call last)", 'File "/', '.py", line', "werkzeug.debug", "site-packages")
EXCEPTION_NAME_RE = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception)\b")
HTML_RECORD_ID = "programme-balises-html"
HTML_RECORD = """---
id: programme-balises-html
title: '<script>alert(1)</script> Programme zorglub <b>gras</b>'
region: <i>Atlantide</i>
countries:
- Mali
status: En cours
source: sources/actions-ue-oim.fr.txt
objectives:
- section: Objectif <u>global</u>
  heading: '"><img src=x onerror=alert(1)>'
  text: Appuyer la zorglub réintégration <img src=x onerror=alert(1)> des migrants.
notes:
- 'Voir javascript:alert(1) et <a href="javascript:alert(1)">ce lien</a> zorglub.'
---

Description zorglub avec <script>alert(1)</script> et "><img src=x onerror=alert(1)> au milieu du texte.

Second paragraphe zorglub : <iframe src="https://exemple.org"></iframe> fin.
"""


def make_app(index_root: Path, **config: object) -> Flask:
    """A production-like app (not TESTING, so nothing propagates) over ``index_root``.

    Search analytics stay on (hostile input goes through them too), in a database next to the index.
    """
    analytics = index_root.parent / f"analytics-{index_root.name}.sqlite3"
    return create_app(
        {"SEARCH_INDEX_DIR": str(index_root), "SEARCH_LOG": False, "ANALYTICS_DB": str(analytics), **config}
    )


def copy_corpus(destination: Path) -> Path:
    """A writable copy of the real ``corpus/`` (records and vocabulary files); returns its records directory."""
    shutil.copytree(CORPUS_DIR.parent, destination)
    return destination / CORPUS_DIR.name


def build(records: Path, index_root: Path, force: bool = True) -> str:
    """Build a generation in-process (vocabulary files next to ``records``); returns its name."""
    return build_index(records, index_root, records.parent / ACRONYMS.name, force=force).generation


def run_indexer(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m indexer …`` as a subprocess from the repository root."""
    return subprocess.run(
        [PYTHON, "-m", "indexer", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def snapshot(root: Path) -> dict[str, tuple[bytes, int] | None]:
    """Every file (content, mtime) and directory under an index root."""
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns) if p.is_file() else None
        for p in sorted(root.rglob("*"))
    }


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds have passed (bounded loop)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def body_text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def assert_no_traceback(text: str) -> None:
    for mark in TRACEBACK_MARKS:
        assert mark not in text, f"stack trace in the response: {mark!r}"
    assert not EXCEPTION_NAME_RE.search(text), f"exception name in the response: {EXCEPTION_NAME_RE.search(text)}"


class _Elements(HTMLParser):
    """Collects start tags with their attributes, and text inside <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.script_text.append(data)


URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "srcdoc", "xlink:href"}
ALLOWED_TAGS_IN_TEXT = {"mark"}  # the only markup the app builds from text


def assert_safe_html(html: str, *payloads: str) -> None:
    """No injected markup: raw payloads absent, no inline script, no event handler, no javascript: URL."""
    assert_no_traceback(html)
    for payload in payloads:
        if "<" in payload or '"' in payload:
            assert payload not in html, f"unescaped payload in the page: {payload!r}"
    parser = _Elements()
    parser.feed(html)
    assert not parser.script_text, f"inline script: {parser.script_text!r}"
    for tag, attrs in parser.tags:
        assert tag not in {"iframe", "object", "embed", "img", "u", "i", "b"}, f"injected <{tag}>"
        if tag == "script":
            assert dict(attrs).get("src", "").startswith("/static/"), f"script not from /static/: {attrs!r}"
        for name, value in attrs:
            assert not name.startswith("on"), f"event handler attribute {name}={value!r} on <{tag}>"
            if name in URL_ATTRIBUTES and value:
                assert not value.strip().lower().startswith(("javascript:", "data:text")), f"{name}={value!r}"


def assert_safe_fragment(fragment: str, *payloads: str) -> None:
    """A JSON field holding HTML (a snippet): escaped text plus <mark> tags only."""
    for payload in payloads:
        if "<" in payload or '"' in payload:
            assert payload not in fragment, f"unescaped payload in a snippet: {fragment!r}"
    parser = _Elements()
    parser.feed(fragment)
    assert {tag for tag, _ in parser.tags} <= ALLOWED_TAGS_IN_TEXT, fragment
    assert all(not attrs for _, attrs in parser.tags), fragment


def live_generation(root: Path) -> Path:
    return root / (root / "CURRENT").read_text(encoding="utf-8").strip()


def json_of(response: TestResponse) -> dict:
    """The JSON body, parsed strictly from the raw bytes."""
    return json.loads(response.get_data())


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
