"""Compressed answers: Brotli or gzip for text of every kind, by the client's ``Accept-Encoding``.

flask-compress (maintained, used widely) does the negotiation, sets ``Content-Encoding`` and
``Vary: Accept-Encoding``, and marks a strong ETag with the encoding (``"…:br"``), which
:mod:`search_app.http_cache` accepts back in ``If-None-Match``. Answers under 500 bytes are sent as
they are (the headers would outweigh the saving). It must be registered before the caching hooks, so that
it runs after them (Flask runs ``after_request`` hooks in reverse order).

Two answers are never compressed: a part of a file (206: its ``Content-Range`` counts the file's own
bytes, and compressing the part would break it), and an answer without a body (a HEAD answered without
searching, see :func:`search_app.http_rules.headers_only`: compressing nothing would give it a length).
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_compress import Compress

#: The encodings offered, preferred first (browsers send « br » over HTTPS, « gzip » everywhere).
ALGORITHMS = ["br", "gzip"]
MIMETYPES = [
    "text/html",
    "text/css",
    "text/csv",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/x-suggestions+json",
    "application/opensearchdescription+xml",
    "image/svg+xml",
]
#: Encoding suffixes flask-compress may add to an ETag.
ETAG_SUFFIXES = ("br", "gzip", "deflate", "zstd")


def init_app(app: Flask) -> None:
    """Compress every text answer the client accepts compressed."""
    app.config.setdefault("COMPRESS_ALGORITHM", ALGORITHMS)
    app.config.setdefault("COMPRESS_MIMETYPES", MIMETYPES)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)  # level 11 costs ~20 ms on a results page; 5 is ~1 ms
    app.config["COMPRESS_REGISTER"] = False  # registered below, through _compressible
    compress = Compress(app)

    def compress_answer(response: Response) -> Response:
        if not _compressible(response):
            response.vary.add("Accept-Encoding")
            return response
        return compress.after_request(response)

    app.after_request(compress_answer)
    app.after_request(_buffer_static)  # registered after: runs before the compression


def _compressible(response: Response) -> bool:
    """Not a part of a file (206) and not an answer without a body."""
    return response.status_code != 206 and not (response.is_sequence and not any(response.response))


def _buffer_static(response: Response) -> Response:
    """Read a static file into the response before it is compressed.

    flask-compress compresses a streamed answer (``send_file``'s) chunk by chunk and never closes the
    file it read; a static file is small (75 KB at most here), so it is read whole, and the file closed
    by Werkzeug with the response.
    """
    if request.endpoint == "static" and response.is_streamed and response.status_code == 200:
        response.direct_passthrough = False
        response.make_sequence()
    return response
