"""The French analysis chain, shared by indexing, querying and highlighting.

    FrenchTokenizer | FoldFilter | FrenchStopFilter | ProtectedStemFilter

Order matters. Folding (accents, case, ligatures, apostrophes) happens *before*
stop-word removal and stemming, so that a word and its accent-less or upper-case
form reach the stemmer as the same ASCII string and produce the same term
(« capacités » and « capacites » both give ``capac``). Stop words are checked
before stemming, so « sûres » (stem ``sur``) is not dropped as the stop word
« sur ». Tokens keep their original character offsets for highlighting.

Every class here is a top-level class: Whoosh pickles the analyser into the
index schema, so closures and lambdas are not allowed.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import lru_cache

from unidecode import unidecode
from whoosh.analysis import Filter, Token, Tokenizer
from whoosh.analysis.analyzers import CompositeAnalyzer
from whoosh.lang import stopwords_for_language

#: Bump when the analyser's output changes: indexes built with another version
#: are refused by the web app until rebuilt.
ANALYZER_VERSION = "fr-3"

_APOSTROPHES = "'’ʼ‘"
_HYPHENS = "-‐‑"
# A run of letters/digits; combining marks may follow any character.
_PART = r"[^\W_][\w\u0300-\u036f]*"
_TOKEN_RE = re.compile(
    r"\d{1,3}(?:[\u00a0\u202f]\d{3})+(?!\d)"  # 10 000 with no-break spaces
    r"|\d+(?:[.,]\d+)+"  # 10.7, 2,5
    rf"|{_PART}(?:[{_APOSTROPHES}]{_PART})*(?:[{_HYPHENS}]{_PART}(?:[{_APOSTROPHES}]{_PART})*)*"
)
_ELISION_RE = re.compile(
    rf"^(?:jusqu|lorsqu|puisqu|quoiqu|qu|[ldjnscmt])[{_APOSTROPHES}]",
    re.IGNORECASE,
)
_HYPHEN_SPLIT_RE = re.compile(f"[{_HYPHENS}]")
_NUMBER_SPACES_RE = re.compile(r"[\u00a0\u202f]")
_NOT_TERM_CHARS_RE = re.compile(r"[^a-z0-9.]")

#: Snowball's French stop-word list as shipped by Whoosh, folded to ASCII.
FRENCH_STOP_WORDS: frozenset[str] = frozenset(unidecode(word).lower() for word in stopwords_for_language("fr"))


def fold(text: str) -> str:
    """Fold a string to the ASCII lower-case form used for terms and keys.

    >>> fold("Réintégration d’Œuvre")
    "reintegration d'oeuvre"
    """
    text = unicodedata.normalize("NFC", text)
    return unidecode(text).lower().replace("`", "'")


def _new_token(
    source: Token, text: str, start: int, end: int, pos: int, joined: bool, original: str | None = None
) -> Token:
    """A fresh token (filters may keep references, so tokens are not reused).

    Built by filling ``__dict__`` directly: ``Token.__init__`` costs more than the
    rest of the tokenizer per word.
    """
    token = Token.__new__(Token)
    token.__dict__.update(source.__dict__)
    token.__dict__.update(
        text=text, original=original or text, boost=1.0, stopped=False, joined=joined,
        pos=pos, startchar=start, endchar=end,
    )
    return token


Word = tuple[str, int, int, int, bool, str]  # text, start, end, position, joined, original


def french_words(value: str, start_pos: int = 0, start_char: int = 0) -> Iterator[Word]:
    """The tokenizer's output as plain tuples: (text, start, end, position, joined, original).

    Elisions are stripped, « 10 000 » (no-break spaces) is one number, and a
    hyphenated compound gives its joined form (at the position of its first part,
    ``joined=True``) then its parts.
    """
    pos = start_pos
    for match in _TOKEN_RE.finditer(value):
        word, start, end = match.group(0), match.start() + start_char, match.end() + start_char
        if word.isalpha():  # the common case: no apostrophe, hyphen or digit
            yield word, start, end, pos, False, word
            pos += 1
            continue
        if word[0].isdigit() and _NUMBER_SPACES_RE.search(word):
            number = _NUMBER_SPACES_RE.sub("", word)
            yield number, start, end, pos, False, number
            pos += 1
            continue
        elision = _ELISION_RE.match(word)
        if elision and len(word) > elision.end():
            start += elision.end()
            word = word[elision.end() :]
        parts = _HYPHEN_SPLIT_RE.split(word)
        if len(parts) > 1:
            yield "".join(parts), start, start + len(word), pos, True, word
        for part in parts:
            yield part, start, start + len(part), pos, False, part
            start += len(part) + 1
            pos += 1


class FrenchTokenizer(Tokenizer):
    """Split French text into words, handling elision, compounds and numbers.

    ``l’initiative UE-OIM 10 000`` (no-break space) gives ``initiative``, ``UE``,
    ``UEOIM`` (joined form, same position as ``UE``), ``OIM``, ``10000``.
    « aujourd’hui » stays one word.
    """

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __call__(  # type: ignore[override]
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        template = Token(positions, chars, removestops=removestops, mode=mode)
        for text, start, end, pos, joined, original in french_words(value, start_pos, start_char):
            yield _new_token(template, text, start, end, pos, joined, original)


@lru_cache(maxsize=200_000)
def fold_term(word: str) -> str:
    """The folded term of one token (cached: a corpus has far fewer distinct words than tokens).

    A decimal comma becomes a point: « 2,5 » and « 2.5 » are one number, never « 25 ».
    """
    return _NOT_TERM_CHARS_RE.sub("", fold(word).replace(",", ".")).strip(".")


class FoldFilter(Filter):
    """Fold to ASCII lower case: accents, ligatures (œ → oe), apostrophes.

    Tokens that fold to nothing (emoji, symbols) are dropped.
    """

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        for token in tokens:
            text = fold_term(token.text)
            if text:
                token.text = text
                yield token


class FrenchStopFilter(Filter):
    """Drop French stop words (Snowball's list, folded), keeping position gaps."""

    def __init__(self, stoplist: Iterable[str] = FRENCH_STOP_WORDS) -> None:
        self.stops = frozenset(stoplist)

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        for token in tokens:
            if token.text in self.stops:
                if token.removestops:
                    continue
                token.stopped = True
            yield token


@lru_cache(maxsize=1)
def _french_stemmer() -> object:
    import snowballstemmer

    return snowballstemmer.stemmer("french")


@lru_cache(maxsize=200_000)
def snowball_stem(word: str) -> str:
    """Snowball French stem of a folded word (PyStemmer when installed; cached)."""
    return _french_stemmer().stemWord(word)  # type: ignore[attr-defined]


class ProtectedStemFilter(Filter):
    """Snowball French stemming, except for protected words and numbers.

    Protected words (country and region names, acronyms) are only folded, so
    « Mali » never meets « mal ».
    """

    is_morph = True

    def __init__(self, protected: Iterable[str] = ()) -> None:
        self.protected = frozenset(protected)
        self._stemmer = None

    def __getstate__(self) -> dict[str, object]:
        return {"protected": self.protected}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.protected = state["protected"]  # type: ignore[assignment]
        self._stemmer = None

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.protected == other.protected  # type: ignore[attr-defined]

    def stem(self, word: str) -> str:
        """Stem one folded word (protected words and numbers are kept)."""
        if word in self.protected or not word.isalpha():
            return word
        return snowball_stem(word)

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        for token in tokens:
            if not token.stopped:
                token.text = self.stem(token.text)
            yield token


def protected_terms(names: Iterable[str]) -> frozenset[str]:
    """Folded words of the given names (countries, regions, acronyms), minus stop words."""
    words: set[str] = set()
    for name in names:
        for token in (FrenchTokenizer() | FoldFilter())(name):
            if token.text not in FRENCH_STOP_WORDS:
                words.add(token.text)
    return frozenset(words)


def french_analyzer(protected: Iterable[str] = ()) -> CompositeAnalyzer:
    """Build the one analyser used for indexing, querying and highlighting."""
    chain = FrenchTokenizer() | FoldFilter() | FrenchStopFilter() | ProtectedStemFilter(protected)
    return chain


class TermSpans:
    """The analyser's terms with their character spans, computed without Token objects.

    Same result as running :func:`french_analyzer` (the same functions, composed
    in one loop with a per-word cache); used on the search path for highlighting.
    """

    def __init__(self, analyzer: CompositeAnalyzer) -> None:
        self.stops = next(i.stops for i in analyzer.items if isinstance(i, FrenchStopFilter))
        self.stemmer = stemmer_of(analyzer)
        self._terms: dict[str, str] = {}

    def term(self, word: str) -> str:
        """The term of one token text ("" when it folds to nothing or is a stop word)."""
        term = self._terms.get(word)
        if term is None:
            folded = fold_term(word)
            term = "" if not folded or folded in self.stops else self.stemmer.stem(folded)
            if len(self._terms) < 500_000:
                self._terms[word] = term
        return term

    def positions(self, text: str, start_pos: int = 0, forms: Counter[str] | None = None) -> Iterator[tuple[str, int]]:
        """(term, position) of every token the analyser indexes (joined forms included).

        ``forms``, when given, counts every written word (stop words included, joined forms not).
        Plain words take a fast path; the others go through :func:`french_words` one by one.
        """
        pos = start_pos
        known = self._terms
        for word in _TOKEN_RE.findall(text):
            if word.isalpha():
                if forms is not None:
                    forms[word] += 1
                term = known.get(word)
                if term is None:
                    term = self.term(word)
                if term:
                    yield term, pos
                pos += 1
                continue
            for part, _, _, part_pos, joined, original in french_words(word, pos):
                if not joined:
                    pos = part_pos + 1
                    if forms is not None:
                        forms[original] += 1
                term = self.term(part)
                if term:
                    yield term, part_pos

    def __call__(self, text: str) -> list[tuple[str, int, int, int]]:
        """(term, start, end, position) of every non-joined, non-stop token of ``text``."""
        spans = []
        for word, start, end, pos, joined, _ in french_words(text):
            if not joined:
                term = self.term(word)
                if term:
                    spans.append((term, start, end, pos))
        return spans


def stemmer_of(analyzer: CompositeAnalyzer) -> ProtectedStemFilter:
    """Return the stem filter of an analyser built by :func:`french_analyzer`."""
    for item in analyzer.items:
        if isinstance(item, ProtectedStemFilter):
            return item
    raise ValueError("not a French analyser built by french_analyzer()")
