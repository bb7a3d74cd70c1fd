"""``python -m indexer analyze``: what the live generation's analyser makes of a text.

Like Elasticsearch's ``_analyze``: the terms the index stores for a text (index side),
or the terms a search for it looks up (query side). The analysis itself is
:mod:`indexer.analysis`; this module only opens the generation's own analyser and
returns its output as plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.analysis.analyzers import CompositeAnalyzer

from indexer.analysis import TermSpans, lexicon_of, query_positions, words_of
from indexer.french import Lexicon
from indexer.schema import CONTENT_FIELD
from indexer.store import IndexUnavailable, current_generation

Token = dict[str, object]


@dataclass(frozen=True)
class GenerationAnalyzer:
    """A generation's own analyser (unpickled from its schema) and, when asked for, its lexicon."""

    generation: str
    analyzer_version: object
    analyzer: CompositeAnalyzer
    lexicon: Lexicon | None = None


def open_analyzer(root: Path, *, with_lexicon: bool = False) -> GenerationAnalyzer:
    """The live generation's analyser; raise :class:`IndexUnavailable` if there is none or it is unreadable."""
    generation = current_generation(root)  # IndexUnavailable for a missing, unreadable or garbage pointer
    meta = generation.meta
    if not isinstance(meta, dict):
        raise IndexUnavailable(f"génération {generation.name} illisible : meta.json n’est pas un objet JSON")
    try:
        index = whoosh_index.open_dir(str(generation.path))
        analyzer = index.schema[CONTENT_FIELD].analyzer
        words_of(analyzer)  # a French analyser built by french_analyzer(), or ValueError
        lexicon = None
        if with_lexicon:
            with index.reader() as reader:
                lexicon = lexicon_of(reader, CONTENT_FIELD, meta.get("ordinary_names", []))
    except Exception as error:  # any failure to read the files means the index is unusable
        raise IndexUnavailable(f"index « {generation.name} » illisible", str(error)) from error
    return GenerationAnalyzer(generation.name, meta.get("analyzer_version"), analyzer, lexicon)


def index_terms(analyzer: CompositeAnalyzer, text: str) -> list[str]:
    """The terms the index stores for ``text``, joined compound forms included, in position order."""
    return [term for term, _ in TermSpans(analyzer).positions(text)]


def index_tokens(analyzer: CompositeAnalyzer, text: str) -> list[Token]:
    """The index tokens of ``text`` with their character offsets and whether each is a joined compound.

    Through the Whoosh chain, which gives offsets: the same terms and positions as :func:`index_terms`.
    """
    return [
        {
            "term": t.text,
            "start": t.startchar,
            "end": t.endchar,
            "position": t.pos,
            "joined": getattr(t, "joined", False),  # set by FrenchTokenizer, unknown to Token's stub
        }
        for t in analyzer(text, positions=True, chars=True)
    ]


def query_terms(analyzer: CompositeAnalyzer, text: str, lexicon: Lexicon | None) -> list[str]:
    """Every term a search for ``text`` looks up: all alternatives of each word, word by word."""
    return [term for alternatives, _ in query_positions(analyzer, text, lexicon) for term in alternatives]


def query_tokens(analyzer: CompositeAnalyzer, text: str, lexicon: Lexicon | None) -> list[Token]:
    """The alternatives a search for ``text`` looks up at each position (stop words give none)."""
    return [
        {"position": position, "alternatives": list(alternatives)}
        for alternatives, position in query_positions(analyzer, text, lexicon)
    ]
