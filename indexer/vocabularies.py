"""The reviewed vocabulary files of the corpus: synonyms, English and themes.

``corpus/synonyms.yaml``: a list of groups of equivalent forms (acronyms,
French/English names). ``corpus/english.yaml``: English ↔ French groups of the
programmes' vocabulary (``terms``) and English aliases of corpus countries
(``countries``), on top of the English names pycountry gives every corpus
country (:func:`country_groups`). ``corpus/themes.yaml``: for each theme,
expressions of the objectives' headings or text that place a programme in it.
All are validated with file and line, like the records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from indexer.analysis import fold
from indexer.corpus import CorpusError, CorpusProblem, yaml_sections
from indexer.geography import english_names
from indexer.records import Programme
from indexer.slugs import facet_key

#: The vocabulary files' names, next to the records directory.
SYNONYMS_NAME = "synonyms.yaml"
ENGLISH_NAME = "english.yaml"
THEMES_NAME = "themes.yaml"
ENGLISH_SECTIONS = ("countries", "terms")
#: Where the forms of a group generated from pycountry come from (they have no file line).
GENERATED = "pycountry"
Problems = list[CorpusProblem]


@dataclass(frozen=True)
class FormGroup:
    """Equivalent forms, located for error messages; ``generated`` lists those no file wrote."""

    forms: tuple[str, ...]
    path: str
    line: int | None = None
    generated: frozenset[str] = frozenset()


@dataclass(frozen=True)
class EnglishVocabulary:
    """``english.yaml``: aliases (forms[0] is the corpus country, as the file writes it) and term groups."""

    aliases: tuple[FormGroup, ...] = ()
    terms: tuple[FormGroup, ...] = ()


@dataclass(frozen=True)
class Theme:
    """A theme and the expressions that assign it."""

    name: str
    headings: tuple[str, ...]
    line: int
    #: The expressions folded as the objectives' texts are before matching.
    folded: tuple[str, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "folded", tuple(fold(h) for h in self.headings))


def _compose(path: Path) -> tuple[yaml.Node | None, list[CorpusProblem]]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        return None, [CorpusProblem(str(path), None, None, f"encodage invalide (UTF-8 attendu) : {error.reason}")]
    try:
        return yaml.compose(text), []
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return None, [CorpusProblem(str(path), line, None, f"YAML invalide : {getattr(error, 'problem', error)}")]


def _note_forms(path: Path, forms: Iterable[str], line: int, seen: dict[str, int], problems: Problems) -> None:
    """A problem for each form already seen (accents and case ignored) in the file."""
    for form in forms:
        key = fold(form)
        if key in seen:
            message = f"« {form} » figure déjà dans le groupe de la ligne {seen[key]}"
            problems.append(CorpusProblem(str(path), line, None, message))
        seen[key] = line


def _groups(path: Path, root: yaml.Node | None, seen: dict[str, int], problems: Problems) -> list[FormGroup]:
    """The groups of a YAML list of lists, each with at least two non-empty forms."""
    groups: list[FormGroup] = []
    for node in root.value if isinstance(root, yaml.SequenceNode) else []:
        line = node.start_mark.line + 1
        forms = [item.value.strip() for item in getattr(node, "value", []) if isinstance(item, yaml.ScalarNode)]
        if not isinstance(node, yaml.SequenceNode) or len(forms) != len(node.value) or len([f for f in forms if f]) < 2:
            message = "un groupe doit lister au moins deux formes non vides"
            problems.append(CorpusProblem(str(path), line, None, message))
            continue
        _note_forms(path, forms, line, seen, problems)
        groups.append(FormGroup(tuple(forms), str(path), line))
    return groups


def read_synonyms(path: Path | None) -> list[FormGroup]:
    """Synonym groups with their lines; raise CorpusError listing every problem. A missing file means none."""
    if path is None or not path.exists():
        return []
    root, problems = _compose(path)
    if root is not None and not isinstance(root, yaml.SequenceNode):
        problems.append(CorpusProblem(str(path), 1, None, "le fichier doit être une liste de groupes"))
    groups = _groups(path, root, {}, problems)
    if problems:
        raise CorpusError(problems)
    return groups


def load_synonyms(path: Path | None) -> list[tuple[str, ...]]:
    """Synonym groups; raise CorpusError listing every problem. A missing file means no synonyms."""
    return [group.forms for group in read_synonyms(path)]


def _english_sections(path: Path, root: yaml.Node | None, problems: Problems) -> dict[str, yaml.Node]:
    """The top-level sections of ``english.yaml``; a problem for anything but a table of known sections."""
    sections = yaml_sections(path, root, ENGLISH_SECTIONS, problems)
    if "terms" in sections and not isinstance(sections["terms"], yaml.SequenceNode):
        line = sections.pop("terms").start_mark.line + 1
        problems.append(CorpusProblem(str(path), line, "terms", "« terms » doit être une liste de groupes"))
    return sections


def _aliases(path: Path, node: yaml.Node | None, seen: dict[str, int], problems: Problems) -> list[FormGroup]:
    """``countries``: corpus country name -> its English alias, or a list of them."""
    if node is None:
        return []
    if not isinstance(node, yaml.MappingNode):
        message = "« countries » doit être une table « pays du corpus: [noms anglais] »"
        problems.append(CorpusProblem(str(path), node.start_mark.line + 1, "countries", message))
        return []
    groups = []
    for key, value in node.value:
        line = key.start_mark.line + 1
        country = str(key.value).strip() if isinstance(key, yaml.ScalarNode) else ""
        items = value.value if isinstance(value, yaml.SequenceNode) else [value]
        names = [str(i.value).strip() for i in items if isinstance(i, yaml.ScalarNode) and str(i.value).strip()]
        if not country or not names or len(names) != len(items):
            message = f"« {country} » : nom anglais ou liste de noms anglais attendu"
            problems.append(CorpusProblem(str(path), line, "countries", message))
            continue
        _note_forms(path, [country, *names], line, seen, problems)
        groups.append(FormGroup((country, *names), str(path), line))
    return groups


def load_english(path: Path | None) -> EnglishVocabulary:
    """Country aliases and term groups of ``english.yaml``; CorpusError listing every problem. No file: none."""
    if path is None or not path.exists():
        return EnglishVocabulary()
    root, problems = _compose(path)
    sections = _english_sections(path, root, problems)
    seen: dict[str, int] = {}
    aliases = _aliases(path, sections.get("countries"), seen, problems)
    terms = _groups(path, sections.get("terms"), seen, problems)
    if problems:
        raise CorpusError(problems)
    return EnglishVocabulary(tuple(aliases), tuple(terms))


def _aliases_by_code(codes: dict[str, str], aliases: Iterable[FormGroup]) -> dict[str, FormGroup]:
    """The alias groups by country code; CorpusError for a country not in the corpus or given twice."""
    by_key = {facet_key(name): code for name, code in codes.items()}
    found: dict[str, FormGroup] = {}
    problems: Problems = []
    for group in aliases:
        code = by_key.get(facet_key(group.forms[0]))
        if code is None:
            message = f"« {group.forms[0]} » n’est pas un pays du corpus (champ countries des fiches)"
            problems.append(CorpusProblem(group.path, group.line, "countries", message))
        elif code in found:
            message = f"« {group.forms[0]} » : ce pays a déjà des alias à la ligne {found[code].line}"
            problems.append(CorpusProblem(group.path, group.line, "countries", message))
        else:
            found[code] = group
    if problems:
        raise CorpusError(problems)
    return found


def _distinct(forms: Iterable[str]) -> tuple[str, ...]:
    """The forms without repeats (accents, case and apostrophes ignored), the first spelling kept."""
    kept: dict[str, str] = {}
    for form in forms:
        kept.setdefault(fold(form), form)
    return tuple(kept.values())


def country_groups(codes: dict[str, str], aliases: Iterable[FormGroup] = ()) -> list[FormGroup]:
    """A group per corpus country: its corpus names, pycountry's English names, then the reviewed aliases.

    ``codes`` maps corpus names to ISO codes (:func:`indexer.geography.country_codes`). A country whose
    names are all one (« Mali ») gets no group. CorpusError for an alias of a country not in the corpus.
    """
    by_code = _aliases_by_code(codes, aliases)
    names: dict[str, list[str]] = {}
    for name, code in codes.items():
        names.setdefault(code, []).append(name)
    groups = []
    for code, corpus_names in names.items():
        generated = [*corpus_names, *english_names(code)]
        alias = by_code.get(code)
        forms = _distinct([*generated, *(alias.forms[1:] if alias else ())])
        if len(forms) > 1:
            where = (alias.path, alias.line) if alias else (GENERATED, None)
            groups.append(FormGroup(forms, *where, generated=frozenset(generated)))
    return groups


def parse_themes(path: Path | None) -> list[Theme]:
    """Themes of the file, checked for form only (see :func:`check_theme_expressions`)."""
    if path is None or not path.exists():
        return []
    root, problems = _compose(path)
    themes: list[Theme] = []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if root is not None else None
    if root is not None and not isinstance(data, list):
        problems.append(CorpusProblem(str(path), 1, None, "le fichier doit être une liste de thèmes"))
        data = []
    for node, entry in zip(root.value if isinstance(root, yaml.SequenceNode) else [], data or [], strict=False):
        line = node.start_mark.line + 1
        name = entry.get("theme") if isinstance(entry, dict) else None
        headings = entry.get("headings") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.strip():
            problems.append(CorpusProblem(str(path), line, "theme", "nom de thème manquant"))
            continue
        if not isinstance(headings, list) or not all(isinstance(h, str) and h.strip() for h in headings or [None]):
            problems.append(CorpusProblem(str(path), line, "headings", f"« {name} » : liste d’intitulés manquante"))
            continue
        themes.append(Theme(name.strip(), tuple(h.strip() for h in headings), line))
    if problems:
        raise CorpusError(problems)
    return themes


def check_theme_expressions(path: Path | None, themes: Iterable[Theme], found: set[str]) -> None:
    """Raise CorpusError for every expression of ``themes`` not in ``found`` (see :func:`expressions_in`)."""
    problems = [
        CorpusProblem(str(path), theme.line, "headings", f"« {heading} » ne correspond à aucun objectif du corpus")
        for theme in themes
        for heading in theme.headings
        if heading not in found
    ]
    if problems:
        raise CorpusError(problems)


def expressions_in(programme: Programme, themes: Iterable[Theme]) -> set[str]:
    """The theme expressions (as written in the file) that appear in the programme's objectives."""
    if not programme.objectives:
        return set()
    text = fold("\n".join(item.full_text() for item in programme.objectives))  # no expression spans two
    return {h for theme in themes for h, folded in zip(theme.headings, theme.folded, strict=True) if folded in text}


def themes_matching(themes: Iterable[Theme], found: set[str]) -> list[str]:
    """The themes with at least one expression in ``found``, in file order."""
    return [theme.name for theme in themes if any(heading in found for heading in theme.headings)]
