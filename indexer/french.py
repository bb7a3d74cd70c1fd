"""The French analysis of one word: the single source of truth for every term.

:class:`FrenchWords` turns one written word (as the tokenizer cut it) into the term
the index stores, and a typed word into every term a search for it looks up. The
Whoosh filter, the indexing path and highlighting (:mod:`indexer.analysis`) are thin
adapters over these two methods.

The index term of a word (``term``):

1. format characters (soft hyphen, zero-width space or joiner) are dropped, Unicode NFC;
2. numbers are kept (« 10.7 »; a decimal comma is a point: « 2,5 » is ``2.5``);
3. « Est » and « EU » written so are names (:data:`~indexer.french_rules.CASED_NAMES`);
4. stop words are decided on the lower-case *accented* form (« sur » is one, « sûr » is not);
5. a protected name (country, capitalised region word, acronym) written with a capital is
   the upper-case folded name, e.g. ``MALI``: upper case is a namespace of its own, so a
   name never meets an ordinary stem (« Orient » is ``ORIENT``, « orientation » ``orient``);
6. any other word is stemmed by Snowball *with its accents* (its rules need them:
   « éclairée » and « éclairé » both give ``éclair``), irregular families are merged
   (:data:`~indexer.french_rules.STEM_OVERRIDES`: « vieille » meets « vieux »).

The terms a typed word looks up (``query_terms``): its own term and that term folded
(an accented word also finds a text written without accents); for a word typed
without accents, also the terms of its plausible accented spellings
(:data:`~indexer.french_rules.ACCENT_RESTORATIONS`) and every accented index term that
folds like one of them (:class:`Lexicon`). Accent-insensitivity is a property of
*matches*: « eclairees », « ÉCLAIRÉE » and « éclairé » find the same texts.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from unidecode import unidecode

from indexer.french_rules import (
    ACCENT_RESTORATIONS,
    CASED_NAMES,
    GENDER_RULES,
    STEM_OVERRIDES,
    STOP_WORDS,
    WORD_OVERRIDES,
)

#: Characters dropped inside words: soft hyphen, zero-width space/non-joiner/joiner,
#: word joiner, BOM (and every other Unicode format character, category Cf).
FORMAT_CHARS = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
#: Words shorter than this are taken as typed, accents included (« de » is not « dé », « ô » not « o »).
MIN_ACCENT_GUESS = 3
_NUMBER_RE = re.compile(r"\d")
_NOT_NUMBER_CHARS_RE = re.compile(r"[^0-9.]")
_FOLDED_STOP_WORDS: frozenset[str] = frozenset(unidecode(word) for word in STOP_WORDS)


def fold(text: str) -> str:
    """Fold a string to the ASCII lower-case form used for keys (accents, case, ligatures).

    >>> fold("Réintégration d’Œuvre")
    "reintegration d'oeuvre"
    """
    return _fold_short(text) if len(text) <= FOLD_CACHED_CHARS else _fold(text)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    return unidecode(text).lower().replace("`", "'")


#: Strings up to this length are folded once per process: names, facet values, words and titles come
#: back at every request (a results page folds each facet value to sort it), and unidecode is slow.
FOLD_CACHED_CHARS = 100
_fold_short = lru_cache(maxsize=16384)(_fold)


def fold_word(word: str) -> str:
    """A written word folded to the key suggestions use: ASCII letters and digits only (« d’Ivoire » -> ``divoire``)."""
    return "".join(c for c in fold(clean_word(word)) if c.isalnum())


def clean_word(word: str) -> str:
    """NFC, without format characters (« réinté\\u00adgration » is « réintégration »)."""
    if word.isascii():
        return word
    word = unicodedata.normalize("NFC", word)
    return "".join(c for c in word if unicodedata.category(c) != "Cf")


def number_term(word: str) -> str:
    """The term of a number: digits and one decimal point (« 2,5 » -> ``2.5``, « 10 000 » -> ``10000``)."""
    return _NOT_NUMBER_CHARS_RE.sub("", unidecode(word).replace(",", ".")).strip(".")


def is_stop_word(lower: str, folded: str) -> bool:
    """A stop word as written (accented form), or written without accents like one (« meme », « etait »)."""
    return lower in STOP_WORDS or (lower == folded and folded in _FOLDED_STOP_WORDS)


@lru_cache(maxsize=1)
def _stemmer() -> Any:  # snowballstemmer ships no types
    import snowballstemmer

    return snowballstemmer.stemmer("french")


@lru_cache(maxsize=300_000)
def family_stem(lower: str) -> str:
    """Snowball's stem of a lower-case word (accents kept), with irregular families merged."""
    lower = WORD_OVERRIDES.get(lower, lower)
    stem: str = _stemmer().stemWord(lower)
    stem = STEM_OVERRIDES.get(stem) or STEM_OVERRIDES.get(unidecode(stem), stem)
    for pattern, replacement in GENDER_RULES:
        if pattern.search(stem):
            return pattern.sub(replacement, stem)
    return stem


def restorations(folded: str) -> list[str]:
    """Plausible accented spellings of a word typed without accents (« eclairee » -> « eclairée »)."""
    return [
        folded[: -len(ending)] + accented
        for ending, accented in ACCENT_RESTORATIONS
        if folded.endswith(ending) and len(folded) > len(ending) + 1
    ]


