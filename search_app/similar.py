"""« Programmes similaires »: programmes sharing something a reader can name, above a threshold.

The similarity of another programme B, seen from the page of A, adds points a reader can check:

==========================  ========================================================
same region                 ``REGION_POINTS`` (1)
each country in common      ``COUNTRY_POINTS`` (1), at most ``COUNTRY_CAP`` (3) counted;
                            global markers (« Monde ») are not countries
each theme in common        its rarity ``log(N / n) / log(N)`` (N programmes, n of them
                            in the theme): 0 for a theme every programme has (it says
                            nothing), 1 for one only A and B could share
wording                     ``TEXT_POINTS`` (1) × the mean, over both directions, of Whoosh's
                            ``more_like`` score of one programme under the other's key terms
                            ÷ the other's own score under them (0 to 1)
==========================  ========================================================

A programme is listed when its score reaches ``THRESHOLD`` *and* it has a reason to show (same
region, a country, or a theme not held by every programme): the wording alone never lists one.
When the wording is very close (``WORDING_REASON``), the page says so too (« Description proche »).

Figures on the real corpus (six programmes, schema 5; ``flask --app search_app similar`` prints them
for the live index). Themes held by all six (« Renforcement des capacités », « Aide à la réintégration »)
weigh 0, those of five (« Gouvernance des migrations », « Protection et aide au retour volontaire »)
0.10, those of three (« Données migratoires », « Information et sensibilisation ») 0.39; no two
programmes share a country; only Afghanistan and Bangladesh share a region::

                 AFG    AUS    ACO    AEC    BGD    MENA
    AFG            -    0.36   0.92   0.98   1.50   0.57
    AUS          0.36     -    0.69   0.72   0.39   0.69
    ACO          0.92   0.69     -    1.85   0.93   1.07
    AEC          0.98   0.72   1.85     -    0.91   1.20
    BGD          1.50   0.39   0.93   0.91     -    0.49
    MENA         0.57   0.69   1.07   1.20   0.49     -

(AFG Afghanistan RADA, AUS Afrique australe action pilote, ACO Afrique centrale et de l’Ouest, AEC
Afrique de l’Est et Corne de l’Afrique, BGD Bangladesh, MENA Moyen-Orient et Afrique du Nord.) The
pairs fall in two groups with nothing between 0.72 and 0.91. At most 0.72: the pairs whose only common
ground is a theme five or six programmes have (the Afrique australe pilot action with every other,
Moyen-Orient with Afghanistan and Bangladesh): nothing meaningful. From 0.91: the two Asian
reintegration projects (same region, 1.50), the three joint initiatives with each other (the same
initiative, worded alike: wording 0.86 to 0.99), and each joint initiative of Africa's west and east with
the Asian projects (data or awareness themes, held by half the corpus). ``THRESHOLD`` = 0.8 sits in the
middle of the gap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from whoosh import query as whoosh_query

from indexer.geography import GLOBAL
from indexer.records import Programme
from indexer.schema import CONTENT_FIELD
from indexer.slugs import slugify
from search_app import docsets
from search_app.docsets import DocSet
from search_app.index_state import GenerationState

REGION_POINTS = 1.0
COUNTRY_POINTS = 1.0
COUNTRY_CAP = 3
TEXT_POINTS = 1.0
THRESHOLD = 0.8
SIMILAR_LIMIT = 5
#: Key terms of the page's programme that make its wording (as Whoosh's more_like uses).
KEY_TERMS = 12
#: Documents scored for wording; the others count 0 there (their score is below these anyway).
TEXT_CANDIDATES = 200
#: Candidates whose own key terms are looked up too (about 6 ms each), the most likely first.
REVERSE_CANDIDATES = 20
#: Wording from which « Description proche » is shown (only the joint initiatives, 0.86 to 0.99).
WORDING_REASON = 0.75


@dataclass(frozen=True)
class SimilarProgramme:
    """Another programme above the threshold, with what it shares with the page's programme."""

    id: str
    title: str
    region: str
    score: float
    same_region: str  # the region's name when it is the same, else ""
    countries: tuple[str, ...]  # countries of both, in the page's order
    themes: tuple[str, ...]  # themes of both that not every programme has, rarest first
    wording: float  # 0 to 1, see the module docstring

    @property
    def close_wording(self) -> bool:
        """Whether the descriptions are worded alike enough to say so."""
        return self.wording >= WORDING_REASON

    def as_json(self) -> dict[str, object]:
        """The JSON form (API)."""
        return {
            "id": self.id,
            "title": self.title,
            "region": self.region,
            "score": round(self.score, 3),
            "reasons": {
                "region": self.same_region,
                "countries": list(self.countries),
                "themes": list(self.themes),
                "close_wording": self.close_wording,
            },
        }


@dataclass(frozen=True)
class _Points:
    """Every document's points from the page's programme, and the document sets its reasons are read from."""

    shared: np.ndarray  # region, countries and themes
    wording: np.ndarray  # the page's key terms only (one direction)
    region: DocSet
    countries: dict[str, DocSet]
    themes: dict[str, tuple[float, DocSet]]

    def reasons(self) -> DocSet:
        """Documents with something to show: same region, a country, a theme not every programme has."""
        sets = [self.region, *self.countries.values(), *(docs for rarity_, docs in self.themes.values() if rarity_)]
        return docsets.union(sets, len(self.shared))


