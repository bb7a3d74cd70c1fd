"""Split the published page (``corpus/sources/*.txt``) into programme records.

The page is an introduction followed by programme blocks. Each block starts
with the four labels ``Pays``, ``Région``, ``Statut`` and ``Description``, each
on its own line and followed by its value; free text follows until the next
block. The free text is read by its structure: paragraphs, numbered or
bulleted lists (an indented line continues the item above it), lines ending
with a colon that introduce a list or a paragraph, and asterisk notes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from indexer.records import ObjectiveItem, Programme, normalise_space
from indexer.slugs import slugify

HEADER_LABELS = ("Pays", "Région", "Statut", "Description")

_LIST_ITEM_RE = re.compile(r"^\s*(?:\d+\.|[•\-–]|\*\s)\s*(?P<text>.+)$")
_INDENTED_RE = re.compile(r"^\s{3,}\S")
_NOTE_RE = re.compile(r"^\*\S")
_LABELLED_ITEM_RE = re.compile(r"^(?P<label>[^:]{3,40}?)\s*:\s+(?P<text>.+)$")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?»])\s+(?=[A-ZÀ-ÖØ-Þ«])")


class SourceFormatError(ValueError):
    """The page does not have the expected block structure."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


@dataclass
class _Block:
    line: int
    countries: list[str]
    region: str
    status: str
    body: list[str] = field(default_factory=list)


def _is_header_at(lines: list[str], index: int) -> bool:
    """True when lines[index:] start with Pays / value / Région / value / Statut / value / Description."""
    window = [line.strip() for line in lines[index : index + 7]]
    return len(window) == 7 and [window[0], window[2], window[4], window[6]] == list(HEADER_LABELS)


def _split_blocks(lines: list[str], path: str) -> list[_Block]:
    blocks: list[_Block] = []
    index = 0
    while index < len(lines):
        if _is_header_at(lines, index):
            countries = [normalise_space(c) for c in lines[index + 1].split(",") if c.strip()]
            blocks.append(
                _Block(
                    line=index + 1,
                    countries=countries,
                    region=normalise_space(lines[index + 3]),
                    status=normalise_space(lines[index + 5]),
                )
            )
            index += 7
            continue
        if blocks:
            blocks[-1].body.append(lines[index])
        index += 1
    if not blocks:
        raise SourceFormatError(path, 1, "aucun bloc « Pays / Région / Statut / Description » trouvé")
    return blocks


def _paragraphs(body: list[str]) -> list[list[str]]:
    """Group lines into paragraphs; every list item starts a paragraph of its own."""
    groups: list[list[str]] = []
    current: list[str] = []
    for line in body:
        if not line.strip():
            if current:
                groups.append(current)
            current = []
        elif _LIST_ITEM_RE.match(line) or (not _INDENTED_RE.match(line) and current and _is_item(current)):
            if current:
                groups.append(current)
            current = [line]
        else:
            current.append(line)
    if current:
        groups.append(current)
    return groups


def _is_item(group: list[str]) -> bool:
    return bool(_LIST_ITEM_RE.match(group[0]))


def _item(group: list[str], section: str) -> ObjectiveItem:
    item = _LIST_ITEM_RE.match(group[0])
    if item is None:
        raise ValueError(f"not a list item: {group[0]!r}")
    first = normalise_space(item.group("text"))
    rest = normalise_space(" ".join(group[1:]))
    if rest:
        return ObjectiveItem(section=section, heading=first, text=rest)
    labelled = _LABELLED_ITEM_RE.match(first)
    if labelled:
        return ObjectiveItem(section=section, heading=labelled["label"], text=labelled["text"])
    return ObjectiveItem(section=section, text=first)


def _split_lead(paragraph: str) -> tuple[str, str]:
    """Split a paragraph ending with a colon into (text before, heading sentence)."""
    sentences = _SENTENCE_END_RE.split(paragraph)
    heading = sentences[-1].rstrip(" :").strip()
    return " ".join(sentences[:-1]).strip(), heading


def _read_body(body: list[str]) -> tuple[list[str], list[ObjectiveItem], list[str]]:
    """Return (description paragraphs, objective items, notes) of one block's free text."""
    groups = _paragraphs(body)
    description: list[str] = []
    objectives: list[ObjectiveItem] = []
    notes: list[str] = []
    section = ""
    pending_heading = ""
    for position, group in enumerate(groups):
        if _is_item(group):
            objectives.append(_item(group, section))
            continue
        text = normalise_space(" ".join(group))
        following = groups[position + 1] if position + 1 < len(groups) else None
        if _NOTE_RE.match(text):
            notes.append(text)
        elif following is not None and _is_item(following):
            before, section = _split_lead(text)
            if before:
                description.append(before)
        elif text.endswith(":") and following is not None:
            pending_heading = text.rstrip(" :").strip()
            continue
        elif pending_heading:
            objectives.append(ObjectiveItem(section=pending_heading, text=text))
        else:
            description.append(text)
        pending_heading = ""
    return description, objectives, notes


_NAME_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(projet [^()]{5,120}?) \((?P<acronym>[A-Z]{2,})\)"), "acronym"),
    (re.compile(r"\binitiative conjointe\sUE-OIM\b"), "Initiative conjointe UE-OIM"),
    (re.compile(r"\bAction pilote\b"), "Action pilote"),
    (re.compile(r"objectif global de contribuer à la (?P<aim>[^,.]+?) et à "), "aim"),
)


def derive_name(description: list[str]) -> tuple[str, str]:
    """Derive (programme name, short slug word) from the text itself.

    Looks, in order, for a project with an acronym (« … (RADA) »), the joint
    initiative, the pilot action, then the project's stated global objective.
    """
    text = " ".join(description)
    for pattern, kind in _NAME_PATTERNS:
        match = pattern.search(text)
        if not match:
            continue
        if kind == "acronym":
            phrase = match.group(1)
            name = f"{match['acronym']}\u00a0: {phrase[0].upper()}{phrase[1:]}"
            return name, match["acronym"]
        if kind == "aim":
            return f"Projet pour la {match['aim']}", " ".join(match["aim"].split()[:2])
        return kind, " ".join(kind.split()[:2])
    return "Programme UE-OIM", "programme"


def _programme(block: _Block, source: str) -> Programme:
    description, objectives, notes = _read_body(block.body)
    name, short = derive_name(description)
    place = block.countries[0] if len(block.countries) == 1 else block.region
    return Programme(
        id=slugify(f"{place} {short}"),
        title=f"{place} — {name}",
        region=block.region,
        countries=tuple(block.countries),
        status=block.status,
        description=tuple(description),
        objectives=tuple(objectives),
        notes=tuple(notes),
        source=source,
    )


def parse_page(text: str, source: str, path: str | None = None) -> list[Programme]:
    """Parse the page text into programmes, in page order; two blocks deriving the same id are an error."""
    lines = text.replace("\r\n", "\n").split("\n")
    programmes: list[Programme] = []
    first_line: dict[str, int] = {}
    for block in _split_blocks(lines, path or source):
        programme = _programme(block, source)
        if programme.id in first_line:
            raise SourceFormatError(
                path or source,
                block.line,
                f"identifiant « {programme.id} » déjà dérivé du bloc de la ligne {first_line[programme.id]}",
            )
        first_line[programme.id] = block.line
        programmes.append(programme)
    return programmes
