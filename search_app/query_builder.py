"""Turn a parsed query tree into Whoosh queries, through the index's own analyser.

Pure functions over the tree and constants (fields, limits). Also collects
what highlighting needs: the analysed terms and prefixes each typed word
stands for.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from whoosh import query as wq
from whoosh.analysis.analyzers import CompositeAnalyzer
from whoosh.reading import IndexReader

from indexer.analysis import stemmer_of
from indexer.schema import CONTENT_FIELD
from search_app.query_parser import And, Node, Not, Or, Phrase, Word

MAX_EXPANSIONS = 50


@dataclass
class QueryTerms:
    """Typed words and the index terms they became (for highlighting and explanations)."""

    terms: dict[str, str] = field(default_factory=dict)  # term -> typed word
    prefixes: dict[str, str] = field(default_factory=dict)  # folded prefix -> typed word
    phrases: list[tuple[tuple[str, ...], str]] = field(default_factory=list)  # term sequence, typed text
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


def analysed_tokens(analyzer: CompositeAnalyzer, text: str) -> list[tuple[str, int, bool]]:
    """(term, position, joined) for each token of ``text`` in query mode."""
    return [(t.text, t.pos, bool(getattr(t, "joined", False))) for t in analyzer(text, positions=True, mode="query")]


class QueryBuilder:
    """Builds Whoosh queries for one generation (its analyser and reader)."""

    def __init__(
        self,
        analyzer: CompositeAnalyzer,
        reader: IndexReader,
        similar_words: Callable[[str, int], list[str]] | None = None,
        synonyms: SynonymTable | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.reader = reader
        self.similar_words = similar_words
        self.synonyms = synonyms or SynonymTable()
        self.stemmer = stemmer_of(analyzer)

    def build(self, tree: Node, mode: str = "and") -> BuiltQuery:
        """The Whoosh query for ``tree``; ``mode="or"`` relaxes the top-level AND."""
        terms = QueryTerms()
        tree = self.synonyms.merge_runs(tree, self.analyzer)
        if mode == "or" and isinstance(tree, And):
            tree = Or(tuple(c for c in tree.children if not isinstance(c, Not)) or tree.children)
        query = self._node(tree, terms) or wq.NullQuery
        return BuiltQuery(query=query, terms=terms)

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

    def _text(self, text: str, fields: tuple[str, ...], terms: QueryTerms, positive: bool) -> wq.Query | None:
        tokens = analysed_tokens(self.analyzer, text)
        if not tokens:
            terms.stopped.append(text)
            return None
        # Hyphenated words are indexed split (and joined): the split parts always match,
        # unless they are all stop words (« J-J », « d-l »): then the joined form is searched.
        split = [(term, pos) for term, pos, joined in tokens if not joined] or [(term, pos) for term, pos, _ in tokens]
        forms = [split]
        group = self.synonyms.group_of(tuple(term for term, _ in split))
        if group is not None:
            others = [f for f in group if tuple(f["terms"]) != tuple(t for t, _ in split) and f["terms"]]
            forms += [list(zip(f["terms"], f["positions"], strict=True)) for f in others]
            if positive:
                terms.note("Recherche élargie à : " + ", ".join(f["text"] for f in others) + ".")
        if positive:
            for form in forms:
                if len(form) == 1:
                    terms.terms.setdefault(form[0][0], text)
                else:
                    terms.phrases.append((tuple(term for term, _ in form), text))
        alternatives = [_sequence_query(fieldname, form) for form in forms for fieldname in fields]
        return alternatives[0] if len(alternatives) == 1 else wq.Or(alternatives)

    def _expand(self, fields: tuple[str, ...], candidates: list[str]) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for fieldname in fields:
            for prefix in candidates:
                for raw in self.reader.expand_prefix(fieldname, prefix):
                    term = raw.decode("utf-8") if isinstance(raw, bytes) else raw
                    found.append((fieldname, term))
                    if len(found) > MAX_EXPANSIONS:
                        return found
        return found

    def _prefix(self, node: Word, terms: QueryTerms, positive: bool) -> wq.Query | None:
        folded = "".join(t.text for t in _folded(self.analyzer, node.text))
        if not folded:
            return None
        candidates = sorted({folded, self.stemmer.stem(folded)}, key=len)
        expansions = self._expand(self._fields(node), candidates[:1])
        if len(expansions) > MAX_EXPANSIONS:
            expansions = expansions[:MAX_EXPANSIONS]
            terms.note(f"Préfixe « {node.text}* » trop large : limité à {MAX_EXPANSIONS} termes.")
        if positive:
            terms.prefixes[candidates[0]] = node.text + "*"
        if not expansions:
            return wq.NullQuery
        return wq.Or([wq.Term(fieldname, term) for fieldname, term in expansions])

    def _fuzzy(self, node: Word, terms: QueryTerms, positive: bool) -> wq.Query | None:
        folded = "".join(t.text for t in _folded(self.analyzer, node.text))
        if not folded:
            return None
        words = self.similar_words(folded, node.fuzzy or 1) if self.similar_words else [folded]
        stems = sorted({self.stemmer.stem(word) for word in [folded, *words]})
        if len(stems) > MAX_EXPANSIONS:
            stems = stems[:MAX_EXPANSIONS]
            terms.note(f"Recherche approchée « {node.text}~ » limitée à {MAX_EXPANSIONS} termes.")
        if positive:
            for stem in stems:
                terms.terms.setdefault(stem, node.text)
        return wq.Or([wq.Term(f, stem) for f in self._fields(node) for stem in stems])


def _sequence_query(fieldname: str, terms: list[tuple[str, int]]) -> wq.Query:
    """A term, or a phrase allowing the gaps stop words left between positions."""
    if len(terms) == 1:
        return wq.Term(fieldname, terms[0][0])
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(terms)]
    return wq.Phrase(fieldname, [term for term, _ in terms], slop=max(gaps))


class SynonymTable:
    """Synonym groups (as analysed at build time), looked up by term sequence."""

    def __init__(self, groups: list[list[dict]] | None = None) -> None:
        self.groups = groups or []
        self.by_terms = {tuple(f["terms"]): g for g in self.groups for f in g if f["terms"]}
        self.longest = max((len(key) for key in self.by_terms), default=0)

    def group_of(self, terms: tuple[str, ...]) -> list[dict] | None:
        """The group one of whose forms analyses to exactly ``terms``."""
        return self.by_terms.get(terms)

    def merge_runs(self, tree: Node, analyzer: CompositeAnalyzer) -> Node:
        """Turn consecutive plain words forming a multi-word synonym into one phrase."""
        if self.longest < 2 or not isinstance(tree, (And, Or)):
            return tree
        children = [self.merge_runs(c, analyzer) for c in tree.children]
        if isinstance(tree, Or):
            return Or(tuple(children))
        merged: list[Node] = []
        index = 0
        while index < len(children):
            run = self._longest_run(children, index, analyzer)
            if run > 1:
                merged.append(Phrase(" ".join(c.text for c in children[index : index + run])))  # type: ignore[union-attr]
                index += run
            else:
                merged.append(children[index])
                index += 1
        return merged[0] if len(merged) == 1 else And(tuple(merged))

    def _longest_run(self, children: list[Node], start: int, analyzer: CompositeAnalyzer) -> int:
        terms: list[str] = []
        best = 0
        for offset, child in enumerate(children[start:]):
            if not isinstance(child, Word) or child.field or child.prefix or child.fuzzy:
                break
            terms += [t for t, _, joined in analysed_tokens(analyzer, child.text) if not joined]
            if len(terms) > self.longest:
                break
            if offset and tuple(terms) in self.by_terms:
                best = offset + 1
        return best


def _folded(analyzer: CompositeAnalyzer, text: str) -> list:
    """Tokens of ``text`` folded but not stemmed (the chain's first two stages)."""
    tokenizer, fold_filter = analyzer.items[0], analyzer.items[1]
    return list(fold_filter(tokenizer(text)))
