"""The programme page: a whole record, highlighted for the query that led to it, and similar programmes."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from indexer.records import ObjectiveItem, Programme, status_state
from search_app import highlight
from search_app.index_state import GenerationState
from search_app.query_builder import QueryTerms
from search_app.query_factory import query_builder_for
from search_app.query_parser import parse_query
from search_app.similar import SimilarProgramme, similar_programmes


@dataclass(frozen=True)
class MarkedObjective:
    """An objective item with its heading and text highlighted for the query."""

    item: ObjectiveItem
    heading_marked: Markup
    marked: Markup

    @property
    def heading(self) -> str:
        return self.item.heading


@dataclass(frozen=True)
class ObjectiveSection:
    """Consecutive objective items under one section heading (« Objectif global »).

    ``single``: one item, shown as a paragraph (a list of one would read « 1. »)."""

    title: str
    items: list[MarkedObjective]

    @property
    def single(self) -> bool:
        """Whether the section holds one item only."""
        return len(self.items) == 1


@dataclass(frozen=True)
class ProgrammeDetail:
    """A whole record, highlighted when reached from a search, with similar programmes."""

    record: Programme
    description: list[Markup]
    objective_sections: list[ObjectiveSection]
    notes: list[Markup]
    similar: list[SimilarProgramme]

    @property
    def source_url(self) -> str:
        """The programme's own page, "" when unknown (validated http(s) when the record was read)."""
        return self.record.source_url

    @property
    def status_state(self) -> str:
        """« active » or « done » (see :data:`indexer.records.STATUS_STATES`)."""
        return status_state(self.record.status)


def programme_detail(state: GenerationState, programme_id: str, text: str = "") -> ProgrammeDetail | None:
    """The whole record of one programme (None if unknown), highlighted for ``text``."""
    searcher = state.searcher()
    docnum = searcher.document_number(id=programme_id)
    if docnum is None:
        return None
    record = state.programme(docnum)
    terms = QueryTerms()
    parsed = parse_query(text)
    if parsed.tree is not None:
        terms = query_builder_for(state).build(parsed.tree).terms

    def mark(value: str) -> Markup:
        return highlight.mark_all(state.spans, value, terms)

    return ProgrammeDetail(
        record=record,
        description=[mark(p) for p in record.description],
        objective_sections=_sections([MarkedObjective(o, mark(o.heading), mark(o.text)) for o in record.objectives]),
        notes=[mark(n) for n in record.notes],
        similar=similar_programmes(state, docnum, record),
    )


def _sections(items: list[MarkedObjective]) -> list[ObjectiveSection]:
    """Objective items grouped by consecutive section, in record order."""
    sections: list[ObjectiveSection] = []
    for marked in items:
        if sections and sections[-1].title == marked.item.section:
            sections[-1].items.append(marked)
        else:
            sections.append(ObjectiveSection(marked.item.section, [marked]))
    return sections
