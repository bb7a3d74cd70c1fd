"""The real ``make run`` front (``python -m search_app.serve``: nginx + gunicorn) for the tests, and clients.

Every process is started here and stopped by PID; every loop is bounded; everything is on loopback.
Clients that must count as different addresses bind their source to another loopback address
(127.0.0.2…: Linux routes all of 127.0.0.0/8 to ``lo``).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from search_app.serve import find_nginx
from tests.paths import ROOT
from tests.reliability.helpers import PYTHON, free_port, wait_for

STARTUP_TIMEOUT = 45.0
STOP_TIMEOUT = 30.0


def nginx_or_fail() -> str:
    """Debian's nginx; the front's tests fail (never skip) without it: ``make nginx`` installs it."""
    found = find_nginx()
    if found is None:
        import pytest

        pytest.fail("nginx not found: `make nginx` (root) or `apt-get install -y nginx`.", pytrace=False)
    return found


@dataclass
class Front:
    """One running supervisor: its process, port, run directory and output files."""

    process: subprocess.Popen[bytes]
    port: int
    run_dir: Path
    out: Path
    err: Path
    started: set[int] = field(default_factory=set)  # every PID once ready: cleaned up even if orphaned

    def connection(self, source: str = "127.0.0.1", timeout: float = 5.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout, source_address=(source, 0))

    def get(
        self, path: str, source: str = "127.0.0.1", timeout: float = 5.0, headers: dict[str, str] | None = None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        """One request on a fresh connection: status, headers, body."""
        connection = self.connection(source, timeout)
        try:
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def pids(self) -> set[int]:
        """The supervisor and every process under it (gunicorn master and workers, nginx master and worker)."""
        return {self.process.pid, *descendants(self.process.pid)}


def start_front(
    base: Path, index_root: Path, workers: int = 3, nginx: str | None = None, extra: tuple[str, ...] = ()
) -> Front:
    """``python -m search_app.serve`` (plus ``extra`` arguments) over ``index_root`` on a free port; returns
    once ``/healthz`` answers."""
    port = free_port()
    run_dir = base / "run"
    env = {
        **os.environ,
        "SEARCH_INDEX_DIR": str(index_root),
        "SEARCH_ANALYTICS_DB": str(base / "analytics.sqlite3"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("SEARCH_STATS_TOKEN", None)
    command = [PYTHON, "-m", "search_app.serve", "--port", str(port), "--workers", str(workers)]
    command += ["--run-dir", str(run_dir), "--nginx", nginx or nginx_or_fail(), *extra]
    out, err = base / "serve.out", base / "serve.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=stdout, stderr=stderr)
    front = Front(process, port, run_dir, out, err)

    def ready() -> bool:
        assert process.poll() is None, front.stderr()[-3000:]
        try:
            return front.get("/healthz", timeout=2)[0] == 200
        except OSError:
            return False

    if not wait_for(ready, timeout=STARTUP_TIMEOUT, interval=0.2):
        stop_front(front)
        raise AssertionError(f"the front did not start:\n{front.stderr()[-3000:]}")
    front.started = front.pids()
    return front


def stop_front(front: Front) -> int:
    """SIGTERM to the supervisor (by PID), then SIGKILL what is left; its exit status."""
    pids = front.pids() | front.started
    if front.process.poll() is None:
        front.process.send_signal(signal.SIGTERM)
        try:
            front.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            front.process.kill()
            front.process.wait(timeout=5)
    for pid in alive(pids):
        os.kill(pid, signal.SIGKILL)
    return front.process.returncode


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def descendants(root: int) -> set[int]:
    """Every live process whose chain of parents reaches ``root`` (read from /proc)."""
    numbers = [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    parents = {pid: _parent_of(pid) for pid in numbers}
    found: set[int] = set()
    frontier = {root}
    for _ in range(10):  # bounded: the tree is three levels deep
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        if not frontier:
            break
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    """The PIDs that still name a running (not zombie) process."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            running.add(pid)
    return running


def all_gone(pids: set[int], timeout: float = 10.0) -> bool:
    return wait_for(lambda: not alive(pids), timeout=timeout, interval=0.1)


def stalled_connections(port: int, count: int) -> list[socket.socket]:
    """``count`` connections that send the start of a request line and then nothing."""
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /healthz HT")
        sockets.append(sock)
    return sockets


