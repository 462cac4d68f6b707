"""The `run` loop: sources on their intervals, and a clean stop that finishes the batch in hand."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.config import parse_config
from monitor.db.models import Item, Sentiment
from monitor.db.session import open_database, session_factory
from monitor.local_server import LocalServer
from monitor.pipeline import Pipeline
from monitor.scheduler import run_forever

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
