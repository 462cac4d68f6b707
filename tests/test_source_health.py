"""Source health as a page about one database shows it: the database's sources, judged by their crawls,
plus the configured ones it has not seen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crawlers.base import Batch
from monitor import store
from monitor.config import RssSource
from monitor.source_health import database_source_health, source_health

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def rss(name: str, enabled: bool = True) -> RssSource:
    return RssSource(name=name, type="rss", urls=[f"https://{name}.example.ru/rss"], enabled=enabled)


def crawled(sessions, name: str, items: int = 0, at: datetime = NOW) -> None:
    with sessions.begin() as session:
        store.save_batch(session, name, "vk", Batch(items=[], cursor={}), now=at)
        store.note_run(session, name, "vk", items, [], now=at)


def states(report) -> dict[str, str]:
    return {h.name: h.state for h in report}


@sqlite_only
def test_sources_of_the_database_are_listed_though_the_config_does_not_know_them(sessions):
    crawled(sessions, "demo-vk", items=17)
    with sessions() as session:
        report = database_source_health(session, [rss("lenta")], now=NOW + timedelta(minutes=5))
    assert [(h.name, h.configured) for h in report] == [("lenta", True), ("demo-vk", False)]
    demo = report[1]
    assert (demo.state, demo.last_items_count, demo.type) == ("ok", 17, "vk")


@sqlite_only
def test_a_configured_source_that_never_ran_is_not_reported_working(sessions):
    with sessions() as session:
        report = database_source_health(session, [rss("lenta")], now=NOW)
    assert states(report) == {"lenta": "never_ran"}
    assert not report[0].needs_attention


@sqlite_only
def test_a_source_disabled_in_the_config_that_crawled_here_is_judged_by_its_crawls(sessions):
    crawled(sessions, "vk", items=17)
    with sessions() as session:
        fresh = database_source_health(session, [rss("vk", enabled=False)], now=NOW + timedelta(minutes=5))
        later = database_source_health(session, [rss("vk", enabled=False)], now=NOW + timedelta(days=1))
    assert states(fresh) == {"vk": "ok"}
    # Silent, as its crawls show, but switched off here: nothing to raise an alarm about.
    assert states(later) == {"vk": "silent"} and not later[0].needs_attention


@sqlite_only
def test_a_disabled_source_that_never_ran_is_off(sessions):
    with sessions() as session:
        assert states(database_source_health(session, [rss("vk", enabled=False)], now=NOW)) == {"vk": "off"}


@sqlite_only
def test_the_alerts_view_keeps_to_the_configured_sources(sessions):
    crawled(sessions, "demo-vk")
    with sessions() as session:
        assert [h.name for h in source_health(session, [rss("lenta")], now=NOW)] == ["lenta"]
