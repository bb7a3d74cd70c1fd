"""CSV export of a whole result set (all pages), made to open as is in French-locale spreadsheets.

French Excel and LibreOffice split a ``.csv`` they open on the locale's list separator, « ; » (a comma
is the decimal separator), and read it as UTF-8 only when it starts with the byte order mark; rows end
with CRLF, as RFC 4180 writes them. No ``sep=;`` first line: Excel then ignores the BOM.

One row per programme, the columns of ``CSV_COLUMNS``: the short ones first (they stay readable side by
side), then the long texts a reader exports the list to read or quote offline — every objective item,
the description and the notes (the asterisk notes qualify objective headings: « *En Libye, seuls les
piliers 2 et 3 s’appliquent »). Multi-valued cells (pays, thèmes) are joined with « , », as the pages
show them: no country or theme name holds a comma, and a « ; » inside a cell would read, to anyone
looking at the raw file, like a column break. Long texts keep their structure with line breaks inside
the quoted cell (one objective per line, paragraphs separated by a blank line).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from itertools import groupby

from indexer.records import ObjectiveItem, Programme

CSV_COLUMNS = (
    "identifiant", "titre", "région", "pays", "statut", "thèmes", "lien", "objectifs", "description", "notes"
)
#: A cell starting so is read as a formula by spreadsheets (OWASP's CSV injection list).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_FILENAME = "programmes-ue-oim.csv"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
LIST_SEPARATOR = ", "
BULLET = "• "


def _cell(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection) by prefixing a quote."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def objectives_cell(objectives: Sequence[ObjectiveItem]) -> str:
    """Every objective item, in record order, one per line, under its section.

    A section with one item is one line (« Objectif global : … »); a section with several is its own
    line followed by one « • » line per item, as the programme page groups them.
    """
    lines: list[str] = []
    for section, group in groupby(objectives, key=lambda item: item.section):
        items = list(group)
        label = section.rstrip(" :\u00a0")
        if label and len(items) == 1:
            lines.append(items[0].display_text())  # « Objectif global : … », as results show it
            continue
        if label:
            lines.append(f"{label}\u00a0:")
        lines.extend(BULLET + item.display_text(with_section=False) for item in items)
    return "\n".join(lines)


def csv_row(programme: Programme, url: str) -> list[str]:
    """The cells of one programme (``CSV_COLUMNS`` order), formulas neutralised."""
    row = (
        programme.id,
        programme.title,
        programme.region,
        LIST_SEPARATOR.join(programme.countries),
        programme.status,
        LIST_SEPARATOR.join(programme.themes),
        url,
        objectives_cell(programme.objectives),
        programme.description_text,
        programme.notes_text,
    )
    return [_cell(value) for value in row]


def records_csv(records: Iterable[Programme], url_of: Callable[[str], str]) -> str:
    """CSV text of the given programmes: UTF-8 BOM, « ; » separator, CRLF, French headers."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        writer.writerow(csv_row(record, url_of(record.id)))
    return buffer.getvalue()
