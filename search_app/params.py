"""Read search parameters from a query string into a :class:`SearchRequest`.

The JSON API is strict (a bad parameter is a 400 with a message); the HTML
page is lenient (it falls back to a sensible default and says so in French).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from search_app.facets import FACETS, MAX_VALUES_PER_FACET
from search_app.search import DEFAULT_PER_PAGE, MAX_PER_PAGE, SORTS, SearchRequest

MAX_PAGE = 10_000
MAX_PARAM_CHARS = 2_000


class BadParameter(ValueError):
    """A parameter the API refuses; the message is shown to the client."""


@dataclass
class ParsedParams:
    """The request built from the parameters, and what was corrected on the way."""

    request: SearchRequest
    problems: list[str] = field(default_factory=list)


def _integer(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    digits = raw.strip()
    if not (digits.isascii() and digits.isdigit()) or len(raw) > 12:  # ASCII: int() refuses « ² »
        raise BadParameter(f"« {name} » doit être un entier entre {low} et {high} (reçu « {raw[:40]} »).")
    value = int(digits)
    if not low <= value <= high:
        raise BadParameter(f"« {name} » doit être compris entre {low} et {high} (reçu {value}).")
    return value


def _lenient(problems: list[str], read: Callable[[], int], default: int) -> int:
    try:
        return read()
    except BadParameter as error:
        problems.append(str(error) + " Valeur par défaut utilisée.")
        return default


def parse_search_args(args: MultiDict, strict: bool, allow_per_page: bool = True) -> ParsedParams:
    """Build a SearchRequest from ``args``; raise BadParameter only when ``strict``."""
    problems: list[str] = []
    text = (args.get("q") or "")[:MAX_PARAM_CHARS]
    filters = {
        facet: tuple(v[:200] for v in args.getlist(facet)[:MAX_VALUES_PER_FACET] if v.strip()) for facet in FACETS
    }
    if any(len(args.getlist(facet)) > MAX_VALUES_PER_FACET for facet in FACETS):
        problems.append(f"Au plus {MAX_VALUES_PER_FACET} valeurs par filtre sont prises en compte.")

    def page() -> int:
        return _integer(args.get("page"), "page", 1, 1, MAX_PAGE)

    def per_page() -> int:
        return _integer(args.get("per_page"), "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)

    sort = args.get("sort") or "relevance"
    if strict:
        page_number, page_size = page(), per_page() if allow_per_page else DEFAULT_PER_PAGE
        if sort not in SORTS:
            raise BadParameter(f"« sort » doit valoir {' ou '.join(SORTS)} (reçu « {sort[:40]} »).")
    else:
        page_number = _lenient(problems, page, 1)
        page_size = _lenient(problems, per_page, DEFAULT_PER_PAGE) if allow_per_page else DEFAULT_PER_PAGE
        if sort not in SORTS:
            problems.append("Tri inconnu : tri par pertinence utilisé.")
            sort = "relevance"
    request = SearchRequest(text=text, filters=filters, page=page_number, per_page=page_size, sort=sort)
    return ParsedParams(request=request, problems=problems)
