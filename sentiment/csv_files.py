"""CSV files in and out of `brandpulse sentiment`: texts to score, labelled texts to train or evaluate on.

A file needs a `text` column; an optional `brand` column names the brand each row is about, and a
labelled file has a `label` column: negative / neutral / positive or a common alias (neg, pos,
-1, 0, 1, ...). Files are UTF-8 (a BOM is fine); `-` is stdin or stdout. Blank lines are not rows.
"""

from __future__ import annotations

import csv
import io
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from monitor.errors import InputError

log = logging.getLogger(__name__)

TEXT_COLUMN = "text"
BRAND_COLUMN = "brand"
LABEL_COLUMN = "label"
PREDICTION_COLUMNS = ("label", "score")
STDIO = "-"
# Far above any post or review; a bigger field is a broken file, not a text.
MAX_FIELD_CHARS = 32 * 1024 * 1024

LABEL_ALIASES: dict[str, str] = {
    **dict.fromkeys(("negative", "neg", "-1", "-", "n", "отрицательный", "негатив"), "negative"),
    **dict.fromkeys(("neutral", "neu", "0", "нейтральный", "нейтрал"), "neutral"),
    **dict.fromkeys(("positive", "pos", "1", "+1", "+", "p", "положительный", "позитив"), "positive"),
}


def normalize_label(raw: str) -> str | None:
    """negative / neutral / positive for a label or one of its aliases (any case); None if unknown."""
    return LABEL_ALIASES.get(raw.strip().lower())


def display_name(path: str | Path, output: bool = False) -> str:
    if str(path) == STDIO:
        return "stdout" if output else "stdin"
    return str(path)


@dataclass
class TextRows:
    """An open CSV with a `text` column: its header, where the known columns are, and its rows."""

    name: str
    header: list[str]
    text_at: int
    brand_at: int | None
    label_at: int | None
    rows: Iterator[tuple[int, list[str]]]  # (1-based line of the row in the file, fields)

    def text(self, row: list[str]) -> str:
        return row[self.text_at]

    def brand(self, row: list[str]) -> str | None:
        if self.brand_at is None:
            return None
        return row[self.brand_at].strip() or None


@contextmanager
def open_texts(path: str | Path) -> Iterator[TextRows]:
    """Open a CSV of texts; InputError (file and what was expected) if it is unreadable or has no text."""
    name = display_name(path)
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD_CHARS))
    with _open_input(path) as source:
        reader = csv.reader(source)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"{name}: cannot read the header: {exc}") from exc
        if not header or not any(column.strip() for column in header):
            raise InputError(f"{name}: empty file; expected a CSV with a header line and a 'text' column")
        names = [column.strip().lower() for column in header]
        if TEXT_COLUMN not in names:
            found = ", ".join(column.strip() for column in header)
            raise InputError(
                f"{name}: no '{TEXT_COLUMN}' column (found: {found}); expected a CSV with a header"
            )
        yield TextRows(
            name=name,
            header=header,
            text_at=names.index(TEXT_COLUMN),
            brand_at=names.index(BRAND_COLUMN) if BRAND_COLUMN in names else None,
            label_at=names.index(LABEL_COLUMN) if LABEL_COLUMN in names else None,
            rows=_rows(reader, name, len(header)),
        )


def _rows(reader: Iterator[list[str]], name: str, width: int) -> Iterator[tuple[int, list[str]]]:
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            line = int(getattr(reader, "line_num", 0))
            raise InputError(f"{name}: line {line}: cannot read: {exc}; save the file as UTF-8 CSV") from exc
        if not row:
            continue
        line = int(getattr(reader, "line_num", 0))
        if len(row) > width:
            log.warning(
                "%s: line %s has %d fields, the header %d: extra fields dropped", name, line, len(row), width
            )
            row = row[:width]
        yield line, row + [""] * (width - len(row))


@contextmanager
def _open_input(path: str | Path) -> Iterator[TextIO]:
    if str(path) == STDIO:
        # Bytes from stdin decoded as UTF-8 whatever the locale; stdin itself stays open.
        stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
        try:
            yield stream
        finally:
            stream.detach()
        return
    try:
        source = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}; expected a CSV file") from exc
    with source:
        yield source


@contextmanager
def open_output(path: str | Path) -> Iterator[TextIO]:
    if str(path) == STDIO:
        stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
        try:
            yield stream
        finally:
            stream.flush()
            stream.detach()
        return
    try:
        sink = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    with sink:
        yield sink


@dataclass
class LabelledRows:
    texts: list[str]
    labels: list[str]
    brands: list[str | None]

    def __len__(self) -> int:
        return len(self.texts)


def read_labelled(path: str | Path) -> LabelledRows:
    """Texts, gold labels (aliases resolved) and brands; InputError on a missing column or a bad label."""
    texts: list[str] = []
    labels: list[str] = []
    brands: list[str | None] = []
    with open_texts(path) as table:
        if table.label_at is None:
            raise InputError(
                f"{table.name}: no '{LABEL_COLUMN}' column; expected 'text' and 'label' "
                "(negative / neutral / positive) columns"
            )
        for line, row in table.rows:
            raw = row[table.label_at]
            label = normalize_label(raw)
            if label is None:
                raise InputError(
                    f"{table.name}: line {line}: label {raw!r} is not negative, neutral or positive "
                    "(aliases: neg/neu/pos, -1/0/1)"
                )
            texts.append(table.text(row))
            labels.append(label)
            brands.append(table.brand(row))
    if not texts:
        raise InputError(f"{display_name(path)}: no rows; expected labelled texts under the header")
    return LabelledRows(texts, labels, brands)


Predict = Callable[[Sequence[str], Sequence[str | None]], list[tuple[str, float]]]


def predict_csv(
    predict: Predict,
    input_path: str | Path,
    output_path: str | Path,
    chunk_rows: int = 1_000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the input rows, in order, with `label` and `score` added; return the number of rows.

    The file is read and written `chunk_rows` at a time, so its size does not matter. An input
    column already named label or score is kept as input_label / input_score.
    """
    if str(input_path) != STDIO and str(output_path) != STDIO:
        if Path(output_path).exists() and Path(output_path).resolve() == Path(input_path).resolve():
            raise InputError(f"{output_path}: output would overwrite the input; choose another file")
    count = 0
    with open_texts(input_path) as table:
        header = [f"input_{c}" if c.strip().lower() in PREDICTION_COLUMNS else c for c in table.header]
        with open_output(output_path) as sink:
            writer = csv.writer(sink)
            writer.writerow([*header, *PREDICTION_COLUMNS])
            chunk: list[list[str]] = []
            for _, row in table.rows:
                chunk.append(row)
                if len(chunk) >= chunk_rows:
                    count += _write_chunk(writer, table, chunk, predict)
                    if progress:
                        progress(len(chunk))
                    chunk = []
            if chunk:
                count += _write_chunk(writer, table, chunk, predict)
                if progress:
                    progress(len(chunk))
    return count


def _write_chunk(writer: Any, table: TextRows, chunk: list[list[str]], predict: Predict) -> int:
    predictions = predict([table.text(r) for r in chunk], [table.brand(r) for r in chunk])
    writer.writerows(
        [*row, label, f"{score:.4f}"] for row, (label, score) in zip(chunk, predictions, strict=True)
    )
    return len(chunk)
