"""Issue 14, point 5: HTTP details, through the real front (nginx + gunicorn) and gunicorn alone.

Raw sockets send and read what http.client would not send or would tidy up: HEAD, a request without
Host, Range headers. The same rules are checked on the app itself in tests/test_http_rules.py.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.front_helpers import Front, raw_request, request_bytes, start_front, stop_front
from tests.reliability.helpers import wait_for

pytestmark = pytest.mark.slow

PATHS = ["/", "/?q=migrants", "/healthz", "/api/search?q=migrants", "/nulle-part", "/static/style.css"]


@pytest.fixture(scope="module")
def front(index_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    """``python -m search_app.serve``: nginx (with its headers-more module) in front of 2 gunicorn workers."""
    served = start_front(tmp_path_factory.mktemp("details-front"), index_root, workers=2)
    try:
        yield served
    finally:
        stop_front(served)


@pytest.fixture(scope="module")
def alone(index_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    """The same supervisor without nginx: gunicorn alone on the port."""
    served = start_front(tmp_path_factory.mktemp("details-alone"), index_root, workers=2, nginx="/nonexistent/nginx")
    try:
        yield served
    finally:
        stop_front(served)


@pytest.fixture(params=["front", "alone"])
def server(request: pytest.FixtureRequest) -> Front:
    """Each test below runs through nginx + gunicorn and through gunicorn alone."""
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize("path", PATHS)
def test_no_layer_sends_a_server_header(server: Front, path: str):
    answer = raw_request(server.port, request_bytes("GET", path))
    assert answer.status in (200, 404)
    assert "server" not in answer.headers, answer.headers
    assert answer.headers["x-content-type-options"] == "nosniff"  # the app's own headers come through


def test_the_front_sends_no_server_header_on_its_own_answers(front: Front):
    """nginx's own error pages (a request line it cannot parse) have none either."""
    answer = raw_request(front.port, b"GARBAGE\r\n\r\n")
    assert answer.status == 400
    assert "server" not in answer.headers, answer.headers
    assert b"nginx/" not in answer.body


def test_without_the_headers_more_module_the_front_runs_and_says_nginx_names_itself(index_root: Path, tmp_path: Path):
    served = start_front(tmp_path, index_root, workers=1, extra=("--headers-more", str(tmp_path / "absent.so")))
    try:
        answer = raw_request(served.port, request_bytes("GET", "/healthz"))
    finally:
        stop_front(served)
    assert answer.status == 200
    assert answer.headers["server"] == "nginx"  # server_tokens off: no version
    message = "module headers-more introuvable"
    assert message in served.stderr() and "libnginx-mod-http-headers-more-filter" in served.stderr()


HEAD_QUERY = "zorglubtete"
HEAD_PATHS = {
    f"/?q={HEAD_QUERY}": "text/html; charset=utf-8",
    f"/api/search?q={HEAD_QUERY}": "application/json",
    f"/api/search?q={HEAD_QUERY}&format=csv": "text/csv; charset=utf-8",
    f"/programmes/afghanistan-rada?q={HEAD_QUERY}": "text/html; charset=utf-8",
}
MARKER = "sentinelle"
MARKERS = 6


def _analytics_rows(server: Front, text: str) -> int:
    database = server.run_dir.parent / "analytics.sqlite3"
    if not database.exists():
        return 0
    connection = sqlite3.connect(database, timeout=5)
    try:
        counts = [
            connection.execute(f"SELECT COUNT(*) FROM {table} WHERE typed LIKE ?", (f"%{text}%",)).fetchone()[0]
            for table in ("searches", "clicks")
        ]
        return sum(counts)
    except sqlite3.OperationalError:  # the tables are not created yet
        return 0
    finally:
        connection.close()


def test_head_is_answered_without_searching_logging_or_counting(server: Front):
    for path, content_type in HEAD_PATHS.items():
        answer = raw_request(server.port, request_bytes("HEAD", path))
        assert answer.status == 200, path
        assert answer.body == b""
        assert answer.headers["content-type"] == content_type
        assert answer.headers["etag"].startswith('"') and answer.headers["cache-control"].endswith("max-age=60")
        assert "content-length" not in answer.headers  # unknown without the body: never a wrong one
        assert "transfer-encoding" not in answer.headers
    # Searches sent after the HEADs: once they are all logged and counted, the HEADs would have been too.
    for _ in range(MARKERS):
        assert raw_request(server.port, request_bytes("GET", f"/api/search?q={MARKER}")).status == 200
    assert wait_for(lambda: _analytics_rows(server, MARKER) == MARKERS, timeout=10), _analytics_rows(server, MARKER)
    assert f'"q": "{MARKER}"' in server.stderr()  # the search log is on
    assert HEAD_QUERY not in server.stderr()
    assert _analytics_rows(server, HEAD_QUERY) == 0


