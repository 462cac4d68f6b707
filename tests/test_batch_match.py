"""match_csv: brands in a CSV of texts, one output row per (row, brand), bad rows skipped not fatal."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pytest

from monitor.batch_match import BatchMatchResult, match_csv
from monitor.config import BrandConfig
from monitor.errors import InputError
from monitor.matching import BrandMatcher

FIXTURES = Path(__file__).parent / "fixtures" / "matching"

MATCHER = BrandMatcher.from_config(
    [
        BrandConfig(name="Сбербанк", aliases=["Сбер", "Sber"]),
        BrandConfig(name="МТС", aliases=["MTS"]),
        BrandConfig(name="МегаФон", competitor=True),
        BrandConfig(name="Магнит", context=["магазин", "кассир", "чек"]),
    ]
)


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as file:
        csv.writer(file).writerows(rows)
    return path


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


def run(tmp_path: Path, rows: list[list[str]]) -> tuple[BatchMatchResult, list[list[str]]]:
    output = tmp_path / "out.csv"
    result = match_csv(MATCHER, write_csv(tmp_path / "in.csv", rows), output)
    return result, read_csv(output)


def test_posts_export_gives_one_row_per_row_and_brand(tmp_path):
    output = tmp_path / "matches.csv"
    match_csv(MATCHER, FIXTURES / "posts.csv", output)
    assert read_csv(output) == [
        ["row", "brand", "span", "id", "source", "published_at", "likes"],
        ["0", "Сбербанк", "Сбербанка", "vk_-1234_5501", "vk", "2025-03-02 09:14", "12"],
        ["2", "МТС", "МТС", "tg_retail_881", "telegram", "2025-03-02 10:01", "40"],
        ["2", "МегаФон", "Мегафон", "tg_retail_881", "telegram", "2025-03-02 10:01", "40"],
        ["5", "Магнит", "Магните", "otz_77813", "otzovik", "2025-03-02 11:45", "7"],
    ]


def test_result_counts_rows_and_matches(tmp_path):
    result = match_csv(MATCHER, FIXTURES / "posts.csv", tmp_path / "matches.csv")
    assert result == BatchMatchResult(rows_read=6, rows_matched=3, matches=4, skipped=0)


def test_byte_order_mark_does_not_reach_the_column_names(tmp_path):
    output = tmp_path / "matches.csv"
    match_csv(MATCHER, FIXTURES / "posts.csv", output)
    assert read_csv(output)[0][3] == "id"


def test_rows_without_a_brand_are_absent(tmp_path):
    _, rows = run(tmp_path, [["text"], ["погода супер"], ["очередь в Сбере"], ["котики 🐱"]])
    assert rows == [["row", "brand", "span"], ["1", "Сбербанк", "Сбере"]]


def test_text_column_is_found_in_any_position(tmp_path):
    _, rows = run(tmp_path, [["author", "text"], ["Ольга", "МТСу привет"]])
    assert rows == [["row", "brand", "span", "author"], ["0", "МТС", "МТСу", "Ольга"]]


def test_missing_text_column_raises_input_error_naming_the_columns(tmp_path):
    path = write_csv(tmp_path / "posts.csv", [["a", "b"], ["1", "2"]])
    with pytest.raises(InputError) as err:
        match_csv(MATCHER, path, tmp_path / "out.csv")
    assert str(err.value) == f"{path}: no 'text' column (found: a, b)"


def test_missing_text_column_creates_no_output(tmp_path):
    path = write_csv(tmp_path / "posts.csv", [["a", "b"], ["1", "2"]])
    with pytest.raises(InputError):
        match_csv(MATCHER, path, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_empty_file_raises_input_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="empty file; expected a header line with a 'text' column"):
        match_csv(MATCHER, path, tmp_path / "out.csv")


def test_missing_input_file_raises_input_error(tmp_path):
    with pytest.raises(InputError, match="nope.csv: cannot read"):
        match_csv(MATCHER, tmp_path / "nope.csv", tmp_path / "out.csv")


def test_output_may_not_overwrite_the_input(tmp_path):
    path = write_csv(tmp_path / "posts.csv", [["text"], ["Сбер"]])
    with pytest.raises(InputError, match="output would overwrite the input"):
        match_csv(MATCHER, path, path)


def test_input_column_named_like_an_output_column_is_renamed(tmp_path):
    _, rows = run(tmp_path, [["brand", "text"], ["наш", "в Сбере очередь"]])
    assert rows[0] == ["row", "brand", "span", "input_brand"]


def test_multiline_text_is_one_row(tmp_path):
    _, rows = run(tmp_path, [["text", "id"], ["первая строка\nвторая: Сбер\nтретья", "7"]])
    assert rows[1] == ["0", "Сбербанк", "Сбер", "7"]


def test_empty_text_is_read_and_not_matched(tmp_path):
    result, rows = run(tmp_path, [["text", "id"], ["", "1"], ["   ", "2"]])
    assert (result.rows_read, result.matches, result.skipped, len(rows)) == (2, 0, 0, 1)


def test_null_bytes_are_stripped(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("text,id\nСбер\x00банк завис,1\n", encoding="utf-8")
    match_csv(MATCHER, path, tmp_path / "out.csv")
    assert read_csv(tmp_path / "out.csv")[1] == ["0", "Сбербанк", "Сбербанк", "1"]


def test_megabyte_text_is_matched(tmp_path):
    text = "гуляли в парке, погода супер. " * 35_000 + "МТС опять без связи"
    result, rows = run(tmp_path, [["text"], [text], ["Сбер"]])
    assert rows[1:] == [["0", "МТС", "МТС"], ["1", "Сбербанк", "Сбер"]]


def test_emoji_and_mixed_scripts_are_matched(tmp_path):
    _, rows = run(tmp_path, [["text"], ["🔥🔥 Sber и МТС — 💩💩 vs 👍 日本語 ✨"]])
    assert rows[1:] == [["0", "Сбербанк", "Sber"], ["0", "МТС", "МТС"]]


def test_row_that_is_not_utf8_is_skipped_counted_and_logged(tmp_path, caplog):
    path = tmp_path / "in.csv"
    path.write_bytes("text\nСбер\n".encode() + "МТС\n".encode("cp1251") + "МТС\n".encode())
    with caplog.at_level(logging.WARNING, logger="monitor.batch_match"):
        result = match_csv(MATCHER, path, tmp_path / "out.csv")
    assert (result.rows_read, result.skipped, result.matches) == (3, 1, 2)
    assert f"{path}: row 1 skipped: not valid UTF-8" in caplog.messages


def test_row_that_breaks_the_matcher_is_skipped_and_the_rest_go_on(tmp_path, caplog):
    class FailsOnBoom:
        def find(self, text: str) -> list:
            if "boom" in text:
                raise RuntimeError("matcher bug")
            return MATCHER.find(text)

    path = write_csv(tmp_path / "in.csv", [["text"], ["boom"], ["Сбер"]])
    with caplog.at_level(logging.WARNING, logger="monitor.batch_match"):
        result = match_csv(FailsOnBoom(), path, tmp_path / "out.csv")  # type: ignore[arg-type]
    assert (result.rows_read, result.skipped, result.matches) == (2, 1, 1)
    assert f"{path}: row 0 skipped: RuntimeError: matcher bug" in caplog.messages
