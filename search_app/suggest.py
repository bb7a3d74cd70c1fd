"""Spelling suggestions and autocomplete, from the generation's vocabulary.

The vocabulary maps each folded word of the corpus (stop words left out) to its usual
written form, so suggestions come back with their accents and case (« réintégration »,
« Sénégal », « OIM »). Autocomplete also offers the generation's country and region
names, a multi-word name as one completion (« Côte d’Ivoire »).
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from indexer.analysis import fold, french_words
from indexer.french import fold_word
from search_app.index_state import GenerationState

MAX_WORD_SUGGESTIONS = 6
MAX_TITLE_SUGGESTIONS = 4
MAX_NAME_SUGGESTIONS = 4
#: Typed words looked at for a multi-word name (the corpus's longest region name has 7).
MAX_NAME_WORDS = 8


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
    """One autocomplete entry: a country or region name, a word, or a programme title with its id.

    ``replaces`` is how many of the typed words (from the end) the text takes the place of.
    """

    text: str
    kind: str
    programme_id: str | None = None
    replaces: int = 1


def completions(state: GenerationState, prefix: str) -> list[Completion]:
    """Country and region names, words (of the last typed word), then programme titles starting with
    ``prefix``, all accent- and case-insensitive; never a stop word."""
    folded = fold(prefix).strip()
    if not folded:
        return []
    places = place_completions(state, prefix)
    shown = {fold(place.text) for place in places}
    last = last_word(prefix)
    found = state.words_starting_with(last, MAX_WORD_SUGGESTIONS + len(places)) if last else []
    words = [Completion(surface, "word") for surface, _ in found if fold(surface) not in shown]
    titles = [
        Completion(title, "programme", programme_id)
        for key, title, programme_id in state.titles
        if key.startswith(folded) or any(part.startswith(folded) for part in key.split())
    ]
    return places + words[:MAX_WORD_SUGGESTIONS] + titles[:MAX_TITLE_SUGGESTIONS]


def last_word(prefix: str) -> str:
    """The folded vocabulary key the last typed word begins (elision dropped: « d’iv » -> ``iv``)."""
    words = prefix.split()
    parts = [text for text, *_, joined, _ in french_words(words[-1]) if not joined] if words else []
    return fold_word(parts[-1]) if parts else ""


def place_completions(state: GenerationState, prefix: str) -> list[Completion]:
    """Country and region names the end of ``prefix`` begins, as one completion each: the longest
    match first, a match at the start of the name before one inside it (« sud » -> « Afrique du Sud »)."""
    typed = prefix.split()[-MAX_NAME_WORDS:]
    ranked: dict[str, tuple] = {}
    for start in range(len(typed)):
        words = typed_words(" ".join(typed[start:]))
        for name, kind, count, name_words in state.place_names if words else ():
            at = match_position(name_words, words)
            if at is not None and name not in ranked:
                replaces = len(typed) - start
                ranked[name] = (-replaces, at > 0, -count, fold(name), Completion(name, kind, replaces=replaces))
    return [entry[-1] for entry in sorted(ranked.values())[:MAX_NAME_SUGGESTIONS]]


def typed_words(text: str) -> list[str]:
    """The folded words of typed text, leading stop words dropped (« de l’est » -> ``est``)."""
    words = GenerationState.name_words(text)
    while len(words) > 1 and not words[0][1]:
        words.pop(0)
    return [word for word, _ in words]


def match_position(name_words: list[tuple[str, bool]], typed: list[str]) -> int | None:
    """Where in the name the typed words begin (the last one as a prefix), at a word that is not a
    stop word; None if nowhere."""
    for at in range(len(name_words) - len(typed) + 1):
        here = [word for word, _ in name_words[at : at + len(typed)]]
        if name_words[at][1] and here[:-1] == typed[:-1] and here[-1].startswith(typed[-1]):
            return at
    return None
