"""Issue 14, point 5 on the app itself (search_app/http_rules.py): HEAD without searching, Host required,
Range as RFC 9110 says. The same through nginx and gunicorn: tests/reliability/test_http_details.py."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder, run_wsgi_app

from search_app import create_app
from search_app.http_rules import BAD_HOST, usable_range

STYLE = Path(__file__).resolve().parent.parent / "search_app" / "static" / "style.css"
#: Endpoints that search or record: a HEAD gets their headers and runs none of it.
SEARCHING = [
    "/?q=migrants",
    "/?q=migrants&country=Mali",
    "/api/search?q=migrants",
    "/api/search?q=migrants&format=csv",
    "/programmes/afghanistan-rada?q=retour",
]
SAME_HEADERS = ("Content-Type", "ETag", "Cache-Control", "Vary", "Content-Disposition", "X-Content-Type-Options")


class Lines(logging.Handler):
    """Keeps the search log's lines."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def app(index_root: Path, tmp_path: Path) -> Flask:
    """A production-like app (search log and analytics on) over the session index."""
    config = {"SEARCH_INDEX_DIR": str(index_root), "ANALYTICS_DB": str(tmp_path / "analytics.sqlite3")}
    return create_app({**config, "SEARCH_LOG": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def forbid_work(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], Lines]]:
    """Call it, and from then on searching, exporting, reading a programme page or recording anything fails
    the test; it returns the search log's lines written since (there must be none)."""
    handler = Lines()

    def forbid() -> Lines:
        service, recorder = app.extensions["search_service"], app.extensions["analytics"]
        for target, name in [(service, "search"), (service, "export"), (service, "programme")]:
            monkeypatch.setattr(target, name, _forbidden)
        for name in ("record_search", "record_click"):
            monkeypatch.setattr(recorder, name, _forbidden)
        logging.getLogger("search_app.searches").addHandler(handler)
        return handler

    yield forbid
    logging.getLogger("search_app.searches").removeHandler(handler)


def _forbidden(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("a HEAD ran a search or recorded something")


@pytest.mark.parametrize("path", SEARCHING)
def test_head_gets_the_headers_of_get_and_runs_no_search(
    client: FlaskClient, forbid_work: Callable[[], Lines], path: str
):
    get = client.get(path)
    assert get.status_code == 200
    log = forbid_work()
    head = client.head(path)
    assert head.status_code == 200
    assert head.data == b""
    for name in SAME_HEADERS:
        assert head.headers.get(name) == get.headers.get(name), name
    assert "Content-Length" not in head.headers  # unknown without the body (never a wrong 0)
    assert "Content-Encoding" not in head.headers
    assert log.lines == []


def test_head_answers_304_to_the_etag_it_gave(client: FlaskClient, forbid_work: Callable[[], Lines]):
    forbid_work()
    etag = client.head("/api/search?q=migrants").headers["ETag"]
    assert client.head("/api/search?q=migrants", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/api/search?q=migrants", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/api/search?q=migrants", headers={"If-None-Match": etag}).data == b""


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/search?page=abc", 400),
        ("/api/search?format=xml", 400),
        ("/programmes/inconnu", 404),
        ("/programmes/inconnu?q=retour", 404),
    ],
)
def test_head_gets_the_status_of_get_when_get_fails(
    client: FlaskClient, forbid_work: Callable[[], Lines], path: str, status: int
):
    forbid_work()
    head = client.head(path)
    assert head.status_code == status
    assert head.data == b""
    assert head.headers["Cache-Control"] == "no-store"


def test_head_without_an_index_is_the_503_of_get(tmp_path: Path):
    app = create_app({"SEARCH_INDEX_DIR": str(tmp_path / "absent"), "SEARCH_LOG": False})
    client = app.test_client()
    for path in ("/?q=migrants", "/api/search?q=migrants"):
        assert client.get(path).status_code == 503
        assert client.head(path).status_code == 503


def test_head_of_other_pages_is_their_whole_get(client: FlaskClient):
    """Pages that search nothing are rendered as for GET: their HEAD has the very length and encoding."""
    for path in ("/aide", "/healthz", "/api/programmes/afghanistan-rada"):
        get = client.get(path, headers={"Accept-Encoding": "br"})
        head = client.head(path, headers={"Accept-Encoding": "br"})
        assert head.status_code == get.status_code == 200
        assert head.data == b""
        for name in ("Content-Length", "Content-Encoding", "Content-Type", "ETag"):
            assert head.headers.get(name) == get.headers.get(name), (path, name)


