"""The French analysis chain: the tokenizer, and thin adapters over :class:`~indexer.french.FrenchWords`.

    FrenchTokenizer | FrenchWordFilter

The tokenizer cuts text into words with their character offsets (elisions stripped,
hyphenated compounds given split and joined, numbers kept whole); every word then
goes through :meth:`FrenchWords.term`, the one per-word function (stop words, names,
Snowball stemming with accents, word families; see :mod:`indexer.french`). The Whoosh
filter (queries, ``more_like``), :class:`TermSpans` (indexing and highlighting) and
the query builder all call that function, so the chain exists once.

Every class here is a top-level class: Whoosh pickles the analyser into the
index schema, so closures and lambdas are not allowed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator

from whoosh.analysis import Filter, Token, Tokenizer
from whoosh.analysis.analyzers import CompositeAnalyzer
from whoosh.reading import IndexReader

from indexer.french import FORMAT_CHARS, FrenchWords, Lexicon, clean_word, fold, is_stop_word
from indexer.french_rules import NOUNS_AFTER_ELISION, STOP_WORDS

#: Bump when the analyser's output changes: indexes built with another version
#: are refused by the web app until rebuilt.
ANALYZER_VERSION = "fr-6"

#: Apostrophes read as one: typewriter, typographic, modifier letter (U+02BC), left quote
#: (U+2018), grave and acute accents used as apostrophes. Mapped one character to one, so
#: offsets into the original text stay exact.
_APOSTROPHES = "’ʼ‘`´"
_HYPHENS = "-‐‑"
# A run of letters/digits; combining marks and format characters may follow any character.
_PART = rf"[^\W_][\w\u0300-\u036f{FORMAT_CHARS}]*"
_TOKEN_RE = re.compile(
    r"\d{1,3}(?:[\u00a0\u202f]\d{3})+(?!\d)"  # 10 000 with no-break spaces
    r"|\d+(?:[.,]\d+)+"  # 10.7, 2,5
    rf"|{_PART}(?:'{_PART})*(?:[{_HYPHENS}]{_PART}(?:'{_PART})*)*"
)
_ELISION_RE = re.compile(r"^(?:jusqu|lorsqu|puisqu|quoiqu|qu|[ldjnscmt])'", re.IGNORECASE)
_HYPHEN_SPLIT_RE = re.compile(f"[{_HYPHENS}]")
#: « de l est » typed without the apostrophe: the space becomes one (same length, offsets kept).
_LONE_L_EST_RE = re.compile(r"(?<=\b[lL]) (?=[eE][sS][tT]\b)")
_L_EST_RE = re.compile(r"l est", re.IGNORECASE)  # a quick look before the exact pattern
_NUMBER_SPACES_RE = re.compile(r"[\u00a0\u202f]")

#: Snowball's French stop words as the analyser decides them (accented forms).
FRENCH_STOP_WORDS: frozenset[str] = STOP_WORDS


Word = tuple[str, int, int, int, bool, str]  # text, start, end, position, joined, original


def straight_apostrophes(text: str) -> str:
    """Every apostrophe of :data:`_APOSTROPHES` as « ' » (one character for one; ``str.replace``
    is many times faster than ``str.translate`` with a table)."""
    if text.isascii():
        return text.replace("`", "'")
    for odd in _APOSTROPHES:
        if odd in text:
            text = text.replace(odd, "'")
    return text


def east_after_lone_l(text: str) -> str:
    """« de l est » (apostrophe left out) written « de l'est »: one character for one, offsets kept."""
    return _LONE_L_EST_RE.sub("'", text) if _L_EST_RE.search(text) else text


