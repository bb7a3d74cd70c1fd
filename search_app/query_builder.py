"""Turn a parsed query tree into Whoosh queries, through the index's own per-word analysis.

Pure functions over the tree and what is injected: the analyser, the terms the index holds (any
:class:`IndexTerms`: a Whoosh reader, or a table in a test), how to find words close to a typo, the
synonym groups and the lexicon of accented terms; nothing here opens an index. Each typed word becomes
every term it may stand for (:meth:`indexer.french.FrenchWords.query_terms`: its own
term, its accent-less and accented spellings), kept when the index holds them; a
phrase becomes the phrases of those alternatives. Also collects what highlighting
needs: the terms, prefixes and phrases each typed word stands for.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from whoosh import query as wq
from whoosh.analysis.analyzers import CompositeAnalyzer

from indexer.analysis import query_positions, query_words, words_of
from indexer.french import Lexicon, fold
from indexer.schema import CONTENT_FIELD
from search_app.query_parser import And, Node, Not, Or, Phrase, Word

MAX_EXPANSIONS = 50
#: Phrases tried for one typed phrase whose words have several spellings in the index.
MAX_PHRASE_VARIANTS = 16

#: One position of a typed text: the index terms it may be.
Alternatives = tuple[str, ...]


class IndexTerms(Protocol):
    """The terms an index holds, as the builder asks about them (Whoosh's ``IndexReader`` is one)."""

    def doc_frequency(self, fieldname: str, text: str) -> int:
        """Documents holding ``text`` in ``fieldname`` (0: the index does not hold it)."""
        ...

    def expand_prefix(self, fieldname: str, prefix: str) -> Iterable[bytes]:
        """The field's terms starting with ``prefix``, UTF-8 encoded, in order."""
        ...


@dataclass
class QueryTerms:
    """Typed words and the index terms they became (for highlighting and explanations)."""

    terms: dict[str, str] = field(default_factory=dict)  # term -> typed word
    prefixes: dict[str, str] = field(default_factory=dict)  # folded prefix -> typed word
    phrases: list[tuple[tuple[frozenset[str], ...], str]] = field(default_factory=list)  # terms per position, typed
    stopped: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def has_positive(self) -> bool:
        """Whether any word, prefix or phrase must match (not only exclusions)."""
        return bool(self.terms or self.prefixes or self.phrases)

    def note(self, message: str) -> None:
        if message not in self.notices:
            self.notices.append(message)


@dataclass
class BuiltQuery:
    query: wq.Query
    terms: QueryTerms
    #: Content words of the relaxed query and how many of them a programme must hold (fallback only).
    relaxed: tuple[int, int] | None = None


class QueryBuilder:
    """Builds Whoosh queries for one generation: its analyser, its terms (``reader``), the typo
    expansion (``similar_words(word, distance)``), its synonym groups and its lexicon."""

    def __init__(
        self,
        analyzer: CompositeAnalyzer,
        reader: IndexTerms,
        similar_words: Callable[[str, int], list[str]] | None = None,
        synonyms: SynonymTable | None = None,
        lexicon: Lexicon | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.reader = reader
        self.similar_words = similar_words
        self.synonyms = synonyms or SynonymTable()
        self.lexicon = lexicon or Lexicon()
        self.words = words_of(analyzer)

    def build(self, tree: Node, mode: str = "and") -> BuiltQuery:
        """The Whoosh query for ``tree``; ``mode="or"`` relaxes an implicit top-level AND.

        Relaxed, a programme must hold at least half of the positive words and phrases
        (rounded up), and every exclusion still holds.
        """
        terms = QueryTerms()
        tree = self.synonyms.merge_runs(tree, self.analyzer, self.lexicon)
        if mode == "or" and isinstance(tree, And) and not tree.explicit:
            return self._relaxed(tree, terms)
        query = self._node(tree, terms) or wq.NullQuery
        return BuiltQuery(query=query, terms=terms)

    def _relaxed(self, tree: And, terms: QueryTerms) -> BuiltQuery:
        positives = [q for q in (self._node(c, terms) for c in tree.children if not isinstance(c, Not)) if q]
        excluded = [
            q.query
            for q in (self._node(c, terms) for c in tree.children if isinstance(c, Not))
            if isinstance(q, wq.Not)
        ]
        if not positives:
            return BuiltQuery(query=wq.NullQuery, terms=terms)
        needed = math.ceil(len(positives) / 2)
        base: wq.Query = wq.Or(positives, minmatch=needed) if len(positives) > 1 else positives[0]
        query = wq.AndNot(base, wq.Or(excluded)) if excluded else base
        return BuiltQuery(query=query, terms=terms, relaxed=(len(positives), needed))

    def _fields(self, node: Word | Phrase) -> tuple[str, ...]:
        return (node.field,) if node.field else (CONTENT_FIELD,)

    def _node(self, node: Node, terms: QueryTerms, positive: bool = True) -> wq.Query | None:
        if isinstance(node, Word):
            return self._word(node, terms, positive)
        if isinstance(node, Phrase):
            return self._text(node.text, self._fields(node), terms, positive)
        if isinstance(node, Not):
            inner = self._node(node.child, terms, positive=False)
            return wq.Not(inner) if inner is not None else None
        children = [q for q in (self._node(c, terms, positive) for c in node.children) if q is not None]
        if not children:
            return None
        if isinstance(node, Or):
            return children[0] if len(children) == 1 else wq.Or(children)
        required = [q for q in children if not isinstance(q, wq.Not)]
        excluded = [q.query for q in children if isinstance(q, wq.Not)]
        if not required:
            required = [wq.Every()]
        base = required[0] if len(required) == 1 else wq.And(required)
        return wq.AndNot(base, wq.Or(excluded)) if excluded else base

    def _word(self, node: Word, terms: QueryTerms, positive: bool) -> wq.Query | None:
        if node.prefix:
            return self._prefix(node, terms, positive)
        if node.fuzzy:
            return self._fuzzy(node, terms, positive)
        return self._text(node.text, self._fields(node), terms, positive)

    def _held(self, fields: tuple[str, ...], alternatives: Alternatives) -> Alternatives:
        return tuple(a for a in alternatives if any(self.reader.doc_frequency(f, a) for f in fields))

    def _present(self, fields: tuple[str, ...], word: str, alternatives: Alternatives) -> Alternatives:
        """The alternatives the index holds in one of ``fields``; when it holds none, the word's
        plural/singular neighbours it holds (« attendu » finds « attendus »); else the first one
        (it matches nothing)."""
        kept = self._held(fields, alternatives)
        if not kept:
            kept = self._held(fields, self.words.neighbour_terms(word, self.lexicon))
        return kept or alternatives[:1]

    def _text(self, text: str, fields: tuple[str, ...], terms: QueryTerms, positive: bool) -> wq.Query | None:
        words = query_words(self.analyzer, text, self.lexicon)
        if not words:
            terms.stopped.append(text)
            return None
        typed = [(alts, pos) for _, alts, pos in words]
        forms = [[(self._present(fields, word, alts), pos) for word, alts, pos in words]]
        group = self.synonyms.group_of(tuple(fold(alts[0]) for alts, _ in typed))
        if group is not None:
            own = tuple(fold(alts[0]) for alts, _ in typed)
            others = [f for f in group if f["terms"] and tuple(fold(t) for t in f["terms"]) != own]
            forms += [[((t,), p) for t, p in zip(f["terms"], f["positions"], strict=True)] for f in others]
            if positive and others:
                terms.note("Recherche élargie à\u00a0: " + ", ".join(f["text"] for f in others) + ".")
        if positive:
            for form in forms:
                if len(form) == 1:
                    for alternative in form[0][0]:
                        terms.terms.setdefault(alternative, text)
                else:
                    terms.phrases.append((tuple(frozenset(alts) for alts, _ in form), text))
        alternatives: list[wq.Query] = []
        for query in (q for form in forms for fieldname in fields for q in _form_queries(fieldname, form)):
            if query not in alternatives:  # a form found twice (« Egypt » as neighbour and synonym) scores once
                alternatives.append(query)
        return alternatives[0] if len(alternatives) == 1 else wq.Or(alternatives)

    def _expand(self, fields: tuple[str, ...], prefix: str) -> list[tuple[str, str]]:
        """Index terms starting with the folded ``prefix``: as typed, as names, and accented."""
        found: list[tuple[str, str]] = []
        for fieldname in fields:
            candidates = itertools.chain(
                (raw.decode("utf-8") for raw in self.reader.expand_prefix(fieldname, prefix)),
                (raw.decode("utf-8") for raw in self.reader.expand_prefix(fieldname, prefix.upper())),
                (t for t in self.lexicon.with_prefix(prefix) if self.reader.doc_frequency(fieldname, t)),
            )
            for term in candidates:
                found.append((fieldname, term))
                if len(found) > MAX_EXPANSIONS:
                    return found
        return found

    def _prefix(self, node: Word, terms: QueryTerms, positive: bool) -> wq.Query | None:
        folded = "".join(c for c in fold(node.text) if c.isalnum())
        if not folded:
            return None
        stems = [fold(t) for t in self.words.query_terms(folded, self.lexicon)[:1]]
        prefix = min([folded, *stems], key=len)
        expansions = list(dict.fromkeys(self._expand(self._fields(node), prefix)))
        if len(expansions) > MAX_EXPANSIONS:
            expansions = expansions[:MAX_EXPANSIONS]
            terms.note(f"Préfixe « {node.text}* » trop large : limité à {MAX_EXPANSIONS} termes.")
        if positive:
            terms.prefixes[prefix] = node.text + "*"
        if not expansions:
            return wq.NullQuery
        return wq.Or([wq.Term(fieldname, term) for fieldname, term in expansions])

    def _fuzzy(self, node: Word, terms: QueryTerms, positive: bool) -> wq.Query | None:
        folded = "".join(c for c in fold(node.text) if c.isalnum())
        if not folded:
            return None
        words = self.similar_words(folded, node.fuzzy or 1) if self.similar_words else [folded]
        fields = self._fields(node)
        found = {t for word in [folded, *words] for t in self.words.query_terms(word, self.lexicon)}
        stems = sorted(t for t in found if any(self.reader.doc_frequency(f, t) for f in fields)) or sorted(found)[:1]
        if len(stems) > MAX_EXPANSIONS:
            stems = stems[:MAX_EXPANSIONS]
            terms.note(f"Recherche approchée « {node.text}~ » limitée à {MAX_EXPANSIONS} termes.")
        if not stems:
            return None
        if positive:
            for stem in stems:
                terms.terms.setdefault(stem, node.text)
        return wq.Or([wq.Term(f, stem) for f in fields for stem in stems])


def _form_queries(fieldname: str, form: list[tuple[Alternatives, int]]) -> list[wq.Query]:
    """A term per alternative, or a phrase per combination of alternatives (stop-word gaps allowed)."""
    if len(form) == 1:
        return [wq.Term(fieldname, term) for term in form[0][0]]
    positions = [pos for _, pos in form]
    slop = max(b - a for a, b in itertools.pairwise(positions))
    combinations = itertools.islice(itertools.product(*(alts for alts, _ in form)), MAX_PHRASE_VARIANTS)
    return [wq.Phrase(fieldname, list(words), slop=slop) for words in combinations]


class SynonymTable:
    """Synonym groups (as analysed at build time), looked up by folded term sequence."""

    def __init__(self, groups: list[list[dict]] | None = None) -> None:
        self.groups = groups or []
        self.by_terms = {tuple(fold(t) for t in f["terms"]): g for g in self.groups for f in g if f["terms"]}
        self.longest = max((len(key) for key in self.by_terms), default=0)

    def group_of(self, terms: tuple[str, ...]) -> list[dict] | None:
        """The group one of whose forms analyses to ``terms`` (folded)."""
        return self.by_terms.get(terms)

    def merge_runs(self, tree: Node, analyzer: CompositeAnalyzer, lexicon: Lexicon | None = None) -> Node:
        """Turn consecutive plain words forming a multi-word synonym into one phrase."""
        if self.longest < 2 or not isinstance(tree, (And, Or)):
            return tree
        children = [self.merge_runs(c, analyzer, lexicon) for c in tree.children]
        if isinstance(tree, Or):
            return Or(tuple(children))
        merged: list[Node] = []
        index = 0
        while index < len(children):
            run = self._longest_run(children, index, analyzer, lexicon)
            if run > 1:
                words = [c for c in children[index : index + run] if isinstance(c, Word)]  # _longest_run: all Words
                merged.append(Phrase(" ".join(w.text for w in words)))
                index += run
            else:
                merged.append(children[index])
                index += 1
        return merged[0] if len(merged) == 1 else And(tuple(merged), explicit=tree.explicit)

    def _longest_run(
        self, children: list[Node], start: int, analyzer: CompositeAnalyzer, lexicon: Lexicon | None
    ) -> int:
        terms: list[str] = []
        best = 0
        for offset, child in enumerate(children[start:]):
            if not isinstance(child, Word) or child.field or child.prefix or child.fuzzy:
                break
            terms += [fold(alts[0]) for alts, _ in query_positions(analyzer, child.text, lexicon)]
            if len(terms) > self.longest:
                break
            if offset and tuple(terms) in self.by_terms:
                best = offset + 1
        return best
