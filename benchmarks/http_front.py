"""Issue 13's load target through the real front: ``python -m search_app.serve`` (nginx + gunicorn -w 2).

Target: ``wrk -t2 -c64`` on ``/api/search`` with 50 distinct queries rotating (a Lua script), on the six
real programmes: no socket error, no non-2xx, p99 under 200 ms, and ``/api/search`` ÷ ``/healthz``
throughput ≥ 0.5, both measured through the front. wrk is one client address, so the front runs with
its per-address API limit raised (:data:`API_RATE`, :data:`API_BURST`, reported with the figures).

Two fronts are measured in turn: as deployed (each worker's page cache holds 512 pages, so after the
first round the 50 queries are cache hits), and with ``SEARCH_CACHE_SIZE=0`` (the page cache truly
ineffective: every request searches). Each supervisor is started here and stopped by its PID.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from benchmarks.http_bench import ROOT, ensure_wrk, free_port, lua_script, real_index, search_paths, wait_ready, wrk
from benchmarks.log import log
from search_app.serve import find_nginx

CONNECTIONS = 64
QUERIES = 50
WORKERS = 2
#: Far above what wrk reaches here (a few thousand requests a second): the limit never answers 429.
API_RATE = 100_000
API_BURST = 1_000
STOP_TIMEOUT = 30.0
#: The two fronts measured: the key prefix, and the page cache size of their workers.
FRONTS = (("http_front", None), ("http_front_uncached", "0"))


def http_front_unavailable_reason() -> str | None:
    """Why the front cannot be measured here, or None."""
    if find_nginx() is None:
        return "nginx is not installed (make nginx)"
    if not ensure_wrk():
        return "wrk is not installed and could not be installed"
    return None


def run_http_front(out_dir: Path, seed: int, duration: int = 10) -> dict[str, object]:
    """Index the real corpus, then measure both fronts; the report's ``http_front*`` keys."""
    index_root = real_index(out_dir)
    paths = search_paths(seed, QUERIES)
    script = lua_script(paths, out_dir / "wrk-front-search.lua")
    report: dict[str, object] = {
        "http_front_connections": CONNECTIONS,
        "http_front_workers": WORKERS,
        "http_front_distinct_queries": len(paths),
        "http_front_api_rate": API_RATE,
        "http_front_api_burst": API_BURST,
        "http_front_duration_s": duration,
    }
    for prefix, cache_size in FRONTS:
        measured = _measure(out_dir, index_root, paths[0], script, duration, cache_size)
        report.update(front_keys(prefix, measured))
    return report


def front_keys(prefix: str, measured: dict[str, dict[str, float]]) -> dict[str, object]:
    """``<prefix>_<endpoint>_<figure>`` for every figure wrk gave, and ``<prefix>_ratio``."""
    keys: dict[str, object] = {
        f"{prefix}_{endpoint}_{name}": value
        for endpoint, figures in measured.items()
        for name, value in figures.items()
    }
    search, health = measured["search"]["rps"], measured["health"]["rps"]
    keys[f"{prefix}_ratio"] = search / health if health else None
    return keys


def _measure(
    out_dir: Path, index_root: Path, first: str, script: Path, duration: int, cache_size: str | None
) -> dict[str, dict[str, float]]:
    """Start a front, run wrk on /api/search then /healthz, stop it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    front = _start(out_dir, index_root, port, cache_size)
    try:
        wait_ready(base + "/healthz", timeout=60)
        wait_ready(base + first)
        log(f"wrk -c{CONNECTIONS}: /api/search through the front for {duration} s (page cache {cache_size or 512})…")
        search = wrk(base + "/api/search", duration, script, CONNECTIONS)
        log(f"wrk -c{CONNECTIONS}: /healthz through the front for {duration} s…")
        health = wrk(base + "/healthz", duration, None, CONNECTIONS)
    finally:
        _stop(front)
    return {"search": search, "health": health}


def _start(out_dir: Path, index_root: Path, port: int, cache_size: str | None) -> subprocess.Popen[bytes]:
    """``python -m search_app.serve`` on ``port``, its logs under ``out_dir`` (never the repository's var/)."""
    name = "front" if cache_size is None else f"front-cache-{cache_size}"
    env = {
        **os.environ,
        "SEARCH_INDEX_DIR": str(index_root.resolve()),
        "SEARCH_ANALYTICS_DB": str((out_dir / "http-analytics.sqlite3").resolve()),
        **({"SEARCH_CACHE_SIZE": cache_size} if cache_size is not None else {}),
    }
    command = [
        sys.executable, "-m", "search_app.serve", "--port", str(port), "--workers", str(WORKERS),
        "--run-dir", str((out_dir / f"{name}-run").resolve()), "--log-dir", str((out_dir / f"{name}-log").resolve()),
        "--api-rate", str(API_RATE), "--api-burst", str(API_BURST),
    ]  # fmt: skip
    with open(out_dir / f"{name}.err", "ab") as errors:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    log(f"front started (supervisor PID {process.pid}) on 127.0.0.1:{port}; messages in {out_dir / f'{name}.err'}")
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the supervisor (it stops nginx and gunicorn), SIGKILL if it does not stop."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log(f"front (PID {process.pid}) stopped")
