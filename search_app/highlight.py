"""Highlighted snippets and « Pourquoi ce résultat ? », from the analyser's offsets.

The stored text is analysed with the index's analyser (through
:class:`indexer.analysis.TermSpans`, the same chain without Token objects, so a query
« reintegration » marks « réintégration », « migrants » marks « migrant »),
matched tokens are located by their original character offsets, the best
windows are cut on word boundaries, and the text is escaped *before* the
``<mark>`` tags are added. This is the only place that produces markup from
corpus text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape

from indexer.analysis import fold
from search_app.query_builder import QueryTerms

MAX_FRAGMENT_CHARS = 300
MAX_FRAGMENTS = 2
CONTEXT_BEFORE = 60
ELLIPSIS = "…"
#: text -> (term, start, end, position) of its tokens, e.g. a cached TermSpans.
Spans = Callable[[str], list[tuple[str, int, int, int]]]


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
        for index in range(len(tokens) - size + 1):
            window = tokens[index : index + size]
            in_order = all(t[0] in alts for t, alts in zip(window, phrase, strict=True))
            if in_order and window[-1][3] - window[0][3] <= 3 * size:
                found += [Match(start, end, typed) for _, start, end, _ in window]
    return found


def _prefix_match_on_surface(surface: str, prefixes: dict[str, str]) -> str | None:
    folded = fold(surface)
    return next((word for prefix, word in prefixes.items() if folded.startswith(prefix)), None)


def _snap_start(text: str, position: int) -> int:
    if position <= 0:
        return 0
    space = text.rfind(" ", 0, position)
    return 0 if space < 0 else space + 1


def _snap_end(text: str, position: int) -> int:
    if position >= len(text):
        return len(text)
    space = text.rfind(" ", 0, position)
    return position if space <= 0 else space


def _windows(text: str, matches: list[Match]) -> list[tuple[int, int]]:
    """Up to MAX_FRAGMENTS non-overlapping windows, best (most distinct words) first, then in text order."""
    candidates = []
    for match in matches:
        start = _snap_start(text, max(0, match.start - CONTEXT_BEFORE))
        end = _snap_end(text, start + MAX_FRAGMENT_CHARS)
        end = max(end, min(match.end, len(text)))
        inside = [m for m in matches if m.start >= start and m.end <= end]
        candidates.append((len({m.typed for m in inside}), len(inside), -start, start, end))
    chosen: list[tuple[int, int]] = []
    for *_, start, end in sorted(candidates, reverse=True):
        if all(end <= s or start >= e for s, e in chosen):
            chosen.append((start, end))
        if len(chosen) == MAX_FRAGMENTS:
            break
    return sorted(chosen)


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


def snippet(spans_of: Spans, text: str, terms: QueryTerms) -> Markup | None:
    """The highlighted snippet of one field, or None when nothing in it matches."""
    matches = find_matches(spans_of, text, terms)
    if not matches:
        return None
    windows = _windows(text, matches)
    body = Markup(" " + ELLIPSIS + " ").join(_marked(text, start, end, matches) for start, end in windows)
    prefix = ELLIPSIS + " " if windows[0][0] > 0 else ""
    suffix = " " + ELLIPSIS if windows[-1][1] < len(text) else ""
    return Markup("%s%s%s") % (prefix, body, suffix)


def mark_all(spans_of: Spans, text: str, terms: QueryTerms) -> Markup:
    """The whole text, escaped, with every matched word marked."""
    return _marked(text, 0, len(text), find_matches(spans_of, text, terms))


def lead(text: str) -> Markup:
    """The escaped start of a text, cut on a word boundary (when no word matched in it)."""
    end = _snap_end(text, MAX_FRAGMENT_CHARS)
    return escape(text[:end]) + (Markup(" " + ELLIPSIS) if end < len(text) else Markup(""))


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
