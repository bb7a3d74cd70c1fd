"""Issue 13's two-replica test: a real nginx load balancer (``search_app.balancer``'s configuration) in front
of two ``make run`` replicas, each with its own index root and analytics store. A changed corpus is built and
published (``indexer publish``) while clients keep searching: no request fails, and every answer is the one
the old or the new generation gives."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from indexer.publish import publish
from indexer.store import pointed_generation
from search_app.balancer import render_balancer
from search_app.serve import TEMP_DIRS
from tests.reliability.front_helpers import Front, alive, nginx_or_fail, start_front, stop_front
from tests.reliability.helpers import build, copy_corpus, free_port, json_of, make_app, wait_for

pytestmark = pytest.mark.slow

QUERIES = ["quetzalcoatl", "", "migrants", "Libye", "retour volontaire", "réintégration psychosociale", "Mali"]
CLIENTS = 12  # each from its own loopback address, so the replicas' per-address limit sees 12 clients
PACE = 0.125  # seconds between a client's requests: 8 a second, under the 10 r/s per-address limit
MINIMUM = 2000
PUBLISH_AFTER = 600
DEADLINE = 120.0


def _answers(root: Path) -> dict[str, object]:
    client = make_app(root).test_client()
    return {q: json_of(client.get("/api/search", query_string={"q": q})) for q in QUERIES}


def _add_programme(records: Path) -> None:
    text = (records / "afghanistan-rada.md").read_text(encoding="utf-8")
    changed = text.replace("id: afghanistan-rada", "id: zz-programme-publie").replace(
        "L’OIM a créé", "Le mot quetzalcoatl figure ici. L’OIM a créé"
    )
    (records / "zz-programme-publie.md").write_text(changed, encoding="utf-8")


@dataclass
class Load:
    """Clients searching through the balancer until stopped; every answer is kept with the time it came."""

    port: int
    stop: threading.Event = field(default_factory=threading.Event)
    answers: list[tuple[float, str, int, bytes]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, number: int) -> None:
        source = f"127.0.0.{10 + number}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10, source_address=(source, 0))
        turn = number
        while not self.stop.is_set():
            query = QUERIES[turn % len(QUERIES)]
            turn += 1
            try:
                connection.request("GET", f"/api/search?q={quote_plus(query)}")
                response = connection.getresponse()
                answer = (time.monotonic(), query, response.status, response.read())
            except (OSError, http.client.HTTPException) as error:
                with self.lock:
                    self.errors.append(f"{source}: {type(error).__name__}: {error}")
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10, source_address=(source, 0))
                continue
            with self.lock:
                self.answers.append(answer)
            self.stop.wait(PACE)
        connection.close()

    def count(self) -> int:
        with self.lock:
            return len(self.answers)


def _start_balancer(base: Path, replicas: list[Front]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    run_dir = base / "balancer"
    for name in TEMP_DIRS:
        (run_dir / name).mkdir(parents=True, exist_ok=True)
    config = run_dir / "balancer.conf"
    config.write_text(
        render_balancer([f"127.0.0.1:{front.port}" for front in replicas], "127.0.0.1", port, run_dir), "utf-8"
    )
    command = [nginx_or_fail(), "-p", str(run_dir), "-c", str(config), "-e", "stderr"]
    with (run_dir / "err").open("wb") as stderr:
        process = subprocess.Popen(command, start_new_session=True, stderr=stderr)

    def ready() -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    assert wait_for(ready, timeout=20, interval=0.2), (run_dir / "err").read_text()
    return process, port


def _served(front: Front) -> str:
    return json.loads(front.get("/healthz")[2])["index"]


def test_publishing_under_load_through_a_balancer_fails_no_request(tmp_path: Path) -> None:
    records = copy_corpus(tmp_path / "corpus")
    source = tmp_path / "source"
    old = build(records, source)
    expected_old = _answers(source)
    roots = [tmp_path / f"replica-{n}" / "index" for n in (1, 2)]
    publish(source, roots)
    replicas = [
        start_front(root.parent, root, workers=2, extra=("--trusted-proxy", "127.0.0.1")) for root in roots
    ]
    balancer, port = _start_balancer(tmp_path, replicas)
    load = Load(port)
    threads = [threading.Thread(target=load.client, args=(n,), daemon=True) for n in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        started = time.monotonic()
        assert wait_for(lambda: load.count() >= PUBLISH_AFTER, timeout=DEADLINE), (load.count(), load.errors[:5])
        _add_programme(records)
        new = build(records, source)
        published = publish(source, roots)
        switched = time.monotonic()
        assert published.generation == new != old
        assert [_served(front) for front in replicas] == [new, new]
        assert wait_for(lambda: load.count() >= MINIMUM and time.monotonic() - switched > 3, timeout=DEADLINE)
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(timeout=15)
        balancer.send_signal(signal.SIGQUIT)
        balancer.wait(timeout=15)
        stops = [stop_front(front) for front in replicas]
    expected_new = _answers(source)
    verdicts: Counter[str] = Counter()
    for at, query, status, body in load.answers:
        answer = json.loads(body) if status == 200 else None
        if answer == expected_new[query] and (answer != expected_old[query] or at > switched):
            verdicts["new"] += 1
        elif answer == expected_old[query]:
            verdicts["old" if at < switched else "old after the switch"] += 1
        else:
            verdicts[f"inconsistent {status}"] += 1
    print(f"\nreplicas: {len(load.answers)} answers in {time.monotonic() - started:.1f} s: {dict(verdicts)}")
    assert load.errors == []
    assert len(load.answers) >= MINIMUM
    assert set(verdicts) <= {"old", "new"}, verdicts
    assert verdicts["old"] >= PUBLISH_AFTER and verdicts["new"] > 0
    assert stops == [0, 0] and not alive({balancer.pid})
    for root in roots:
        assert pointed_generation(root) == new
