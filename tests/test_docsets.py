"""Document sets (boolean masks) and the facet counts built on them, against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from search_app import docsets
from search_app.facets import Facet, FacetValue, facet_counts


@pytest.mark.parametrize("size", [1, 7, 8, 9, 1000, 1001])
def test_count_each_counts_every_packed_set_inside_another(size: int) -> None:
    rng = np.random.default_rng(size)
    sets = [docsets.frozen(rng.random(size) < share) for share in (0.0, 0.1, 0.5, 1.0)]
    docs = rng.random(size) < 0.4
    counted = docsets.count_each(docsets.pack_rows(sets, size), docs).tolist()
    assert counted == [int(np.sum(one & docs)) for one in sets]


def test_no_sets_to_count_gives_no_counts() -> None:
    assert docsets.count_each(docsets.pack_rows([], 5), docsets.everything(5)).tolist() == []


def test_sets_are_built_from_numbers_and_cannot_be_changed_by_accident() -> None:
    docs = docsets.of([3, 0, 3], 5)
    assert docs.tolist() == [True, False, False, True, False]
    assert docsets.count(docs) == 2
    assert docsets.members(docs).tolist() == [0, 3]
    assert docsets.of([], 3).tolist() == [False] * 3
    with pytest.raises(ValueError, match="read-only"):
        docs[1] = True
    assert docsets.union([docs, docsets.of([1], 5)], 5).tolist() == [True, True, False, True, False]
    assert docsets.union([], 2).tolist() == [False, False]


def _facet(size: int, **members: list[int]) -> Facet:
    values = [
        FacetValue(key, key.title(), docsets.of(numbers, size), len(set(numbers))) for key, numbers in members.items()
    ]
    return Facet.of(values, size)


def test_facet_counts_are_disjunctive_and_keep_selected_values() -> None:
    size = 6
    facets = {
        "region": _facet(size, asie=[0, 4], afrique=[1, 2, 3], monde=[5]),
        "country": _facet(size, afghanistan=[0], bangladesh=[4], niger=[1, 3]),
        "status": _facet(size, en_cours=[0, 1, 2], achevees=[3, 4, 5]),
        "theme": _facet(size),
    }
    matched = docsets.of([0, 1, 3, 4], size)
    filters = {"region": facets["region"].values["asie"].members, "country": None, "status": None, "theme": None}
    selected = {"region": ("asie", "atlantide"), "country": (), "status": (), "theme": ()}
    counts = facet_counts(facets, matched, filters, selected, {"region": ["Atlantide"]})

    regions = {count.key: (count.count, count.matching, count.selected, count.known) for count in counts["region"]}
    # the region's own filter is left out of its counts, not out of what the map shades
    assert regions == {
        "asie": (2, 2, True, True),
        "afrique": (2, 0, False, True),
        "atlantide": (0, 0, True, False),
    }
    assert {count.key: count.count for count in counts["country"]} == {"afghanistan": 1, "bangladesh": 1}
    assert [(count.key, count.count) for count in counts["status"]] == [("achevees", 1), ("en_cours", 1)]
    assert counts["theme"] == []
