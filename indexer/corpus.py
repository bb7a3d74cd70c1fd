"""Programme record files: write, load and validate ``corpus/programmes/*.md``.

A record is a Markdown file: a YAML front-matter header between ``---`` lines
(id, title, region, countries, status, source, optional source_url, objectives,
notes), then the
description as paragraphs separated by blank lines. Loading checks every file
and collects every problem (file, line, field) before failing once.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import yaml

from indexer.parallel import map_chunks
from indexer.records import KNOWN_STATUSES, ObjectiveItem, Programme, normalise_space

RECORD_SUFFIX = ".md"
#: libyaml's C parser when PyYAML was built with it (10× faster on large corpora), same safe subset.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
REQUIRED_FIELDS = ("id", "title", "region", "countries", "status", "source")
_FENCE = "---"
_FIELD_RE = re.compile(r"^(\w+):")


class Located(Protocol):
    """Anything read from a record file: its id and the file's path."""

    @property
    def id(self) -> str: ...

    @property
    def path(self) -> str: ...


@dataclass(frozen=True)
class CorpusProblem:
    """One validation problem, located as precisely as the file allows."""

    path: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.path + (f":{self.line}" if self.line else "")
        what = f" [{self.field}]" if self.field else ""
        return f"{where}:{what} {self.message}"


