"""Every kind of page is valid HTML for the W3C Nu HTML checker (errors and warnings alike).

The checker is vnu.jar from npm's ``vnu-jar`` (``make html-checker`` installs it under .venv/node and
exports ``VNU_JAR``), run with Java over pages the real app renders from the real index.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.paths import ROOT

#: Where ``make html-checker`` puts it (the Makefile exports VNU_JAR too).
DEFAULT_JAR = ROOT / ".venv" / "node" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

PAGES = {
    "home": "/",
    "results": "/?q=migrants",
    "filtered": "/?q=retour&country=Mali&region=Afrique+centrale+et+de+l%E2%80%99Ouest",
    "nothing": "/?q=zorglub&country=Atlantide",
    "programme": "/programmes/afghanistan-rada?q=irrigation",
    "programme-similar": "/programmes/afrique-centrale-et-de-l-ouest-initiative-conjointe",
    "help": "/aide",
    "stats": "/stats",
    "not-found": "/programmes/inconnu",
}


@pytest.fixture(scope="module")
def checker() -> list[str]:
    jar, java = Path(os.environ.get("VNU_JAR") or DEFAULT_JAR), shutil.which("java")
    if not (java and jar.is_file()):
        pytest.fail(f"the Nu HTML checker is missing (VNU_JAR={jar}, java={java}): run « make html-checker »")
    return [java, "-jar", str(jar), "--format", "json", "--also-check-svg"]


def test_every_page_passes_the_nu_html_checker(client, checker: list[str], tmp_path: Path):
    for name, url in PAGES.items():
        response = client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        (tmp_path / f"{name}.html").write_bytes(response.data)
    run = subprocess.run([*checker, *sorted(str(p) for p in tmp_path.glob("*.html"))], capture_output=True, timeout=120)
    report = json.loads(run.stderr or run.stdout)
    problems = [
        f"{Path(m['url']).stem}:{m.get('lastLine')}: {m['type']} {m.get('subType', '')} {m['message']}"
        for m in report["messages"]
        if m["type"] == "error" or m.get("subType") == "warning"
    ]
    assert not problems, "\n".join(problems)
    assert len(list(tmp_path.glob("*.html"))) == len(PAGES)
