"""HTTP throughput: gunicorn (2 workers, 127.0.0.1) on the real six-programme corpus, loaded by wrk.

``wrk -t2 -c16 -d<duration>s --latency`` runs once against ``/api/search`` (a Lua script
cycles through queries drawn from the real records) and once against ``/healthz``, on the
same server. The gunicorn process is started here and stopped by its PID.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from benchmarks.corpus import ACRONYMS, REAL_CORPUS
from benchmarks.log import log
from benchmarks.queries import make_queries
from indexer.build import build_index
from indexer.corpus import load_corpus

ROOT = Path(__file__).resolve().parent.parent
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def http_unavailable_reason() -> str | None:
    """Why the HTTP benchmark cannot run here, or None when it can."""
    try:
        module = importlib.import_module("search_app")
    except ImportError as error:
        return f"search_app does not import: {error}"
    if not hasattr(module, "create_app"):
        return "search_app.create_app does not exist yet"
    if not ensure_wrk():
        return "wrk is not installed and could not be installed"
    return None


def ensure_wrk() -> bool:
    """True when wrk is on PATH, installing Debian's package first if needed."""
    if shutil.which("wrk"):
        return True
    log("wrk is not installed: installing it with apt-get…")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=env, check=False, stdout=subprocess.DEVNULL)
    return shutil.which("wrk") is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer {url} within {timeout:.0f} s")


def _to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> dict[str, float]:
    """Requests/s, p50/p99 latency (ms) and error counts from ``wrk --latency`` output."""
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.MULTILINE))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    return {
        "rps": rps,
        "p50_ms": _to_ms(latency["50"]),
        "p99_ms": _to_ms(latency["99"]),
        "non_2xx": float(non_2xx.group(1)) if non_2xx else 0.0,
        "socket_errors": float(sum(int(n) for n in re.findall(r"\d+", errors.group(0)))) if errors else 0.0,
    }


def lua_script(paths: list[str], target: Path) -> Path:
    quoted = ",\n".join(f'  "{path}"' for path in paths)
    target.write_text(
        f"local paths = {{\n{quoted}\n}}\nlocal i = 0\n"
        'request = function()\n  i = i % #paths + 1\n  return wrk.format("GET", paths[i])\nend\n',
        encoding="utf-8",
    )
    return target


def real_index(out_dir: Path) -> Path:
    """The real six-programme corpus indexed into ``out_dir/http-index`` (kept when nothing changed)."""
    index_root = out_dir / "http-index"
    build_index(REAL_CORPUS, index_root, ACRONYMS)
    return index_root


def search_paths(seed: int, count: int = 60) -> list[str]:
    """``/api/search?q=…`` paths for up to ``count`` distinct queries drawn from the real records (text only)."""
    queries = make_queries(load_corpus(REAL_CORPUS), seed)
    texts = list(dict.fromkeys(q.text for q in queries if q.text and not q.filters))
    return ["/api/search?q=" + urllib.parse.quote(text) for text in texts[:count]]


def wrk(url: str, duration: int, script: Path | None, connections: int = 16) -> dict[str, float]:
    """``wrk -t2 -c<connections> -d<duration>s --latency`` (with a Lua script), parsed."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    command += [*(["-s", str(script)] if script else []), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def run_http(out_dir: Path, seed: int, duration: int = 10) -> dict[str, object]:
    """Build the real corpus's index, then wrk against gunicorn with the page cache as deployed, and without it."""
    index_root = real_index(out_dir)
    paths = search_paths(seed)
    script = lua_script(paths, out_dir / "wrk-search.lua")
    search, health = _serve_and_load(out_dir, index_root, paths, script, duration, {}, with_health=True)
    uncached, _ = _serve_and_load(out_dir, index_root, paths, script, duration, {"SEARCH_CACHE_SIZE": "0"})
    return {
        "http_search_rps": search["rps"],
        "http_health_rps": health["rps"],
        "http_search_p99_ms": search["p99_ms"],
        "http_health_p99_ms": health["p99_ms"],
        "http_search_p50_ms": search["p50_ms"],
        "http_health_p50_ms": health["p50_ms"],
        "http_search_errors": search["non_2xx"] + search["socket_errors"],
        "http_health_errors": health["non_2xx"] + health["socket_errors"],
        "http_ratio": search["rps"] / health["rps"] if health["rps"] else None,
        "http_search_uncached_rps": uncached["rps"],
        "http_search_uncached_p50_ms": uncached["p50_ms"],
        "http_search_uncached_p99_ms": uncached["p99_ms"],
        "http_search_uncached_errors": uncached["non_2xx"] + uncached["socket_errors"],
        "http_distinct_queries": len(paths),
        "http_duration_s": duration,
    }


def _serve_and_load(
    out_dir: Path,
    index_root: Path,
    paths: list[str],
    script: Path,
    duration: int,
    extra_env: dict[str, str],
    with_health: bool = False,
) -> tuple[dict[str, float], dict[str, float]]:
    """Start gunicorn, run wrk on /api/search (and /healthz), stop gunicorn by its PID."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [str(gunicorn), "--no-control-socket", "-w", "2", "-b", f"127.0.0.1:{port}", "search_app:create_app()"]
    env = {
        **os.environ,
        "SEARCH_INDEX_DIR": str(index_root.resolve()),
        "SEARCH_ANALYTICS_DB": str((out_dir / "http-analytics.sqlite3").resolve()),  # never the repository's
        **extra_env,
    }
    log_path = out_dir / "gunicorn.log"
    with open(log_path, "a") as server_log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=server_log, stderr=subprocess.STDOUT)
    log(f"gunicorn started (PID {server.pid}) on {base} {extra_env or ''}; log in {log_path}")
    health: dict[str, float] = {}
    try:
        wait_ready(base + "/healthz")
        with urllib.request.urlopen(base + paths[0], timeout=10) as response:
            if response.status != 200:
                raise RuntimeError(f"{paths[0]} answered {response.status}")
        log(f"wrk: /api/search for {duration} s ({len(paths)} queries in rotation)…")
        search = wrk(base + "/api/search", duration, script)
        if with_health:
            log(f"wrk: /healthz for {duration} s…")
            health = wrk(base + "/healthz", duration, None)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log(f"gunicorn (PID {server.pid}) stopped")
    return search, health
