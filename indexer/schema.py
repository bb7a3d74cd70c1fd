"""The field and facet table, and the Whoosh schema built from it.

:data:`FIELD_TABLE` and :data:`FACET_TABLE` are the one place that says what a programme's texts
are: indexed, searched with which boost, offered to ``pays:``-style queries, snippeted, explained in
« Pourquoi ce résultat ? », labelled in French, filtered on. Everything else (the documents, the
query parser, the facets, the presenters and templates, the OpenAPI document, the CLI's ``stats``)
reads them: adding a facet over a record attribute is one :class:`Facet` line. The shape of the
tables is part of :data:`SCHEMA_VERSION`, so a generation built with another table is refused by
the app and rebuilt by the next build, without anyone remembering to bump a number.

Plain words are matched against ``content``, which indexes every field with a boost once, each
token weighing its field's boost (BM25F: boost-weighted term frequency, one posting list per
term). Fields with query aliases (``title``, ``countries``, ``region``, ``status``) are also
indexed alone for ``titre:``, ``pays:``, ``region:`` and ``statut:`` queries. The record itself
(texts for snippets and the detail page) is one stored field.

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

import hashlib
from collections import Counter
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from typing import Any

from whoosh.analysis.analyzers import CompositeAnalyzer
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.formats import Positions

from indexer.analysis import TermSpans, french_analyzer
from indexer.records import ObjectiveItem, Programme, objectives_display

#: Bump when the stored record changes shape (5: records carry ``source_url``); the tables' own shape
#: is added to it in :data:`SCHEMA_VERSION`.
SCHEMA_REVISION = "5"


@dataclass(frozen=True)
class Field:
    """A text of a programme: ``name`` is its key in the record and its :class:`Programme` attribute."""

    name: str
    #: Its French name on a result (« pays »), capitalised by the templates.
    label: str
    #: The weight of its tokens in ``content``; 0: plain words do not search it.
    boost: float = 0.0
    #: Field names a query may type (« pays:Mali »), the first one shown back; a field with aliases is
    #: also indexed alone.
    aliases: tuple[str, ...] = ()
    #: Kept in the index beside the record (the title, for Whoosh's own tools).
    stored: bool = False
    #: Gets highlighted snippets on a result.
    snippet: bool = False
    #: Listed in « Pourquoi ce résultat ? ».
    explain: bool = False
    #: Between the items of a list value (countries, paragraphs, objectives).
    joiner: str = ", "
    #: A value to show on /aide after the field's first alias (« pays:Mali »).
    example: str = "…"

    def index_text(self, programme: Programme) -> str:
        """The text indexed for ``programme`` (objectives with their section and heading)."""
        value = getattr(programme, self.name)
        if isinstance(value, str):
            return value
        return self.joiner.join(item.full_text() if isinstance(item, ObjectiveItem) else item for item in value)

    def display_text(self, programme: Programme) -> str:
        """The text shown (and highlighted) for ``programme`` (objectives as the detail page shows them)."""
        value = getattr(programme, self.name)
        if isinstance(value, str):
            return value
        if value and isinstance(value[0], ObjectiveItem):
            return objectives_display(value)
        return self.joiner.join(value)


@dataclass(frozen=True)
class Facet:
    """A filter: ``name`` is its URL parameter, its key in the API and in ``meta.json``."""

    name: str
    #: The :class:`Programme` attribute holding its values (a string or a tuple of strings).
    source: str
    #: Its French name on the page, in chips and on /aide (« Pays »).
    label: str
    #: Its heading in ``python -m indexer stats`` (« Régions »).
    heading: str
    #: What it holds, for /aide.
    help: str

    @property
    def key_field(self) -> str:
        """The KEYWORD field holding the slug keys of its values."""
        return f"{self.name}_key"

    def values(self, programme: Programme) -> tuple[str, ...]:
        """``programme``'s values of this facet, as written."""
        value = getattr(programme, self.source)
        return (value,) if isinstance(value, str) else tuple(value)


