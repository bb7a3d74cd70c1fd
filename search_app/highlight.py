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


def find_matches(spans_of: Spans, text: str, terms: QueryTerms) -> list[Match]:
    """Spans of ``text`` matching a query term, prefix or phrase (in text order)."""
    if not terms.terms and not terms.prefixes and not terms.phrases:
        return []
    tokens = spans_of(text)
    spans: list[Match] = []
    for term, start, end, _ in tokens:
        typed = terms.terms.get(term)
        if typed is None and terms.prefixes:
            typed = next((word for prefix, word in terms.prefixes.items() if term.startswith(prefix)), None)
            if typed is None:
                typed = _prefix_match_on_surface(text[start:end], terms.prefixes)
        if typed is not None:
            spans.append(Match(start, end, typed))
    spans += _phrase_matches(tokens, terms)
    unique = {(m.start, m.end): m for m in spans}
    return [unique[key] for key in sorted(unique)]


def _phrase_matches(tokens: list[tuple[str, int, int, int]], terms: QueryTerms) -> list[Match]:
    """Spans of consecutive tokens equal to a multi-word query phrase (stop-word gaps allowed)."""
    found: list[Match] = []
    for phrase, typed in terms.phrases:
        size = len(phrase)
        first = phrase[0]
        for index in range(len(tokens) - size + 1):
            if tokens[index][0] not in first:
                continue
            window = tokens[index : index + size]
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
    pieces: list[str] = []
    cursor = start
    for match in matches:
        if match.start < cursor or match.end > end:
            continue
        pieces.append(escape(text[cursor : match.start]))
        pieces.append(Markup("<mark>%s</mark>") % text[match.start : match.end])
        cursor = match.end
    pieces.append(escape(text[cursor:end]))
    return Markup("").join(pieces)


def _quoted(text: str, words: _Words, windows: list[tuple[int, int]], matches: list[Match]) -> Markup:
    """The verbatim runs of ``windows``, marked, with « … » wherever words were cut."""
    runs = [_marked(text, words.starts[first], words.ends[last - 1], matches) for first, last in windows]
    prefix = ELLIPSIS + " " if windows[0][0] > 0 else ""
    suffix = " " + ELLIPSIS if windows[-1][1] < len(words.ends) else ""
    return Markup("%s%s%s") % (prefix, Markup(" " + ELLIPSIS + " ").join(runs), suffix)


def snippet(spans_of: Spans, text: str, terms: QueryTerms) -> Markup | None:
    """The highlighted snippet of one field, or None when nothing in it matches.

    Each fragment is a verbatim run of ``text``; « … » stands for at least MIN_CUT_WORDS cut words.
    """
    matches = find_matches(spans_of, text, terms)
    if not matches:
        return None
    words = _Words.of(text)
    return _quoted(text, words, _windows(words, matches), matches)


def mark_all(spans_of: Spans, text: str, terms: QueryTerms) -> Markup:
    """The whole text, escaped, with every matched word marked."""
    return _marked(text, 0, len(text), find_matches(spans_of, text, terms))


def lead(text: str) -> Markup:
    """The escaped start of a text, cut on a word boundary (when no word matched in it)."""
    words = _Words.of(text)
    if not words.ends:
        return escape(text)
    last = max(1, bisect_right(words.ends, words.starts[0] + MAX_FRAGMENT_CHARS))
    return _quoted(text, words, _spread(words, [(0, last)]), [])


def explain(spans_of: Spans, texts: dict[str, str], terms: QueryTerms) -> dict[str, list[str]]:
    """Per field, « typed ≈ found » pairs (or just the word when identical), from the analyser."""
    explanation: dict[str, list[str]] = {}
    for fieldname, text in texts.items():
        pairs: list[str] = []
        for match in find_matches(spans_of, text, terms):
            found = text[match.start : match.end]
            pair = found if found.lower() == match.typed.lower() else f"{match.typed} ≈ {found}"
            if pair not in pairs:
                pairs.append(pair)
        if pairs:
            explanation[fieldname] = pairs
    return explanation
