"""The Whoosh schema: searchable fields with their boosts, facet key fields, stored record.

Field boosts (applied to term weights at index time, read by BM25F):

============  =====  =====================================================
field         boost  why
============  =====  =====================================================
title         3.0    the programme's own name: strongest evidence
countries     3.0    « Afghanistan » should find the Afghanistan programme
region        2.0    a region name is nearly as specific as a country
objectives    1.5    pillars, objectives and result areas, with headings
description   1.0    the long free text
notes         1.0    notes such as the Libya asterisk note
status        0.0    only reachable through ``statut:…`` (not in default fields)
============  =====  =====================================================
"""

from __future__ import annotations

from collections.abc import Iterable

from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema

from indexer.analysis import french_analyzer

#: Bump when fields change; part of the corpus fingerprint.
SCHEMA_VERSION = "2"

FIELD_BOOSTS: dict[str, float] = {
    "title": 3.0,
    "countries": 3.0,
    "region": 2.0,
    "objectives": 1.5,
    "description": 1.0,
    "notes": 1.0,
}
#: Fields searched by plain words, in boost order.
SEARCH_FIELDS: tuple[str, ...] = tuple(FIELD_BOOSTS)
#: Fields with stored text for snippets.
SNIPPET_FIELDS: tuple[str, ...] = ("description", "objectives", "notes")
#: Facet name -> key field holding slug keys of the values.
FACET_FIELDS: dict[str, str] = {
    "region": "region_key",
    "country": "country_key",
    "status": "status_key",
    "theme": "theme_key",
}


def build_schema(protected: Iterable[str]) -> Schema:
    """The index schema, with the French analyser protecting ``protected`` words from stemming."""
    analyzer = french_analyzer(protected)

    def text(name: str, stored: bool = False) -> TEXT:
        return TEXT(analyzer=analyzer, stored=stored, field_boost=FIELD_BOOSTS.get(name, 1.0))

    return Schema(
        id=ID(stored=True, unique=True),
        title=text("title", stored=True),
        countries=text("countries"),
        region=text("region"),
        objectives=text("objectives", stored=True),
        description=text("description", stored=True),
        notes=text("notes", stored=True),
        status=text("status"),
        region_key=KEYWORD(commas=True, sortable=True),
        country_key=KEYWORD(commas=True, sortable=True),
        status_key=KEYWORD(commas=True, sortable=True),
        theme_key=KEYWORD(commas=True, sortable=True),
        title_sort=ID(sortable=True),
        record=STORED(),
    )
