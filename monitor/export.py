"""Tables as files: CSV and XLSX of what a dashboard page shows (the inbox view, trends, response
times), times in the zone the pages show. Pure: rows in, bytes out, so the download buttons have
nothing to test but a click.

Post texts and author names are user input: a cell starting with "=", "+", "-" or "@" would run as a
formula when the file is opened in Excel or LibreOffice, so such cells are written as plain text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from monitor.clock import display_timezone
from monitor.invisible import shown

Cell = str | int | float | bool | datetime | date | None

# What spreadsheet programs read as the start of a formula (also after a tab or carriage return).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Control characters an XLSX file cannot hold.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Table:
    """A named table: the sheet of an XLSX file, or one CSV file."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]


def _text_cell(value: str) -> str:
    value = shown(value)  # a direction override would reverse the cell in Excel too
    return "'" + value if value.startswith(_FORMULA_START) else value


def _plain(value: Cell, tz: tzinfo) -> Cell:
    """Spreadsheets know no time zones: datetimes become naive local times."""
    if isinstance(value, datetime):
        return value.astimezone(tz).replace(tzinfo=None)
    return value


def to_csv(table: Table, tz: tzinfo | None = None, *, excel: bool = True) -> bytes:
    """The table as CSV, times in `tz` (default: the zone the pages show, BRANDPULSE_TIMEZONE or Moscow).

    For Excel (the default, what the download buttons give): UTF-8 with a byte-order mark (without it
    Excel opens Cyrillic as mojibake), ";" between cells and a decimal comma, as Russian Excel expects
    of a file opened with a double click; with "," and "13.5" it shows one column, or a date.
    `excel=False`: plain UTF-8, "," and decimal points, for programs.
    """
    zone = tz or display_timezone()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if excel else ",")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(_csv_cell(_plain(value, zone), excel) for value in row)
    return out.getvalue().encode("utf-8-sig" if excel else "utf-8")


def _csv_cell(value: Cell, excel: bool) -> Cell:
    if isinstance(value, str):
        return _text_cell(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, float) and excel:
        return repr(value).replace(".", ",")
    return value


def _sheet_name(title: str, taken: set[str]) -> str:
    base = _SHEET_NAME_FORBIDDEN.sub(" ", title).strip()[:31] or "Лист"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def to_xlsx(tables: Sequence[Table], tz: tzinfo | None = None) -> bytes:
    """One sheet per table, header row bold and frozen; times in `tz` (default: the pages' zone)."""
    zone = tz or display_timezone()
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(_sheet_name(table.title, taken))
        sheet.append(list(table.columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for row in table.rows:
            # Control characters XML cannot hold are dropped (openpyxl refuses them).
            sheet.append(
                [_ILLEGAL_XML.sub("", shown(v)) if isinstance(v, str) else _plain(v, zone) for v in row]
            )
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # openpyxl stores "=..." as a formula: force plain text
        for column, title in zip(sheet.columns, table.columns, strict=False):
            width = max([len(str(title)), *(len(str(c.value)) for c in column if c.value is not None)])
            sheet.column_dimensions[column[0].column_letter].width = min(60, width + 2)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
