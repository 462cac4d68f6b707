"""Spike alerts on SQLite and PostgreSQL: hourly volumes, one message per spike, cool-down, and the
whole way from stored mentions to the fake Bot API."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from alerts.spike_alerts import queue_spike_alerts, spike_key
from monitor import volume
from monitor.config import parse_config
from monitor.db.models import OutboxMessage
from monitor.pipeline import Pipeline
from tests.support.fake_telegram import FakeBotApi, sender_for
from tests.support.history import History

BRAND = "ВкусМаркет"
CONFIG = parse_config(f"""
brands:
  - name: {BRAND}
  - name: Магнит
    competitor: true
alerts:
  telegram:
    chat_ids: [-100, -200]
  rules:
    - name: всплески
      spikes: true
      spike_cooldown: 6h
""")
NOW = datetime(2026, 11, 20, 10, 40, tzinfo=UTC)
HOUR = NOW.replace(minute=0)  # 10:00, the hour being judged
H = timedelta(hours=1)


# The hours the tests judge (and the ones before them); seeding only these keeps the tests fast.
JUDGED_HOURS = (9, 10, 11, 16, 17)


def seed_baseline(history: History, days: int = 14, every_hour: bool = False, brand: str = BRAND) -> None:
    """One neutral mention an hour for `days` days (every hour, or the judged ones), plus one
    negative at 10:30 each day."""
    start = HOUR.replace(hour=0) - timedelta(days=days)
    if every_hour:
        history.hourly(brand, start, HOUR)
    else:
        for d in range(days, 0, -1):
            for hour in JUDGED_HOURS:
                history.mention(brand, HOUR.replace(hour=hour) - timedelta(days=d))
    for d in range(1, days + 1):
        history.mention(brand, HOUR - timedelta(days=d) + timedelta(minutes=30), "negative", score=0.8)


def seed_burst(history: History, hour: datetime, n: int = 12, brand: str = BRAND) -> None:
    """`n` negative mentions of little reach, and three with a wide one, in the first 40 minutes."""
    for k in range(n):
        history.mention(brand, hour + timedelta(minutes=k), "negative", reach=100 + k, score=0.7)
    top = history.mention(
        brand, hour + timedelta(minutes=20), "negative", reach=50_000, text="Отравились <салатом>"
    )
    history.mention(brand, hour + timedelta(minutes=30), "negative", reach=20_000, text="Курьер нагрубил")
    history.mention(brand, hour + timedelta(minutes=35), "negative", reach=9_000, text="Просрочка на полке")
    # A repost of the top post: counted once, listed once.
    history.mention(brand, hour + timedelta(minutes=36), "negative", reach=30_000, copy_of=top)


def seed_spike(session, *burst_hours: datetime, days: int = 14, brand: str = BRAND) -> None:
    """A baseline of `days` days and a burst in each of `burst_hours` (10:00 if none), flushed."""
    history = History(session)
    seed_baseline(history, days, brand=brand)
    for hour in burst_hours or (HOUR,):
        seed_burst(history, hour, brand=brand)
    session.flush()


# The queueing logic is the same SQL on both backends (the volume tests above it run on both):
# run it on SQLite only, to keep the suite fast.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def spike_messages(session) -> list[OutboxMessage]:
    return list(
        session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "spike").order_by(OutboxMessage.id))
    )


# --- volumes --------------------------------------------------------------------------------


def test_hourly_counts_count_a_post_and_its_copies_once(sessions):
    with sessions.begin() as session:
        history = History(session)
        first = history.mention(BRAND, HOUR + timedelta(minutes=5), "negative")
        history.mention(BRAND, HOUR + timedelta(minutes=25), "positive")
        history.mention(BRAND, HOUR + timedelta(minutes=30), "negative", copy_of=first)
        history.mention(BRAND, HOUR + H, "neutral")
        history.mention("Магнит", HOUR + timedelta(minutes=7), "negative", competitor=True)
        session.flush()
        counts = volume.hourly_mention_counts(session, [BRAND], [HOUR, HOUR + H, HOUR - H])
    assert counts == {
        (BRAND, HOUR): volume.HourCount(total=2, negative=1),
        (BRAND, HOUR + H): volume.HourCount(total=1, negative=0),
    }


def test_hourly_counts_go_by_publication_not_collection(sessions):
    with sessions.begin() as session:
        # Published at 08:30, found by the crawler at 10:10.
        History(session).mention(BRAND, HOUR - timedelta(minutes=90), stored_after=timedelta(minutes=100))
        session.flush()
        counts = volume.hourly_mention_counts(session, [BRAND], [HOUR - 2 * H, HOUR])
    assert counts == {(BRAND, HOUR - 2 * H): volume.HourCount(total=1, negative=0)}


def test_hourly_counts_can_be_limited_to_sources(sessions):
    with sessions.begin() as session:
        history = History(session)
        history.mention(BRAND, HOUR, source="vk-search")
        history.mention(BRAND, HOUR, source="otzovik")
        session.flush()
        counts = volume.hourly_mention_counts(session, [BRAND], [HOUR], sources=["otzovik"])
    assert counts[(BRAND, HOUR)].total == 1


def test_notable_posts_are_the_widest_reach_one_per_dedup_group(sessions):
    with sessions.begin() as session:
        history = History(session)
        seed_burst(history, HOUR)
        session.flush()
        posts = volume.notable_posts(session, BRAND, HOUR, HOUR + H, negative_only=True)
    assert [p.text for p in posts] == ["Отравились <салатом>", "Курьер нагрубил", "Просрочка на полке"]


# --- queueing -------------------------------------------------------------------------------


def test_burst_queues_one_spike_message_per_chat(sessions):
    with sessions.begin() as session:
        seed_spike(session)
        report = queue_spike_alerts(session, CONFIG, NOW)
        messages = spike_messages(session)
    assert report.queued == 2
    # Negative and total both spiked; the cool-down lets only the negative one out.
    assert [(m.chat_id, m.dedup_key) for m in messages] == [
        ("-100", f"spike:{BRAND}:всплески:negative:2026-11-20T10"),
        ("-200", f"spike:{BRAND}:всплески:negative:2026-11-20T10"),
    ]


def test_spike_message_gives_count_baseline_and_top_three(sessions):
    with sessions.begin() as session:
        seed_spike(session)
        queue_spike_alerts(session, CONFIG, NOW)
        text = spike_messages(session)[0].text
    assert f"Всплеск негатива: {BRAND}" in text
    assert "Час: 20.11.2026 13:00–14:00 МСК" in text
    assert "Негативных упоминаний: <b>15</b> (всего за час: 15)" in text
    assert "Обычно в этот час: 1.0 (среднее за 14 дн.), порог: 6" in text
    assert "&lt;салатом&gt;" in text and "<салатом>" not in text
    assert text.index("Отравились") < text.index("Курьер") < text.index("Просрочка")
    assert text.count("Отравились") == 1 and "охват 50 000" in text
    assert len(text) <= 4096


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_spike_of_a_brand_with_a_200_character_name_and_a_long_rule_name_is_queued(sessions):
    brand = "Б" * 200
    rule = "всплески-" + "r" * 191  # 200 characters, the longest allowed
    config = parse_config(f"""
