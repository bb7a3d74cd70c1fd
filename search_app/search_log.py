"""One structured (JSON) log line per search: query, filters, count, time. No IP, no cookie.

On stderr, or appended to ``SEARCH_LOG_FILE`` when it is set (``python -m search_app.serve --log-dir``
sets it): a ``WatchedFileHandler``, which reopens the file once the supervisor has renamed it
(:mod:`search_app.log_rotation`), so the workers never rotate it themselves.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys

from flask import Flask

from search_app.search import SearchPage

logger = logging.getLogger("search_app.searches")


def configure_search_log(app: Flask) -> None:
    """Send search lines to SEARCH_LOG_FILE or stderr (unless SEARCH_LOG is false); one handler per process."""
    if not app.config.get("SEARCH_LOG", True):
        logger.disabled = True
        return
    logger.disabled = False
    target = str(app.config.get("SEARCH_LOG_FILE") or "")
    if [handler.get_name() for handler in logger.handlers] == [_name(target)]:
        return
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.addHandler(_handler(target))
    logger.setLevel(logging.INFO)
    logger.propagate = False


def _handler(target: str) -> logging.Handler:
    """A WatchedFileHandler appending to ``target``, or a handler on stderr when it is empty."""
    handler: logging.Handler
    if target:
        handler = logging.handlers.WatchedFileHandler(target, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.set_name(_name(target))
    return handler


def _name(target: str) -> str:
    """The handler's name says where it writes: a second app with the same output keeps it."""
    return f"search log to {target or 'stderr'}"


def log_search(page: SearchPage, endpoint: str) -> None:
    """Log one search as a JSON line."""
    logger.info(
        json.dumps(
            {
                "event": "search",
                "endpoint": endpoint,
                "q": page.request.text,
                "filters": {facet: list(keys) for facet, keys in page.selected.items() if keys},
                "page": page.request.page,
                "total": page.total,
                "fallback": page.fallback,
                "ms": round(page.elapsed_ms, 2),
                "index": page.generation,
            },
            ensure_ascii=False,
        )
    )
