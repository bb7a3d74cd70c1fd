"""The programme page: a whole record, highlighted for the query that led to it, and similar programmes."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from indexer.records import status_state
from indexer.schema import CONTENT_FIELD
from search_app import highlight
from search_app.index_state import GenerationState
from search_app.query_builder import QueryTerms
from search_app.query_factory import query_builder_for
from search_app.query_parser import parse_query

SIMILAR_LIMIT = 5


@dataclass(frozen=True)
class ProgrammeDetail:
    """A whole record, highlighted when reached from a search, with similar programmes."""

    record: dict
    description: list[Markup]
    objective_sections: list[tuple[str, list[dict]]]
    notes: list[Markup]
    similar: list[dict]

    @property
    def status_state(self) -> str:
        """« active » or « done » (see :data:`indexer.records.STATUS_STATES`)."""
        return status_state(str(self.record.get("status", "")))


def programme_detail(state: GenerationState, programme_id: str, text: str = "") -> ProgrammeDetail | None:
    """The whole record of one programme (None if unknown), highlighted for ``text``."""
    searcher = state.searcher()
    docnum = searcher.document_number(id=programme_id)
    if docnum is None:
        return None
    record = searcher.reader().stored_fields(docnum)["record"]
    terms = QueryTerms()
    parsed = parse_query(text)
    if parsed.tree is not None:
        terms = query_builder_for(state).build(parsed.tree).terms

    def mark(value: str) -> Markup:
        return highlight.mark_all(state.spans, value, terms)

    return ProgrammeDetail(
        record=record,
        description=[mark(p) for p in record["description"]],
        objective_sections=_sections(
            [
                {**item, "marked": mark(item["text"]), "heading_marked": mark(item.get("heading") or "")}
                for item in record["objectives"]
            ]
        ),
        notes=[mark(n) for n in record["notes"]],
        similar=_similar(state, docnum, record),
    )


def _similar(state: GenerationState, docnum: int, record: dict) -> list[dict]:
    """Up to SIMILAR_LIMIT other programmes, by Whoosh's more_like over the description and objectives."""
    searcher = state.searcher()
    text = "\n".join([*record["description"], *(o["text"] for o in record["objectives"])])
    results = searcher.more_like(docnum, CONTENT_FIELD, text=text, top=SIMILAR_LIMIT + 1, numterms=12)
    similar = [hit.fields()["record"] for hit in results if hit.docnum != docnum]
    return [{"id": r["id"], "title": r["title"], "region": r["region"]} for r in similar[:SIMILAR_LIMIT]]


def _sections(items: list[dict]) -> list[tuple[str, list[dict]]]:
    """Objective items grouped by consecutive section, in record order."""
    sections: list[tuple[str, list[dict]]] = []
    for item in items:
        if sections and sections[-1][0] == item.get("section", ""):
            sections[-1][1].append(item)
        else:
            sections.append((item.get("section", ""), [item]))
    return sections
