"""gunicorn's configuration module for the service (``gunicorn -c python:search_app.gunicorn_conf``).

gunicorn writes ``Server: gunicorn`` on every answer and has no setting to leave it out (the app's own
``Server`` header, removed in :mod:`search_app.security`, is not that one). Loaded as its configuration
by :mod:`search_app.serve`, this module replaces the response class gunicorn's HTTP/1 workers create each
answer with (``gunicorn.http.wsgi.Response``, looked up by ``wsgi.create`` at every request) by one whose
first headers omit it. It runs in the master, before the workers fork, so every worker has it; the tests
check gunicorn's real answers (tests/reliability/test_http_details.py), so a gunicorn that renames the
class fails them instead of sending the header again silently.
"""

from __future__ import annotations

from gunicorn.http import wsgi


class ResponseWithoutServer(wsgi.Response):
    """gunicorn's response, without the ``Server`` line among the headers it writes itself."""

    def default_headers(self) -> list[str]:
        return [line for line in super().default_headers() if not line.lower().startswith("server:")]


wsgi.Response = ResponseWithoutServer
