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
#: Configuration key -> environment variable that overrides it.
ENVIRONMENT = {
    "SEARCH_INDEX_DIR": "SEARCH_INDEX_DIR",
    "ANALYTICS_DB": "SEARCH_ANALYTICS_DB",
    "ANALYTICS_RETENTION_DAYS": "SEARCH_ANALYTICS_RETENTION_DAYS",
    "SEARCH_CACHE_SIZE": "SEARCH_CACHE_SIZE",
    "STATS_TOKEN": "SEARCH_STATS_TOKEN",
    "BEHIND_PROXY": "SEARCH_BEHIND_PROXY",
    "SEARCH_LOG_FILE": "SEARCH_LOG_FILE",
}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then environment variables, then ``test_config``."""
    app = Flask(__name__, template_folder=str(templates_dir()))
    # Block tags leave no blank lines or indentation behind: a results page weighs a sixth less.
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    _configure(app, test_config)

    from search_app import api, commands, compression, errors, http_cache, http_rules, security, views
    from search_app.page_cache import PageCache
    from search_app.recorder import Backoff, Recorder
    from search_app.search import SearchService
    from search_app.search_log import configure_search_log

    app.extensions["search_service"] = SearchService(
        _absolute(app.config["SEARCH_INDEX_DIR"]), int(app.config["SEARCH_CACHE_SIZE"])
    )
    app.extensions["api_body_cache"] = PageCache(int(app.config["SEARCH_CACHE_SIZE"]))
    holder = app.extensions["search_service"].holder
    app.before_request(holder.begin_request)  # first: every later hook sees the request's generation
    app.teardown_request(lambda _error: holder.end_request())
    configure_search_log(app)
    if app.config["ANALYTICS_ENABLED"]:
        app.extensions["analytics"] = Recorder(
            _absolute(app.config["ANALYTICS_DB"]),
            int(app.config["ANALYTICS_RETENTION_DAYS"]),
            Backoff(float(app.config["ANALYTICS_RETRY_S"]), float(app.config["ANALYTICS_RETRY_MAX_S"])),
            float(app.config["ANALYTICS_BUSY_TIMEOUT_S"]),
        )
    commands.init_app(app)
    security.init_app(app)
    http_rules.init_app(app)  # before the caching hooks: a request refused there gets no 304
    compression.init_app(app)  # before the caching hooks: it must run after them
    http_cache.init_app(app)
    errors.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    return app


def _configure(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Defaults, then the environment variables of :data:`ENVIRONMENT`, then ``test_config``."""
    app.config.from_mapping(
        SEARCH_INDEX_DIR=DEFAULT_INDEX_DIR,
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=16 * 1024,
        SEARCH_LOG=True,
        SEARCH_LOG_FILE=None,  # a path: the search log goes there instead of stderr (set by search_app/serve.py)
        ANALYTICS_ENABLED=True,
        ANALYTICS_DB="var/analytics.sqlite3",
        ANALYTICS_RETENTION_DAYS=90,
        ANALYTICS_RETRY_S=0.5,  # the writer's first pause when the store fails, doubled up to the next
        ANALYTICS_RETRY_MAX_S=5.0,
        ANALYTICS_BUSY_TIMEOUT_S=5.0,  # how long the writer waits for a lock held by another connection
        SEARCH_CACHE_SIZE=512,
        STATS_TOKEN=None,  # /stats from other machines needs it (search_app/stats_access.py)
        BEHIND_PROXY=False,  # "1": trust one proxy's X-Forwarded-For/-Proto (set by search_app/serve.py)
    )
    for name, variable in ENVIRONMENT.items():
        if os.environ.get(variable):
            app.config[name] = os.environ[variable]
    if test_config:
        app.config.from_mapping(test_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # DefaultJSONProvider's settings, not on the base
    app.json.sort_keys = False  # type: ignore[attr-defined]  # (the provider is Flask's default here)


def templates_dir() -> Path:
    """The templates: inside the installed package (``pip install .``), else the repository's."""
    installed = Path(__file__).resolve().parent / "templates"
    return installed if installed.is_dir() else PROJECT_ROOT / "templates"


def _absolute(path: str | Path) -> Path:
    path = Path(path)
    return path if path.is_absolute() else Path.cwd() / path
