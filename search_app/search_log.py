"""One structured (JSON) log line per search on stderr: query, filters, count, time. No IP, no cookie."""

from __future__ import annotations

import json
import logging
import sys

from flask import Flask

from search_app.search import SearchPage

logger = logging.getLogger("search_app.searches")


def configure_search_log(app: Flask) -> None:
    """Send search lines to stderr once per process (unless SEARCH_LOG is false)."""
    if not app.config.get("SEARCH_LOG", True):
        logger.disabled = True
        return
    logger.disabled = False
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


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
