"""HTML pages: thin functions that parse, call the service, and render."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, make_response, render_template, request

from indexer.store import IndexUnavailable
from search_app import map_presenter, presenters
from search_app.day_chart import day_chart
from search_app.errors import unavailable_reason
from search_app.http_rules import headers_only
from search_app.params import parse_search_args
from search_app.search import SearchService
from search_app.stats_access import check_stats_access, this_client_may_read_stats
from search_app.syntax_help import syntax_help
from search_app.tracking import stats_page, track_click, track_search

bp = Blueprint("views", __name__)
HTML = "text/html; charset=utf-8"


@bp.app_context_processor
def _footer_links() -> dict[str, bool]:
    """« Statistiques » appears in the footer only to those allowed to read them."""
    return {"show_stats_link": this_client_may_read_stats()}


def _service() -> SearchService:
    return current_app.extensions["search_service"]


@bp.get("/")
def search() -> tuple[str, int] | Response:
    """The search page: results, facets, chips, pagination (HEAD: its headers, nothing searched)."""
    params = parse_search_args(request.args, strict=False, allow_per_page=False)
    if request.method == "HEAD":
        return headers_only(_service(), HTML)
    try:
        page = _service().search(params.request)
    except IndexUnavailable as error:
        return render_template(
            "search.html", page=None, request_=params.request, unavailable=unavailable_reason(error), hidden_filters={}
        ), 503
    track_search(page, "html")
    facets = presenters.facet_links(page)
    country_map = map_presenter.country_map(facets["country"], map_presenter.generation_codes(_service()))
    context = presenters.results_context(page, facets)
    return render_template(
        "search.html", request_=params.request, problems=params.problems, country_map=country_map, **context
    ), 200


@bp.get("/programmes/<programme_id>")
def programme(programme_id: str) -> str | Response:
    """A programme's full record, highlighted when reached from a search (HEAD: no click is counted)."""
    if request.method == "HEAD":
        if not _service().has_programme(programme_id):
            abort(404)
        return headers_only(_service(), HTML)
    text = (request.args.get("q") or "")[:500]
    detail = _service().programme(programme_id, text)
    if detail is None:
        abort(404)
    track_click(text, programme_id)
    back = parse_search_args(request.args, strict=False, allow_per_page=False).request
    back_url = presenters.search_url(text, {facet: list(values) for facet, values in back.filters.items()}, back.sort)
    return render_template("programme.html", detail=detail, text=text, back_url=back_url)


@bp.get("/stats")
def stats() -> tuple[str, int]:
    """Read-only analytics for the people who maintain the corpus; 503 while their store cannot be read."""
    check_stats_access(request, current_app.config["STATS_TOKEN"])
    page = stats_page(request.args.get("days", ""))
    report = page.report
    chart = day_chart(report.per_day, report.days, report.until) if report else None
    return render_template("stats.html", page=page, report=report, chart=chart), 503 if page.unavailable else 200


@bp.get("/aide")
def help_page() -> str:
    """How to write queries."""
    return render_template("help.html", facets=presenters.FACET_HELP, syntax=syntax_help())


@bp.get("/opensearch.xml")
def opensearch() -> Response:
    """OpenSearch description, so browsers can add the site as a search engine."""
    response = make_response(render_template("opensearch.xml"))
    response.mimetype = "application/opensearchdescription+xml"
    return response