def french_words(value: str, start_pos: int = 0, start_char: int = 0) -> Iterator[Word]:
    """The tokenizer's output as plain tuples: (text, start, end, position, joined, original).

    Elisions are stripped from every part of a word (« Côte-d’Ivoire » gives « Côte »,
    « Ivoire »), « 10 000 » (no-break spaces) is one number, and a hyphenated compound
    gives its joined form (at the position of its first part, ``joined=True``) then its parts.
    Offsets always point into ``value`` as given.
    """
    pos = start_pos
    value = east_after_lone_l(straight_apostrophes(value))
    for match in _TOKEN_RE.finditer(value):
        word, start, end = match.group(0), match.start() + start_char, match.end() + start_char
        if word.isalpha():  # the common case: no apostrophe, hyphen, digit or format character
            yield word, start, end, pos, False, word
            pos += 1
            continue
        if word[0].isdigit() and _NUMBER_SPACES_RE.search(word):
            number = _NUMBER_SPACES_RE.sub("", word)
            yield number, start, end, pos, False, number
            pos += 1
            continue
        parts: list[tuple[str, int]] = []  # (part without elision, its start)
        offset = start
        for part in _HYPHEN_SPLIT_RE.split(word):
            elision = _ELISION_RE.match(part)
            if elision and len(part) > elision.end():
                rest = part[elision.end() :]
                noun = NOUNS_AFTER_ELISION.get(rest, rest) if part[0] in "lL" else rest  # « l’est » is the East
                parts.append((noun, offset + elision.end()))
            elif part:
                parts.append((part, offset))
            offset += len(part) + 1
        if len(parts) > 1:
            first = parts[0][1]
            original = value[first - start_char : end - start_char]
            yield "".join(text for text, _ in parts), first, end, pos, True, original
        for text, part_start in parts:
            local = part_start - start_char
            yield text, part_start, part_start + len(text), pos, False, value[local : local + len(text)]
            pos += 1


class FrenchTokenizer(Tokenizer):
    """Split French text into words, handling elision, compounds and numbers.

    ``l’initiative UE-OIM 10 000`` (no-break space) gives ``initiative``, ``UE``,
    ``UEOIM`` (joined form, same position as ``UE``), ``OIM``, ``10000``.
    « aujourd’hui » stays one word.
    """

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __call__(  # noqa: PLR0913 (Whoosh's tokenizer interface)
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
        for text, start, end, pos, joined, original in french_words(value, start_pos, start_char):
            yield Token(  # a fresh token each time: filters may keep references
                positions, chars, removestops=removestops, mode=mode, text=text, original=original, boost=1.0,
                stopped=False, joined=joined, pos=pos, startchar=start, endchar=end,
            )


class FrenchWordFilter(Filter):
    """Each token's text becomes its index term (:meth:`FrenchWords.term`); stop words are
    dropped (or marked ``stopped`` when the caller keeps them), keeping position gaps."""

    is_morph = True

    def __init__(self, protected: Iterable[str] = ()) -> None:
        self.words = FrenchWords(protected)

    @property
    def protected(self) -> frozenset[str]:
        return self.words.protected

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FrenchWordFilter) and self.words == other.words

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:  # type: ignore[override]  # Whoosh filters take tokens; its stub says value
        term = self.words.term
        for token in tokens:
            text = term(token.text)
            if text:
                token.text = text
                yield token
            elif not token.removestops and is_stop_word(clean_word(token.text).lower(), fold(token.text)):
                token.stopped = True
                yield token


def protected_terms(names: Iterable[str]) -> frozenset[str]:
    """Folded words of country names, capitalised words of region names and acronyms, minus stop words.

    A word written in lower case in a name (« centrale » in « Afrique centrale ») is an
    ordinary word and stays searchable by its family (« central », « centraux »).
    """
    words: set[str] = set()
    for name in names:
        for text, *_rest in french_words(name):
            lower = clean_word(text).lower()
            if text[:1].isupper() and lower not in STOP_WORDS and text.isalpha():
                words.add(fold(lower))
    return frozenset(words)


def french_analyzer(protected: Iterable[str] = ()) -> CompositeAnalyzer:
    """Build the one analyser used for indexing, querying and highlighting."""
    return FrenchTokenizer() | FrenchWordFilter(protected)


def words_of(analyzer: CompositeAnalyzer) -> FrenchWords:
    """The per-word analysis of an analyser built by :func:`french_analyzer`."""
    for item in analyzer.items:
        if isinstance(item, FrenchWordFilter):
            return item.words
    raise ValueError("not a French analyser built by french_analyzer()")


