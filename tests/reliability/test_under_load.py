"""The real server (gunicorn, 3 workers) under concurrent searches while the index is rebuilt several times.

Required by issue 4: zero failed requests; every response from a complete generation (old or new, never a
mix, never empty); after a failed build the previous generation is still served. The request and error
counts are printed (shown with ``-rA``) and recorded as test properties (JUnit XML).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

from indexer.store import POINTER_NAME
from tests.paths import ROOT
from tests.reliability.helpers import build, copy_corpus, run_indexer, wait_for

pytestmark = pytest.mark.slow

GUNICORN = Path(sys.executable).parent / "gunicorn"
WORKERS = 3
CLIENTS = 8
LOAD_SECONDS = 16.0
PAUSE_SECONDS = 1.5
REQUEST_TIMEOUT = 30.0
DISTINCTIVE = "quetzalcoatl"
BUILT_RE = re.compile(r"^(gen-\S+) en service : (\d+) documents", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    base: str
    root: Path
    records: Path
    process: subprocess.Popen[bytes]
    log: Path
    generations: dict[str, int] = field(default_factory=dict)  # name -> documents

    def get(self, path: str, timeout: float = REQUEST_TIMEOUT) -> tuple[int, dict[str, str], bytes]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, dict(error.headers), error.read()

    def health(self) -> dict:
        status, _, body = self.get("/healthz", timeout=5)
        return {"http": status, **json.loads(body)}

    def log_tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """gunicorn over a private index, started as in production and stopped by PID."""
    base = tmp_path_factory.mktemp("served")
    records = copy_corpus(base / "corpus")
    root = base / "index"
    first = build(records, root)
    port = free_port()
    env = {**os.environ, "SEARCH_INDEX_DIR": str(root), "SEARCH_ANALYTICS_DB": str(base / "analytics.sqlite3")}
    env.pop("FLASK_DEBUG", None)
    log = base / "gunicorn.log"
    command = [
        str(GUNICORN),
        "--no-control-socket",
        "-w",
        str(WORKERS),
        "-b",
        f"127.0.0.1:{port}",
        "search_app:create_app()",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    served = Server(f"http://127.0.0.1:{port}", root, records, process, log, {first: 6})
    try:

        def ready() -> bool:
            assert process.poll() is None, served.log_tail()
            try:
                return served.health()["http"] == 200
            except (OSError, ValueError):
                return False

        assert wait_for(ready, timeout=30, interval=0.2), served.log_tail()
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def test_served_responses_leak_no_version_and_keep_the_headers(server: Server):
    for path in ("/", "/api/search?q=migrants", "/healthz", "/nulle-part"):
        _, headers, body = server.get(path)
        assert not re.search(r"\d", headers.get("Server", "")), headers.get("Server")  # no version number
        assert "X-Powered-By" not in headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert b"Traceback" not in body


def test_served_long_queries(server: Server):
    """Over the app's limit: its own message; beyond the request-line limit: the server's refusal."""
    status, _, body = server.get("/api/search?q=" + quote("réintégration " + "x" * 2500))
    assert status == 200
    assert "Requête trop longue" in json.loads(body)["notices"][0]
    status, headers, body = server.get("/?q=" + "x" * 10_000)
    assert status in (400, 414)
    assert not re.search(r"\d", headers.get("Server", ""))
    assert b"Traceback" not in body


def test_served_raw_bytes_in_the_request_line(server: Server):
    host, port = server.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /api/search?q=r\xe9int\xff HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    assert status in (200, 400), answer[:300]
    assert b"Traceback" not in answer


@dataclass
class Observation:
    started: float
    path: str
    status: int | None
    generation: str | None = None
    count: int | None = None
    error: str = ""


def observe(server: Server, path: str) -> Observation:
    started = time.monotonic()
    try:
        status, headers, body = server.get(path)
    except Exception as error:  # any transport failure is a failed request
        return Observation(started, path, None, error=repr(error))
    observation = Observation(started, path, status)
    if status != 200:
        observation.error = body[:200].decode("utf-8", "replace")
        return observation
    try:
        if path == "/healthz":
            health = json.loads(body)
            observation.generation, observation.count = health["index"], health["documents"]
        elif path.startswith("/api/search"):
            result = json.loads(body)
            observation.generation, observation.count = headers.get("X-Index-Generation"), result["total"]
            statuses = sum(value["count"] for value in result["facets"]["status"])
            if statuses != result["total"] or len(result["results"]) != min(result["total"], 10):
                observation.error = f"incoherent page: {statuses} by status, {len(result['results'])} results"
        elif b"programme" not in body:
            observation.error = "HTML page without results"
    except (ValueError, KeyError) as error:
        observation.error = f"unreadable body: {error!r}"
    return observation


CLIENT_PATHS = [
    "/api/search?q=",
    f"/api/search?q={DISTINCTIVE}",
    "/healthz",
    "/?q=migrants+retour",
    "/api/search?q=r%C3%A9int%C3%A9gration&country=Mali",
]


def clients(server: Server, stop: threading.Event, observations: list[Observation]) -> list[threading.Thread]:
    def run(offset: int) -> None:
        number = offset
        while not stop.is_set():
            observations.append(observe(server, CLIENT_PATHS[number % len(CLIENT_PATHS)]))
            number += 1

    return [threading.Thread(target=run, args=(i,), name=f"client-{i}", daemon=True) for i in range(CLIENTS)]


def rebuild(server: Server, expect_success: bool = True) -> tuple[str | None, float]:
    """One ``python -m indexer build --force`` in a subprocess; returns (new generation, time it was live)."""
    result = run_indexer("build", "--force", "--corpus", server.records, "--index", server.root, timeout=120)
    done = time.monotonic()
    if not expect_success:
        assert result.returncode != 0, result.stdout
        assert "Corpus invalide" in result.stderr and "Traceback" not in result.stderr
        return None, done
    assert result.returncode == 0, result.stderr
    match = BUILT_RE.search(result.stdout)
    assert match, result.stdout
    server.generations[match.group(1)] = int(match.group(2))
    return match.group(1), done


def test_searches_never_fail_while_the_index_is_rebuilt(server: Server, record_property):
    observations: list[Observation] = []
    stop = threading.Event()
    threads = clients(server, stop, observations)
    switches: list[tuple[float, str]] = []  # (time the generation was live, name), in order
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        time.sleep(PAUSE_SECONDS)
        unchanged, at = rebuild(server)  # 1. same corpus, new generation
        switches.append((at, unchanged))
        time.sleep(PAUSE_SECONDS)
        seventh = server.records / "zz-programme-de-charge.md"
        seventh.write_text(
            (server.records / "afghanistan-rada.md")
            .read_text(encoding="utf-8")
            .replace("id: afghanistan-rada", "id: zz-programme-de-charge")
            .replace("L’OIM a créé", f"Le mot {DISTINCTIVE} n’apparaît qu’ici. L’OIM a créé"),
            encoding="utf-8",
        )
        changed, at = rebuild(server)  # 2. a seventh record
        switches.append((at, changed))
        assert server.generations[changed] == 7
        time.sleep(PAUSE_SECONDS)
        bad = server.records / "zz-fiche-invalide.md"
        bad.write_text(seventh.read_text(encoding="utf-8").replace("status: Activités achevées", "status: Peut-être"))
        rebuild(server, expect_success=False)  # 3. a bad record: the build fails
        assert (server.root / POINTER_NAME).read_text(encoding="utf-8").strip() == changed
        still = [server.health() for _ in range(3 * WORKERS)]
        assert {(h["http"], h["index"], h["documents"]) for h in still} == {(200, changed, 7)}
        bad.unlink()
        time.sleep(PAUSE_SECONDS)
        again, at = rebuild(server)  # 4. back to a good corpus
        switches.append((at, again))
        while time.monotonic() - started < LOAD_SECONDS:
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)
    elapsed = time.monotonic() - started

    failed = [o for o in observations if o.status != 200 or o.error]
    record_property("requests", len(observations))
    record_property("errors", len(failed))
    record_property("generations", len(server.generations))
    summary = (
        f"load: {len(observations)} requests in {elapsed:.1f} s from {CLIENTS} clients on {WORKERS} workers, "
        f"{len(failed)} failed, {len(server.generations)} generations served, 1 failed build"
    )
    print(summary)
    assert not failed, f"{summary}; first failures: {failed[:5]}\n{server.log_tail()}"
    assert len(observations) > 100

    order = list(server.generations)  # insertion order = build order
    for observation in observations:
        if observation.generation is None:
            continue
        documents = server.generations.get(observation.generation)
        assert documents in (6, 7), f"unknown or incomplete generation: {observation}"
        if observation.path in ("/api/search?q=", "/healthz"):
            assert observation.count == documents, observation
        elif observation.path == f"/api/search?q={DISTINCTIVE}":
            assert observation.count == (1 if documents == 7 else 0), observation
        # Once a generation is live, no request that starts later is served an older one.
        live = [name for at, name in switches if at < observation.started]
        if live:
            assert order.index(observation.generation) >= order.index(live[-1]), observation
    seen = {o.generation for o in observations if o.generation}
    assert {unchanged, changed, again} <= seen, "each new generation was served"
    assert all(thread.is_alive() is False for thread in threads)
