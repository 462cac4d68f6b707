"""Source-health alerts: one message per outage, one when the source recovers, none while healthy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from alerts.health import queue_health_alerts
from crawlers.base import Batch
from monitor import store
from monitor.config import parse_config
from monitor.db.models import OutboxMessage
from monitor.items import RawItem

CONFIG = parse_config("""
brands:
  - name: ВкусМаркет
sources:
  - name: otzovik
    type: rss
    interval: 1h
    urls: [http://127.0.0.1/a.xml]
alerts:
  telegram:
    chat_ids: [-100, -200]
""")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def succeed(session, at: datetime) -> None:
    item = RawItem(
        source="otzovik",
        external_id=f"x-{at.timestamp()}",
        url=f"http://127.0.0.1/{at.timestamp()}",
        text="Отзыв о ВкусМаркете",
    )
    store.save_batch(session, "otzovik", "rss", Batch([item], {}), now=at)


def fail(session, at: datetime) -> None:
    store.record_failure(session, "otzovik", "rss", "otzovik: HTTP 503 at http://127.0.0.1/a.xml", now=at)


def health_messages(session) -> list[tuple[str, str]]:
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "health").order_by(OutboxMessage.id)
    )
    return [(m.chat_id, m.dedup_key.split(":")[2]) for m in rows]


def test_healthy_source_raises_nothing(sessions):
    with sessions.begin() as session:
        succeed(session, T0)
        assert queue_health_alerts(session, CONFIG, now=T0 + timedelta(minutes=5)) == 0


def test_three_failures_in_a_row_alert_every_chat_once(sessions):
    with sessions.begin() as session:
        succeed(session, T0)
        for hours in (1, 2, 3):
            fail(session, T0 + timedelta(hours=hours))
        assert queue_health_alerts(session, CONFIG, now=T0 + timedelta(hours=3)) == 2
        assert queue_health_alerts(session, CONFIG, now=T0 + timedelta(hours=3, minutes=5)) == 0
        texts = session.scalars(select(OutboxMessage.text)).all()
    assert health_messages_are_about_failures(texts)


def health_messages_are_about_failures(texts) -> bool:
    return all("otzovik" in t and "3 неудачных запусков подряд" in t and "HTTP 503" in t for t in texts)


def test_silent_source_alerts_once_and_recovery_is_announced_once(sessions):
    with sessions.begin() as session:
        succeed(session, T0)
        assert queue_health_alerts(session, CONFIG, now=T0 + timedelta(hours=4)) == 2
        succeed(session, T0 + timedelta(hours=5))
        assert queue_health_alerts(session, CONFIG, now=T0 + timedelta(hours=5)) == 2
        assert queue_health_alerts(session, CONFIG, now=T0 + timedelta(hours=5, minutes=1)) == 0
        assert health_messages(session) == [
            ("-100", "down"),
            ("-200", "down"),
            ("-100", "up"),
            ("-200", "up"),
        ]


def test_a_second_outage_is_a_new_alert(sessions):
    with sessions.begin() as session:
        succeed(session, T0)
        queue_health_alerts(session, CONFIG, now=T0 + timedelta(hours=4))
        succeed(session, T0 + timedelta(hours=5))
        queue_health_alerts(session, CONFIG, now=T0 + timedelta(hours=5))
        assert queue_health_alerts(session, CONFIG, now=T0 + timedelta(hours=9)) == 2
        assert [kind for _, kind in health_messages(session)][-2:] == ["down", "down"]


LAYOUT_WARNING = "otzovik: no items matched selector '.review-item' on http://127.0.0.1/a (layout changed?)"


def warned(session, at: datetime) -> None:
    store.save_batch(session, "otzovik", "rss", Batch([], {}, [LAYOUT_WARNING]), now=at)


def test_degraded_source_alerts_once_after_three_warned_runs_and_recovery_once(sessions):
    with sessions.begin() as session:
        for hours in (0, 1):
            warned(session, T0 + timedelta(hours=hours))
            assert queue_health_alerts(session, CONFIG, now=T0 + timedelta(hours=hours)) == 0
        warned(session, T0 + timedelta(hours=2))
        assert queue_health_alerts(session, CONFIG, now=T0 + timedelta(hours=2)) == 2
        warned(session, T0 + timedelta(hours=3))
        assert queue_health_alerts(session, CONFIG, now=T0 + timedelta(hours=3)) == 0
        texts = session.scalars(select(OutboxMessage.text)).all()
        succeed(session, T0 + timedelta(hours=4))
        assert queue_health_alerts(session, CONFIG, now=T0 + timedelta(hours=4)) == 2
        assert queue_health_alerts(session, CONFIG, now=T0 + timedelta(hours=4, minutes=5)) == 0
        assert health_messages(session) == [
            ("-100", "degraded"),
            ("-200", "degraded"),
            ("-100", "recovered"),
            ("-200", "recovered"),
        ]
    assert all("с предупреждениями" in t and "layout changed?" in t for t in texts)


def test_an_outage_of_a_degraded_source_does_not_announce_its_warnings_gone(sessions):
    with sessions.begin() as session:
        for hours in (0, 1, 2):
            warned(session, T0 + timedelta(hours=hours))
        queue_health_alerts(session, CONFIG, now=T0 + timedelta(hours=2))
        for hours in (3, 4, 5):
            fail(session, T0 + timedelta(hours=hours))
        assert queue_health_alerts(session, CONFIG, now=T0 + timedelta(hours=5)) == 2
        # Back up, still warning: the outage is over, the degradation is not.
        warned(session, T0 + timedelta(hours=6))
        queue_health_alerts(session, CONFIG, now=T0 + timedelta(hours=6))
        kinds = [kind for chat, kind in health_messages(session) if chat == "-100"]
    assert kinds == ["degraded", "down", "up"]
