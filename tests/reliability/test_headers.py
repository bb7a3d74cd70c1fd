"""Security headers and defaults: CSP, nosniff, Referrer-Policy, methods, no version or trace, debug off."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from search_app import create_app
from tests.reliability.helpers import assert_no_traceback, body_text, json_of, live_generation, make_app

HTML_PAGES = ["/", "/?q=migrants&country=Mali", "/programmes/afghanistan-rada?q=retour", "/aide"]
JSON_PAGES = ["/api/search?q=migrants", "/api/suggest?q=mig", "/api/programmes/afghanistan-rada", "/api/openapi.json"]
ERROR_PAGES = [
    ("/nulle-part", 404),
    ("/programmes/inconnu", 404),
    ("/api/programmes/inconnu", 404),
    ("/api/nulle-part", 404),
    ("/api/search?page=abc", 400),
    ("/api/search?sort=hasard", 400),
]
SEARCH_ROUTES = ["/", "/api/search", "/api/suggest", "/healthz", "/programmes/afghanistan-rada", "/api/openapi.json"]
STRICT_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
#: CSP source expressions allowed anywhere; ``data:`` only for images.
ALLOWED_SOURCES = {"'self'", "'none'"}


def csp_directives(response: TestResponse) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        directives[name.lower()] = sources
    return directives


def assert_security_headers(response: TestResponse) -> None:
    directives = csp_directives(response)
    assert directives.get("default-src") == ["'self'"]
    assert directives.get("frame-ancestors") == ["'none'"]
    assert directives.get("object-src") == ["'none'"]
    assert "script-src" in directives or "default-src" in directives
    for name, sources in directives.items():
        for source in sources:
            assert source not in {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*"}, (name, source)
            assert "://" not in source and not source.startswith(("http:", "https:", "ws:", "wss:")), (name, source)
            assert source in ALLOWED_SOURCES or (name == "img-src" and source == "data:"), (name, source)
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") in STRICT_REFERRER_POLICIES
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert "Server" not in response.headers
    assert "X-Powered-By" not in response.headers


@pytest.mark.parametrize("path", HTML_PAGES)
def test_html_pages_have_the_security_headers(prod_client: FlaskClient, path: str):
    response = prod_client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert_security_headers(response)


@pytest.mark.parametrize("path", JSON_PAGES)
def test_json_responses_have_the_security_headers(prod_client: FlaskClient, path: str):
    response = prod_client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert_security_headers(response)


@pytest.mark.parametrize(("path", "status"), ERROR_PAGES)
def test_error_responses_have_the_security_headers(prod_client: FlaskClient, path: str, status: int):
    response = prod_client.get(path)
    assert response.status_code == status
    assert_security_headers(response)
    assert_no_traceback(body_text(response))


def test_static_files_have_the_security_headers(prod_client: FlaskClient):
    for name in ("app.js", "style.css"):
        response = prod_client.get(f"/static/{name}")
        assert response.status_code == 200
        assert_security_headers(response)
        response.close()


def test_pages_use_no_inline_script_or_style(prod_client: FlaskClient):
    """The CSP forbids inline code, so the pages must not need any."""
    text = body_text(prod_client.get("/?q=migrants"))
    assert "<script>" not in text and "<style" not in text and " style=" not in text
    assert ' onclick="' not in text and ' onload="' not in text


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", SEARCH_ROUTES)
def test_only_get_head_options_are_allowed(prod_client: FlaskClient, path: str, method: str):
    response = prod_client.open(path, method=method, data="q=migrants")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}
    assert_security_headers(response)
    text = body_text(response)
    assert_no_traceback(text)
    assert "Méthode non autorisée" in (json_of(response)["error"] if response.mimetype == "application/json" else text)


@pytest.mark.parametrize("path", SEARCH_ROUTES)
def test_head_and_options_are_answered(prod_client: FlaskClient, path: str):
    assert prod_client.head(path).status_code == 200
    options = prod_client.options(path)
    assert options.status_code == 200
    assert "POST" not in options.headers["Allow"]


def test_large_body_is_refused_not_read(prod_client: FlaskClient):
    response = prod_client.post("/api/search", data=b"x" * 1_000_000, content_type="application/octet-stream")
    assert response.status_code in (405, 413)
    assert_no_traceback(body_text(response))


def failing_app(index_root: Path) -> Flask:
    app = make_app(index_root)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret detail /etc/passwd at 0xdeadbeef")

    @app.get("/api/boom")
    def api_boom() -> str:
        raise KeyError("internal-key")

    return app


@pytest.mark.parametrize(("path", "json_body"), [("/boom", False), ("/api/boom", True)])
def test_unexpected_error_is_a_plain_500_without_trace(index_root: Path, path: str, json_body: bool, caplog):
    prod_client = failing_app(index_root).test_client()
    with caplog.at_level("ERROR", logger="search_app.errors"):
        response = prod_client.get(path)
    assert response.status_code == 500
    text = body_text(response)
    assert_no_traceback(text)
    for leak in ("secret detail", "/etc/passwd", "0xdeadbeef", "internal-key", "RuntimeError", "KeyError"):
        assert leak not in text
    message = json_of(response)["error"] if json_body else text
    assert "Erreur interne : la recherche n’a pas pu aboutir." in message
    assert_security_headers(response)
    assert any("unexpected error" in record.getMessage() for record in caplog.records)  # logged, not shown


def test_corrupt_index_files_are_a_503_without_trace(index_copy: Path, caplog):
    """Garbage in the postings (the only generation): the manifest check finds it, a 503 with the reason, never
    a 500."""
    segment = next(live_generation(index_copy).glob("*.seg"))
    data = bytearray(segment.read_bytes())
    data[20_000:60_000] = bytes(range(256)) * 156 + bytes(range(64))
    segment.write_bytes(bytes(data))
    prod_client = make_app(index_copy).test_client()
    with caplog.at_level("ERROR", logger="search_app.errors"):
        responses = [
            prod_client.get(path) for path in ("/?q=migrants", "/api/search?q=migrants", "/programmes/afghanistan-rada")
        ]
    assert [r.status_code for r in responses] == [503, 503, 503]
    for response in responses:
        assert_security_headers(response)
        assert_no_traceback(body_text(response))
        assert "endommagé" in body_text(response)
    health = prod_client.get("/healthz")
    assert health.status_code == 503  # taken out of service until another generation is switched in
    assert "endommagé" in json_of(health)["error"]


def test_debug_is_off_by_default(index_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name in ("FLASK_DEBUG", "FLASK_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(index_root))
    monkeypatch.setenv("SEARCH_ANALYTICS_DB", str(tmp_path / "analytics.sqlite3"))
    app = create_app()
    assert app.debug is False
    assert app.testing is False
    assert not app.config["PROPAGATE_EXCEPTIONS"]
    assert not app.config["TEMPLATES_AUTO_RELOAD"]


def test_the_makefile_serves_with_gunicorn_and_debug_only_in_dev():
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text(encoding="utf-8")
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "gunicorn" in run and "--debug" not in run and "flask" not in run
    assert "--debug" in makefile.split("\ndev:", 1)[1].split("\n\n", 1)[0]
