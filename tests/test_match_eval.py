"""`brandpulse match-eval`: precision and recall of the brand rules on labelled posts."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import BrandConfig
from monitor.errors import InputError
from monitor.match_eval import evaluate_matching, read_labelled, without_rules

runner = CliRunner()

BRANDS = [
    BrandConfig(
        name="Магнит",
        context=["магазин", "касса"],
        exclude=["магнит на холодильник"],
        competitor=True,
    ),
    BrandConfig(name="Мегафон", exclude=["в мегафон"]),
]
CONFIG = """
brands:
  - name: Магнит
    context: [магазин, касса]
    exclude: ["магнит на холодильник"]
  - name: Мегафон
    exclude: ["в мегафон"]
"""
LABELLED = [
    ("В Магните на кассе обсчитали", "Магнит"),
    ("в магните очередь на кассе", "Магнит"),
    ("Купила магнит на холодильник из Казани", ""),
    ("Мегафон опять без связи, а в Магните вай-фай есть", "Мегафон;Магнит"),
    ("Охранник кричал в мегафон", ""),
    # A lowercase «магнит» with no shop word: the context rule misses it, and the label says so.
    ("зашла в магнит за хлебом", "Магнит"),
]


def write_labelled(path: Path, rows=LABELLED) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "text", "brands"])
        writer.writerows([f"p{i}", text, brands] for i, (text, brands) in enumerate(rows, start=1))
    return path


def test_rules_are_scored_per_brand_with_every_mistake_named(tmp_path):
    posts = read_labelled(write_labelled(tmp_path / "posts.csv"), ["Магнит", "Мегафон"])
    evaluation = evaluate_matching(BRANDS, posts)
    magnit, megafon = evaluation.scores
    assert (magnit.labelled, magnit.true_hits, magnit.false_hits, magnit.misses) == (4, 3, 0, 1)
    assert (megafon.labelled, megafon.true_hits, megafon.false_hits) == (1, 1, 0)
    assert magnit.precision == 1.0 and magnit.recall == 0.75
    assert [(e.row, e.brand, e.kind) for e in evaluation.errors] == [(7, "Магнит", "miss")]
    total = evaluation.total
    assert (total.labelled, total.true_hits, total.false_hits) == (5, 4, 0)


def test_without_rules_the_ordinary_words_become_false_hits(tmp_path):
    posts = read_labelled(write_labelled(tmp_path / "posts.csv"), ["Магнит", "Мегафон"])
    evaluation = evaluate_matching(without_rules(BRANDS), posts)
    magnit, megafon = evaluation.scores
    assert (magnit.true_hits, magnit.false_hits) == (4, 1)
    assert (megafon.true_hits, megafon.false_hits) == (1, 1)
    assert {(e.row, e.kind) for e in evaluation.errors} == {(4, "false hit"), (6, "false hit")}


def test_a_brand_the_config_does_not_know_names_the_file_and_row(tmp_path):
    path = write_labelled(tmp_path / "posts.csv", [("Билайн снова подорожал", "Билайн")])
    with pytest.raises(InputError, match=r"posts\.csv:2: brand 'Билайн' is not in the config's brands"):
        read_labelled(path, ["Магнит", "Мегафон"])


def test_a_file_without_a_brands_column_is_refused(tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text("text\nпривет\n", encoding="utf-8")
    with pytest.raises(InputError, match="no brands column"):
        read_labelled(path, ["Магнит"])


def test_the_command_prints_the_table_and_the_mistakes(tmp_path):
    config = tmp_path / "spiders.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    posts = write_labelled(tmp_path / "posts.csv")
    result = runner.invoke(app, ["match-eval", "--config", str(config), "--input", str(posts)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"6 labelled posts, {posts}"
    magnit = next(line for line in lines if line.startswith("Магнит"))
    assert magnit.split() == ["Магнит", "4", "3", "0", "1", "1.0", "0.75", "0.857"]
    assert "  row 7: miss Магнит: зашла в магнит за хлебом" in lines

    as_json = runner.invoke(
        app, ["match-eval", "--config", str(config), "--input", str(posts), "--without-rules", "--json"]
    )
    rows = [json.loads(line) for line in as_json.output.splitlines()]
    assert [row["brand"] for row in rows] == ["Магнит", "Мегафон", "all brands"]
    assert rows[1]["false_hits"] == 1 and rows[1]["precision"] == 0.5


def test_a_windows_1251_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "posts.csv"
    path.write_bytes("text,brands\nВ Магните обсчитали,Магнит\n".encode("cp1251"))
    with pytest.raises(InputError, match="not UTF-8 text; save the CSV as UTF-8"):
        read_labelled(path, ["Магнит"])


def test_a_semicolon_separated_file_names_the_columns_it_found(tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text("text;brands\nВ Магните обсчитали;Магнит\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"columns found: text;brands"):
        read_labelled(path, ["Магнит"])
