"""CSV export of a whole result set (all pages)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable

CSV_COLUMNS = ("id", "title", "region", "countries", "status", "url")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection) by prefixing a quote."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def records_csv(records: Iterable[dict], url_of: Callable[[str], str]) -> str:
    """CSV text (UTF-8 with BOM, for spreadsheet software) of the given records."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        row = (record["id"], record["title"], record["region"], "; ".join(record["countries"]), record["status"])
        writer.writerow([_cell(value) for value in row] + [url_of(record["id"])])
    return buffer.getvalue()
