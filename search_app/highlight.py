"""Highlighted snippets and « Pourquoi ce résultat ? », from the analyser's offsets.

The stored text is analysed with the index's analyser (through
:class:`indexer.analysis.TermSpans`, the same chain without Token objects, so a query
« reintegration » marks « réintégration », « migrants » marks « migrant »),
matched tokens are located by their original character offsets, the best
windows are cut on word boundaries, and the text is escaped *before* the
``<mark>`` tags are added. This is the only place that produces markup from
corpus text.

A snippet quotes: each fragment is a verbatim run of the text, and « … » stands
for at least MIN_CUT_WORDS cut words (closer fragments are merged, a shorter
head or tail is kept).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup, escape

from indexer.analysis import fold
from search_app.query_builder import QueryTerms

MAX_FRAGMENT_CHARS = 300
MAX_FRAGMENTS = 2
CONTEXT_BEFORE = 60
ELLIPSIS = "…"
#: « … » stands for at least this many cut words; closer fragments are merged.
MIN_CUT_WORDS = 4
#: A word of a snippet: a run between breaking spaces (a no-break space binds « : », « 10 000 »).
_WORD_RE = re.compile(r"(?:[^\s]|[\u00a0\u202f\u2007])+")
_LETTER_RE = re.compile(r"\w")
#: text -> (term, start, end, position) of its tokens, e.g. a cached TermSpans.
Spans = Callable[[str], list[tuple[str, int, int, int]]]


@dataclass(frozen=True)
class _Words:
    """Where the words of a text start and end, and how many of the first i hold a letter or digit."""

    starts: list[int]
    ends: list[int]
    counted: list[int]

    @classmethod
    def of(cls, text: str) -> _Words:
        """The words of ``text`` (cached: the same hits come back across searches)."""
        return _words_of(text)

    def between(self, first: int, last: int) -> int:
        """Real words (not lone punctuation) among words ``first`` to ``last`` (exclusive)."""
        return self.counted[last] - self.counted[first]


@lru_cache(maxsize=4096)
def _words_of(text: str) -> _Words:
    runs = list(_WORD_RE.finditer(text))
    counted = [0]
    for run in runs:
        counted.append(counted[-1] + bool(_LETTER_RE.search(run.group())))
    return _Words([r.start() for r in runs], [r.end() for r in runs], counted)


@dataclass(frozen=True)
class Match:
    """A matched span of the original text and the typed word it answers."""

    start: int
    end: int
    typed: str


@dataclass(frozen=True)
class Tokens:
    """A text's tokens (term, start, end, position) and, per term, the indexes of its tokens in text order.

    They depend on the text and the analyser only: a caller showing the same text for many queries
    keeps them (:mod:`search_app.shown`).
    """

    tokens: list[tuple[str, int, int, int]]
    where: dict[str, list[int]]

    @classmethod
    def of(cls, spans_of: Spans, text: str) -> Tokens:
        """The tokens ``spans_of`` gives for ``text``, indexed by term."""
        tokens = spans_of(text)
        where: dict[str, list[int]] = {}
        for index, token in enumerate(tokens):
            where.setdefault(token[0], []).append(index)
        return cls(tokens, where)


def find_matches(spans_of: Spans, text: str, terms: QueryTerms) -> list[Match]:
    """Spans of ``text`` matching a query term, prefix or phrase (in text order)."""
    if not terms.terms and not terms.prefixes and not terms.phrases:
        return []
    return matches_in(text, Tokens.of(spans_of, text), terms)


def matches_in(text: str, tokens: Tokens, terms: QueryTerms) -> list[Match]:
    """:func:`find_matches` over the tokens of ``text`` already analysed: only the query's terms are
    looked up, not every token."""
    if not terms.prefixes and not terms.phrases and terms.terms.keys().isdisjoint(tokens.where):
        return []  # most texts of a hit, most names: nothing to mark
    every = tokens.tokens
    spans = [Match(every[i][1], every[i][2], typed) for i, typed in _term_matches(tokens, text, terms)]
    if terms.phrases:
        spans += _phrase_matches(tokens, terms)
    if len(spans) < 2:
        return spans
    unique = {(m.start, m.end): m for m in spans}
    return [unique[key] for key in sorted(unique)]


def _term_matches(tokens: Tokens, text: str, terms: QueryTerms) -> list[tuple[int, str]]:
    """(token index, typed word) of the tokens matching a term or a prefix, in text order.

    Only the query's terms are looked up; with prefixes, each distinct term of the text is tried once,
    then (when its term does not start with one) each of its written forms.
    """
    found = [(index, typed) for term, typed in terms.terms.items() for index in tokens.where.get(term, ())]
    if terms.prefixes:
        for term, indexes in tokens.where.items():
            if term in terms.terms:
                continue
            typed = next((word for prefix, word in terms.prefixes.items() if term.startswith(prefix)), None)
            if typed is not None:
                found += [(index, typed) for index in indexes]
                continue
            for index in indexes:
                _, start, end, _ = tokens.tokens[index]
                on_surface = _prefix_match_on_surface(text[start:end], terms.prefixes)
                if on_surface is not None:
                    found.append((index, on_surface))
    found.sort()
    return found


def _phrase_matches(tokens: Tokens, terms: QueryTerms) -> list[Match]:
    """Spans of consecutive tokens equal to a multi-word query phrase (stop-word gaps allowed)."""
    found: list[Match] = []
    every = tokens.tokens
    for phrase, typed in terms.phrases:
        size = len(phrase)
        starts = sorted({index for term in phrase[0] for index in tokens.where.get(term, ())})
        for index in starts:
            if index > len(every) - size:
                break
            window = every[index : index + size]
            in_order = all(t[0] in alts for t, alts in zip(window, phrase, strict=True))
            if in_order and window[-1][3] - window[0][3] <= 3 * size:
                found += [Match(start, end, typed) for _, start, end, _ in window]
    return found


def _prefix_match_on_surface(surface: str, prefixes: dict[str, str]) -> str | None:
    folded = fold(surface)
    return next((word for prefix, word in prefixes.items() if folded.startswith(prefix)), None)


def _windows(words: _Words, matches: list[Match]) -> list[tuple[int, int]]:
    """Up to MAX_FRAGMENTS non-overlapping word ranges, best (most distinct words) first, then in text order."""
    candidates = []
    for match in matches:
        first = bisect_right(words.ends, match.start - CONTEXT_BEFORE)
        last = bisect_right(words.ends, words.starts[first] + MAX_FRAGMENT_CHARS)
        last = min(len(words.ends), max(last, bisect_left(words.ends, match.end) + 1))
        start, end = words.starts[first], words.ends[last - 1]
        inside = [m for m in matches if m.start >= start and m.end <= end]
        candidates.append((len({m.typed for m in inside}), len(inside), -first, first, last))
    chosen: list[tuple[int, int]] = []
    for *_, first, last in sorted(candidates, reverse=True):
        if all(last <= f or first >= la for f, la in chosen):
            chosen.append((first, last))
        if len(chosen) == MAX_FRAGMENTS:
            break
    return _spread(words, sorted(chosen))


def _spread(words: _Words, windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted word ranges widened over every cut of fewer than MIN_CUT_WORDS words (ends included)."""
    merged: list[tuple[int, int]] = []
    for first, last in windows:
        if merged and words.between(merged[-1][1], first) < MIN_CUT_WORDS:
            merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    if words.between(0, merged[0][0]) < MIN_CUT_WORDS:
        merged[0] = (0, merged[0][1])
    if words.between(merged[-1][1], len(words.ends)) < MIN_CUT_WORDS:
        merged[-1] = (merged[-1][0], len(words.ends))
    return merged


