"""Match brands in a CSV of texts, streaming: one output row per input row and brand found.

Input: UTF-8 (a BOM is fine) with a `text` column and any others; blank lines are not rows, as in
pandas. Output: `row` (0-based data row), `brand`, `span` (the matched text), then the input's other
columns as they were. A row that cannot be read or matched (bad UTF-8, a field over the size cap)
is logged with its number, counted and skipped; null bytes are dropped.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from monitor.errors import InputError
from monitor.matching import BrandMatcher, Match

log = logging.getLogger(__name__)

TEXT_COLUMN = "text"
OUTPUT_COLUMNS = ("row", "brand", "span")
# Far above any post or review; a bigger field is a broken file, not a text.
MAX_FIELD_CHARS = 32 * 1024 * 1024
# Bytes that are not UTF-8 come through as lone surrogates (errors="surrogateescape").
_UNDECODABLE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True)
class BatchMatchResult:
    rows_read: int
    rows_matched: int
    matches: int
    skipped: int


def match_csv(matcher: BrandMatcher, input_path: str | Path, output_path: str | Path) -> BatchMatchResult:
    """Write one row per (input row, brand found) to output_path; see the module docstring."""
    input_path, output_path = Path(input_path), Path(output_path)
    if output_path.exists() and output_path.resolve() == input_path.resolve():
        raise InputError(f"{output_path}: output would overwrite the input; choose another file")
    # The csv module's cap (128 KiB by default) is process-wide; raising it only ever helps others.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD_CHARS))
    try:
        source = input_path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")
    except OSError as exc:
        raise InputError(f"{input_path}: cannot read: {exc.strerror or exc}") from exc
    with source:
        reader = csv.reader(_without_nul(source))
        header = _read_header(reader, input_path)
        text_at = _text_column(header, input_path)
        passed = [i for i in range(len(header)) if i != text_at]
        try:
            sink = output_path.open("w", encoding="utf-8", newline="")
        except OSError as exc:
            raise InputError(f"{output_path}: cannot write: {exc.strerror or exc}") from exc
        with sink:
            writer = csv.writer(sink)
            writer.writerow([*OUTPUT_COLUMNS, *(_output_name(header[i]) for i in passed)])
            rows_read = rows_matched = matches = skipped = 0
            for row_number, row in _rows(reader, input_path):
                rows_read += 1
                if row is None:
                    skipped += 1
                    continue
                text = row[text_at] if text_at < len(row) else ""
                try:
                    found: list[Match] = matcher.find(text) if text.strip() else []
                except Exception as exc:  # one row that breaks the matcher must not stop the file
                    log.warning("%s: row %d skipped: %s: %s", input_path, row_number, type(exc).__name__, exc)
                    skipped += 1
                    continue
                rows_matched += bool(found)
                matches += len(found)
                others = [row[i] if i < len(row) else "" for i in passed]
                writer.writerows([row_number, match.brand, match.text, *others] for match in found)
    return BatchMatchResult(rows_read, rows_matched, matches, skipped)


def _without_nul(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        yield line.replace("\x00", "") if "\x00" in line else line


def _read_header(reader: Iterator[list[str]], path: Path) -> list[str]:
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InputError(f"{path}: cannot read the header: {exc}") from exc
    if not header or not any(name.strip() for name in header):
        raise InputError(f"{path}: empty file; expected a header line with a '{TEXT_COLUMN}' column")
    if any(_UNDECODABLE.search(name) for name in header):
        raise InputError(f"{path}: the header is not valid UTF-8; save the file as UTF-8")
    return header


def _text_column(header: list[str], path: Path) -> int:
    names = [name.strip() for name in header]
    for index, name in enumerate(names):
        if name.lower() == TEXT_COLUMN:
            return index
    raise InputError(f"{path}: no '{TEXT_COLUMN}' column (found: {', '.join(names)})")


def _output_name(name: str) -> str:
    # An input column called row/brand/span must not shadow ours.
    return f"input_{name}" if name.strip() in OUTPUT_COLUMNS else name


def _rows(reader: Iterator[list[str]], path: Path) -> Iterator[tuple[int, list[str] | None]]:
    """(0-based data row number, fields), or None for a row that could not be read."""
    row_number = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            log.warning("%s: row %d skipped: %s", path, row_number, exc)
            yield row_number, None
            row_number += 1
            continue
        if not row:  # a blank line is no row at all
            continue
        if any(_UNDECODABLE.search(field) for field in row):
            log.warning("%s: row %d skipped: not valid UTF-8", path, row_number)
            yield row_number, None
        else:
            yield row_number, row
        row_number += 1