def _without_host(app: Flask, path: str, protocol: str = "HTTP/1.1") -> tuple[int, bytes]:
    environ = EnvironBuilder(path=path).get_environ()
    del environ["HTTP_HOST"]
    environ["SERVER_PROTOCOL"] = protocol
    body, status, _ = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0]), b"".join(body)


@pytest.mark.parametrize("path", ["/healthz", "/api/search?q=migrants", "/?q=migrants"])
def test_http_1_1_without_host_is_a_400_with_a_french_reason(app: Flask, path: str):
    status, body = _without_host(app, path)
    assert status == 400
    assert BAD_HOST.encode() in body  # in the JSON error or the HTML page


def test_http_1_0_may_leave_host_out(app: Flask):
    assert _without_host(app, "/healthz", "HTTP/1.0")[0] == 200


@pytest.mark.parametrize("host", ["", "a b", "exemple.org:80:80", "exemple.org/chemin", "[::1"])
def test_an_empty_or_malformed_host_is_a_400(client: FlaskClient, host: str):
    response = client.get("/healthz", headers={"Host": host})
    assert response.status_code == 400
    assert response.get_json() == {"error": BAD_HOST}


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:8000", "[::1]:8000", "recherche.exemple.org"])
def test_a_valid_host_is_served(client: FlaskClient, host: str):
    assert client.get("/healthz", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize(
    ("method", "value", "kept"),
    [
        ("GET", "bytes=0-9", True),
        ("GET", "bytes=-5", True),
        ("GET", "bytes=999999-", True),  # one bytes range: past the end, it is a 416
        ("GET", "items=0-9", False),  # a unit the server does not know
        ("GET", "bytes=abc", False),  # garbled
        ("GET", "bytes=5-2", False),
        ("GET", "bytes=-0", False),
        ("GET", "bytes=0-1,5-9", False),  # several ranges: not supported, so ignored
        ("HEAD", "bytes=0-9", False),  # range handling is defined for GET only
        ("GET", None, False),
    ],
)
def test_which_ranges_are_honoured(method: str, value: str | None, kept: bool):
    assert (usable_range(method, value) is not None) is kept


@pytest.mark.parametrize("value", ["items=0-9", "bytes=abc", "bytes=0-1,5-9", "bytes=-0", "bytes=5-2", "octets=0-"])
def test_a_range_to_ignore_gets_the_whole_file(client: FlaskClient, value: str):
    response = client.get("/static/style.css", headers={"Range": value})
    assert response.status_code == 200
    assert response.data == STYLE.read_bytes()
    assert "Content-Range" not in response.headers
    response.close()


def test_a_bytes_range_gets_206_and_is_never_compressed(client: FlaskClient):
    whole = STYLE.read_bytes()
    response = client.get("/static/style.css", headers={"Range": "bytes=0-4999", "Accept-Encoding": "br, gzip"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 0-4999/{len(whole)}"
    assert "Content-Encoding" not in response.headers  # the range counts the file's own bytes
    assert response.data == whole[:5000]
    assert "Accept-Encoding" in response.headers["Vary"]
    response.close()


def test_a_suffix_longer_than_the_file_gets_the_whole_file(client: FlaskClient):
    whole = STYLE.read_bytes()
    response = client.get("/static/style.css", headers={"Range": "bytes=-99999999"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 0-{len(whole) - 1}/{len(whole)}"
    assert response.data == whole
    response.close()


def test_a_range_past_the_end_is_416_with_the_length(client: FlaskClient):
    response = client.get("/static/style.css", headers={"Range": "bytes=99999999-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{STYLE.stat().st_size}"
    assert "Plage demandée hors du fichier\u00a0:" in response.get_data(as_text=True)
    response.close()


def test_head_ignores_a_range(client: FlaskClient):
    response = client.head("/static/style.css", headers={"Range": "bytes=0-9"})
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(STYLE.stat().st_size)
    response.close()


def test_pages_and_api_answers_are_always_whole(client: FlaskClient):
    for value in ("bytes=0-9", "items=0-9"):
        response = client.get("/api/search?q=migrants", headers={"Range": value})
        assert response.status_code == 200
        assert response.get_json()["query"] == "migrants"