def trickle(port: int, count: int, seconds: float) -> threading.Thread:
    """A thread holding ``count`` connections that send one byte of a request a second for ``seconds``."""
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"x" * 200

    def run() -> None:
        try:
            for position in range(int(seconds)):
                for sock in sockets:
                    with contextlib.suppress(OSError):  # closed by the server: what it should do in the end
                        sock.sendall(request[position : position + 1])
                time.sleep(1)
        finally:
            for sock in sockets:
                sock.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


class SlowClients:
    """``stalled`` connections that send the start of a request line and then nothing, and ``trickling``
    ones that send one byte of a request a second; every connection the server closes is opened again,
    once a second, until :meth:`stop` (so the pressure lasts as long as the test, whatever the server's
    timeouts). Counts the reconnections."""

    REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"x" * 4000

    def __init__(self, port: int, stalled: int, trickling: int) -> None:
        self.port = port
        self.stalled = [self._open(b"GET /healthz HT") for _ in range(stalled)]
        self.trickling: list[tuple[socket.socket | None, int]] = [(self._open(b""), 0) for _ in range(trickling)]
        self.reconnections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _open(self, first: bytes) -> socket.socket | None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            if first:
                sock.sendall(first)
            return sock
        except OSError:
            return None

    @staticmethod
    def _closed(sock: socket.socket | None) -> bool:
        if sock is None:
            return True
        try:
            sock.setblocking(False)
            return sock.recv(1, socket.MSG_PEEK) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True
        finally:
            with contextlib.suppress(OSError):
                sock.setblocking(True)

    def _reopen(self, sock: socket.socket | None, first: bytes) -> socket.socket | None:
        if sock is not None:
            sock.close()
        self.reconnections += 1
        return self._open(first)

    def _tick(self) -> None:
        for index, sock in enumerate(self.stalled):
            if self._closed(sock):
                self.stalled[index] = self._reopen(sock, b"GET /healthz HT")
        for index, (sock, sent) in enumerate(self.trickling):
            try:
                if sock is None or self._closed(sock):
                    raise OSError("closed")
                sock.sendall(self.REQUEST[sent : sent + 1])
                self.trickling[index] = (sock, sent + 1)
            except OSError:
                self.trickling[index] = (self._reopen(sock, b""), 0)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self._tick()

    def stop(self) -> None:
        """Stop the clients and close every connection."""
        self._stop.set()
        self._thread.join(timeout=30)
        for sock in [*self.stalled, *(s for s, _ in self.trickling)]:
            if sock is not None:
                sock.close()


def timed_get(front: Front, path: str, timeout: float) -> tuple[int | None, float]:
    """Status and seconds of one request; status ``None`` when it did not answer within ``timeout``."""
    started = time.perf_counter()
    try:
        status = front.get(path, timeout=timeout)[0]
    except (TimeoutError, OSError):
        status = None
    return status, time.perf_counter() - started


@dataclass
class RawAnswer:
    """An answer read off a socket as it came: status line, headers (names lowercased), body."""

    status: int
    headers: dict[str, str]
    body: bytes

    @classmethod
    def parse(cls, data: bytes) -> RawAnswer:
        head, _, body = data.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return cls(int(status_line.split()[1]), headers, body)


def raw_request(port: int, data: bytes, timeout: float = 5.0, limit: int = 1_000_000) -> RawAnswer:
    """Send ``data`` as it is (it should ask ``Connection: close``) and read the answer until the server closes.

    For what http.client cannot send or read as it came: HEAD, no Host header, a Range.
    """
    chunks: list[bytes] = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        while sum(map(len, chunks)) < limit:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return RawAnswer.parse(b"".join(chunks))


def request_bytes(method: str, path: str, *headers: str, version: str = "HTTP/1.1", host: bool = True) -> bytes:
    """A request as bytes, ``Connection: close``; ``host=False`` leaves the Host header out."""
    lines = [f"{method} {path} {version}", *(["Host: 127.0.0.1"] if host else []), *headers, "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over gunicorn's unix socket: what nginx sends, without nginx."""

    def __init__(self, path: Path, timeout: float = 5.0) -> None:
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(str(self.unix_path))
        self.sock = sock