@dataclass
class Lexicon:
    """What a search knows of the index it looks in.

    ``accented``: folded key -> the accented index terms folding to it (``reintegr`` ->
    ``réintegr``); ``ordinary_names``: protected names the corpus also writes in lower case as
    ordinary words (« moyen » in « au moyen de »), so a search for them looks up both.
    """

    accented: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ordinary_names: frozenset[str] = frozenset()
    _keys: list[str] | None = field(default=None, repr=False, compare=False)

    def with_prefix(self, prefix: str) -> list[str]:
        """The accented terms whose folded form starts with the folded ``prefix``."""
        if self._keys is None:
            self._keys = sorted(self.accented)
        found: list[str] = []
        for key in self._keys[bisect.bisect_left(self._keys, prefix) :]:
            if not key.startswith(prefix):
                break
            found += self.accented[key]
        return found

    @classmethod
    def from_terms(cls, terms: Iterable[str], ordinary_names: Iterable[str] = ()) -> Lexicon:
        """Index the accented terms among ``terms`` by their folded form."""
        grouped: dict[str, list[str]] = {}
        for term in terms:
            if not term.isascii():
                grouped.setdefault(unidecode(term), []).append(term)
        return cls({key: tuple(sorted(found)) for key, found in grouped.items()}, frozenset(ordinary_names))


class FrenchWords:
    """The per-word analysis for one corpus (its protected names): see the module docstring."""

    def __init__(self, protected: Iterable[str] = ()) -> None:
        self.protected = frozenset(protected)
        self._terms: dict[str, str] = {}

    def __getstate__(self) -> dict[str, object]:
        return {"protected": self.protected}

    def __setstate__(self, state: dict[str, object]) -> None:
        protected = state["protected"]
        self.protected = protected if isinstance(protected, frozenset) else frozenset()
        self._terms = {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FrenchWords) and self.protected == other.protected

    def __hash__(self) -> int:
        return hash(self.protected)

    def term(self, word: str) -> str:
        """The index term of one written word ("" for a stop word or a word with no letter or digit).

        >>> FrenchWords({"mali"}).term("Mali"), FrenchWords().term("éclairées")
        ('MALI', 'éclair')
        """
        term = self._terms.get(word)
        if term is None:
            term = self._term(word)
            if len(self._terms) < 500_000:
                self._terms[word] = term
        return term

    def _term(self, word: str) -> str:
        word = clean_word(word)
        if not word:
            return ""
        if _NUMBER_RE.search(word):
            return number_term(word) if word[0].isdigit() else self._ordinary(word.lower())
        name = CASED_NAMES.get(word)
        if name is not None:
            return name.upper()
        lower = word.lower()
        folded = unidecode(lower)
        if is_stop_word(lower, folded):
            return ""
        if folded in self.protected and word[0].isupper():
            return folded.upper()
        return self._ordinary(lower)

    @staticmethod
    def _ordinary(lower: str) -> str:
        if not lower.isalpha():
            return "".join(c for c in unidecode(lower) if c.isalnum())
        return family_stem(lower)

    def query_terms(self, word: str, lexicon: Lexicon | None = None) -> tuple[str, ...]:
        """Every term a search for the typed ``word`` looks up, its own term first (() for a stop word)."""
        word = clean_word(word)
        if not word:
            return ()
        if _NUMBER_RE.search(word) or word in CASED_NAMES:
            term = self.term(word)
            return (term,) if term else ()
        lower = word.lower()
        folded = unidecode(lower)
        if is_stop_word(lower, folded):
            return ()
        lexicon = lexicon or Lexicon()
        found: list[str] = []
        if folded in self.protected:
            found.append(folded.upper())
            if folded not in lexicon.ordinary_names:
                return tuple(found)
        own = self._ordinary(lower)
        found += [own, unidecode(own)] if len(folded) >= MIN_ACCENT_GUESS else [own]
        if lower == folded and len(folded) >= MIN_ACCENT_GUESS:  # typed without accents: accented spellings too
            found += [self._ordinary(spelling) for spelling in restorations(folded)]
            for key in {unidecode(term) for term in found}:
                found += lexicon.accented.get(key, ())
        return tuple(dict.fromkeys(term for term in found if term))

    def neighbour_terms(self, word: str, lexicon: Lexicon | None = None) -> tuple[str, ...]:
        """The terms of the word's plural or singular, feminine or masculine spellings.

        For a form the index does not hold at all: Snowball leaves some numbers apart
        (« attendu » is ``attendu``, « attendus » ``attendus``), so a search for a missing form
        tries its neighbours (« attendus », « attendue », « attendues »).
        """
        lower = clean_word(word).lower()
        if len(lower) < MIN_ACCENT_GUESS or not lower.isalpha():
            return ()
        if lower.endswith(("s", "x")):
            spellings = [lower[:-1]]
        elif lower.endswith("e"):
            spellings = [lower + "s", lower[:-1]]
        else:
            spellings = [lower + "s", lower + "e", lower + "es"]
        own = set(self.query_terms(word, lexicon))
        found = (term for spelling in spellings for term in self.query_terms(spelling, lexicon))
        return tuple(term for term in dict.fromkeys(found) if term not in own)

