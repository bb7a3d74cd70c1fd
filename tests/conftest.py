"""Shared fixtures: the real corpus, a real index built once per session with the real indexer."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from indexer.build import build_index
from indexer.corpus import load_corpus
from indexer.records import Programme
from tests.paths import ACRONYMS, CORPUS_DIR


def pytest_configure(config: pytest.Config) -> None:
    """Any app a test creates without its own analytics database writes into a temporary one,
    never into the repository's var/analytics.sqlite3."""
    scratch = tempfile.mkdtemp(prefix="analytics-")
    os.environ["SEARCH_ANALYTICS_DB"] = str(Path(scratch) / "analytics.sqlite3")


@pytest.fixture(scope="session")
def programmes() -> list[Programme]:
    return load_corpus(CORPUS_DIR)


@pytest.fixture(scope="session")
def index_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real index of the six programmes, built once with the real builder."""
    root = tmp_path_factory.mktemp("index")
    build_index(CORPUS_DIR, root, ACRONYMS)
    return root


@pytest.fixture(scope="session")
def app(index_root: Path, tmp_path_factory: pytest.TempPathFactory):
    """The real Flask app over the real session index (analytics in a temporary database)."""
    from search_app import create_app

    analytics = tmp_path_factory.mktemp("analytics") / "analytics.sqlite3"
    config = {"SEARCH_INDEX_DIR": str(index_root), "SEARCH_LOG": False, "TESTING": True, "ANALYTICS_DB": str(analytics)}
    return create_app(config)


@pytest.fixture()
def client(app):
    return app.test_client()