def query_words(
    analyzer: CompositeAnalyzer, text: str, lexicon: Lexicon | None = None
) -> list[tuple[str, tuple[str, ...], int]]:
    """(word, alternatives, position) of each word of ``text`` a search looks up (stop words give none).

    Hyphenated words are looked up split (their parts are indexed); when every part is a
    stop word (« J-J »), the joined form is looked up instead.
    """
    words = words_of(analyzer)
    split: list[tuple[str, tuple[str, ...], int]] = []
    joined: list[tuple[str, tuple[str, ...], int]] = []
    for word, _, _, pos, is_joined, _ in french_words(text):
        found = words.query_terms(word, lexicon)
        if found:
            (joined if is_joined else split).append((word, found, pos))
    return split or joined


def query_positions(
    analyzer: CompositeAnalyzer, text: str, lexicon: Lexicon | None = None
) -> list[tuple[tuple[str, ...], int]]:
    """(alternatives, position) of each word of ``text`` a search looks up (see :func:`query_words`)."""
    return [(found, pos) for _, found, pos in query_words(analyzer, text, lexicon)]


def lexicon_of(reader: IndexReader, fieldname: str, ordinary_names: Iterable[str] = ()) -> Lexicon:
    """The :class:`Lexicon` of one field of an index: its accented terms by folded form."""
    accented = [raw.decode("utf-8") for raw in reader.lexicon(fieldname) if not raw.isascii()]
    return Lexicon.from_terms(accented, ordinary_names)


#: A word's tokens relative to the word: (text, start, end, position offset, joined, original).
WordParts = tuple[tuple[str, int, int, int, bool, str], ...]
#: Words with an apostrophe, hyphen or digit whose parts :class:`TermSpans` keeps.
MAX_CACHED_PARTS = 200_000


class TermSpans:
    """The analyser's terms with their character spans, computed without Token objects.

    The tokenizer's words through :meth:`FrenchWords.term` (cached per word): what
    :func:`french_analyzer` gives, used to index and to highlight. A plain word takes a
    fast path; any other word (« l'option », « UE-OIM », « 10.7 ») is cut by
    :func:`french_words` once and its parts are cached, as its tokens depend on it alone.
    """

    def __init__(self, analyzer: CompositeAnalyzer) -> None:
        self.words = words_of(analyzer)
        self.term = self.words.term
        self._parts: dict[str, WordParts] = {}

    def parts(self, word: str) -> WordParts:
        """The tokens of one non-plain word, relative to it (see :func:`french_words`)."""
        found = self._parts.get(word)
        if found is None:
            found = tuple(french_words(word))
            if len(self._parts) < MAX_CACHED_PARTS:
                self._parts[word] = found
        return found

    def positions(self, text: str, start_pos: int = 0, forms: Counter[str] | None = None) -> Iterator[tuple[str, int]]:
        """(term, position) of every token the analyser indexes (joined forms included).

        ``forms``, when given, counts every written word (stop words included, joined forms not).
        """
        pos = start_pos
        term_of = self.term
        for word in _TOKEN_RE.findall(east_after_lone_l(straight_apostrophes(text))):
            if word.isalpha():
                if forms is not None:
                    forms[word] += 1
                term = term_of(word)
                if term:
                    yield term, pos
                pos += 1
                continue
            base = pos
            for part, _, _, offset, joined, original in self.parts(word):
                if not joined:
                    pos = base + offset + 1
                    if forms is not None:
                        forms[original] += 1
                term = term_of(part)
                if term:
                    yield term, base + offset

    def __call__(self, text: str) -> list[tuple[str, int, int, int]]:
        """(term, start, end, position) of every non-joined, non-stop token of ``text``."""
        spans = []
        term_of = self.term
        pos = 0
        for match in _TOKEN_RE.finditer(east_after_lone_l(straight_apostrophes(text))):
            word = match.group()
            if word.isalpha():
                term = term_of(word)
                if term:
                    spans.append((term, match.start(), match.end(), pos))
                pos += 1
                continue
            base, at = pos, match.start()
            for part, start, end, offset, joined, _ in self.parts(word):
                if not joined:
                    pos = base + offset + 1
                    term = term_of(part)
                    if term:
                        spans.append((term, at + start, at + end, base + offset))
        return spans
