"""Tables as CSV and XLSX files: readable back, Cyrillic intact, user text never a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from monitor.export import Table, to_csv, to_xlsx
from monitor.queries import InboxRow
from monitor.ui.tables import inbox_table

ROWS = Table(
    "Входящие",
    ["бренд", "опубликовано", "охват", "текст"],
    [
        ["ВкусМаркет", datetime(2026, 11, 20, 9, 0, tzinfo=UTC), 1200, '=HYPERLINK("http://evil")'],
        ["Магнит", None, 0, "обычный текст\x07 со звонком"],
    ],
)
SCORES = Table("Оценки", ["бренд", "оценка", "ждёт, ч"], [["ВкусМаркет", 0.91, 13.5]])


def excel_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_csv_has_a_bom_for_excel_and_reads_back():
    data = to_csv(ROWS, ZoneInfo("Europe/Moscow"))
    assert data.startswith("\ufeff".encode())
    rows = excel_rows(data)
    assert rows[0] == ["бренд", "опубликовано", "охват", "текст"]
    assert rows[1][:3] == ["ВкусМаркет", "2026-11-20 12:00", "1200"]


def test_csv_opens_in_russian_excel_as_columns_with_decimal_commas():
    data = to_csv(SCORES)
    assert data.decode("utf-8-sig").splitlines() == ["бренд;оценка;ждёт, ч", "ВкусМаркет;0,91;13,5"]


def test_csv_for_programs_is_plain_comma_separated():
    data = to_csv(SCORES, excel=False)
    assert not data.startswith("\ufeff".encode())
    assert data.decode("utf-8").splitlines() == ['бренд,оценка,"ждёт, ч"', "ВкусМаркет,0.91,13.5"]


def test_exports_write_times_in_the_zone_the_pages_show_not_utc(monkeypatch):
    monkeypatch.delenv("BRANDPULSE_TIMEZONE", raising=False)
    assert excel_rows(to_csv(ROWS))[1][1] == "2026-11-20 12:00"  # Moscow by default
    monkeypatch.setenv("BRANDPULSE_TIMEZONE", "Asia/Yekaterinburg")
    assert excel_rows(to_csv(ROWS))[1][1] == "2026-11-20 14:00"
    assert load_workbook(io.BytesIO(to_xlsx([ROWS]))).active["B2"].value == datetime(2026, 11, 20, 14, 0)


def test_csv_cells_that_look_like_formulas_are_text():
    rows = excel_rows(to_csv(ROWS))
    assert rows[1][3] == '\'=HYPERLINK("http://evil")'


def test_xlsx_has_a_sheet_per_table_with_values_and_no_formulas():
    second = Table("Входящие", ["a"], [[1]])  # same title: the sheet gets a suffix, not an error
    book = load_workbook(io.BytesIO(to_xlsx([ROWS, second], ZoneInfo("Europe/Moscow"))))
    assert book.sheetnames == ["Входящие", "Входящие (2)"]
    sheet = book["Входящие"]
    assert [c.value for c in sheet[1]] == ["бренд", "опубликовано", "охват", "текст"]
    name, published, reach, text = (c for c in sheet[2])
    assert (name.value, published.value, reach.value) == ("ВкусМаркет", datetime(2026, 11, 20, 12, 0), 1200)
    assert text.value == '=HYPERLINK("http://evil")' and text.data_type == "s"
    assert sheet["D3"].value == "обычный текст со звонком"


def test_inbox_view_exports_every_shown_field():
    row = InboxRow(
        mention_id=7, brand="ВкусМаркет", competitor=False, source="vk", author="Анна", reach=10,
        published_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC), text="ВкусМаркет обсчитал", span_start=0,
        span_end=10, url="https://vk.com/wall1_2", sentiment="negative", score=0.91, status="in_progress",
        assignee="olga", copies=2,
    )  # fmt: skip
    table = inbox_table([row])
    record = dict(zip(table.columns, table.rows[0], strict=True))
    assert record["тональность"] == "негатив" and record["статус"] == "в работе"
    assert (record["id"], record["копий"], record["ссылка"]) == (7, 2, "https://vk.com/wall1_2")
    book = load_workbook(io.BytesIO(to_xlsx([table])))
    assert book.active["N2"].value == "ВкусМаркет обсчитал"
