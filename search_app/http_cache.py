"""HTTP caching: ETags from the live generation and the request, 304 on a match, Cache-Control per kind.

- **Pages and API answers** (:data:`POLICIES`) carry an ``ETag`` computed *before* the view runs, from
  the live index generation, the code's own version (templates and static files), the request's path and
  query string, and, for pages, whether the footer links to the statistics for this client. A request
  whose ``If-None-Match`` names it gets ``304 Not Modified`` at once: no search runs (and none is counted
  in the analytics: the reader already has the page). A new generation changes every ETag.
- **Cache-Control**: 60 seconds for pages (``private``: the footer depends on the client) and API answers
  (``public``), so a rebuild shows within a minute; ``no-store`` for the statistics, ``/healthz`` and
  every error.
- **Static files** are linked with their fingerprint (``/static/style.css?v=3f2a…``, added to every
  ``url_for('static', …)``) and served with ``max-age=31536000, immutable`` when the fingerprint is the
  file's own; without it (an old link) they are revalidated (``no-cache``).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, request
from werkzeug.http import quote_etag

from indexer.store import IndexUnavailable
from search_app.compression import ETAG_SUFFIXES
from search_app.stats_access import this_client_may_read_stats

#: Cache-Control of each endpoint whose answers get an ETag.
POLICIES = {
    "views.search": "private, max-age=60",
    "views.programme": "private, max-age=60",
    "views.help_page": "private, max-age=60",
    "views.opensearch": "public, max-age=3600",
    "api.search": "public, max-age=60",
    "api.programme": "public, max-age=60",
    "api.suggest": "public, max-age=60",
    "api.openapi": "public, max-age=3600",
}
#: Endpoints never stored anywhere (what people searched, and the service's state).
NO_STORE = {"views.stats", "api.healthz"}
IMMUTABLE = "public, max-age=31536000, immutable"
FINGERPRINT_CHARS = 10


@cache
def fingerprint(path: Path) -> str:
    """The first characters of a file's SHA-256 (read once per process: deployed files do not change)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:FINGERPRINT_CHARS]


@cache
def code_version(template_dir: str, static_dir: str) -> str:
    """A digest of every template and static file: a deployment that changes them changes every ETag."""
    digest = hashlib.sha256()
    for folder in (Path(template_dir), Path(static_dir)):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + fingerprint(path).encode())
    return digest.hexdigest()[:FINGERPRINT_CHARS]


@cache
def _static_version(folder: str, filename: str) -> str | None:
    """The fingerprint of a static file, None if there is none (looked up once per file and process)."""
    path = Path(folder, filename)
    return fingerprint(path) if path.is_file() else None


def _static_fingerprint(app: Flask, filename: str) -> str | None:
    return _static_version(app.static_folder or "", filename)


def _add_static_fingerprint(endpoint: str, values: dict[str, Any]) -> None:
    """``url_for('static', filename=…)`` gains ``v=<fingerprint>``."""
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = _static_fingerprint(current_app, values["filename"])
        if version:
            values["v"] = version


def _etag() -> str | None:
    """The ETag of the answer this request will get, or None (no live index: nothing to cache)."""
    try:
        generation = current_app.extensions["search_service"].status().name
    except IndexUnavailable:
        return None
    app = current_app
    parts = [generation, code_version(str(app.template_folder), str(app.static_folder)), request.full_path]
    if request.endpoint and request.endpoint.startswith("views."):
        parts.append(str(this_client_may_read_stats()))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _not_modified() -> Response | None:
    """304 at once when the client already holds this answer."""
    if request.method not in ("GET", "HEAD") or request.endpoint not in POLICIES:
        return None
    g.etag = _etag()
    if g.etag is None:
        return None
    # The client may hold the answer as sent compressed: flask-compress suffixes the ETag (« …:br »).
    held = (g.etag, *(f"{g.etag}:{suffix}" for suffix in ETAG_SUFFIXES))
    matched = next((tag for tag in held if request.if_none_match.contains(tag)), None)
    if matched is None:
        return None
    response = current_app.response_class(status=304)
    _conditional_headers(response, matched)
    return response


def _conditional_headers(response: Response, etag: str) -> None:
    response.headers["ETag"] = quote_etag(etag)
    response.headers["Cache-Control"] = POLICIES[str(request.endpoint)]
    response.vary.add("Accept-Encoding")


def _cache_headers(response: Response) -> Response:
    """ETag and Cache-Control for what was answered."""
    endpoint = request.endpoint or ""
    if response.status_code >= 400 or endpoint in NO_STORE:
        response.headers["Cache-Control"] = "no-store"
    elif endpoint == "static":
        version = _static_fingerprint(current_app, (request.view_args or {}).get("filename", ""))
        fresh = version is not None and request.args.get("v") == version
        response.headers["Cache-Control"] = IMMUTABLE if fresh else "no-cache"
    elif response.status_code == 200 and g.get("etag"):
        _conditional_headers(response, g.etag)
    return response


def init_app(app: Flask) -> None:
    """Register the fingerprinting of static URLs and the caching hooks."""
    app.url_defaults(_add_static_fingerprint)
    app.before_request(_not_modified)
    app.after_request(_cache_headers)
