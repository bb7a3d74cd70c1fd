"""``make run``'s front for real: nginx in front of gunicorn, started by ``python -m search_app.serve``.

Issue 13, point 1: stalled and trickling clients do not take the site down (gunicorn alone: they do,
measured here too), per-client limits on the API (429 with Retry-After and a French JSON error), a cap on
concurrent CSV exports, no ``Server`` header, keep-alive, SIGTERM stopping every process, and
``/stats`` deciding on the client's real address. The figures are printed (``-rA``) and recorded as test
properties.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.paths import ROOT
from tests.reliability.front_helpers import (
    Front,
    SlowClients,
    UnixHTTPConnection,
    all_gone,
    descendants,
    nginx_or_fail,
    stalled_connections,
    start_front,
    stop_front,
    timed_get,
    trickle,
)
from tests.reliability.helpers import PYTHON, free_port

pytestmark = pytest.mark.slow

STALLED = 200
TRICKLING = 200
PROBES = 10
#: Issue 13's target: under that pressure, each probe answers within a second, every time, for 30 s.
PRESSURE_SECONDS = 30.0
PROBE_EVERY = 0.5
ALONE_TIMEOUT = 3.0
TOO_MANY = "Trop de requêtes\u00a0: réessayez dans une seconde."
TOO_MANY_EXPORTS = "Trop d’exports CSV en cours\u00a0: réessayez dans quelques secondes."
EXPORT = "/api/search?q=migrants&format=csv"


@pytest.fixture(scope="module")
def front(index_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    """One supervisor (3 workers: 2 concurrent exports overall) over the session index."""
    served = start_front(tmp_path_factory.mktemp("front"), index_root)
    try:
        yield served
    finally:
        stop_front(served)


def _probe(front: Front, paths: tuple[str, ...], timeout: float) -> list[tuple[str, int | None, float]]:
    return [(path, *timed_get(front, path, timeout)) for path in paths for _ in range(PROBES // len(paths))]


def test_stalled_clients_take_gunicorn_alone_down_but_not_the_front(
    front: Front, index_root: Path, tmp_path: Path, record_property: Callable[[str, object], None]
):
    """The measurement behind the choice of nginx (README, « Serving »)."""
    alone = start_front(tmp_path, index_root, workers=2, nginx="/nonexistent/nginx")
    try:
        assert "gunicorn sert seul" in alone.stderr() and "sans protection contre les clients lents" in alone.stderr()
        stalled = stalled_connections(alone.port, STALLED)
        try:
            alone_probe = [timed_get(alone, "/healthz", ALONE_TIMEOUT) for _ in range(2)]
        finally:
            for sock in stalled:
                sock.close()
    finally:
        stop_front(alone)
    print(f"gunicorn alone, {STALLED} stalled connections: /healthz {alone_probe}")
    record_property("alone_healthz", repr(alone_probe))
    assert all(status is None for status, _ in alone_probe), alone_probe  # down, as issue 13 measured

    stalled = stalled_connections(front.port, STALLED)
    slow = trickle(front.port, TRICKLING, seconds=6)
    try:
        probes = _probe(front, ("/healthz", "/?q=migrants"), timeout=2.0)
    finally:
        for sock in stalled:
            sock.close()
        slow.join(timeout=10)
    seconds = [elapsed for _, _, elapsed in probes]
    figures = f"median {statistics.median(seconds) * 1000:.1f} ms, max {max(seconds) * 1000:.1f} ms"
    print(f"front, {STALLED} stalled + {TRICKLING} trickling connections: {figures}")
    record_property("front_latency", figures)
    assert [status for _, status, _ in probes] == [200] * len(probes), probes
    assert max(seconds) < 2.0


def test_the_api_is_limited_per_client_with_429_retry_after_and_a_french_error(front: Front):
    statuses: list[int] = []
    limited: list[tuple[str | None, bytes, str | None]] = []
    connection = front.connection(source="127.0.0.2")
    try:
        for _ in range(60):
            connection.request("GET", "/api/search?q=x")
            response = connection.getresponse()
            body = response.read()
            statuses.append(response.status)
            if response.status == 429:
                limited.append((response.getheader("Retry-After"), body, response.getheader("Content-Type")))
    finally:
        connection.close()
    print(f"60 API requests from one client: {statuses.count(200)} × 200, {statuses.count(429)} × 429")
    assert set(statuses) == {200, 429}
    assert statuses.count(200) >= 20  # the burst is served at once
    assert statuses.count(429) >= 20
    for retry_after, body, content_type in limited:
        assert retry_after == "1"
        assert content_type == "application/json; charset=utf-8"
        assert json.loads(body) == {"error": TOO_MANY}
    assert front.get("/?q=migrants", source="127.0.0.2")[0] == 200  # pages are not limited
    assert front.get("/api/search?q=x", source="127.0.0.3")[0] == 200  # another address is not


def test_the_api_limit_is_set_by_the_supervisor(index_root: Path, tmp_path: Path):
    """--api-rate/--api-burst (what the load benchmark runs with): 60 quick requests from one address, all served."""
    served = start_front(tmp_path, index_root, workers=2, extra=("--api-rate", "1000", "--api-burst", "100"))
    connection = served.connection(source="127.0.0.2")
    try:
        statuses = []
        for _ in range(60):
            connection.request("GET", "/api/search?q=x")
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
    finally:
        connection.close()
        stop_front(served)
    assert statuses == [200] * 60, statuses
    assert "rate=1000r/s" in (served.run_dir / "nginx.conf").read_text(encoding="utf-8")


def _concurrent(front: Front, sources: list[str]) -> list[tuple[int, str | None, bytes]]:
    """One export per source, all at once: every connection opened, then every request sent, then read.

    Sent from one thread in a tight loop, the requests reach nginx within a fraction of a millisecond,
    before the first export has come back from gunicorn: they are in progress together.
    """
    connections = [front.connection(source=source, timeout=15) for source in sources]
    try:
        for connection in connections:
            connection.connect()
        for connection in connections:
            connection.request("GET", EXPORT)
        results = []
        for connection in connections:
            response = connection.getresponse()
            results.append((response.status, response.getheader("Retry-After"), response.read()))
    finally:
        for connection in connections:
            connection.close()
    return results


def _check_exports(results: list[tuple[int, str | None, bytes]]) -> tuple[int, int]:
    served = [body for status, _, body in results if status == 200]
    refused = [(retry, body) for status, retry, body in results if status == 503]
    assert len(served) + len(refused) == len(results), [status for status, _, _ in results]
    assert all(body.startswith("\ufeffidentifiant;titre".encode()) for body in served)
    assert all(retry == "5" and json.loads(body) == {"error": TOO_MANY_EXPORTS} for retry, body in refused)
    return len(served), len(refused)


def test_concurrent_csv_exports_are_capped_per_client_and_overall(front: Front):
    per_client = _check_exports(_concurrent(front, ["127.0.0.4"] * 8))
    overall = _check_exports(_concurrent(front, [f"127.0.0.{n}" for n in range(10, 18)]))
    print(f"8 simultaneous exports, one client: {per_client}; eight clients: {overall} (served, refused)")
    assert per_client[0] >= 1 and per_client[1] >= 4  # cap 1 per address
    assert overall[0] >= 1 and overall[1] >= 2  # cap 2 overall (3 workers: one stays free)
    # A search that is not an export is not counted against the caps.
    assert front.get("/api/search?q=migrants", source="127.0.0.4")[0] == 200


def test_no_server_header(front: Front):
    for path in ("/", "/healthz", "/nulle-part", "/static/style.css"):
        status, headers, _ = front.get(path, source="127.0.0.20")
        assert status in (200, 404)
        assert "Server" not in headers, headers["Server"]
        assert headers["X-Content-Type-Options"] == "nosniff"  # the app's headers come through


def test_two_requests_on_one_kept_alive_connection(front: Front):
    connection = front.connection(source="127.0.0.21")
    try:
        connection.request("GET", "/healthz")
        first = connection.getresponse()
        first.read()
        sock = connection.sock
        connection.request("GET", "/?q=migrants")
        second = connection.getresponse()
        body = second.read()
        assert connection.sock is sock  # the same socket: not reconnected
    finally:
        connection.close()
    assert (first.status, second.status) == (200, 200)
    assert first.getheader("Connection") == "keep-alive"
    assert b"migrants" in body


def test_stats_trust_nginx_address_never_the_client_header(front: Front):
    """nginx overwrites X-Forwarded-For with the client's address; the app trusts that one hop only."""
    spoofed = {"X-Forwarded-For": "203.0.113.9"}
    assert front.get("/stats", headers=spoofed)[0] == 200  # a loopback client, whatever it writes
    socket_path = front.run_dir / "gunicorn.sock"
    for forwarded, expected in (("203.0.113.9", 403), ("127.0.0.1", 200)):
        connection = UnixHTTPConnection(socket_path)
        try:
            connection.request("GET", "/stats", headers={"X-Forwarded-For": forwarded})
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        assert response.status == expected, forwarded  # what nginx forwards for a remote client: refused


