"""Turn service results into what templates and the JSON API show (URLs included).

Facet values get their toggle URLs here (as Datasette does), so templates
only loop over ready-made data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import url_for

from indexer.schema import FACET_TABLE, FIELD_LABELS
from search_app.detail import ProgrammeDetail
from search_app.facets import FACETS, FacetCount
from search_app.search import SearchPage
from search_app.state_urls import StateUrls, encoded_pairs
from search_app.suggest import Completion

#: Facet -> its French name (headings, chips), from the schema's table.
FACET_LABELS: dict[str, str] = {facet.name: facet.label for facet in FACET_TABLE}
#: What each facet holds, for /aide, in the table's order.
FACET_HELP: list[tuple[str, str]] = [(facet.label, facet.help) for facet in FACET_TABLE]


@dataclass(frozen=True)
class FacetLink:
    """A facet value with the URL that toggles it: the one shape of a facet value, in the HTML and
    in the JSON API (there the URL toggles it in the API)."""

    value: str
    label: str
    count: int
    selected: bool
    toggle_url: str
    #: Current results having the value (``count`` ignores the facet's own filter; this does not).
    matching: int = 0

    def as_json(self) -> dict[str, object]:
        """The value as /api/search gives it."""
        return {
            "value": self.value,
            "label": self.label,
            "count": self.count,
            "matching": self.matching,
            "selected": self.selected,
            "toggle_url": self.toggle_url,
        }


@dataclass(frozen=True)
class Chip:
    """A selected filter, shown as a removable chip."""

    facet_label: str
    value: str
    remove_url: str


def selected_values(page: SearchPage) -> dict[str, list[str]]:
    """Selected facet values as written in the corpus, per facet."""
    return {facet: [c.value for c in page.facets[facet] if c.selected] for facet in FACETS}


def state_params(text: str, selected: dict[str, list[str]], sort: str = "relevance", page: int = 1) -> dict:
    """The non-default query parameters of a results state (words, filters, sort, page)."""
    params: dict[str, object] = {"q": text} if text else {}
    params.update({facet: values for facet, values in selected.items() if values})
    if sort != "relevance":
        params["sort"] = sort
    if page > 1:
        params["page"] = page
    return params


def search_url(
    text: str, selected: dict[str, list[str]], sort: str = "relevance", page: int = 1, endpoint: str = "views.search"
) -> str:
    """The URL of a results page, or of the same search in the API (only non-default parameters)."""
    return StateUrls(endpoint).url(state_params(text, selected, sort, page))


def facet_links(page: SearchPage, endpoint: str = "views.search") -> dict[str, list[FacetLink]]:
    """Every facet value with its count and the URL (of the results page, or of ``endpoint``) toggling it."""
    selected = selected_values(page)
    toggles = _Toggles(StateUrls(endpoint), page.request.text, selected, page.request.sort)
    links: dict[str, list[FacetLink]] = {}
    for facet in FACETS:
        links[facet] = [
            FacetLink(count.value, count.value, count.count, count.selected, url, count.matching)
            for count, url in zip(page.facets[facet], toggles.urls(facet, page.facets[facet]), strict=True)
        ]
        links[facet].sort(key=lambda link: not link.selected)  # selected first, each part in count order
    return links


class _Toggles:
    """The URLs of one results state with one facet value added or removed, each parameter encoded
    once: what :func:`search_url` gives (the words, the facets in :data:`FACETS` order, the sort)."""

    def __init__(self, urls: StateUrls, text: str, selected: dict[str, list[str]], sort: str) -> None:
        self._base = urls.base
        self._selected = selected
        self._words = encoded_pairs(state_params(text, {}))
        self._sort = encoded_pairs(state_params("", {}, sort))
        self._pairs = {facet: encoded_pairs({facet: values}) for facet, values in selected.items()}

    def urls(self, facet: str, counts: list[FacetCount]) -> list[str]:
        """For each value of ``facet``, the state with it removed (when selected) or added last."""
        names = list(self._pairs)
        before = [pair for name in names[: names.index(facet)] for pair in self._pairs[name]]
        after = [pair for name in names[names.index(facet) + 1 :] for pair in self._pairs[name]]
        head, tail, own = self._words + before, after + self._sort, self._pairs[facet]
        result = []
        for count in counts:
            if count.selected:
                toggled = [pair for pair, value in zip(own, self._selected[facet], strict=True) if value != count.value]
            else:
                toggled = [*own, *encoded_pairs({facet: count.value})]
            pairs = head + toggled + tail
            result.append(f"{self._base}?{'&'.join(pairs)}" if pairs else self._base)
        return result


def chips(page: SearchPage) -> list[Chip]:
    """Selected filters with the URL that removes each one."""
    selected = selected_values(page)
    urls = StateUrls("views.search")
    result = []
    for facet in FACETS:
        for value in selected[facet]:
            rest = {**selected, facet: [v for v in selected[facet] if v != value]}
            url = urls.url(state_params(page.request.text, rest, page.request.sort))
            result.append(Chip(FACET_LABELS[facet], value, url))
    return result


def clear_url(page: SearchPage) -> str:
    """The results of the same words without any filter."""
    return search_url(page.request.text, {}, page.request.sort)


def page_url(page: SearchPage, number: int, sort: str | None = None) -> str:
    """Another page (or sort) of the same results."""
    return search_url(page.request.text, selected_values(page), sort or page.request.sort, number)


@dataclass(frozen=True)
class PageLink:
    """One entry of the pagination: a page number with its URL, or a gap (« … »)."""

    number: int
    url: str
    current: bool = False
    gap: bool = False


@dataclass(frozen=True)
class Pagination:
    """The pagination of a results page: previous, numbered entries (ends and neighbours), next."""

    previous_url: str | None
    entries: list[PageLink]
    next_url: str | None


#: Pages shown at each end of the pagination, and on each side of the current page.
PAGINATION_ENDS = 2
PAGINATION_NEIGHBOURS = 2


def pagination(page: SearchPage) -> Pagination:
    """Links to the other pages of the same results (none when there is one page)."""
    count, current = page.page_count, page.request.page
    entries: list[PageLink] = []
    for number in range(1, count + 1):
        shown = (
            number <= PAGINATION_ENDS
            or number > count - PAGINATION_ENDS
            or abs(number - current) <= PAGINATION_NEIGHBOURS
        )
        if shown:
            entries.append(PageLink(number, page_url(page, number), current=number == current))
        elif not entries[-1].gap:
            entries.append(PageLink(number, "", gap=True))
    return Pagination(
        page_url(page, current - 1) if current > 1 else None,
        entries if count > 1 else [],
        page_url(page, current + 1) if current < count else None,
    )


def csv_url(page: SearchPage) -> str:
    """The whole current result set as CSV."""
    params = state_params(page.request.text, selected_values(page), page.request.sort)
    return url_for("api.search", format="csv", **params)


def programme_url(programme_id: str, text: str, page: SearchPage | None = None) -> str:
    """A programme's detail page, carrying the query (to highlight it) and, from a results
    page, its filters and sort (so that « retour aux résultats » returns to the same results)."""
    params = state_params(text, selected_values(page), page.request.sort) if page else state_params(text, {})
    return StateUrls("views.programme", programme_id=programme_id).url(params)


def programme_count(count: int) -> str:
    """« Aucun programme », « 1 programme », « 2 programmes », « 12 345 programmes » (narrow no-break space)."""
    if count == 0:
        return "Aucun programme"
    return f"{count:,}".replace(",", "\u202f") + (" programme" if count == 1 else " programmes")


def active_sort(page: SearchPage) -> str:
    """The order the page is in: « title » when asked, and when nothing ranks the hits (browsing)."""
    browsing = bool(page.hits) and all(hit.score is None for hit in page.hits)
    return "title" if browsing else page.request.sort


def shows_understood_as(page: SearchPage) -> bool:
    """Whether « Recherche comprise comme » adds anything to what the user typed."""
    typed = " ".join(page.request.text.split())
    return bool(page.understood_as) and page.understood_as.replace(" ET ", " ") != typed


def results_context(page: SearchPage, facets: dict[str, list[FacetLink]] | None = None) -> dict[str, object]:
    """Everything the results template shows besides the request itself (``facets`` from
    :func:`facet_links` when the caller already has them)."""
    return {
        "page": page,
        "facets": facets if facets is not None else facet_links(page),
        "chips": chips(page),
        "hidden_filters": selected_values(page),
        "clear_url": clear_url(page),
        "csv_url": csv_url(page),
        "show_understood": shows_understood_as(page),
        "count_label": programme_count(page.total),
        "unknown_filters": [
            (FACET_LABELS[facet], count.value) for facet in FACETS for count in page.facets[facet] if not count.known
        ],
        "active_sort": active_sort(page),
        "pagination": pagination(page),
        "hit_urls": {hit.id: programme_url(hit.id, page.request.text, page) for hit in page.hits},
        "sort_urls": {sort: page_url(page, 1, sort) for sort in ("relevance", "title")},
        "first_page_url": page_url(page, 1),
        "labels": FACET_LABELS,
        "field_labels": FIELD_LABELS,
    }


def search_json(page: SearchPage, problems: Sequence[str] = ()) -> dict[str, object]:
    """The JSON body of /api/search; ``problems`` are parameter corrections (before the query's notices)."""
    text = page.request.text
    return {
        "query": text,
        "understood_as": page.understood_as,
        "notices": [*problems, *page.notices],
        "fallback": page.fallback,
        "total": page.total,
        "page": page.request.page,
        "per_page": page.request.per_page,
        "sort": page.request.sort,
        "results": [
            {
                "id": hit.id,
                "title": hit.title,
                "url": programme_url(hit.id, text),
                "region": hit.region,
                "countries": list(hit.countries),
                "status": hit.status,
                "score": hit.score,
                "snippets": {name: str(markup) for name, markup in hit.snippets.items()},
                "matched": hit.matched,
                "highlighted": {
                    "region": str(hit.region_marked),
                    "countries": [str(name) for name in hit.countries_marked],
                },
            }
            for hit in page.hits
        ],
        "facets": {
            facet: [link.as_json() for link in links] for facet, links in facet_links(page, "api.search").items()
        },
        "suggestion": page.suggestion,
    }


def programme_json(detail: ProgrammeDetail) -> dict[str, object]:
    """The JSON body of /api/programmes/<id>: the whole record plus similar programmes."""
    return {**detail.record.to_dict(), "similar": [other.as_json() for other in detail.similar]}


def suggest_json(text: str, entries: Sequence[Completion]) -> dict[str, object]:
    """The JSON body of /api/suggest: each entry with its programme page, or how many typed words it replaces."""
    suggestions = []
    for entry in entries:
        item: dict[str, str | int] = {"text": entry.text, "kind": entry.kind}
        if entry.programme_id:
            item["url"] = url_for("views.programme", programme_id=entry.programme_id)
        else:
            item["replaces"] = entry.replaces
        suggestions.append(item)
    return {"query": text, "suggestions": suggestions}


#: What the browser shows beside an OpenSearch completion, by kind (a word has none), as app.js does.
SUGGESTION_KIND_LABELS = {"country": "pays", "region": "région", "programme": "programme", "word": ""}


def completed_query(typed: str, entry: Completion) -> str:
    """The whole query a completion leads to: the typed words with the last ``replaces`` of them
    replaced by its text (« cote d » -> « Côte d’Ivoire »), or a programme's title."""
    if entry.programme_id:
        return entry.text
    words = typed.split()
    replaced = min(max(entry.replaces, 1), len(words))
    return " ".join([*words[: len(words) - replaced], entry.text])


def opensearch_suggestions(query: str, entries: Sequence[Completion]) -> list[object]:
    """The OpenSearch Suggestions 1.1 array: ``[query, completions, descriptions, query URLs]``.

    ``query`` is echoed as sent (clients check it); each completion is a whole query, its URL the
    results page of that query, or the programme's page for a title.
    """
    texts = [completed_query(query, entry) for entry in entries]
    urls = [
        url_for("views.programme", programme_id=entry.programme_id, _external=True)
        if entry.programme_id
        else url_for("views.search", q=text, _external=True)
        for entry, text in zip(entries, texts, strict=True)
    ]
    return [query, texts, [SUGGESTION_KIND_LABELS.get(entry.kind, "") for entry in entries], urls]
