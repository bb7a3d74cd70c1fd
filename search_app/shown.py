"""What a result shows of a programme, prepared once per generation: its record, texts and their tokens.

A hit needs the stored record (read and unpickled from the index), the text of every field it
highlights, those texts' tokens and, when no word matched, the start of its description. None of it
depends on the query, so it is kept for the generation being served (a new generation starts
afresh); a search then only looks its terms up in the tokens (:func:`search_app.highlight.matches_in`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from markupsafe import Markup, escape

from indexer.records import Programme
from indexer.schema import FIELD_TABLE
from search_app import highlight
from search_app.highlight import Tokens
from search_app.index_state import GenerationState

#: Programmes prepared per generation (the oldest prepared goes first beyond it).
MAX_SHOWN = 4096
#: Fields a hit highlights: snippets and « Pourquoi ce résultat ? ».
SHOWN_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELD_TABLE if f.snippet or f.explain)


@dataclass(frozen=True)
class ShownProgramme:
    """One programme as results show it, before any query."""

    programme: Programme
    #: Field -> the text shown (objectives as the detail page shows them), for :data:`SHOWN_FIELDS`.
    texts: dict[str, str]
    tokens: dict[str, Tokens]
    region_tokens: Tokens
    country_tokens: tuple[Tokens, ...]
    #: The region and each country escaped, as shown when the query matched nothing in them.
    region_escaped: Markup
    countries_escaped: tuple[Markup, ...]
    #: The escaped start of the description, the snippet when nothing matched.
    lead: Markup

    @classmethod
    def of(cls, state: GenerationState, docnum: int) -> ShownProgramme:
        """Read document ``docnum`` and analyse what it shows."""
        programme = state.programme(docnum)
        spans = state.spans
        texts = {field.name: field.display_text(programme) for field in FIELD_TABLE if field.name in SHOWN_FIELDS}
        return cls(
            programme,
            texts,
            {name: Tokens.of(spans, text) for name, text in texts.items()},
            Tokens.of(spans, programme.region),
            tuple(Tokens.of(spans, name) for name in programme.countries),
            escape(programme.region),
            tuple(escape(name) for name in programme.countries),
            highlight.lead(texts["description"]),
        )


class ShownProgrammes:
    """The served generation's :class:`ShownProgramme` by document number, prepared on first use."""

    def __init__(self, size: int = MAX_SHOWN) -> None:
        self.size = size
        self._generation: str | None = None
        self._shown: dict[int, ShownProgramme] = {}
        self._lock = threading.Lock()

    def get(self, state: GenerationState, docnum: int) -> ShownProgramme:
        """Document ``docnum`` of ``state`` as results show it (generation names are unique)."""
        with self._lock:
            if state.name != self._generation:
                self._generation, self._shown = state.name, {}
            shown = self._shown.get(docnum)
        if shown is None:
            shown = ShownProgramme.of(state, docnum)
            with self._lock:
                if state.name == self._generation:
                    if len(self._shown) >= self.size:
                        self._shown.pop(next(iter(self._shown)))
                    self._shown[docnum] = shown
        return shown
