"""Security headers on every response, raw bytes in query strings made harmless, one proxy hop trusted."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.pop("Server", None)
    return response


def _percent_encoded(char: str) -> str:
    if char.isascii():
        return char
    return "".join(f"%{byte:02X}" for byte in char.encode("latin-1" if ord(char) < 256 else "utf-8"))


class RawQueryGuard:
    """WSGI middleware: percent-encode raw (non-ASCII) bytes of the query string.

    Browsers percent-encode, but a raw byte sent by a script reaches WSGI as a latin-1
    character, and Werkzeug decodes ``request.args`` as strict UTF-8 (a 500). Encoded,
    valid UTF-8 reads as before and invalid bytes stay as ``%FF`` text.
    """

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        query = environ.get("QUERY_STRING", "")
        if not query.isascii():
            environ["QUERY_STRING"] = "".join(_percent_encoded(char) for char in query)
        return self.wsgi_app(environ, start_response)


def behind_proxy(value: object) -> bool:
    """Whether ``BEHIND_PROXY`` (``SEARCH_BEHIND_PROXY``, a string from the environment) is on."""
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def init_app(app: Flask) -> None:
    """Register the headers hook and the query-string guard; behind the proxy, trust exactly one hop.

    ``make run``'s nginx overwrites ``X-Forwarded-For`` with the client's address, so
    ``request.remote_addr`` is the client's (``/stats`` decides on it), never a value the client wrote.
    Without ``BEHIND_PROXY`` the headers are ignored: anybody can send them.
    """
    app.after_request(_add_headers)
    app.wsgi_app = RawQueryGuard(app.wsgi_app)  # type: ignore[method-assign]  # Flask documents wrapping wsgi_app
    if behind_proxy(app.config["BEHIND_PROXY"]):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
