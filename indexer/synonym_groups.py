"""Synonym groups as the index reads them: every form through the analyser, clashes reported.

``synonyms.yaml``'s groups, then one group per corpus country (its English names) and
``english.yaml``'s, are analysed in that order; the build stores the result with each
generation and the query builder looks forms up by their folded terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import cast

from whoosh.analysis.analyzers import CompositeAnalyzer

from indexer.analysis import fold, french_analyzer
from indexer.corpus import CorpusError, CorpusProblem
from indexer.vocabularies import (
    GENERATED,
    SYNONYMS_NAME,
    FormGroup,
    country_groups,
    load_english,
    read_synonyms,
)


def vocabulary_groups(
    synonyms_file: Path, english_file: Path, codes: dict[str, str]
) -> tuple[list[FormGroup], list[FormGroup]]:
    """(``synonyms.yaml``'s groups, the English ones: a group per corpus country, then ``english.yaml``'s);
    CorpusError listing the problems of both files."""
    problems: list[CorpusProblem] = []
    written: list[FormGroup] = []
    english: list[FormGroup] = []
    try:
        written = read_synonyms(synonyms_file)
    except CorpusError as error:
        problems += error.problems
    try:
        vocabulary = load_english(english_file)
        english = [*country_groups(codes, vocabulary.aliases), *vocabulary.terms]
    except CorpusError as error:
        problems += error.problems
    if problems:
        raise CorpusError(problems)
    return written, english


def analysed_synonyms(
    groups: Sequence[tuple[str, ...] | FormGroup], protected: frozenset[str], source: str = SYNONYMS_NAME
) -> list[list[dict[str, object]]]:
    """Each synonym form with its terms and positions through the index's analyser.

    Groups are read in order (``synonyms.yaml``, the countries, ``english.yaml``): a form read like
    another of its group is left out; one read like a form of an earlier group, or made only of stop
    words, is a problem (file and line) if a file wrote it, and is left out if it was generated.
    Plain tuples of forms are reported against ``source``.
    """
    analyzer = french_analyzer(protected)
    owners: dict[tuple[str, ...], tuple[FormGroup, str]] = {}
    analysed: list[list[dict[str, object]]] = []
    problems: list[CorpusProblem] = []
    for group in (g if isinstance(g, FormGroup) else FormGroup(tuple(g), source) for g in groups):
        reported = len(problems)
        forms = _group_forms(analyzer, group, owners, problems)
        if len(forms) > 1:
            analysed.append(list(forms.values()))
            owners.update((key, (group, str(form["text"]))) for key, form in forms.items())
        elif len(problems) == reported and len(set(group.forms) - group.generated) > 1:
            message = "les formes du groupe se lisent toutes de la même façon : groupe inutile"
            problems.append(CorpusProblem(group.path, group.line, None, message))
    if problems:
        raise CorpusError(problems)
    return analysed


def _group_forms(
    analyzer: CompositeAnalyzer,
    group: FormGroup,
    owners: dict[tuple[str, ...], tuple[FormGroup, str]],
    problems: list[CorpusProblem],
) -> dict[tuple[str, ...], dict[str, object]]:
    """The group's analysed forms by folded terms, the first of equal ones kept; problems added."""
    forms: dict[tuple[str, ...], dict[str, object]] = {}
    empty = []
    for text in group.forms:
        tokens = [t for t in analyzer(text, positions=True) if not getattr(t, "joined", False)]
        key = tuple(fold(t.text) for t in tokens)
        written = text not in group.generated
        if not key:
            empty += [text] if written else []
        elif key in owners:
            problems += _clash(group, text, written, *owners[key])
        elif key in forms:
            problems += _gap_clash(group, text, [t.pos for t in tokens], forms[key]) if written else []
        else:
            forms[key] = {"text": text, "terms": [t.text for t in tokens], "positions": [t.pos for t in tokens]}
    if empty:
        message = "forme(s) faite(s) uniquement de mots vides, introuvables : " + ", ".join(f"« {f} »" for f in empty)
        problems.append(CorpusProblem(group.path, group.line, None, message))
    return forms


def _gap_clash(group: FormGroup, text: str, positions: list[int], kept: dict[str, object]) -> list[CorpusProblem]:
    """A problem when ``text`` has the words of a form kept before but other gaps: a search for either
    looks the words up with its own gaps, so the second form would never be searched."""
    kept_positions = cast(list[int], kept["positions"])  # a form dict of analysed_synonyms
    if [p - positions[0] for p in positions] == [p - kept_positions[0] for p in kept_positions]:
        return []  # the same form written otherwise (« organisation », « organisations »): left out
    message = f"« {text} » a les mots de « {kept['text']} » (mots vides mis à part) : une seule des deux formes sert"
    return [CorpusProblem(group.path, group.line, None, message)]


def _clash(group: FormGroup, text: str, written: bool, other: FormGroup, other_text: str) -> list[CorpusProblem]:
    """The problem of a form read like ``other_text`` of an earlier group, on the side a file wrote
    (none when both were generated: the later one is left out)."""
    if not written and other_text in other.generated:
        return []
    if not written:  # a country's generated name is already in a file's group
        message = f"« {other_text} » se lit comme un nom du pays « {group.forms[0]} » ({GENERATED}, « {text} »)"
        message += " : une forme n’appartient qu’à un groupe"
        return [CorpusProblem(other.path, other.line, None, message)]
    if other_text in other.generated:
        where = f"noms du pays « {other.forms[0]} », {GENERATED}"
    else:
        where = f"{Path(other.path).name}, ligne {other.line}" if other.line else Path(other.path).name
    same = "figure déjà" if fold(text) == fold(other_text) else f"se lit comme « {other_text} »"
    message = f"« {text} » {same} dans un autre groupe ({where}) : une forme n’appartient qu’à un groupe"
    return [CorpusProblem(group.path, group.line, None, message)]
