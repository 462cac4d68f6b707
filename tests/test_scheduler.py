"""The `run` loop: sources on their intervals, and a clean stop that finishes the batch in hand."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from alerts.senders import TelegramSender
from monitor.config import parse_config
from monitor.db.models import Item, Sentiment
from monitor.db.session import open_database, session_factory
from monitor.local_server import LocalServer, Response
from monitor.pipeline import Pipeline
from monitor.scheduler import run_forever
from tests.support.fake_telegram import FakeBotApi

FIXTURES = Path(__file__).parent / "fixtures" / "pipeline"

CONFIG = """
brands:
  - name: ВкусМаркет
sources:
  - name: fast
    type: rss
    interval: 10s
    urls: ["{base}/news.xml"]
  - name: slow
    type: rss
    interval: 1h
    urls: ["{base}/news.xml"]
storage:
  url: "sqlite:///{db}"
"""


@pytest.fixture
def site():
    with LocalServer(FIXTURES) as server:
        yield server


@pytest.fixture
def config_text(site, tmp_path):
    return CONFIG.replace("{base}", site.base_url).replace("{db}", str(tmp_path / "bp.db"))


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_each_source_runs_on_its_own_interval(config_text, site, tmp_path):
    config = parse_config(config_text)
    pipeline = Pipeline(config, session_factory(open_database(config.storage.url)))
    pipeline.register_sources()
    clock, stop, cycles = FakeClock(), threading.Event(), []

    def advance() -> None:
        cycles.append(clock.now)
        clock.now += 5.0  # each cycle "takes" five seconds
        if len(cycles) == 5:
            stop.set()

    run_forever(pipeline, stop, clock=clock, idle_poll=0, on_cycle=advance)
    feed_requests = [p for p in site.requests if p.startswith("/news.xml")]
    # fast (every 10 s) at t=0, 10, 20; slow (every hour) once: 4 fetches over 5 cycles of 5 s.
    assert len(feed_requests) == 4
    with pipeline.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Sentiment)) > 0


def test_ctrl_c_stops_after_the_current_batch(config_text, tmp_path):
    config_path = tmp_path / "spiders.yaml"
    config_path.write_text(config_text, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-c", "from monitor.cli import main; main()", "run", "--config", str(config_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 90
    db = tmp_path / "bp.db"
    sessions = None
    while time.monotonic() < deadline:
        if db.exists():
            sessions = sessions or session_factory(open_database(f"sqlite:///{db}", migrate=False))
            with sessions() as session:
                try:
                    if session.scalar(select(func.count()).select_from(Sentiment)):
                        break
                except Exception:  # tables not created yet
                    pass
        time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "stopping after the current batch" in stderr and "stopped" in stderr
    with sessions() as session:
        # Both sources read the same feed: 4 items each, all stored before the stop.
        assert session.scalar(select(func.count()).select_from(Item)) == 8


EMPTY_FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>slow</title></channel></rss>'

QUICK_AND_SLOW = """
brands:
  - name: ВкусМаркет
sources:
  - name: quick
    type: rss
    urls: ["{base}/news.xml"]
  - name: hanging
    type: rss
    timeout: 60
    urls: ["{slow}/feed.xml"]
alerts:
  max_post_age: off  # the fixture posts keep their 2026 dates however old they get
  telegram:
    chat_ids: [-100777]
  rules:
    - name: ours
      min_negative_score: 0.4
"""


def test_alert_from_a_quick_source_is_delivered_while_a_slow_source_still_hangs(site, tmp_path):
    release = threading.Event()

    def hang(_request) -> Response:
        release.wait(60)
        return Response(200, EMPTY_FEED, {"Content-Type": "application/rss+xml"})

    with LocalServer(routes={"/feed.xml": hang}) as slow, FakeBotApi() as bot:
        config = parse_config(
            QUICK_AND_SLOW.replace("{base}", site.base_url).replace("{slow}", slow.base_url)
        )
        sessions = session_factory(open_database(f"sqlite:///{tmp_path / 'bp.db'}"))
        sender = TelegramSender(SecretStr(bot.token), bot.base_url, timeout=5)
        pipeline = Pipeline(config, sessions, sender=sender)
        pipeline.register_sources()
        stop = threading.Event()
        loop = threading.Thread(target=run_forever, args=(pipeline, stop), kwargs={"idle_poll": 0.1})
        loop.start()
        try:
            delivered = bot.wait_sent(1, timeout=30)
            # The slow source cannot finish before `release`: its round is still in progress.
            slow_still_hanging = not release.is_set()
        finally:
            stop.set()
            release.set()
            loop.join(timeout=60)
    assert delivered and slow_still_hanging
    assert "ВкусМаркет" in bot.sent[0]["text"]
