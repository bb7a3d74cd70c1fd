"""Facet bitsets, facet filters and disjunctive facet counts, by intersecting per-value bitsets.

The facets are :data:`indexer.schema.FACET_TABLE`'s. When a generation opens,
:func:`read_facet_values` builds one bitset per facet value (a Python int, one bit
per document). Within a facet, selected values are ORed; across facets, ANDed. A
facet's counts apply every filter except its own (as Algolia and Meilisearch do),
so each value shows how many results choosing it would give.

This module reads no generation state of its own: callers hand it the facet values
(``state.facets``), so :mod:`search_app.index_state` can import it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from whoosh.reading import IndexReader

from indexer.analysis import fold
from indexer.schema import FACET_FIELDS
from indexer.slugs import slugify

#: The facet names (URL parameters, API keys), in the order pages list them.
FACETS: tuple[str, ...] = tuple(FACET_FIELDS)
MAX_VALUES_PER_FACET = 50


def bits_of(docnums: Iterable[int]) -> int:
    """A bitset (int) with one bit set per document number (built in a bytearray: linear)."""
    numbers = list(docnums)
    if not numbers:
        return 0
    buffer = bytearray(max(numbers) // 8 + 1)
    for docnum in numbers:
        buffer[docnum >> 3] |= 1 << (docnum & 7)
    return int.from_bytes(buffer, "little")


def bit_bytes(bits: int, size: int = 0) -> bytes:
    """The bitset as little-endian bytes covering ``size`` documents at least, for O(1)
    membership tests: ``b[d >> 3] >> (d & 7) & 1``."""
    return bits.to_bytes(max(size, bits.bit_length()) // 8 + 1, "little")


@dataclass
class FacetValue:
    """One value of a facet in a generation."""

    key: str
    label: str
    bits: int


#: Facet name -> value key -> value, for one generation.
FacetValues = dict[str, dict[str, FacetValue]]


def read_facet_values(reader: IndexReader, meta: Mapping) -> FacetValues:
    """Every facet's values in the index, each with its bitset and its label as written in the corpus
    (from ``meta.json``; the key when it is not there)."""
    facets: FacetValues = {}
    for facet, fieldname in FACET_FIELDS.items():
        labels = {slugify(value): value for value in meta.get("facets", {}).get(facet, {})}
        values = {}
        for term in reader.lexicon(fieldname):
            key = term.decode("utf-8") if isinstance(term, bytes) else term
            bits = bits_of(reader.postings(fieldname, term).all_ids())
            values[key] = FacetValue(key=key, label=labels.get(key, key), bits=bits)
        facets[facet] = values
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


def selection_bits(facets: FacetValues, facet: str, keys: Sequence[str]) -> int | None:
    """Documents having any of the selected values (None when nothing is selected)."""
    if not keys:
        return None
    values = facets.get(facet, {})
    bits = 0
    for key in keys:
        if key in values:
            bits |= values[key].bits
    return bits


def apply_filters(matched: int, filters: Mapping[str, int | None], skip: str | None = None) -> int:
    """``matched`` restricted by every facet filter except ``skip``."""
    for facet, bits in filters.items():
        if facet != skip and bits is not None:
            matched &= bits
    return matched


def facet_counts(
    facets: FacetValues,
    matched: int,
    filters: Mapping[str, int | None],
    selected: Mapping[str, Sequence[str]],
    typed: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, list[FacetCount]]:
    """Disjunctive counts for every facet: non-zero values plus selected ones, by count then name.

    A selected value the corpus does not have is shown as ``typed`` it (« Atlantide »), with 0.
    """
    result: dict[str, list[FacetCount]] = {}
    final = apply_filters(matched, filters)
    for facet in FACETS:
        base = apply_filters(matched, filters, skip=facet)
        own_filter = filters.get(facet) is not None  # without one, base is final: matching is count
        chosen = set(selected.get(facet, ()))
        counts = []
        known = facets.get(facet, {})
        for key, value in known.items():
            count = (base & value.bits).bit_count()
            if count or key in chosen:
                matching = (final & value.bits).bit_count() if own_filter else count
                counts.append(FacetCount(key, value.label, count, key in chosen, matching=matching))
        as_typed = {slugify(value): value.strip() for value in reversed((typed or {}).get(facet, ()))}
        counts += [FacetCount(key, as_typed.get(key, key), 0, True, False) for key in chosen if key not in known]
        counts.sort(key=lambda c: (-c.count, fold(c.value)))
        result[facet] = counts
    return result

