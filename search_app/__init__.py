"""Flask front end of the EU–IOM programme search.

``create_app`` is the only entry point: ``flask --app search_app run`` and
``gunicorn 'search_app:create_app()'`` both call it. Nothing is read or opened
at import time; the index is opened lazily by the service on first use.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from indexer.store import DEFAULT_INDEX_DIR

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then environment variables, then ``test_config``."""
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"))
    app.config.from_mapping(
        SEARCH_INDEX_DIR=DEFAULT_INDEX_DIR,
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=16 * 1024,
        SEARCH_LOG=True,
    )
    if os.environ.get("SEARCH_INDEX_DIR"):
        app.config["SEARCH_INDEX_DIR"] = os.environ["SEARCH_INDEX_DIR"]
    if test_config:
        app.config.from_mapping(test_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    from search_app import api, errors, security, views
    from search_app.search import SearchService
    from search_app.search_log import configure_search_log

    index_root = Path(app.config["SEARCH_INDEX_DIR"])
    if not index_root.is_absolute():
        index_root = Path.cwd() / index_root
    app.extensions["search_service"] = SearchService(index_root)
    configure_search_log(app)
    security.init_app(app)
    errors.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    return app
