"""Facet values as document sets, facet filters, and disjunctive facet counts.

The facets are :data:`indexer.schema.FACET_TABLE`'s. When a generation opens,
:func:`read_facet_values` reads each facet value's programmes as a :data:`~search_app.docsets.DocSet`
(and packs them, so that one pass counts every value of a facet). Within a facet, selected values
are ORed; across facets, ANDed. A facet's counts apply every filter except its own (as Algolia and
Meilisearch do), so each value shows how many results choosing it would give.

This module reads no generation state of its own: callers hand it the facet values
(``state.facets``), so :mod:`search_app.index_state` can import it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from whoosh.reading import IndexReader

from indexer.analysis import fold
from indexer.schema import FACET_FIELDS
from indexer.slugs import slugify
from search_app import docsets
from search_app.docsets import DocSet, PackedSets

#: The facet names (URL parameters, API keys), in the order pages list them.
FACETS: tuple[str, ...] = tuple(FACET_FIELDS)
MAX_VALUES_PER_FACET = 50


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet in a generation."""

    key: str
    label: str
    members: DocSet
    #: How many programmes have the value.
    size: int


@dataclass(frozen=True)
class Facet:
    """One facet's values in a generation (by key, in index order) and their sets packed for counting."""

    values: dict[str, FacetValue]
    packed: PackedSets

    @classmethod
    def of(cls, values: Sequence[FacetValue], size: int) -> Facet:
        """The facet of these values, over ``size`` documents."""
        return cls({value.key: value for value in values}, docsets.pack_rows([v.members for v in values], size))

    def counts(self, docs: DocSet) -> dict[str, int]:
        """For each value (in index order), how many of ``docs`` have it."""
        return dict(zip(self.values, docsets.count_each(self.packed, docs).tolist(), strict=True))


#: Facet name -> its values, for one generation.
FacetValues = dict[str, Facet]


def read_facet_values(reader: IndexReader, meta: Mapping) -> FacetValues:
    """Every facet's values in the index, each with its programmes and its label as written in the
    corpus (from ``meta.json``; the key when it is not there)."""
    size = reader.doc_count_all()
    facets: FacetValues = {}
    for facet, fieldname in FACET_FIELDS.items():
        labels = {slugify(value): value for value in meta.get("facets", {}).get(facet, {})}
        values = []
        for term in reader.lexicon(fieldname):
            key = term.decode("utf-8") if isinstance(term, bytes) else term
            members = docsets.of(reader.postings(fieldname, term).all_ids(), size)
            values.append(FacetValue(key, labels.get(key, key), members, docsets.count(members)))
        facets[facet] = Facet.of(values, size)
    return facets


@dataclass(frozen=True)
class FacetCount:
    """A facet value with its count for the current query and whether it is selected."""

    key: str
    value: str
    count: int
    selected: bool
    #: False for a selected value that no programme of the corpus has (« country=Atlantide »).
    known: bool = True
    #: Results of the current query and every filter (its own included) that have this value: what the
    #: map shades, where ``count`` is what choosing the value would give.
    matching: int = 0


def normalise_selection(values: Sequence[str]) -> tuple[str, ...]:
    """Facet parameter values as keys (accent- and case-insensitive), deduplicated, in order."""
    keys: list[str] = []
    for value in values[:MAX_VALUES_PER_FACET]:
        key = slugify(value)
        if key and key not in keys:
            keys.append(key)
    return tuple(keys)


def selection_docs(facets: FacetValues, facet: str, keys: Sequence[str], size: int) -> DocSet | None:
    """Documents having any of the selected values (None when nothing is selected)."""
    if not keys:
        return None
    values = facets[facet].values if facet in facets else {}
    return docsets.union([values[key].members for key in keys if key in values], size)


def apply_filters(matched: DocSet, filters: Mapping[str, DocSet | None], skip: str | None = None) -> DocSet:
    """``matched`` restricted by every facet filter except ``skip``."""
    for facet, docs in filters.items():
        if facet != skip and docs is not None:
            matched = matched & docs
    return matched


def facet_counts(
    facets: FacetValues,
    matched: DocSet,
    filters: Mapping[str, DocSet | None],
    selected: Mapping[str, Sequence[str]],
    typed: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, list[FacetCount]]:
    """Disjunctive counts for every facet: non-zero values plus selected ones, by count then name.

    A selected value the corpus does not have is shown as ``typed`` it (« Atlantide »), with 0.
    """
    result: dict[str, list[FacetCount]] = {}
    final = apply_filters(matched, filters)
    for name in FACETS:
        facet = facets.get(name)
        known = facet.values if facet else {}
        chosen = set(selected.get(name, ()))
        counts = []
        if facet is not None:
            base = facet.counts(apply_filters(matched, filters, skip=name))
            # without its own filter, a facet's base is the final set: matching is the count
            matching = facet.counts(final) if filters.get(name) is not None else base
            for key, value in known.items():
                if base[key] or key in chosen:
                    counts.append(FacetCount(key, value.label, base[key], key in chosen, matching=matching[key]))
        as_typed = {slugify(value): value.strip() for value in reversed((typed or {}).get(name, ()))}
        counts += [FacetCount(key, as_typed.get(key, key), 0, True, False) for key in chosen if key not in known]
        counts.sort(key=lambda c: (-c.count, fold(c.value)))
        result[name] = counts
    return result
