"""A source whose site answers with its anti-bot check is "blocked": its own state in health (CLI and
dashboard), its own reason in the alert, and a longer wait before each next try."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from alerts.health import queue_health_alerts
from crawlers.base import Batch
from monitor import store
from monitor.cli import app
from monitor.config import parse_config
from monitor.db.models import OutboxMessage
from monitor.db.session import open_database, session_factory
from monitor.errors import SourceBlocked, SourceUnavailable, failure_kind
from monitor.local_server import LocalServer, Response
from monitor.pipeline import Pipeline
from monitor.scheduler import BLOCKED_BACKOFF_MAX_INTERVALS, run_forever, wait_after
from monitor.source_health import database_source_health

CAPTCHA = (Path(__file__).parent / "fixtures" / "sites" / "blocked" / "smartcaptcha.html").read_bytes()
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
BLOCKED_ERROR = (
    "otzovik: no page could be fetched: http://127.0.0.1/otzovik/: blocked by the site's anti-bot check "
    "(Yandex SmartCaptcha, HTTP 200, «Вы не робот?»)"
)

CONFIG = """
brands:
  - name: ВкусМаркет
sources:
  - name: otzovik
    type: site
    preset: otzovik
    interval: 10s
    delay: 0
    max_pages: 1
    start_urls: ["{base}/otzovik/"]
alerts:
  telegram:
    chat_ids: [-100]
storage:
  url: "sqlite:///{db}"
"""


@pytest.fixture
def captcha_site() -> Iterator[LocalServer]:
    def captcha(request: object) -> Response:
        return Response(200, CAPTCHA, {"Content-Type": "text/html; charset=utf-8"})

    with LocalServer(routes={"/otzovik/": captcha}) as server:
        yield server


@pytest.fixture
def config_file(tmp_path: Path, captcha_site: LocalServer) -> Path:
    path = tmp_path / "spiders.yaml"
    text = CONFIG.replace("{base}", captcha_site.base_url).replace("{db}", str(tmp_path / "bp.db"))
    path.write_text(text, encoding="utf-8")
    return path


def blocked(session, at: datetime) -> None:
    store.record_failure(session, "otzovik", "site", BLOCKED_ERROR, now=at, kind="blocked")


def test_a_crawl_answered_by_a_captcha_leaves_the_source_blocked_with_the_reason(config_file: Path) -> None:
    config = parse_config(config_file.read_text(encoding="utf-8"))
    pipeline = Pipeline(config, session_factory(open_database(config.storage.url)))

    report = pipeline.crawl(config.sources[0])

    assert report.blocked and "blocked by the site's anti-bot check (Yandex SmartCaptcha" in (
        report.error or ""
    )
    with pipeline.sessions() as session:
        [health] = database_source_health(session, config.sources)
    assert (health.state, health.blocked, health.failing) == ("blocked", True, False)
    assert health.needs_attention and health.last_error == report.error
    assert health.last_error_kind == "blocked"


def test_health_command_shows_a_blocked_source_apart_from_failing_ones(config_file: Path) -> None:
    runner = CliRunner()
    runner.invoke(app, ["crawl", "--config", str(config_file)])
    result = runner.invoke(app, ["health", "--config", str(config_file), "--format", "json"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout.strip().splitlines()[-1])
    assert (row["name"], row["state"], row["blocked"]) == ("otzovik", "blocked", True)
    assert "blocked by the site's anti-bot check" in row["last_error"]


@sqlite_only
def test_a_success_after_a_block_ends_the_blocked_state(sessions) -> None:
    config = parse_config(CONFIG.replace("{base}", "http://127.0.0.1").replace("{db}", "unused.db"))
    with sessions.begin() as session:
        blocked(session, T0)
        store.save_batch(
            session, "otzovik", "site", Batch(items=[], cursor={}), now=T0 + timedelta(minutes=1)
        )
    with sessions() as session:
        [health] = database_source_health(session, config.sources, now=T0 + timedelta(minutes=1, seconds=5))
    assert health.state == "ok" and not health.blocked


@sqlite_only
def test_an_ordinary_failure_after_a_block_is_failing_not_blocked(sessions) -> None:
    config = parse_config(CONFIG.replace("{base}", "http://127.0.0.1").replace("{db}", "unused.db"))
    with sessions.begin() as session:
        for minutes in range(3):
            blocked(session, T0 + timedelta(minutes=minutes))
        store.record_failure(
            session, "otzovik", "site", "otzovik: HTTP 503", now=T0 + timedelta(minutes=3), kind="unavailable"
        )
    with sessions() as session:
        [health] = database_source_health(session, config.sources, now=T0 + timedelta(minutes=4))
    assert (health.state, health.blocked) == ("failing", False)


@sqlite_only
def test_a_source_that_stays_blocked_is_alerted_like_a_failing_one_with_the_block_as_reason(sessions) -> None:
    config = parse_config(CONFIG.replace("{base}", "http://127.0.0.1").replace("{db}", "unused.db"))
    with sessions.begin() as session:
        blocked(session, T0)
        assert queue_health_alerts(session, config, now=T0 + timedelta(seconds=5)) == 0  # one block: wait
        for seconds in (10, 20):
            blocked(session, T0 + timedelta(seconds=seconds))
        assert queue_health_alerts(session, config, now=T0 + timedelta(seconds=25)) == 1
        [message] = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "health"))
    assert "Источник не работает: otzovik" in message.text
    assert "анти-бот проверкой" in message.text and "3 запусков подряд" in message.text
    assert "Yandex SmartCaptcha" in message.text


def test_each_blocked_crawl_in_a_row_doubles_the_wait_up_to_a_cap() -> None:
    assert [wait_after(600, blocked) for blocked in range(4)] == [600, 1200, 2400, 4800]
    assert wait_after(600, 50) == 600 * BLOCKED_BACKOFF_MAX_INTERVALS


def test_run_loop_backs_off_from_a_blocked_source(config_file: Path, captcha_site: LocalServer) -> None:
    config = parse_config(config_file.read_text(encoding="utf-8"))
    pipeline = Pipeline(config, session_factory(open_database(config.storage.url)))
    now, stop, cycles = [0.0], threading.Event(), []

    def advance() -> None:
        cycles.append(now[0])
        now[0] += 10.0  # one interval per cycle
        if len(cycles) == 6:
            stop.set()

    run_forever(pipeline, stop, clock=lambda: now[0], idle_poll=0, on_cycle=advance)
    # Blocked at t=0 (next in 20 s) and t=20 (next in 40 s): 2 tries in 60 s instead of 6.
    assert captcha_site.requests.count("/otzovik/") == 2


@pytest.mark.parametrize(
    ("error", "kind"),
    [(SourceBlocked("s", "captcha"), "blocked"), (SourceUnavailable("s", "HTTP 503"), "unavailable")],
)
def test_failure_kind_names_the_error_class(error: Exception, kind: str) -> None:
    assert failure_kind(error) == kind
    assert failure_kind(ValueError("bug")) == "error"
