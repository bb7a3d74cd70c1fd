"""Issue 14's corruption sweep: random bytes at 20 positions of every file of the served generation.

After each damage, 30 distinct searches and programme pages (HTML and API) must never answer 500:
each answer is the one given before the damage (served by the previous generation, the fallback) or
a 503, and ``/healthz`` agrees with the other routes. Two app instances over the same files stand
for two worker processes: they must reach the same decision.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from indexer.manifest import MANIFEST_NAME
from indexer.store import pointed_generation
from tests.reliability.helpers import build, copy_corpus, json_of, make_app, run_indexer

POSITIONS = 20
DAMAGE_BYTES = 16
SEARCHES = [
    "migrants", "réintégration psychosociale", "reintegration", "retour volontaire", "Libye", "ODD 10.7",
    "voluntary return", "l’OIM", "\"retour volontaire\"", "Mali -Niger", "communautés", "formation",
    "santé mentale", "Afghanistan", "protection", "Éthiopie", "sensibilisation", "migr*", "",
    "réinsertion économique", "retour OR réintégration", "Tunisie", "emploi des jeunes",
]
PROGRAMMES = [
    "afghanistan-rada", "bangladesh-reintegration-durable", "afrique-australe-action-pilote",
    "afrique-centrale-et-de-l-ouest-initiative-conjointe", "moyen-orient-et-afrique-du-nord-initiative-conjointe",
]
#: 30 distinct routes: searches through the API and the page, programme pages and their API.
ROUTES = (
    [f"/api/search?q={q}" for q in SEARCHES]
    + [f"/?q={q}" for q in SEARCHES[:2]]
    + [f"/programmes/{p}" for p in PROGRAMMES[:3]]
    + [f"/api/programmes/{p}" for p in PROGRAMMES[3:]]
)
GENERATION_NAME = re.compile(rb"gen-[0-9TZ]+-[0-9a-f]{8}")


def _answer(client: FlaskClient, route: str) -> tuple[int, bytes]:
    response = client.get(route)
    return response.status_code, GENERATION_NAME.sub(b"gen", response.get_data())


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index root with two generations of the same corpus: the live one and the previous one."""
    base = tmp_path_factory.mktemp("sweep")
    records = copy_corpus(base / "corpus")
    root = base / "index"
    build(records, root)
    build(records, root)
    return root


@pytest.fixture(scope="module")
def expected(pristine: Path) -> dict[str, tuple[int, bytes]]:
    client = make_app(pristine).test_client()
    answers = {route: _answer(client, route) for route in ROUTES}
    assert len(ROUTES) == len(set(ROUTES)) == 30
    assert all(status == 200 for status, _ in answers.values()), "every route answers before the damage"
    return answers


def _positions(size: int) -> list[int]:
    """``POSITIONS`` offsets spread from the first byte to the last (fewer for a tiny file)."""
    if size <= 1:
        return [0]
    return sorted({round(i * (size - 1) / (POSITIONS - 1)) for i in range(POSITIONS)})


def _damage(path: Path, offset: int) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(os.urandom(DAMAGE_BYTES))


def _rounds(pristine: Path) -> list[tuple[str, int]]:
    live = pristine / pointed_generation(pristine)
    files = sorted(path.name for path in live.iterdir() if path.is_file())
    assert {MANIFEST_NAME, "meta.json"} <= set(files) and any(name.endswith(".seg") for name in files)
    return [(name, offset) for name in files for offset in _positions((live / name).stat().st_size)]


