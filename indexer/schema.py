"""The Whoosh schema: the weighted catch-all field, small field-query fields, facet keys, record.

Plain words are matched against ``content``, which indexes every searchable field
once, each token weighing its field's boost (BM25F: boost-weighted term frequency,
one posting list per term). ``title``, ``countries``, ``region`` and ``status`` are
also indexed alone for ``titre:``, ``pays:``, ``region:`` and ``statut:`` queries.
The record itself (texts for snippets and the detail page) is one stored field.

Field boosts (token weights in ``content``):

============  =====  =====================================================
field         boost  why
============  =====  =====================================================
title         3.0    the programme's own name: strongest evidence
countries     3.0    « Afghanistan » should find the Afghanistan programme
status        3.0    « en cours », « achevées » ask for the status first of all
region        2.0    a region name is nearly as specific as a country
themes        2.0    the theme names (« Aide à la réintégration »), from themes.yaml
objectives    1.5    pillars, objectives and result areas, with headings
description   1.0    the long free text
notes         1.0    notes such as the Libya asterisk note
============  =====  =====================================================
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Iterable
from typing import Any

from whoosh.analysis.analyzers import CompositeAnalyzer
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.formats import Positions

from indexer.analysis import TermSpans, french_analyzer

#: Bump when fields or the stored record change shape (5: records carry ``source_url``); part of
#: the corpus fingerprint, and a generation of another version is refused by the app.
SCHEMA_VERSION = "5"

FIELD_BOOSTS: dict[str, float] = {
    "title": 3.0,
    "countries": 3.0,
    "status": 3.0,
    "region": 2.0,
    "themes": 2.0,
    "objectives": 1.5,
    "description": 1.0,
    "notes": 1.0,
}
#: Fields a plain word is searched in, in boost order (``content`` holds them all, weighted).
SEARCH_FIELDS: tuple[str, ...] = tuple(FIELD_BOOSTS)
#: The catch-all field plain words are matched against: one posting list per term
#: instead of an OR over six fields, with each field's boost as the token weight (BM25F).
CONTENT_FIELD = "content"
#: Positions left empty between two fields in ``content``, so no phrase spans two fields.
FIELD_GAP = 50
#: Fields with stored text for snippets.
SNIPPET_FIELDS: tuple[str, ...] = ("description", "objectives", "notes")
#: Facet name -> key field holding slug keys of the values.
FACET_FIELDS: dict[str, str] = {
    "region": "region_key",
    "country": "country_key",
    "status": "status_key",
    "theme": "theme_key",
}


class AnalysedText(dict[str, tuple[list[int], float]]):
    """A field value analysed beforehand: term -> (positions, weight)."""


def analyse_segments(
    spans: TermSpans, segments: Iterable[tuple[str, float]], forms: Counter[str] | None = None
) -> AnalysedText:
    """Terms of ``[(text, boost), …]`` with their positions (segments ``FIELD_GAP`` apart) and
    summed boosts; ``forms`` counts the written words on the way (see :meth:`TermSpans.positions`)."""
    analysed = AnalysedText()
    start = 0
    for text, boost in segments:
        last = start
        for term, pos in spans.positions(text, start, forms):
            entry = analysed.get(term)
            if entry is None:
                analysed[term] = ([pos], boost)
            else:
                entry[0].append(pos)
                analysed[term] = (entry[0], entry[1] + boost)
            last = pos
        start = last + FIELD_GAP
    return analysed


class WeightedText(TEXT):
    """A TEXT field whose tokens can weigh differently: indexed from ``[(text, boost), …]``
    segments (every token of a segment weighs ``boost``, so term frequency becomes BM25F's
    boost-weighted sum over fields), a plain string (every token weighs 1), or an
    :class:`AnalysedText`. Weights are multiplied by the field boost, as Whoosh's TEXT does.

    Texts are analysed through :class:`TermSpans` (the analyser's own functions in one
    loop, no Token objects); queries still go through the Whoosh analyser.
    """

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_term_spans", None)  # a per-process cache, rebuilt on demand
        return state

    def spans(self) -> TermSpans:
        """This field's analyser as a :class:`TermSpans` (built once per process)."""
        spans = self.__dict__.get("_term_spans")
        if spans is None:
            if not isinstance(self.analyzer, CompositeAnalyzer):
                raise TypeError("a pre-analysed field needs the French analyser")
            spans = self.__dict__["_term_spans"] = TermSpans(self.analyzer)
        return spans

    def index(self, value: Any, **kwargs: Any) -> Generator[tuple[bytes, int, float, bytes], Any, None]:
        if not isinstance(value, AnalysedText):
            value = analyse_segments(self.spans(), [(value, 1.0)] if isinstance(value, str) else value)
        if not isinstance(self.format, Positions):
            raise TypeError("a pre-analysed field stores positions")
        boost = self.format.field_boost
        encode = self.format.encode
        for term, (positions, weight) in value.items():
            yield term.encode("utf-8"), len(positions), weight * boost, encode(positions)


def content_segments(texts: dict[str, str]) -> list[tuple[str, float]]:
    """The ``content`` value of a document: each searchable field's text with its boost."""
    return [(texts[name], boost) for name, boost in FIELD_BOOSTS.items() if texts.get(name)]


def build_schema(protected: Iterable[str]) -> Schema:
    """The index schema, with the French analyser protecting ``protected`` words from stemming."""
    analyzer = french_analyzer(protected)

    def text(name: str, stored: bool = False) -> TEXT:
        return WeightedText(analyzer=analyzer, stored=stored, field_boost=FIELD_BOOSTS.get(name, 1.0))

    return Schema(
        id=ID(stored=True, unique=True),
        title=text("title", stored=True),
        countries=text("countries"),
        region=text("region"),
        status=text("status"),
        content=WeightedText(analyzer=analyzer),
        region_key=KEYWORD(commas=True, sortable=True),
        country_key=KEYWORD(commas=True, sortable=True),
        status_key=KEYWORD(commas=True, sortable=True),
        theme_key=KEYWORD(commas=True, sortable=True),
        title_sort=ID(sortable=True),
        record=STORED(),
    )
