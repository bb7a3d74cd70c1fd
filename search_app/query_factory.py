"""The one way a query builder is made for a generation (results, programme page, export)."""

from __future__ import annotations

from search_app.index_state import GenerationState
from search_app.query_builder import QueryBuilder
from search_app.suggest import similar_words


def query_builder_for(state: GenerationState) -> QueryBuilder:
    """The one way a query is built on a generation (results, programme page, export alike):
    its analyser, reader, lexicon, synonyms, and typo expansion over its vocabulary."""
    return QueryBuilder(
        state.analyzer,
        state.searcher().reader(),
        lambda word, distance: similar_words(state, word, distance),
        state.synonym_table,
        state.lexicon,
    )