class CorpusError(Exception):
    """The corpus has one or more invalid records; nothing should be built."""

    def __init__(self, problems: list[CorpusProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def render_record(programme: Programme) -> str:
    """The text of a record file, as the importer writes it."""
    header: dict[str, object] = {
        "id": programme.id,
        "title": programme.title,
        "region": programme.region,
        "countries": list(programme.countries),
        "status": programme.status,
        "source": programme.source,
        "source_url": programme.source_url,
        "objectives": [
            {key: value for key, value in (("section", o.section), ("heading", o.heading), ("text", o.text)) if value}
            for o in programme.objectives
        ],
        "notes": list(programme.notes),
    }
    front = yaml.safe_dump(header, allow_unicode=True, sort_keys=False, width=1_000_000)
    body = "\n\n".join(programme.description)
    return f"{_FENCE}\n{front}{_FENCE}\n\n{body}\n"


def content_hash(text: str) -> str:
    """SHA-256 of a record's text (used to spot hand-edited files)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _field_line(lines: list[str], name: str) -> int | None:
    prefix = f"{name}:"
    for number, line in enumerate(lines, start=1):
        if line.startswith(prefix):
            return number
    return None


def _field_at(lines: list[str], number: int) -> str | None:
    """The field line ``number`` (1-based) belongs to: the header field above it, or description after the header."""
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == _FENCE), len(lines))
    if number > end + 1:
        return "description"
    return next((m.group(1) for line in reversed(lines[1:number]) if (m := _FIELD_RE.match(line))), None)


def _decode(path: Path, raw: bytes, problems: list[CorpusProblem]) -> str | None:
    try:
        return unicodedata.normalize("NFC", raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        field = _field_at(raw.decode("utf-8", "replace").split("\n"), line)
        problems.append(CorpusProblem(str(path), line, field, f"encodage invalide (UTF-8 attendu) : {error.reason}"))
        return None


def _split_front_matter(path: Path, text: str, problems: list[CorpusProblem]) -> tuple[dict, list[str], str] | None:
    lines = text.split("\n")
    if not lines or lines[0].strip() != _FENCE:
        problems.append(CorpusProblem(str(path), 1, None, "en-tête manquant : le fichier doit commencer par '---'"))
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == _FENCE)
    except StopIteration:
        problems.append(CorpusProblem(str(path), 1, None, "en-tête non fermé : ligne '---' de fin introuvable"))
        return None
    header_lines = lines[:end]
    try:
        header = yaml.load("\n".join(lines[1:end]), Loader=_SAFE_LOADER) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        field = _field_at(lines, line) if line else None
        problems.append(CorpusProblem(str(path), line, field, f"en-tête YAML invalide : {problem}"))
        return None
    if not isinstance(header, dict):
        problems.append(CorpusProblem(str(path), 2, None, "l’en-tête doit être une suite de champs « nom: valeur »"))
        return None
    return header, header_lines, "\n".join(lines[end + 1 :])


def _text_list(value: object) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list):
        return not any(str(item).strip() for item in value)
    return False


def _objectives(value: object) -> tuple[ObjectiveItem, ...] | None:
    if value is None:
        return ()
    if not isinstance(value, list):
        return None
    items = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str) or not entry["text"].strip():
            return None
        items.append(
            ObjectiveItem(
                section=str(entry.get("section") or ""),
                heading=str(entry.get("heading") or ""),
                text=normalise_space(entry["text"]),
            )
        )
    return tuple(items)


def source_url_problem(value: object) -> str | None:
    """Why ``value`` is not a valid ``source_url`` (None when it is): empty, or an absolute
    ``http://`` or ``https://`` address with a host and no space."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        return "doit être un texte (une adresse http:// ou https://)"
    text = value.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in text):
        return f"adresse invalide « {value} » (attendu\u00a0: une adresse absolue http:// ou https://)"
    return None


def _field_problems(header: dict) -> list[tuple[str, str]]:
    """(field, message) for each required, text, country-list, status or address field that is wrong."""
    found = [(name, "champ obligatoire manquant ou vide") for name in REQUIRED_FIELDS if _is_blank(header.get(name))]
    found += [
        (name, "doit être un texte")
        for name in ("id", "title", "region", "status", "source")
        if header.get(name) is not None and not isinstance(header[name], str)
    ]
    countries = _text_list(header.get("countries"))
    if header.get("countries") is not None and (countries is None or not all(c.strip() for c in countries)):
        found.append(("countries", "doit être une liste de noms de pays non vides"))
    status = header.get("status")
    if isinstance(status, str) and status.strip() and status.strip() not in KNOWN_STATUSES:
        found.append(("status", f"statut inconnu « {status} » (attendu : {', '.join(KNOWN_STATUSES)})"))
    if (url_problem := source_url_problem(header.get("source_url"))) is not None:
        found.append(("source_url", url_problem))
    return found


def _validate(path: Path, header: dict, lines: list[str], body: str, problems: list[CorpusProblem]) -> Programme | None:
    start = len(problems)

    def report(name: str, message: str) -> None:
        problems.append(CorpusProblem(str(path), _field_line(lines, name) or 1, name, message))

    for name, message in _field_problems(header):
        report(name, message)
    countries = _text_list(header.get("countries"))
    status = header.get("status")
    objectives = _objectives(header.get("objectives"))
    if objectives is None:
        report("objectives", "doit être une liste d’éléments avec au moins un champ « text »")
    notes = _text_list(header.get("notes") or [])
    if notes is None:
        report("notes", "doit être une liste de textes")
    description = tuple(p.strip() for p in body.split("\n\n") if p.strip())
    if not description:
        problems.append(CorpusProblem(str(path), len(lines) + 2, "description", "description vide après l’en-tête"))
    if len(problems) > start:
        return None
    return Programme(
        id=header["id"].strip(),
        title=header["title"].strip(),
        region=header["region"].strip(),
        countries=tuple(c.strip() for c in countries or ()),
        status=str(status).strip(),  # a text: checked above
        description=tuple(normalise_space(p) for p in description),
        objectives=objectives or (),
        notes=tuple(notes or ()),
        source=header["source"].strip(),
        source_url=str(header.get("source_url") or "").strip(),  # checked above
        path=str(path),
    )


def read_record(path: Path, problems: list[CorpusProblem]) -> Programme | None:
    """Read and validate one record file, appending any problem found."""
    text = _decode(path, path.read_bytes(), problems)
    if text is None:
        return None
    parts = _split_front_matter(path, text, problems)
    if parts is None:
        return None
    return _validate(path, *parts, problems)


def record_paths(directory: Path) -> list[Path]:
    """Record files of a corpus directory, in name order."""
    return sorted(p for p in directory.glob(f"*{RECORD_SUFFIX}") if p.is_file())


def corpus_files(directory: Path) -> list[Path]:
    """The record files of a corpus directory; CorpusError if it is missing or has none."""
    if not directory.is_dir():
        raise CorpusError([CorpusProblem(str(directory), None, None, "dossier du corpus introuvable")])
    paths = record_paths(directory)
    if not paths:
        raise CorpusError([CorpusProblem(str(directory), None, None, "aucune fiche programme (*.md) trouvée")])
    return paths


def load_corpus(directory: Path) -> list[Programme]:
    """Load and validate every record; raise :class:`CorpusError` listing all problems."""
    problems: list[CorpusProblem] = []
    paths = corpus_files(directory)
    programmes: list[Programme] = []
    for loaded, found in map_chunks(_read_records, paths):
        programmes += loaded
        problems += found
    check_unique_ids(programmes, problems)
    if problems:
        raise CorpusError(problems)
    return programmes


def _read_records(paths: Sequence[Path]) -> tuple[list[Programme], list[CorpusProblem]]:
    problems: list[CorpusProblem] = []
    programmes = [p for p in (read_record(path, problems) for path in paths) if p is not None]
    return programmes, problems


def check_unique_ids(programmes: Iterable[Located], problems: list[CorpusProblem]) -> None:
    """Append a problem for each record reusing an id already taken by an earlier file."""
    seen: dict[str, str] = {}
    for programme in programmes:
        if programme.id in seen:
            lines = Path(programme.path).read_text(encoding="utf-8").split("\n")
            problems.append(
                CorpusProblem(
                    programme.path,
                    _field_line(lines, "id"),
                    "id",
                    f"identifiant « {programme.id} » déjà utilisé par {seen[programme.id]}",
                )
            )
        else:
            seen[programme.id] = programme.path


def yaml_sections(
    path: Path, root: yaml.Node | None, allowed: tuple[str, ...], problems: list[CorpusProblem]
) -> dict[str, yaml.Node]:
    """The top-level sections of a reviewed YAML file; a problem (file, line) for anything but a
    table of the ``allowed`` sections."""
    if root is None:
        return {}
    names = " et ".join(f"« {name} »" for name in allowed)
    if not isinstance(root, yaml.MappingNode):
        problems.append(CorpusProblem(str(path), 1, None, f"le fichier doit être une table aux sections {names}"))
        return {}
    sections = {}
    for key, value in root.value:
        if key.value in allowed:
            sections[key.value] = value
        else:
            message = f"section inconnue « {key.value} » (attendu\u00a0: {', '.join(allowed)})"
            problems.append(CorpusProblem(str(path), key.start_mark.line + 1, None, message))
    return sections
