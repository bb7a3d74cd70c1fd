"""What /aide says about the query language, read from the parser and the field table (never retyped)."""

from __future__ import annotations

from dataclasses import dataclass

from indexer.schema import QUERY_FIELDS
from search_app.query_parser import (
    MAX_DEPTH,
    MAX_FUZZY_DISTANCE,
    MAX_QUERY_CHARS,
    MAX_TERMS,
    OPERATOR_LABELS,
    OPERATORS,
)


@dataclass(frozen=True)
class SyntaxHelp:
    """The parser's field names, operator words and limits."""

    #: (« pays:Mali », [« country: », « countries: »]) for each field a query may name.
    field_queries: list[tuple[str, list[str]]]
    #: Operator words by meaning (« OR »: [« OU », « OR »]), French first.
    operators: dict[str, list[str]]
    max_chars: int
    max_terms: int
    max_depth: int
    max_fuzzy: int


def syntax_help() -> SyntaxHelp:
    """The query language as the parser understands it."""
    fields = [(f"{f.aliases[0]}:{f.example}", [f"{alias}:" for alias in f.aliases[1:]]) for f in QUERY_FIELDS]
    operators: dict[str, list[str]] = {}
    french = set(OPERATOR_LABELS.values())
    for word, meaning in sorted(OPERATORS.items(), key=lambda item: item[0] not in french):
        operators.setdefault(meaning, []).append(word)
    return SyntaxHelp(fields, operators, MAX_QUERY_CHARS, MAX_TERMS, MAX_DEPTH, MAX_FUZZY_DISTANCE)
