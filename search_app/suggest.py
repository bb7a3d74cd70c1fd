"""Spelling suggestions and autocomplete, from the generation's vocabulary.

The vocabulary maps each folded word of the corpus to its most frequent written
form, so suggestions come back with their accents (« réintégration »).
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from indexer.analysis import fold
from search_app.index_state import GenerationState

MAX_WORD_SUGGESTIONS = 6
MAX_TITLE_SUGGESTIONS = 4


def max_distance(word: str) -> int:
    """Edits allowed for a word of this length (1 for short words, else 2)."""
    return 1 if len(word) <= 5 else 2


def similar_words(state: GenerationState, folded: str, distance: int) -> list[str]:
    """Folded vocabulary words within ``distance`` edits, closest and most frequent first."""
    found = process.extract(folded, state.vocabulary_keys, scorer=Levenshtein.distance, score_cutoff=distance, limit=50)
    found.sort(key=lambda item: (item[1], -state.vocabulary[item[0]][1], item[0]))
    return [word for word, _, _ in found]


def correction(state: GenerationState, typed: str) -> str | None:
    """The written form of the best correction of ``typed``, or None."""
    folded = fold(typed)
    if not folded.isalpha() or len(folded) < 3:
        return None
    candidates = [w for w in similar_words(state, folded, max_distance(folded)) if w != folded]
    return state.vocabulary[candidates[0]][0] if candidates else None


@dataclass(frozen=True)
class Completion:
    """One autocomplete entry: a word, or a programme title with its id."""

    text: str
    kind: str
    programme_id: str | None = None


def completions(state: GenerationState, prefix: str) -> list[Completion]:
    """Words, then programme titles, starting with ``prefix`` (accent-insensitive)."""
    folded = fold(prefix).strip()
    if not folded:
        return []
    last = folded.split()[-1]
    words = [Completion(surface, "word") for surface, _ in state.words_starting_with(last, MAX_WORD_SUGGESTIONS)]
    titles = [
        Completion(title, "programme", programme_id)
        for key, title, programme_id in state.titles
        if key.startswith(folded) or any(part.startswith(folded) for part in key.split())
    ]
    return words + titles[:MAX_TITLE_SUGGESTIONS]
