"""HTTP rules the servers leave to the app (RFC 9110, RFC 9112), the same behind nginx and with gunicorn alone.

- **Host**: an HTTP/1.1 request without a ``Host`` header, or with an empty or malformed one, gets 400
  (RFC 9112 §3.2). nginx refuses it before the app sees it; gunicorn alone refuses only a repeated Host.
- **Range** (RFC 9110 §14.2): only a GET with a single ``bytes`` range is a range request. Any other
  ``Range`` (another unit, several ranges, a garbled value, on a HEAD) is ignored: the whole answer, 200,
  where Werkzeug answered 416. A single bytes range that starts past the end still gets 416 with
  ``Content-Range: bytes */length``; a suffix longer than a static file (``bytes=-99999``) gets the whole
  file as 206. Only static files honour ranges (pages and API answers are always sent whole).
- **HEAD** on the endpoints that search or record (:func:`headers_only`): the headers a GET gets, without
  searching, logging or counting anything.
"""

from __future__ import annotations

import os
import re

from flask import Flask, Response, current_app, request
from werkzeug.datastructures import Range
from werkzeug.http import parse_range_header
from werkzeug.security import safe_join

from search_app.errors import ApiError
from search_app.search import SearchService

#: ``uri-host [ ":" port ]`` (RFC 9110 §7.2): a registered name or IPv4 address, or an IPv6 literal.
HOST_RE = re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=%-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?")
BAD_HOST = "Requête invalide\u00a0: l’en-tête Host (le nom du serveur) manque ou n’est pas valide."


def _require_host() -> None:
    """400 for a missing (in HTTP/1.1), empty or malformed Host header."""
    host = request.environ.get("HTTP_HOST")
    if host is None and request.environ.get("SERVER_PROTOCOL") != "HTTP/1.1":
        return  # HTTP/1.0 may leave it out (and nginx speaks HTTP/1.0 to gunicorn)
    if host is None or not HOST_RE.fullmatch(host):
        raise ApiError(400, BAD_HOST)


def usable_range(method: str, value: str | None) -> Range | None:
    """The Range to honour: one bytes range of a GET; None means ignore the header."""
    parsed = parse_range_header(value)
    if method != "GET" or parsed is None or parsed.units != "bytes" or len(parsed.ranges) != 1:
        return None
    return parsed


def _static_size() -> int | None:
    """The size of the static file this request names, None for anything else."""
    if request.endpoint != "static":
        return None
    path = safe_join(current_app.static_folder or "", (request.view_args or {}).get("filename", ""))
    try:
        return None if path is None else os.stat(path).st_size
    except OSError:
        return None


def _ignore_unusable_range() -> None:
    """Drop a Range the RFC says to ignore; widen a suffix longer than the static file to the whole file."""
    if "HTTP_RANGE" not in request.environ:
        return
    kept = usable_range(request.method, request.environ["HTTP_RANGE"])
    if kept is None:
        del request.environ["HTTP_RANGE"]
        return
    start, end = kept.ranges[0]
    size = _static_size()
    if start < 0 and end is None and size is not None and -start > size:
        request.environ["HTTP_RANGE"] = "bytes=0-"


def headers_only(service: SearchService, content_type: str) -> Response:
    """The answer to a HEAD: a GET's status and headers, no body, nothing searched, logged or counted.

    The live generation is looked up, so without an index the status is a GET's 503; the caching hooks
    then add the ETag and Cache-Control a GET gets. The body's length is unknown: no Content-Length.
    """
    service.status()
    response = current_app.response_class(content_type=content_type)
    response.automatically_set_content_length = False
    return response


def init_app(app: Flask) -> None:
    """Register the Host and Range rules (before the caching hooks: a refused request gets no 304)."""
    app.before_request(_require_host)
    app.before_request(_ignore_unusable_range)