#: Every text of a programme, in the order results show them (snippets, « Pourquoi ce résultat ? »).
FIELD_TABLE: tuple[Field, ...] = (
    Field("title", "titre", 3.0, ("titre", "title"), stored=True, explain=True, example="RADA"),
    Field("countries", "pays", 3.0, ("pays", "country", "countries"), explain=True, example="Mali"),
    Field("region", "région", 2.0, ("region", "région"), explain=True, example="asie"),
    Field("status", "statut", 3.0, ("statut", "status"), example='"en cours"'),
    Field("themes", "thèmes", 2.0),
    Field("description", "description", 1.0, snippet=True, explain=True, joiner="\n\n"),
    Field("objectives", "objectifs", 1.5, snippet=True, explain=True, joiner="\n"),
    Field("notes", "notes", 1.0, snippet=True, explain=True, joiner="\n\n"),
)
#: Every filter, in the order the page, /aide, the API and ``stats`` list them.
FACET_TABLE: tuple[Facet, ...] = (
    Facet("region", "region", "Région", "Régions", "la région du programme, comme la page source la nomme "
          "(«\u00a0Asie et Pacifique\u00a0»)"),
    Facet("country", "countries", "Pays", "Pays", "les pays où il agit "
          "(«\u00a0Monde\u00a0» pour un programme mondial)"),
    Facet("status", "status", "Statut", "Statuts", "où il en est "
          "(«\u00a0En cours\u00a0», «\u00a0Activités achevées\u00a0»)"),
    Facet("theme", "themes", "Thème", "Thèmes", "ce dont il traite, d’après ses piliers et ses objectifs"),
)



def _tables_digest() -> str:
    """A short hash of what the tables change in the index (names, boosts, aliases, sources; not labels)."""
    fields = [(f.name, f.boost, f.aliases, f.stored, f.joiner) for f in FIELD_TABLE]
    shape = (fields, [(f.name, f.source) for f in FACET_TABLE])
    return hashlib.sha256(repr(shape).encode()).hexdigest()[:8]


#: The revision and the tables' shape: part of the corpus fingerprint, and a generation of another
#: version is refused by the app.
SCHEMA_VERSION = f"{SCHEMA_REVISION}-{_tables_digest()}"
#: Searched fields -> boost, strongest first (a stable sort: the order of their texts in ``content``).
FIELD_BOOSTS: dict[str, float] = {f.name: f.boost for f in sorted(FIELD_TABLE, key=lambda f: -f.boost) if f.boost}
#: Fields a plain word is searched in, in boost order (``content`` holds them all, weighted).
SEARCH_FIELDS: tuple[str, ...] = tuple(FIELD_BOOSTS)
#: Fields indexed alone, for field queries (« titre:RADA »).
QUERY_FIELDS: tuple[Field, ...] = tuple(f for f in FIELD_TABLE if f.aliases)
#: The catch-all field plain words are matched against: one posting list per term
#: instead of an OR over six fields, with each field's boost as the token weight (BM25F).
CONTENT_FIELD = "content"
#: Positions left empty between two fields in ``content``, so no phrase spans two fields.
FIELD_GAP = 50
#: Fields with stored text for snippets.
SNIPPET_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELD_TABLE if f.snippet)
#: Fields « Pourquoi ce résultat ? » looks for the query's words in.
EXPLAIN_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELD_TABLE if f.explain)
#: Field -> its French name on results.
FIELD_LABELS: dict[str, str] = {f.name: f.label for f in FIELD_TABLE}
#: Facet name -> key field holding slug keys of the values.
FACET_FIELDS: dict[str, str] = {f.name: f.key_field for f in FACET_TABLE}


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
    alone = {
        f.name: WeightedText(analyzer=analyzer, stored=f.stored, field_boost=f.boost or 1.0) for f in QUERY_FIELDS
    }
    keys = {f.key_field: KEYWORD(commas=True, sortable=True) for f in FACET_TABLE}
    return Schema(
        id=ID(stored=True, unique=True),
        **alone,
        content=WeightedText(analyzer=analyzer),
        **keys,
        title_sort=ID(sortable=True),
        record=STORED(),
    )
