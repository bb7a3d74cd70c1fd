"""One error shape: HTML pages render ``error.html``; the API answers ``{"error": …}``."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, current_app, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException
from whoosh.reading import CorruptIndexError

from indexer.store import IndexUnavailable

logger = logging.getLogger(__name__)

FRENCH_MESSAGES = {
    400: "Requête invalide.",
    401: "Identification requise : les statistiques de recherche sont réservées aux responsables du corpus.",
    403: "Accès refusé : les statistiques de recherche ne sont consultables que depuis le serveur "
    "(ou avec le jeton SEARCH_STATS_TOKEN).",
    404: "Page introuvable.",
    405: "Méthode non autorisée : ce service ne répond qu’aux requêtes GET.",
    413: "Requête trop volumineuse.",
    414: "Adresse trop longue.",
    416: "Plage demandée hors du fichier : l’en-tête Range commence après sa fin.",
    500: "Erreur interne : la recherche n’a pas pu aboutir.",
    503: "L’index de recherche est indisponible.",
}


class ApiError(Exception):
    """An error with an HTTP status and a message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def wants_json() -> bool:
    """True for API and health routes."""
    return request.path.startswith("/api/") or request.path == "/healthz"


def render_error(status: int, message: str) -> Response:
    """The error response for the current request, HTML or JSON."""
    if wants_json():
        response = jsonify({"error": message})
    else:
        response = make_response(render_template("error.html", status=status, message=message))
    response.status_code = status
    return response


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    response = render_error(status, FRENCH_MESSAGES.get(status, error.name))
    for name, value in error.get_headers():  # Allow (405), WWW-Authenticate (401), Content-Range (416)…
        if name.lower() != "content-type":
            response.headers.add(name, value)
    return response


def _api_error(error: ApiError) -> Response:
    return render_error(error.status, error.message)


#: Seconds between two log lines for the same unavailability (a 503 per request, not a warning per request).
UNAVAILABLE_LOG_EVERY = 60.0
_last_logged: dict[str, float] = {}


def unavailable_reason(error: IndexUnavailable) -> str:
    """The reason to show (no file paths); the technical cause goes to the log, once a minute per cause."""
    cause, now = error.full(), time.monotonic()
    if now - _last_logged.get(cause, -UNAVAILABLE_LOG_EVERY) >= UNAVAILABLE_LOG_EVERY:
        _last_logged.clear()  # one cause at a time matters: the current one
        _last_logged[cause] = now
        logger.warning("index unavailable: %s", cause)
    return str(error)


def _unavailable(error: IndexUnavailable) -> Response:
    return render_error(503, f"{FRENCH_MESSAGES[503]} {unavailable_reason(error)}")


def _damage_behind(error: Exception) -> IndexUnavailable | None:
    """Whether damaged index files explain ``error`` (the served generation is then taken out of service)."""
    service = current_app.extensions.get("search_service")
    return service.holder.verify_after_error(error) if service is not None else None


def _corrupt(error: CorruptIndexError) -> Response:
    """Whoosh found damaged files mid-search: 503; the generation leaves service if its files fail verification."""
    damage = _damage_behind(error)
    logger.error("index corrupted: %s", error)
    return _retry_later(damage or IndexUnavailable("index illisible"))


def _retry_later(error: IndexUnavailable) -> Response:
    response = render_error(503, f"{FRENCH_MESSAGES[503]} {unavailable_reason(error)}")
    response.headers["Retry-After"] = "1"
    return response


def _unexpected(error: Exception) -> Response:
    """500, unless damaged index files explain the error: then 503 (the next request gets the fallback)."""
    damage = _damage_behind(error)
    if damage is not None:
        logger.error("index damaged (%s: %s)", type(error).__name__, error)
        return _retry_later(damage)
    logger.exception("unexpected error", exc_info=error)
    return render_error(500, FRENCH_MESSAGES[500])


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(IndexUnavailable, _unavailable)
    app.register_error_handler(CorruptIndexError, _corrupt)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