@pytest.mark.parametrize("path", ["/healthz", "/api/search?q=migrants", "/?q=migrants"])
def test_http_1_1_without_host_is_a_400_in_french(server: Front, path: str):
    answer = raw_request(server.port, request_bytes("GET", path, host=False))
    assert answer.status == 400
    assert "Requête invalide\u00a0:" in answer.body.decode("utf-8")
    assert "en-tête Host" in answer.body.decode("utf-8")
    assert "server" not in answer.headers


@pytest.mark.parametrize("host", ["", "a b"])
def test_an_empty_or_malformed_host_is_a_400(server: Front, host: str):
    data = request_bytes("GET", "/healthz", f"Host: {host}", host=False)
    assert raw_request(server.port, data).status == 400


def test_http_1_0_without_host_is_served(server: Front):
    answer = raw_request(server.port, request_bytes("GET", "/healthz", version="HTTP/1.0", host=False))
    assert answer.status == 200
    assert b'"status":"ok"' in answer.body


STYLE = Path(__file__).resolve().parents[2] / "search_app" / "static" / "style.css"


@pytest.mark.parametrize("value", ["items=0-9", "bytes=abc", "bytes=0-1,5-9", "bytes=-0"])
def test_a_range_the_rfc_says_to_ignore_gets_the_whole_file(server: Front, value: str):
    answer = raw_request(server.port, request_bytes("GET", "/static/style.css", f"Range: {value}"))
    assert answer.status == 200
    assert answer.body == STYLE.read_bytes()
    assert "content-range" not in answer.headers


def test_a_bytes_range_gets_206_uncompressed(server: Front):
    whole = STYLE.read_bytes()
    for value, expected in (("bytes=0-9", whole[:10]), ("bytes=0-4999", whole[:5000]), ("bytes=-99999999", whole)):
        data = request_bytes("GET", "/static/style.css", f"Range: {value}", "Accept-Encoding: br, gzip")
        answer = raw_request(server.port, data)
        assert answer.status == 206, value
        assert answer.headers["content-range"] == f"bytes 0-{len(expected) - 1}/{len(whole)}"
        assert "content-encoding" not in answer.headers
        assert answer.body == expected


def test_a_range_past_the_end_is_416_with_the_length(server: Front):
    answer = raw_request(server.port, request_bytes("GET", "/static/style.css", "Range: bytes=99999999-"))
    assert answer.status == 416
    assert answer.headers["content-range"] == f"bytes */{STYLE.stat().st_size}"


def test_head_ignores_a_range(server: Front):
    answer = raw_request(server.port, request_bytes("HEAD", "/static/style.css", "Range: bytes=0-9"))
    assert answer.status == 200
    assert answer.body == b""
    assert "content-range" not in answer.headers


ROTATE_AT = 3000
SEARCHES = 30


def _search_lines(log_dir: Path) -> list[str]:
    """The queries of every search line, over the live file and its rotated copies."""
    lines = []
    for path in sorted(log_dir.glob("searches.jsonl*")):
        lines += [json.loads(line)["q"] for line in path.read_text(encoding="utf-8").splitlines()]
    return lines


@pytest.mark.parametrize("nginx", [None, "/nonexistent/nginx"], ids=["front", "alone"])
def test_log_files_rotate_by_size_and_lose_no_line(index_root: Path, tmp_path: Path, nginx: str | None):
    """--log-dir: the supervisor renames the access log and the search log past --log-max-bytes; nginx (or
    gunicorn) reopens on SIGUSR1, the workers' search log by itself; every search is in some file."""
    log_dir = tmp_path / "log"
    extra = ("--log-dir", str(log_dir), "--log-max-bytes", str(ROTATE_AT), "--log-backups", "3")
    served = start_front(tmp_path, index_root, workers=2, nginx=nginx, extra=extra)
    try:
        sent = [f"rotation{number}" for number in range(SEARCHES)]
        for text in sent[:20]:
            assert served.get(f"/api/search?q={text}")[0] == 200
        assert wait_for(lambda: (log_dir / "searches.jsonl.1").exists(), timeout=10), sorted(log_dir.iterdir())
        for _ in range(200):  # bounded: each line of the access log is ~100 bytes
            if (log_dir / "access.log.1").exists():
                break
            assert served.get("/healthz")[0] == 200
            time.sleep(0.05)
        assert (log_dir / "access.log.1").exists(), sorted(log_dir.iterdir())
        for text in sent[20:]:
            assert served.get(f"/api/search?q={text}")[0] == 200
        access = log_dir / "access.log"
        # After the rename, nginx (or gunicorn) writes to a new access.log: SIGUSR1 reopened it.
        assert wait_for(lambda: access.exists() and sent[-1] in access.read_text(encoding="utf-8"), timeout=10)
    finally:
        stop_front(served)
    assert sorted(_search_lines(log_dir)) == sorted(sent)  # none lost, none twice
    assert sent[-1] in (log_dir / "searches.jsonl").read_text(encoding="utf-8")
    assert not list(log_dir.glob("*.4"))  # at most 3 backups
    assert '"q": "rotation' not in served.stderr()  # the files, not stderr
    assert "journaux dans" in served.stderr()
