"""Facet filters and disjunctive facet counts, by intersecting per-value bitsets.

Within a facet, selected values are ORed; across facets, ANDed. A facet's
counts apply every filter except its own (as Algolia and Meilisearch do), so
each value shows how many results choosing it would give.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from indexer.analysis import fold
from indexer.slugs import slugify
from search_app.index_state import GenerationState

FACETS: tuple[str, ...] = ("region", "country", "status", "theme")
MAX_VALUES_PER_FACET = 50


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


def selection_bits(state: GenerationState, facet: str, keys: Sequence[str]) -> int | None:
    """Documents having any of the selected values (None when nothing is selected)."""
    if not keys:
        return None
    values = state.facets.get(facet, {})
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
    state: GenerationState,
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
        chosen = set(selected.get(facet, ()))
        counts = []
        for key, value in state.facets.get(facet, {}).items():
            count = (base & value.bits).bit_count()
            if count or key in chosen:
                matching = (final & value.bits).bit_count()
                counts.append(FacetCount(key, value.label, count, key in chosen, matching=matching))
        known = state.facets.get(facet, {})
        as_typed = {slugify(value): value.strip() for value in reversed((typed or {}).get(facet, ()))}
        counts += [FacetCount(key, as_typed.get(key, key), 0, True, False) for key in chosen if key not in known]
        counts.sort(key=lambda c: (-c.count, fold(c.value)))
        result[facet] = counts
    return result

