"""The programme record: one frozen dataclass, shared by the importer, the loader and the index."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_WHITESPACE_RE = re.compile(r"[ \t\r\n\u00a0\u202f]+")
_SPECIAL_SPACE_RE = re.compile(r"[\t\r\n\u00a0\u202f]")


def normalise_space(text: str) -> str:
    """Collapse whitespace runs to one space; a run of no-break spaces stays a no-break space."""

    if "  " not in text and not _SPECIAL_SPACE_RE.search(text):
        return text.strip()  # the common case: nothing to collapse

    def collapse(match: re.Match[str]) -> str:
        kept = match.group(0).strip(" \t\r\n")
        return kept[0] if kept else " "

    return _WHITESPACE_RE.sub(collapse, text).strip()


#: Status values the page uses (anything else is a validation error), with the state each
#: stands for (the interface styles « active » and « done » programmes differently).
STATUS_STATES: dict[str, str] = {"En cours": "active", "Activités achevées": "done"}
KNOWN_STATUSES: tuple[str, ...] = tuple(STATUS_STATES)


def status_state(status: str) -> str:
    """« active » or « done » for a status value (« done » for one the table does not know)."""
    return STATUS_STATES.get(status, "done")


@dataclass(frozen=True)
class ObjectiveItem:
    """One pillar, objective or result area.

    ``section`` is the heading the text gives the list (« Piliers d’action »),
    ``heading`` the item's own title when it has one (« AIDE À LA RÉINTÉGRATION »).
    """

    section: str
    text: str
    heading: str = ""

    def full_text(self) -> str:
        """Section, heading and text as one searchable string."""
        return " ".join(part for part in (self.section, self.heading, self.text) if part)

    def display_text(self, with_section: bool = True) -> str:
        """The same words as shown: « Piliers d’action : AIDE À LA RÉINTÉGRATION — Répondre… ».

        Only punctuation is added (no token), so it highlights exactly as ``full_text`` is indexed.
        """
        section = self.section.rstrip(" :\u00a0") if with_section else ""
        body = f"{self.heading} — {self.text}" if self.heading else self.text
        return f"{section}\u00a0: {body}" if section else body


def objectives_display(items: Sequence[ObjectiveItem]) -> str:
    """The objectives as one text, one item per line, each section named once (before its first item)."""
    lines, previous = [], None
    for item in items:
        lines.append(item.display_text(with_section=item.section != previous))
        previous = item.section
    return "\n".join(lines)


@dataclass(frozen=True)
class Programme:
    """One EU–IOM programme as stored in ``corpus/programmes/<id>.md``."""

    id: str
    title: str
    region: str
    countries: tuple[str, ...]
    status: str
    description: tuple[str, ...]
    objectives: tuple[ObjectiveItem, ...] = ()
    notes: tuple[str, ...] = ()
    source: str = ""
    #: The programme's own page (an absolute http(s) URL) when its address is known; empty otherwise.
    source_url: str = ""
    #: Derived at build time from corpus/themes.yaml, not written in the record file.
    themes: tuple[str, ...] = ()
    path: str = field(default="", compare=False)

    @property
    def description_text(self) -> str:
        """Description paragraphs joined by blank lines."""
        return "\n\n".join(self.description)

    @property
    def objectives_text(self) -> str:
        """Every objective item (with its headings), one per line."""
        return "\n".join(item.full_text() for item in self.objectives)

    @property
    def notes_text(self) -> str:
        """Notes joined by blank lines."""
        return "\n\n".join(self.notes)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Programme:
        """The programme a stored record (:meth:`to_dict`) holds: the index's records read back typed."""
        return cls(
            id=data["id"],
            title=data["title"],
            region=data["region"],
            countries=tuple(data["countries"]),
            status=data["status"],
            description=tuple(data["description"]),
            objectives=tuple(ObjectiveItem(o["section"], o["text"], o.get("heading", "")) for o in data["objectives"]),
            notes=tuple(data["notes"]),
            source=data.get("source", ""),
            source_url=data.get("source_url", ""),
            themes=tuple(data.get("themes", ())),
        )

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict of the record (lists, not tuples; no file path), in field order."""
        return {
            "id": self.id,
            "title": self.title,
            "region": self.region,
            "countries": list(self.countries),
            "status": self.status,
            "description": list(self.description),
            "objectives": [{"section": o.section, "text": o.text, "heading": o.heading} for o in self.objectives],
            "notes": list(self.notes),
            "source": self.source,
            "source_url": self.source_url,
            "themes": list(self.themes),
        }
