"""A real package: ``pip install .`` (not editable) into a fresh virtualenv, then the installed CLI
builds an index and gunicorn serves it from another directory; nothing points into the repository."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.paths import CORPUS_DIR, ROOT

pytestmark = pytest.mark.slow

#: Seconds the installed server has to answer /healthz.
START_TIMEOUT = 30.0


def _source_copy(destination: Path) -> Path:
    """The tracked files only (no .venv, var/ or build leftovers), so the build writes nothing here."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode("utf-8").split("\0")):
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, target)
    return destination


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def test_the_installed_package_builds_and_serves_from_elsewhere(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to list the tracked files")
    source = _source_copy(tmp_path / "source")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python, gunicorn = venv / "bin" / "python", venv / "bin" / "gunicorn"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(source)], check=True, timeout=600)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    located = subprocess.run(
        [str(python), "-c", "import search_app, indexer; print(search_app.__file__); print(indexer.__file__)"],
        cwd=elsewhere, capture_output=True, text=True, check=True,
    ).stdout.split()
    assert all(Path(path).is_relative_to(venv) for path in located), located
    index = tmp_path / "index"
    subprocess.run(
        [str(python), "-m", "indexer", "build", "--corpus", str(CORPUS_DIR), "--index", str(index)],
        cwd=elsewhere, check=True, capture_output=True, timeout=300,
    )
    port = _free_port()
    env = {
        **os.environ,
        "SEARCH_INDEX_DIR": str(index),
        "SEARCH_ANALYTICS_DB": str(tmp_path / "analytics.sqlite3"),
        "PYTHONPATH": "",
    }
    server = subprocess.Popen(
        [str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", "1", "search_app:create_app()"],
        cwd=elsewhere, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                status, _ = _get(f"{base}/healthz")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        assert status == 200
        status, body = _get(f"{base}/api/search?q=migrants")
        assert status == 200 and json.loads(body)["total"] > 0
        status, page = _get(f"{base}/?q=migrants")  # the packaged templates
        assert status == 200 and b"<mark>" in page
        status, _ = _get(f"{base}/static/style.css")  # the packaged static files
        assert status == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
