"""`brandpulse report weekly`: one self-contained HTML file with the week's figures, user text
escaped."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from monitor.analytics import Week
from monitor.cli import app
from monitor.db.session import open_database, session_factory
from monitor.report import build_weekly_report, render_html
from tests.support.seed import Post, seed
from tests.test_response_times import NOW, RESPONSE_POSTS
from tests.test_trends import TREND_POSTS

MOSCOW = ZoneInfo("Europe/Moscow")
SCRIPT = "<script>alert('x')</script> ВкусМаркет хамит"


@pytest.fixture
def database(tmp_path):
    url = f"sqlite:///{tmp_path / 'report.db'}"
    engine = open_database(url)
    with session_factory(engine).begin() as session:
        # The two sets' dedup groups must stay apart.
        responses = [replace(p, group=p.group + 100) if p.group else p for p in RESPONSE_POSTS]
        script = Post(SCRIPT, "ВкусМаркет", source="vk", published_at=datetime(2026, 11, 21, 9, tzinfo=UTC),
                      author="<b>Злой</b>")  # fmt: skip
        seed(session, [*TREND_POSTS, *responses, script])
    yield url, engine
    engine.dispose()


def report_html(engine) -> str:
    with session_factory(engine)() as session:
        return render_html(build_weekly_report(session, Week(2026, 47), MOSCOW, NOW))


def test_report_is_self_contained_html(database):
    page = report_html(database[1])
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "<script" not in page and "http://" not in page.replace("https://example.ru", "")
    assert "src=" not in page and "<link" not in page


def test_report_escapes_user_text(database):
    page = report_html(database[1])
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; ВкусМаркет хамит" in page
    assert "&lt;b&gt;Злой&lt;/b&gt;" in page and "<b>Злой</b>" not in page


def test_report_has_the_weeks_figures(database):
    page = report_html(database[1])
    assert "отчёт за неделю 2026-W47 (16.11–22.11.2026)" in page
    # The median time to first response worked out in tests/test_response_times.py: unanswered
    # posts added here do not move it.
    assert "<b>2,0 ч</b>" in page
    assert "долгое ожидание" in page and "не вернул деньги" in page
    assert "F: &lt;b&gt;никто не ответил&lt;/b&gt;" in page  # waiting for an answer


def test_cli_writes_the_report(database, tmp_path):
    url, _engine = database
    config = tmp_path / "spiders.yaml"
    config.write_text(f"brands:\n  - name: ВкусМаркет\nstorage:\n  url: {url}\n", encoding="utf-8")
    output = tmp_path / "out" / "report.html"
    output.parent.mkdir()
    result = CliRunner().invoke(
        app, ["report", "weekly", "--week", "2026-W47", "--output", str(output), "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    assert "2026-W47" in output.read_text(encoding="utf-8")


def test_cli_refuses_a_malformed_week(tmp_path):
    result = CliRunner().invoke(
        app, ["report", "weekly", "--week", "47", "--config", str(tmp_path / "x.yaml")]
    )
    assert result.exit_code == 2 and "not an ISO week: '47'" in result.output


def empty_config(tmp_path) -> Path:
    """A config whose own database is not there: only --database can point the report somewhere."""
    config = tmp_path / "spiders.yaml"
    config.write_text(
        f"brands:\n  - name: ВкусМаркет\nstorage:\n  url: sqlite:///{tmp_path / 'configured.db'}\n",
        encoding="utf-8",
    )
    return config


def test_cli_reads_the_database_given(database, tmp_path):
    output = tmp_path / "report.html"
    command = [
        "report",
        "weekly",
        "--week",
        "2026-W47",
        "-o",
        str(output),
        "--config",
        str(empty_config(tmp_path)),
    ]
    result = CliRunner().invoke(app, [*command, "--database", database[0]])
    assert result.exit_code == 0, result.output
    assert "не вернул деньги" in output.read_text(encoding="utf-8")
    assert not (tmp_path / "configured.db").exists()


def test_cli_refuses_a_database_that_is_not_there_and_creates_none(tmp_path):
    output = tmp_path / "report.html"
    command = ["report", "weekly", "-o", str(output), "--config", str(empty_config(tmp_path))]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 1
    assert str(result.exception).startswith(f"no database at {tmp_path / 'configured.db'}")
    assert not output.exists() and not (tmp_path / "configured.db").exists()


def test_cli_says_an_empty_database_is_empty_instead_of_an_all_clear(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    open_database(url).dispose()
    output = tmp_path / "report.html"
    command = ["report", "weekly", "-o", str(output), "--config", str(empty_config(tmp_path))]
    result = CliRunner().invoke(app, [*command, "--database", url])
    assert result.exit_code == 1 and not output.exists()
    assert f"database {tmp_path / 'empty.db'} is empty: no mentions collected yet" in str(result.exception)


def test_report_without_negative_mentions_does_not_call_them_all_answered(tmp_path):
    engine = open_database(f"sqlite:///{tmp_path / 'calm.db'}")
    with session_factory(engine).begin() as session:
        seed(session, [Post("ВкусМаркет молодцы", "ВкусМаркет", "positive", published_at=NOW)])
    page = report_html(engine)
    engine.dispose()
    assert "Негативных упоминаний за 30 дней нет." in page
    assert "получили ответ" not in page and "Негатива без ответа дольше часа нет" not in page
