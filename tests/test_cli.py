"""The `brandpulse` command as a user types it: verbs, --help, one-line errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crawlers.base import Batch
from monitor import store
from monitor.cli import app
from monitor.db.session import open_database, session_factory
from monitor.local_server import LocalServer

FIXTURES = Path(__file__).parent / "fixtures" / "pipeline"
runner = CliRunner()

CONFIG = """
brands:
  - name: ВкусМаркет
  - name: Магнит
    competitor: true
    context: [магазин, молоко]
sources:
  - name: city-forum
    type: rss
    urls: ["{base}/news.xml"]
storage:
  url: "sqlite:///{db}"
"""


@pytest.fixture
def site():
    with LocalServer(FIXTURES) as server:
        yield server


@pytest.fixture
def config_file(tmp_path, site):
    path = tmp_path / "spiders.yaml"
    path.write_text(
        CONFIG.replace("{base}", site.base_url).replace("{db}", str(tmp_path / "bp.db")), encoding="utf-8"
    )
    return path


def brandpulse(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a user runs it (errors go through main())."""
    return subprocess.run(
        [sys.executable, "-c", "from monitor.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", ["init", "crawl", "run", "score", "match", "health", "demo", "dashboard"])
def test_every_command_has_help_with_an_example(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_init_creates_the_database(config_file, tmp_path):
    result = runner.invoke(app, ["init", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    assert "1 sources registered" in result.output
    assert (tmp_path / "bp.db").exists()


def test_crawl_then_score_stores_and_scores_mentions(config_file):
    crawl = runner.invoke(app, ["crawl", "--config", str(config_file), "--format", "json"])
    assert crawl.exit_code == 0, crawl.output
    row = json.loads(crawl.output.strip().splitlines()[-1])
    assert row["source"] == "city-forum" and row["new"] == 4
    score = runner.invoke(app, ["score", "--config", str(config_file)])
    assert score.exit_code == 0, score.output
    assert "→ 4 mentions; scored 4" in score.output


def test_crawl_dry_run_prints_items_as_json_and_stores_nothing(config_file, tmp_path):
    result = runner.invoke(app, ["crawl", "--config", str(config_file), "--dry-run"])
    assert result.exit_code == 0, result.output
    items = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert len(items) == 4 and items[0]["source"] == "city-forum"
    assert not (tmp_path / "bp.db").exists()


def test_unknown_source_is_one_line_error(config_file):
    result = brandpulse("crawl", "--config", str(config_file), "--source", "nope")
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: no source named 'nope' (configured: city-forum)"


def test_bad_config_is_reported_without_traceback(tmp_path):
    bad = tmp_path / "spiders.yaml"
    bad.write_text("brands:\n  - name: X\n    colour: red\n", encoding="utf-8")
    result = brandpulse("init", "--config", str(bad))
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: {bad}:3: brands[0].colour: unknown key"
    assert "Traceback" not in result.stderr


def test_unwritable_database_path_is_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cfg = tmp_path / "spiders.yaml"
    cfg.write_text(
        f"brands:\n  - name: X\nstorage:\n  url: sqlite:///{blocker}/sub/bp.db\n", encoding="utf-8"
    )
    result = brandpulse("init", "--config", str(cfg))
    assert result.returncode == 1
    assert result.stderr.startswith("Error: cannot open database") and "Traceback" not in result.stderr


def test_match_writes_one_row_per_text_and_brand(config_file, tmp_path):
    texts = tmp_path / "texts.csv"
    with texts.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text"])
        writer.writerow(["a", "Во ВкусМаркете опять очередь, а в Магните молоко дешевле"])
        writer.writerow(["b", "Купил магнит на холодильник"])
        writer.writerow(["c", "#вкусмаркет лучший"])
    out = tmp_path / "matches.csv"
    result = runner.invoke(
        app, ["match", "--config", str(config_file), "--input", str(texts), "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as f:
        rows = [(r["row"], r["brand"], r["span"], r["id"]) for r in csv.DictReader(f)]
    assert rows == [
        ("0", "ВкусМаркет", "ВкусМаркете", "a"),
        ("0", "Магнит", "Магните", "a"),
        ("2", "ВкусМаркет", "вкусмаркет", "c"),
    ]


def test_match_without_text_column_is_one_line_error(config_file, tmp_path):
    texts = tmp_path / "texts.csv"
    texts.write_text("id,body\n1,привет\n", encoding="utf-8")
    result = brandpulse(
        "match", "--config", str(config_file), "--input", str(texts), "--output", str(tmp_path / "o.csv")
    )
    assert result.returncode == 1
    assert "no 'text' column" in result.stderr and "Traceback" not in result.stderr


def test_health_lists_sources_after_a_crawl(config_file):
    runner.invoke(app, ["crawl", "--config", str(config_file)])
    result = runner.invoke(app, ["health", "--config", str(config_file), "--format", "json"])
    assert result.exit_code == 0, result.output
    health = json.loads(result.output.strip().splitlines()[-1])
    assert health["name"] == "city-forum" and health["failing"] is False


def test_health_reads_the_database_given_with_its_own_sources(config_file, tmp_path):
    other = tmp_path / "other.db"
    with session_factory(open_database(f"sqlite:///{other}")).begin() as session:
        store.save_batch(session, "demo-vk", "vk", Batch(items=[], cursor={}))
    command = ["health", "--config", str(config_file), "--format", "json", "--database", f"sqlite:///{other}"]
    result = runner.invoke(app, command)
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in map(json.loads, result.stdout.strip().splitlines())}
    assert (rows["demo-vk"]["state"], rows["demo-vk"]["configured"]) == ("ok", False)
    assert rows["city-forum"]["state"] == "never_ran"
    assert not (tmp_path / "bp.db").exists()


def test_health_of_a_database_that_is_not_there_is_one_line_error_and_creates_none(config_file, tmp_path):
    result = brandpulse("health", "--config", str(config_file))
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: no database at {tmp_path / 'bp.db'}: nothing has been collected")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "bp.db").exists()


def test_health_of_a_database_where_nothing_ran_says_it_is_empty(config_file, tmp_path):
    runner.invoke(app, ["init", "--config", str(config_file)])
    result = runner.invoke(app, ["health", "--config", str(config_file), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert f"database {tmp_path / 'bp.db'} is empty: no source has run there yet" in result.stderr
    assert json.loads(result.stdout)["state"] == "never_ran"
