"""Issue 14, point 5: HTTP details, through the real front (nginx + gunicorn) and gunicorn alone.

Raw sockets send and read what http.client would not send or would tidy up: HEAD, a request without
Host, Range headers. The same rules are checked on the app itself in tests/test_http_rules.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.front_helpers import Front, raw_request, request_bytes, start_front, stop_front

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
