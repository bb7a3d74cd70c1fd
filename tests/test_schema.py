"""The schema's fast field indexing gives exactly what Whoosh's TEXT field gives."""

from __future__ import annotations

from collections import Counter

import pytest
from whoosh.fields import TEXT

from indexer.analysis import french_analyzer, french_words
from indexer.build import protected_vocabulary
from indexer.records import Programme
from indexer.schema import FIELD_GAP, WeightedText, analyse_segments

AWKWARD = "l’UE-OIM 10\u00a0000 porte-parole aujourd'hui J-J ; d’Afghanistan, Côte d’Ivoire — ODD 10.7"


def _texts(programme: Programme) -> list[str]:
    return [
        programme.title, ", ".join(programme.countries), programme.region, programme.status,
        programme.description_text, programme.objectives_text, programme.notes_text, AWKWARD,
    ]


@pytest.mark.parametrize("boost", [1.0, 3.0])
def test_plain_text_postings_equal_whoosh_text_field(programmes: list[Programme], boost: float):
    analyzer = french_analyzer(protected_vocabulary(programmes, []))
    whoosh_field = TEXT(analyzer=analyzer, field_boost=boost)
    ours = WeightedText(analyzer=analyzer, field_boost=boost)
    for programme in programmes:
        for text in _texts(programme):
            assert sorted(ours.index(text)) == sorted(whoosh_field.index(text)), text[:60]


def test_segments_weigh_by_boost_and_are_kept_apart(programmes: list[Programme]):
    field = WeightedText(analyzer=french_analyzer(protected_vocabulary(programmes, [])))
    analysed = analyse_segments(field.spans(), [("Libye migrants", 3.0), ("migrants de retour", 1.0)])
    assert analysed["LIBYE"] == ([0], 3.0)  # a country name: its own upper-case term
    assert analysed["migr"] == ([1, 1 + FIELD_GAP], 4.0)  # « de » is a stop word: no term, still a position
    assert analysed["retour"] == ([3 + FIELD_GAP], 1.0)
    postings = {term: (freq, weight) for term, freq, weight, _ in field.index(analysed)}
    assert postings[b"migr"] == (2, 4.0)


def test_written_forms_are_counted_while_analysing(programmes: list[Programme]):
    field = WeightedText(analyzer=french_analyzer(protected_vocabulary(programmes, [])))
    forms: Counter[str] = Counter()
    texts = [(text, 1.0) for programme in programmes for text in _texts(programme)]
    analyse_segments(field.spans(), texts, forms)
    expected = Counter(original for text, _ in texts for *_, joined, original in french_words(text) if not joined)
    assert forms == expected and forms["UE"] >= 1 and "UEOIM" not in forms
