"""How well French word families survive the analyser, measured on Snowball's test vocabulary.

Snowball's French test data (``voc.txt``, 21,655 words, and ``output.txt``, the stem of
each) defines *families*: the words Snowball gives one stem. The vocabulary is indexed
as the product indexes a text (each word's index terms), with the lexicon a search of
that index would use. Then:

- a family is **kept together** when every member, typed as written, without accents
  or in capitals, has query terms meeting the index terms of every other member;
  a variant that gives no query term (a stop word) is set aside and counted, and so is
  a member that gives no index term;
- a **joined pair** is a pair of different families such that a word of one, typed as
  written, meets the index terms of a word of the other.

``python -m indexer.families [DIR]`` prints the figures.
"""

from __future__ import annotations

import sys
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from indexer.analysis import TermSpans, french_analyzer, french_words
from indexer.french import FrenchWords, Lexicon, fold

#: A copy of snowballstem/snowball-data's ``french/`` (with its licence files), kept with the tests.
DEFAULT_REFERENCE = Path(__file__).resolve().parent.parent / "tests" / "data" / "snowball-french"


@dataclass(frozen=True)
class FamilyReport:
    """The measurement's figures and the families that failed."""

    families: int
    kept: int
    joined_pairs: int
    set_aside_variants: int
    set_aside_members: int
    broken: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def kept_share(self) -> float:
        return self.kept / self.families if self.families else 0.0


def read_reference(directory: Path = DEFAULT_REFERENCE) -> list[tuple[str, str]]:
    """(word, Snowball stem) pairs of the test vocabulary."""
    words = (directory / "voc.txt").read_text(encoding="utf-8").split()
    stems = (directory / "output.txt").read_text(encoding="utf-8").split()
    if len(words) != len(stems):
        raise ValueError(f"{directory}: voc.txt and output.txt differ in length")
    return list(zip(words, stems, strict=True))


def strip_accents(word: str) -> str:
    """The word typed without accents (combining marks removed; œ stays a letter)."""
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


class _Analysis:
    """Index and query terms of single words through the product's analyser."""

    def __init__(self, protected: Iterable[str], vocabulary: Iterable[str]) -> None:
        analyzer = french_analyzer(protected)
        self.words: FrenchWords = TermSpans(analyzer).words
        self.spans = TermSpans(analyzer)
        self.index_terms = {word: frozenset(t for t, _ in self.spans.positions(word)) for word in vocabulary}
        lower = {fold(text) for word in self.index_terms for text, *_ in french_words(word) if text.islower()}
        all_terms = {term for terms in self.index_terms.values() for term in terms}
        self.lexicon = Lexicon.from_terms(all_terms, {w for w in self.words.protected if w in lower})

    def query_terms(self, text: str) -> frozenset[str]:
        found: set[str] = set()
        for word, *_ in french_words(text):
            found.update(self.words.query_terms(word, self.lexicon))
        return frozenset(found)


def measure(pairs: list[tuple[str, str]], protected: Iterable[str] = ()) -> FamilyReport:
    """Families kept together and pairs of families joined (see the module docstring)."""
    family_of = dict(pairs)
    members: dict[str, list[str]] = defaultdict(list)
    for word, stem in pairs:
        members[stem].append(word)
    analysis = _Analysis(protected, family_of)
    families = {stem: words for stem, words in members.items() if len(words) > 1}
    kept, set_aside_variants, set_aside_members, broken = 0, 0, 0, []
    for stem, words in families.items():
        targets = [analysis.index_terms[w] for w in words]
        set_aside_members += sum(1 for t in targets if not t)
        failed = []
        for position, word in enumerate(words):
            for variant in dict.fromkeys((word, strip_accents(word), word.upper())):
                found = analysis.query_terms(variant)
                if not found:
                    set_aside_variants += 1
                    continue
                if any(t and not (found & t) for i, t in enumerate(targets) if i != position):
                    failed.append(variant)
        if failed:
            broken.append((stem, tuple(dict.fromkeys(failed))))
        else:
            kept += 1
    by_term: dict[str, set[str]] = defaultdict(set)
    for word, terms in analysis.index_terms.items():
        for term in terms:
            by_term[term].add(family_of[word])
    joined = {
        frozenset((family_of[word], other))
        for word in family_of
        for term in analysis.query_terms(word)
        for other in by_term.get(term, ())
        if other != family_of[word]
    }
    return FamilyReport(len(families), kept, len(joined), set_aside_variants, set_aside_members, tuple(broken))


def main(argv: list[str]) -> int:
    """Print the figures for the corpus's protected names (``corpus/``) and without any."""
    from indexer.build import protected_vocabulary, read_acronyms
    from indexer.corpus import load_corpus

    directory = Path(argv[0]) if argv else DEFAULT_REFERENCE
    corpus = Path("corpus")
    protected = protected_vocabulary(load_corpus(corpus / "programmes"), read_acronyms(corpus / "acronyms.txt"))
    report = measure(read_reference(directory), protected)
    print(
        f"familles gardées ensemble : {report.kept} / {report.families} ({100 * report.kept_share:.2f} %)\n"
        f"paires de familles jointes : {report.joined_pairs}\n"
        f"variantes mises de côté (mots vides) : {report.set_aside_variants}, "
        f"membres sans terme : {report.set_aside_members}"
    )
    for stem, variants in report.broken:
        print(f"  {stem} : {', '.join(variants)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