def similar_programmes(state: GenerationState, docnum: int, record: Programme) -> list[SimilarProgramme]:
    """At most ``SIMILAR_LIMIT`` programmes similar to ``record`` (document ``docnum``), best first
    (ties by title): see the module docstring for the score and the threshold."""
    points = _points(state, docnum, record)
    found = []
    for other, other_record in _candidates(state, docnum, points):
        back = wording(state, other, other_record, len(points.shared))[docnum]
        words = (float(points.wording[other]) + float(back)) / 2
        score = float(points.shared[other]) + TEXT_POINTS * words
        if score >= THRESHOLD:
            found.append(_similar(points, other_record, other, score, words))
    found.sort(key=lambda item: (-item.score, item.title.casefold()))
    return found[:SIMILAR_LIMIT]


def score_matrix(state: GenerationState) -> tuple[list[str], list[list[float]]]:
    """Every programme's id (in id order) and the score of every pair, as :func:`similar_programmes`
    computes it (the diagonal is 0): the figures the threshold was chosen on."""
    reader = state.searcher().reader()
    records = {number: state.programme(number) for number in reader.all_doc_ids()}
    order = sorted(records, key=lambda number: records[number].id)
    points = {number: _points(state, number, records[number]) for number in order}
    def pair(a: int, b: int) -> float:
        return float(points[a].shared[b] + TEXT_POINTS * (points[a].wording[b] + points[b].wording[a]) / 2)

    scores = [[0.0 if a == b else pair(a, b) for b in order] for a in order]
    return [records[number].id for number in order], scores


def _candidates(state: GenerationState, docnum: int, points: _Points) -> list[tuple[int, Programme]]:
    """Documents with a reason that could reach the threshold, the ``REVERSE_CANDIDATES`` most likely."""
    reachable = points.reasons() & (points.shared + TEXT_POINTS * (points.wording + 1) / 2 >= THRESHOLD)
    reachable[docnum] = False
    numbers = np.flatnonzero(reachable)
    likely = numbers[np.argsort(-(points.shared + points.wording)[numbers], kind="stable")][:REVERSE_CANDIDATES]
    return [(int(number), state.programme(int(number))) for number in likely]


def _points(state: GenerationState, docnum: int, record: Programme) -> _Points:
    size = state.size
    regions, known_countries, known_themes = (state.facets[name].values for name in ("region", "country", "theme"))
    codes = state.meta.get("country_codes", {})
    region_value = regions.get(slugify(record.region))
    region = region_value.members if region_value else docsets.nothing(size)
    countries = {
        name: known_countries[slugify(name)].members
        for name in record.countries
        if codes.get(name) != GLOBAL and slugify(name) in known_countries
    }
    shared = REGION_POINTS * region.astype(float)
    if countries:
        shared += COUNTRY_POINTS * np.minimum(np.sum(list(countries.values()), axis=0), COUNTRY_CAP)
    themes: dict[str, tuple[float, DocSet]] = {}
    for name in record.themes:
        value = known_themes.get(slugify(name))
        if value is not None:
            themes[name] = (rarity(value.size, size), value.members)
            shared += themes[name][0] * themes[name][1]
    return _Points(shared, wording(state, docnum, record, size), region, countries, themes)


def rarity(holders: int, documents: int) -> float:
    """How much sharing a theme ``holders`` of ``documents`` programmes have says: 0 when all have it.

    >>> rarity(6, 6), round(rarity(3, 6), 3), rarity(1, 6)
    (0.0, 0.387, 1.0)
    """
    if documents < 2 or holders < 1:
        return 0.0
    return max(0.0, math.log(documents / holders) / math.log(documents))


def wording(state: GenerationState, docnum: int, record: Programme, size: int) -> np.ndarray:
    """Every document's ``more_like`` score under the key terms of ``record``'s description and
    objectives, divided by the record's own (0 to 1)."""
    searcher = state.searcher()
    text = "\n".join([*record.description, *(o.text for o in record.objectives)])
    terms = searcher.key_terms_from_text(CONTENT_FIELD, text, numterms=KEY_TERMS)
    scores = np.zeros(size)
    if not terms:
        return scores
    query = whoosh_query.Or([whoosh_query.Term(CONTENT_FIELD, word, boost=weight) for word, weight in terms])
    hits = searcher.search(query, limit=TEXT_CANDIDATES)
    own = next((hit.score for hit in hits if hit.docnum == docnum), None) or max((h.score for h in hits), default=0)
    for hit in hits:
        scores[hit.docnum] = min(1.0, (hit.score or 0.0) / own) if own else 0.0
    return scores


def _similar(points: _Points, record: Programme, docnum: int, score: float, words: float) -> SimilarProgramme:
    themes = sorted(
        ((rarity_, name) for name, (rarity_, docs) in points.themes.items() if rarity_ > 0 and docs[docnum]),
        key=lambda item: -item[0],
    )
    return SimilarProgramme(
        id=record.id,
        title=record.title,
        region=record.region,
        score=score,
        same_region=record.region if points.region[docnum] else "",
        countries=tuple(name for name, docs in points.countries.items() if docs[docnum]),
        themes=tuple(name for _, name in themes),
        wording=words,
    )