def test_sigterm_stops_nginx_and_gunicorn(index_root: Path, tmp_path: Path):
    served = start_front(tmp_path, index_root, workers=2)
    pids = served.pids()
    nginx_pid = int((served.run_dir / "nginx.pid").read_text())
    assert nginx_pid in pids and len(pids) >= 5  # supervisor, gunicorn + 2 workers, nginx + its worker
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=30) == 0
    assert all_gone(pids), pids
    assert timed_get(served, "/healthz", 1.0)[0] is None  # nothing listens any more


def test_sigterm_while_gunicorn_starts_stops_it_too(index_root: Path, tmp_path: Path):
    """The supervisor's handlers are in place before any child starts: a SIGTERM that comes while it waits
    for gunicorn's socket stops gunicorn instead of killing the supervisor and leaving gunicorn behind."""
    run_dir = tmp_path / "run"
    env = {**os.environ, "SEARCH_INDEX_DIR": str(index_root), "SEARCH_ANALYTICS_DB": str(tmp_path / "a.db")}
    command = [PYTHON, "-m", "search_app.serve", "--port", str(free_port()), "--run-dir", str(run_dir)]
    command += ["--nginx", nginx_or_fail()]
    with (tmp_path / "err").open("wb") as err:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=err)
    seen: set[int] = set()
    try:
        for _ in range(500):  # bounded: until gunicorn's master runs, at most 10 s
            seen |= descendants(process.pid)
            if seen or process.poll() is not None:
                break
            time.sleep(0.02)
        assert seen and not (run_dir / "gunicorn.sock").exists(), "caught gunicorn before its socket"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert all_gone(seen | descendants(process.pid)), seen
    assert "arrêt demandé pendant le démarrage\u00a0: gunicorn arrêté." in (tmp_path / "err").read_text("utf-8")


