"""Fixtures of the reliability tests: production-like apps (not TESTING) over real indexes."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.reliability.build_processes import WatchedProcess
from tests.reliability.helpers import HTML_RECORD, HTML_RECORD_ID, build, copy_corpus, make_app


@pytest.fixture(scope="session")
def prod_app(index_root: Path) -> Flask:
    """The app over the session's real index of the six programmes."""
    return make_app(index_root)


@pytest.fixture(scope="session")
def prod_client(prod_app: Flask) -> FlaskClient:
    return prod_app.test_client()


@pytest.fixture(scope="session")
def html_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the six programmes plus one record full of HTML and script."""
    base = tmp_path_factory.mktemp("html-corpus")
    records = copy_corpus(base / "corpus")
    (records / f"{HTML_RECORD_ID}.md").write_text(HTML_RECORD, encoding="utf-8")
    root = base / "index"
    build(records, root)
    return root


@pytest.fixture(scope="session")
def html_client(html_index: Path) -> FlaskClient:
    return make_app(html_index).test_client()


@pytest.fixture
def index_copy(index_root: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the session index, free to corrupt."""
    root = tmp_path / "index"
    shutil.copytree(index_root, root)
    yield root


@pytest.fixture
def watch() -> Iterator[Callable[..., WatchedProcess]]:
    """Start ``python ARGS`` processes with their trees watched; whatever is left of them is killed at the end."""
    started: list[WatchedProcess] = []

    def start(*args: str | Path) -> WatchedProcess:
        started.append(WatchedProcess(*args))
        return started[-1]

    yield start
    for process in started:
        process.stop()
