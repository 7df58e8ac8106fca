"""Report tables as downloadable files: CSV and XLSX.

Rules:
- CSV is UTF-8 with a byte-order mark (so spreadsheet programs read Vietnamese
  labels right) and CRLF line ends (RFC 4180).
- A text cell that a spreadsheet would take for a formula (starting with `=`, `+`,
  `-`, `@`, tab or CR) is prefixed with `'` in CSV (OWASP CSV injection); numbers are
  written as numbers. In XLSX every text cell is written as a string (XlsxWriter's
  `write_string`, with its conversions of strings to formulas, numbers and links
  off), which a spreadsheet never evaluates.
- XLSX is written by XlsxWriter (write-only, no macros, no template): a worksheet
  per table, each with its title in row 1 and the column headers in row 2, both
  frozen, header cells bold, and column widths fitted to the longest value (8 to 60
  characters).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

import xlsxwriter

Cell = str | int | float | None
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_value(value: Cell) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_bytes(rows: Sequence[Sequence[Cell]]) -> bytes:
    """The table as CSV bytes (see the module rules)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its name (at most 31 characters), a title line, the column
    headers and the rows."""

    name: str
    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Cell]]


_MIN_WIDTH, _MAX_WIDTH = 8, 60


def _width(values: Sequence[Cell]) -> int:
    longest = max(
        (len(f"{v:,}" if isinstance(v, int) else str(v)) for v in values if v is not None),
        default=0,
    )
    return max(_MIN_WIDTH, min(_MAX_WIDTH, longest + 2))


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """The sheets as an XLSX workbook (see the module rules)."""
    buffer = io.BytesIO()
    options = {
        "in_memory": True,
        "strings_to_formulas": False,
        "strings_to_numbers": False,
        "strings_to_urls": False,
    }
    with xlsxwriter.Workbook(buffer, options) as book:
        bold = book.add_format({"bold": True})
        heading = book.add_format({"bold": True, "font_size": 13})
        whole = book.add_format({"num_format": "#,##0"})
        decimal = book.add_format({"num_format": "0.0"})
        for sheet in sheets:
            page = book.add_worksheet(sheet.name[:31])
            page.write_string(0, 0, sheet.title, heading)
            for c, name in enumerate(sheet.header):
                page.write_string(1, c, name, bold)
            for r, row in enumerate(sheet.rows, start=2):
                for c, value in enumerate(row):
                    if value is None:
                        continue
                    if isinstance(value, str):
                        page.write_string(r, c, value)
                    elif isinstance(value, float):
                        page.write_number(r, c, value, decimal)
                    else:
                        page.write_number(r, c, value, whole)
            for c, name in enumerate(sheet.header):
                column = [name, *(row[c] if c < len(row) else None for row in sheet.rows)]
                page.set_column(c, c, _width(column))
            page.freeze_panes(2, 0)
    return buffer.getvalue()