@pytest.mark.slow
def test_random_bytes_anywhere_in_the_served_generation_never_give_a_500(
    pristine: Path, expected: dict[str, tuple[int, bytes]], tmp_path: Path
) -> None:
    outcomes: Counter[str] = Counter()
    rounds = _rounds(pristine)
    for number, (name, offset) in enumerate(rounds):
        root = tmp_path / f"round-{number}"
        shutil.copytree(pristine, root)
        workers = [make_app(root).test_client() for _ in range(2)]
        for client in workers:
            assert client.get("/healthz").status_code == 200  # each worker serves the live generation
        _damage(root / pointed_generation(root) / name, offset)
        health = [json_of(client.get("/healthz")) for client in workers]
        assert health[0] == health[1], (name, offset, "two workers, two decisions")
        for route in ROUTES:
            status, body = _answer(workers[number % 2], route)
            assert status in (200, 503), (name, offset, route, status)
            if health[0]["status"] == "ok":
                assert (status, body) == expected[route], (name, offset, route, "a 200 that differs from before")
            else:
                assert status == 503, (name, offset, route, "/healthz says 503, the route does not")
            outcomes[f"{status}{' fallback' if health[0].get('fallback') else ''}"] += 1
        shutil.rmtree(root)
    print(f"\nsweep: {len(rounds)} damages, {sum(outcomes.values())} answers: {dict(outcomes)}")
    assert outcomes["200 fallback"] == len(rounds) * len(ROUTES), "with an intact previous generation, all served"


def test_without_a_previous_generation_every_route_says_503(pristine: Path, tmp_path: Path) -> None:
    root = tmp_path / "index"
    shutil.copytree(pristine, root)
    live = pointed_generation(root)
    for other in root.iterdir():
        if other.is_dir() and other.name != live:
            shutil.rmtree(other)
    client = make_app(root).test_client()
    assert client.get("/healthz").status_code == 200
    segment = next((root / live).glob("*.seg"))
    _damage(segment, segment.stat().st_size // 3)
    health = client.get("/healthz")
    assert health.status_code == 503
    assert json_of(health)["error"] == f"index « {live} » endommagé et aucune génération précédente intacte"
    for route in ROUTES:
        response = client.get(route)
        assert response.status_code == 503, route
        assert str(root) not in response.get_data(as_text=True)


# A worker's generation taken out of service keeps its files open for RETIRE_SECONDS; the round's folder goes first.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.slow
def test_damage_that_keeps_sizes_and_times_is_found_by_an_error_or_by_indexer_check(
    pristine: Path, expected: dict[str, tuple[int, bytes]], tmp_path: Path
) -> None:
    """Bit rot, or a restore that keeps modification times: no stamp changes, so only an error while
    searching, or ``indexer check --index`` (run from cron, say), reveals the damage. Never a 500; once
    found (by either), every worker serves the fallback and every answer is right again."""
    found_by_error = wrong = 0
    live_segment = next((pristine / pointed_generation(pristine)).glob("*.seg"))
    for number, offset in enumerate(_positions(live_segment.stat().st_size)):
        root = tmp_path / f"round-{number}"
        shutil.copytree(pristine, root)
        searching, idle = (make_app(root).test_client() for _ in range(2))
        for client in (searching, idle):
            assert client.get("/healthz").status_code == 200
        segment = next((root / pointed_generation(root)).glob("*.seg"))
        info = segment.stat()
        _damage(segment, offset)
        os.utime(segment, ns=(info.st_atime_ns, info.st_mtime_ns))
        for route in ROUTES:
            status, body = _answer(searching, route)
            assert status in (200, 503), (offset, route, status)
            wrong += status == 200 and body != expected[route][1]
        found_by_error += bool(json_of(searching.get("/healthz")).get("fallback"))
        checked = run_indexer("check", "--index", root)
        assert checked.returncode == 2 and "ENDOMMAGÉE" in checked.stderr, checked.stderr
        for client in (searching, idle):
            assert json_of(client.get("/healthz"))["fallback"] is True, (offset, "a worker did not follow")
            for route in ROUTES:
                assert _answer(client, route) == expected[route], (offset, route)
        shutil.rmtree(root)
    print(f"\nsilent damage: {POSITIONS} positions in the segment; found by an error at {found_by_error}; "
          f"{wrong} of {POSITIONS * len(ROUTES)} answers wrong before it was found")