brands:
  - name: {brand}
alerts:
  telegram:
    chat_ids: [-100]
  rules:
    - name: {rule}
      spikes: true
""")
    with sessions.begin() as session:
        seed_spike(session, brand=brand)
        report = queue_spike_alerts(session, config, NOW)
        keys = [m.dedup_key for m in spike_messages(session)]
    assert report.queued == 1
    assert keys[0].startswith("spike:ББББ") and keys[0].endswith(":negative:2026-11-20T10")
    assert len(keys[0]) <= 300


@sqlite_only
def test_same_spike_is_not_queued_twice(sessions):
    with sessions.begin() as session:
        seed_spike(session)
        queue_spike_alerts(session, CONFIG, NOW)
        again = queue_spike_alerts(session, CONFIG, NOW + timedelta(minutes=15))
    assert again.queued == 0


@sqlite_only
def test_spike_going_on_next_hour_waits_for_the_cooldown(sessions):
    with sessions.begin() as session:
        seed_spike(session, HOUR, HOUR + H)
        queue_spike_alerts(session, CONFIG, NOW)
        assert queue_spike_alerts(session, CONFIG, NOW + H).queued == 0
        assert len(spike_messages(session)) == 2


def test_spike_after_the_cooldown_alerts_again(sessions):
    with sessions.begin() as session:
        seed_spike(session, HOUR, HOUR + 7 * H)
        queue_spike_alerts(session, CONFIG, NOW)
        later = queue_spike_alerts(session, CONFIG, NOW + 7 * H)
        keys = [m.dedup_key for m in spike_messages(session)]
    assert later.queued == 2
    assert keys[-1] == f"spike:{BRAND}:всплески:negative:2026-11-20T17"


@sqlite_only
def test_short_history_queues_nothing_and_says_how_short(sessions):
    with sessions.begin() as session:
        seed_spike(session, days=2)
        report = queue_spike_alerts(session, CONFIG, NOW)
        assert spike_messages(session) == []
    assert report.queued == 0
    assert report.short_history == {BRAND: (2, 3)}


@sqlite_only
def test_rules_without_spikes_queue_nothing(sessions):
    config = parse_config(CONFIG.model_dump_json().replace('"spikes":true', '"spikes":false'))
    with sessions.begin() as session:
        seed_spike(session)
        assert queue_spike_alerts(session, config, NOW).queued == 0


# --- end to end -----------------------------------------------------------------------------


def pipeline_for(sessions, bot: FakeBotApi) -> Pipeline:
    sender = sender_for(bot)
    return Pipeline(CONFIG, sessions, sender=sender)


def test_burst_reaches_each_chat_once_and_a_restart_does_not_resend(sessions, bot):
    with sessions.begin() as session:
        history = History(session)
        seed_baseline(history, every_hour=True)
        seed_burst(history, HOUR)
    pipeline_for(sessions, bot).process(now=NOW)
    assert sorted(m["chat_id"] for m in bot.sent) == ["-100", "-200"]
    text = bot.sent[0]["text"]
    assert "Негативных упоминаний: <b>15</b>" in text and "порог: 6" in text
    assert all(post in text for post in ("Отравились", "Курьер нагрубил", "Просрочка на полке"))
    pipeline_for(sessions, bot).process(now=NOW + timedelta(minutes=10))
    assert len(bot.sent) == 2


@sqlite_only
def test_short_history_sends_nothing_and_logs_it_once(sessions, bot, caplog):
    with sessions.begin() as session:
        history = History(session)
        seed_baseline(history, days=1)
        seed_burst(history, HOUR)
    pipeline = pipeline_for(sessions, bot)
    with caplog.at_level(logging.INFO, logger="monitor.pipeline"):
        pipeline.process(now=NOW)
        pipeline.queue_spikes(NOW + timedelta(minutes=5))
    assert bot.sent == []
    lines = [r.getMessage() for r in caplog.records if "baseline too short" in r.getMessage()]
    assert lines == [f"no spike alerts for {BRAND} yet: baseline too short (1 of 3 days)"]


def test_long_names_that_share_a_beginning_get_different_spike_keys():
    first, second = "Б" * 199 + "1", "Б" * 199 + "2"
    assert spike_key(first, "r", "total", HOUR) != spike_key(second, "r", "total", HOUR)