def test_the_supervisor_stops_everything_when_nginx_dies(index_root: Path, tmp_path: Path):
    served = start_front(tmp_path, index_root, workers=2)
    pids = served.pids()
    nginx_pid = int((served.run_dir / "nginx.pid").read_text())
    try:
        os.kill(nginx_pid, signal.SIGKILL)
        assert served.process.wait(timeout=30) == 1
    finally:
        stop_front(served)
    assert all_gone(pids), pids
    assert "nginx s’est arrêté (code -9)\u00a0: arrêt du service." in served.stderr()


def test_under_slow_clients_for_30_seconds_every_probe_answers_within_a_second(
    front: Front, record_property: Callable[[str, object], None]
):
    """200 stalled and 200 trickling connections, reopened as the front closes them, for 30 s: a normal
    client's /healthz and /api/search answer within 1 s every time (issue 13's target)."""
    clients = SlowClients(front.port, STALLED, TRICKLING)
    probes: list[tuple[str, int | None, float]] = []
    try:
        deadline = time.monotonic() + PRESSURE_SECONDS
        while time.monotonic() < deadline:
            for path in ("/healthz", "/api/search?q=migrants"):
                probes.append((path, *timed_get(front, path, timeout=1.0)))
            time.sleep(PROBE_EVERY)
    finally:
        clients.stop()
    seconds = [elapsed for _, _, elapsed in probes]
    figures = (
        f"{len(probes)} probes in {PRESSURE_SECONDS:.0f} s, median {statistics.median(seconds) * 1000:.1f} ms, "
        f"max {max(seconds) * 1000:.1f} ms, {clients.reconnections} slow connections reopened"
    )
    print(figures)
    record_property("front_30s", figures)
    failed = [probe for probe in probes if probe[1] != 200 or probe[2] >= 1.0]
    assert not failed, failed[:5]
    assert len(probes) >= 40 and clients.reconnections > 0, "the pressure lasted, and the front closed slow clients"
