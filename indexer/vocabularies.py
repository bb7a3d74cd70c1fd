"""The two reviewed vocabulary files of the corpus: synonyms and themes.

``corpus/synonyms.yaml``: a list of groups of equivalent forms (acronyms,
French/English names). ``corpus/themes.yaml``: for each theme, expressions of
the objectives' headings or text that place a programme in it. Both are
validated with file and line, like the records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from indexer.analysis import fold
from indexer.corpus import CorpusError, CorpusProblem
from indexer.records import Programme

DEFAULT_SYNONYMS = Path("corpus/synonyms.yaml")
DEFAULT_THEMES = Path("corpus/themes.yaml")


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
        return None, [CorpusProblem(str(path), None, None, f"encodage invalide (UTF-8 attendu) : {error.reason}")]
    try:
        return yaml.compose(text), []
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return None, [CorpusProblem(str(path), line, None, f"YAML invalide : {getattr(error, 'problem', error)}")]


def load_synonyms(path: Path | None) -> list[tuple[str, ...]]:
    """Synonym groups; raise CorpusError listing every problem. A missing file means no synonyms."""
    if path is None or not path.exists():
        return []
    root, problems = _compose(path)
    groups: list[tuple[str, ...]] = []
    seen: dict[str, int] = {}
    if root is not None and not isinstance(root, yaml.SequenceNode):
        problems.append(CorpusProblem(str(path), 1, None, "le fichier doit être une liste de groupes"))
    for node in root.value if isinstance(root, yaml.SequenceNode) else []:
        line = node.start_mark.line + 1
        forms = [item.value.strip() for item in getattr(node, "value", []) if isinstance(item, yaml.ScalarNode)]
        if not isinstance(node, yaml.SequenceNode) or len(forms) != len(node.value) or len([f for f in forms if f]) < 2:
            message = "un groupe doit lister au moins deux formes non vides"
            problems.append(CorpusProblem(str(path), line, None, message))
            continue
        for form in forms:
            key = fold(form)
            if key in seen:
                message = f"« {form} » figure déjà dans le groupe de la ligne {seen[key]}"
                problems.append(CorpusProblem(str(path), line, None, message))
            seen[key] = line
        groups.append(tuple(forms))
    if problems:
        raise CorpusError(problems)
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
            problems.append(CorpusProblem(str(path), line, "headings", f"« {name} » : liste d’intitulés manquante"))
            continue
        themes.append(Theme(name.strip(), tuple(h.strip() for h in headings), line))
    if problems:
        raise CorpusError(problems)
    return themes


def check_theme_expressions(path: Path | None, themes: Iterable[Theme], found: set[str]) -> None:
    """Raise CorpusError for every expression of ``themes`` not in ``found`` (see :func:`expressions_in`)."""
    problems = [
        CorpusProblem(str(path), theme.line, "headings", f"« {heading} » ne correspond à aucun objectif du corpus")
        for theme in themes
        for heading in theme.headings
        if heading not in found
    ]
    if problems:
        raise CorpusError(problems)


def load_themes(path: Path | None, programmes: Iterable[Programme] = ()) -> list[Theme]:
    """Themes; each expression must match an objective of ``programmes`` (when they have any)."""
    themes = parse_themes(path)
    programmes = [p for p in programmes if p.objectives]
    if programmes:
        found = set().union(*(expressions_in(p, themes) for p in programmes))
        check_theme_expressions(path, themes, found)
    return themes


def expressions_in(programme: Programme, themes: Iterable[Theme]) -> set[str]:
    """The theme expressions (as written in the file) that appear in the programme's objectives."""
    if not programme.objectives:
        return set()
    text = fold("\n".join(item.full_text() for item in programme.objectives))  # no expression spans two
    return {h for theme in themes for h, folded in zip(theme.headings, theme.folded, strict=True) if folded in text}


def themes_of(programme: Programme, themes: Iterable[Theme]) -> list[str]:
    """The themes whose expressions appear in the programme's objectives, in file order."""
    themes = list(themes)
    return themes_matching(themes, expressions_in(programme, themes)) if themes else []


def themes_matching(themes: Iterable[Theme], found: set[str]) -> list[str]:
    """The themes with at least one expression in ``found``, in file order."""
    return [theme.name for theme in themes if any(heading in found for heading in theme.headings)]
