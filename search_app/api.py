"""The JSON API: thin functions over the search service."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from indexer.store import IndexUnavailable
from search_app.errors import ApiError
from search_app.export import CSV_CONTENT_TYPE, CSV_FILENAME, records_csv
from search_app.http_rules import headers_only
from search_app.openapi import openapi_document
from search_app.page_cache import PageCache
from search_app.params import BadParameter, parse_search_args
from search_app.presenters import opensearch_suggestions, programme_json, search_json, suggest_json
from search_app.search import SearchPage, SearchRequest, SearchService, request_key
from search_app.suggest import completions
from search_app.tracking import track_search

bp = Blueprint("api", __name__)


def _service() -> SearchService:
    return current_app.extensions["search_service"]


@bp.get("/api/search")
def search() -> Response:
    """Search results as JSON, or the whole result set as CSV with ``format=csv`` (HEAD: headers only)."""
    try:
        params = parse_search_args(request.args, strict=True)
    except BadParameter as error:
        raise ApiError(400, str(error)) from error
    output = request.args.get("format", "json")
    if output == "csv":
        return _csv(params.request)
    if output != "json":
        raise ApiError(400, f"« format » doit valoir json ou csv (reçu « {output[:40]} »).")
    if request.method == "HEAD":
        return headers_only(_service(), "application/json")
    page = _service().search(params.request)
    track_search(page, "api")
    response = current_app.response_class(_search_body(page, params.problems), mimetype="application/json")
    response.headers["X-Index-Generation"] = page.generation
    return response


def _search_body(page: SearchPage, problems: list[str]) -> str:
    """The JSON text of a results page, cached like the page itself (URLs and encoding included)."""
    cache: PageCache[str] = current_app.extensions["api_body_cache"]
    key = (page.generation, request.script_root, request_key(page.request), tuple(problems))
    body = cache.get(key)
    if body is None:
        body = current_app.json.dumps(search_json(page, problems))
        cache.put(key, body)
    return body


def _csv(search_request: SearchRequest) -> Response:
    if request.method == "HEAD":
        response = headers_only(_service(), CSV_CONTENT_TYPE)
    else:
        records = _service().export(search_request)
        response = Response(records_csv(records, _programme_url), content_type=CSV_CONTENT_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{CSV_FILENAME}"'
    return response


def _programme_url(programme_id: str) -> str:
    return url_for("views.programme", programme_id=programme_id, _external=True)


@bp.get("/api/programmes/<programme_id>")
def programme(programme_id: str) -> Response:
    """One whole record as JSON."""
    detail = _service().programme(programme_id)
    if detail is None:
        raise ApiError(404, f"Programme « {programme_id[:100]} » introuvable.")
    return jsonify(programme_json(detail))


#: The two shapes /api/suggest answers in (``format``), the first the default.
SUGGEST_FORMATS = ("json", "opensearch")
OPENSEARCH_SUGGESTIONS_TYPE = "application/x-suggestions+json; charset=utf-8"
MAX_SUGGEST_QUERY = 100


@bp.get("/api/suggest")
def suggest() -> Response:
    """Autocomplete: country and region names, words and programme titles starting with ``q``.

    ``format=json`` (default) answers ``{"query", "suggestions"}`` for the page's script and API clients;
    ``format=opensearch`` the OpenSearch Suggestions array browsers read (``application/x-suggestions+json``),
    the URL opensearch.xml gives them. A parameter rather than content negotiation: browsers fetch that
    URL with a generic ``Accept``, and the URL alone then says what comes back (caches need no ``Vary``).
    """
    query = request.args.get("q") or ""
    output = request.args.get("format", SUGGEST_FORMATS[0])
    if output not in SUGGEST_FORMATS:
        raise ApiError(400, f"« format » doit valoir json ou opensearch (reçu « {output[:40]} »).")
    text = query[:MAX_SUGGEST_QUERY]
    entries = completions(_service().status(), text)
    if output == "json":
        return jsonify(suggest_json(text, entries))
    # A longer query is echoed whole, with no completion: those of its first 100 characters are not its own.
    body = opensearch_suggestions(query, entries if text == query else [])
    return current_app.response_class(current_app.json.dumps(body), content_type=OPENSEARCH_SUGGESTIONS_TYPE)


@bp.get("/api/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 description of this API."""
    return jsonify(openapi_document())


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 with the generation served (and, when it is the fallback, why), or 503 with the reason."""
    try:
        serving = _service().serving()
    except IndexUnavailable as error:
        return jsonify({"status": "unavailable", "error": str(error)}), 503
    state = serving.state
    body = {"status": "ok", "documents": state.documents, "index": state.name, "pointed": serving.pointed}
    body["fallback"] = serving.is_fallback
    if serving.fallback_reason:
        body["reason"] = serving.fallback_reason
    return jsonify(body), 200