def _marked(text: str, start: int, end: int, matches: Iterable[Match]) -> Markup:
    """``text[start:end]`` escaped, each match inside it (not overlapping an earlier one) in ``<mark>``."""
    pieces: list[str] = []
    cursor = start
    for match in matches:
        if match.start < cursor or match.end > end:
            continue
        pieces += [escape(text[cursor : match.start]), "<mark>", escape(text[match.start : match.end]), "</mark>"]
        cursor = match.end
    pieces.append(escape(text[cursor:end]))
    return Markup("".join(pieces))


def _quoted(text: str, words: _Words, windows: list[tuple[int, int]], matches: list[Match]) -> Markup:
    """The verbatim runs of ``windows``, marked, with « … » wherever words were cut."""
    runs = [_marked(text, words.starts[first], words.ends[last - 1], matches) for first, last in windows]
    prefix = ELLIPSIS + " " if windows[0][0] > 0 else ""
    suffix = " " + ELLIPSIS if windows[-1][1] < len(words.ends) else ""
    return Markup(prefix + f" {ELLIPSIS} ".join(runs) + suffix)  # runs are escaped; « … » needs no escaping


def snippet(spans_of: Spans, text: str, terms: QueryTerms) -> Markup | None:
    """The highlighted snippet of one field, or None when nothing in it matches.

    Each fragment is a verbatim run of ``text``; « … » stands for at least MIN_CUT_WORDS cut words.
    """
    return snippet_of(text, find_matches(spans_of, text, terms))


def snippet_of(text: str, matches: list[Match]) -> Markup | None:
    """:func:`snippet` for matches already found in ``text`` (by :func:`find_matches`)."""
    if not matches:
        return None
    words = _Words.of(text)
    return _quoted(text, words, _windows(words, matches), matches)


def mark_all(spans_of: Spans, text: str, terms: QueryTerms) -> Markup:
    """The whole text, escaped, with every matched word marked."""
    return marked_all(text, find_matches(spans_of, text, terms))


def marked_all(text: str, matches: list[Match]) -> Markup:
    """:func:`mark_all` for matches already found in ``text``."""
    return _marked(text, 0, len(text), matches) if matches else escape(text)


def lead(text: str) -> Markup:
    """The escaped start of a text, cut on a word boundary (when no word matched in it)."""
    words = _Words.of(text)
    if not words.ends:
        return escape(text)
    last = max(1, bisect_right(words.ends, words.starts[0] + MAX_FRAGMENT_CHARS))
    return _quoted(text, words, _spread(words, [(0, last)]), [])


def explain(spans_of: Spans, texts: dict[str, str], terms: QueryTerms) -> dict[str, list[str]]:
    """Per field, « typed ≈ found » pairs (or just the word when identical), from the analyser."""
    return explanation({name: (text, find_matches(spans_of, text, terms)) for name, text in texts.items()})


def explanation(found: dict[str, tuple[str, list[Match]]]) -> dict[str, list[str]]:
    """:func:`explain` for matches already found: field -> (its text, the matches in it)."""
    explained: dict[str, list[str]] = {}
    for fieldname, (text, matches) in found.items():
        pairs: list[str] = []
        for match in matches:
            written = text[match.start : match.end]
            pair = written if written.lower() == match.typed.lower() else f"{match.typed} ≈ {written}"
            if pair not in pairs:
                pairs.append(pair)
        if pairs:
            explained[fieldname] = pairs
    return explained
