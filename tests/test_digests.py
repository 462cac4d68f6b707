"""Daily and weekly digests: which days they cover, what they say, and that each goes out once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from alerts.digests import (
    digest_command,
    digest_message,
    gather_digest,
    latest_period,
    queue_due_digests,
)
from monitor.cli import app
from monitor.config import DigestConfig, parse_config
from monitor.db.models import OutboxMessage
from monitor.db.session import open_database, session_factory
from tests.support.fake_telegram import sender_for
from tests.support.history import History

CONFIG_YAML = """
brands:
  - name: ВкусМаркет
  - name: Магнит
    competitor: true
alerts:
  telegram:
    chat_ids: [-100]
  digests:
    - kind: daily
      at: "09:00"
      timezone: Europe/Moscow
      chat_ids: [-300, -400]
"""
CONFIG = parse_config(CONFIG_YAML)
DAILY = CONFIG.alerts.digests[0]
# 10:00 in Moscow on Friday 20 November: yesterday's digest is due.
NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
# Thursday 19 November in Moscow, in UTC.
DAY_START = datetime(2026, 11, 18, 21, 0, tzinfo=UTC)
H = timedelta(hours=1)
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def daily(**overrides) -> DigestConfig:
    return DigestConfig.model_validate({"kind": "daily", **overrides})


def weekly(**overrides) -> DigestConfig:
    return DigestConfig.model_validate({"kind": "weekly", **overrides})


# --- periods (pure) -------------------------------------------------------------------------


def test_daily_digest_after_its_time_covers_yesterday_in_its_time_zone():
    period = latest_period(daily(at="09:00", timezone="Europe/Moscow"), NOW)
    assert (period.first_day, period.last_day) == (date(2026, 11, 19), date(2026, 11, 19))
    assert (period.start, period.end) == (DAY_START, DAY_START + 24 * H)
    assert period.due_at == datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def test_daily_digest_before_its_time_is_still_the_day_before_yesterday():
    period = latest_period(daily(at="11:00", timezone="Europe/Moscow"), NOW)
    assert period.first_day == date(2026, 11, 18)


def test_weekly_digest_covers_the_seven_days_before_its_weekday():
    # Friday 20 November; the last Monday 10:00 was on the 16th: the week 9–15 November.
    period = latest_period(weekly(weekday="monday", at="10:00"), NOW)
    assert (period.first_day, period.last_day) == (date(2026, 11, 9), date(2026, 11, 15))
    assert period.end - period.start == timedelta(days=7)


def test_weekly_digest_on_its_weekday_before_its_time_is_the_week_before():
    friday_morning = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)  # 08:00 in Moscow
    period = latest_period(weekly(weekday="friday", at="09:00"), friday_morning)
    assert period.last_day == date(2026, 11, 12)


def test_periods_of_different_days_have_different_keys():
    today = latest_period(DAILY, NOW)
    tomorrow = latest_period(DAILY, NOW + 24 * H)
    assert today.key != tomorrow.key and today.key == latest_period(DAILY, NOW + H).key


# --- content --------------------------------------------------------------------------------


def seed_day(history: History) -> None:
    """Thursday in Moscow: 6 conversations of ours (3 negative), 4 of a competitor, and noise
    outside the day."""
    at = DAY_START + 10 * H
    history.source("forum", created_at=DAY_START - timedelta(days=30))
    rude = history.mention("ВкусМаркет", at, "negative", reach=20_000, text="Грубый кассир")
    history.mention("ВкусМаркет", at + H, "negative", reach=3_000, text="Очередь на час")
    history.mention(
        "ВкусМаркет", at + H, "negative", reach=500, first_response_at=at + H + 30 * timedelta(minutes=1)
    )
    history.mention("ВкусМаркет", at + 2 * H, "negative", reach=1, copy_of=rude)
    history.mention("ВкусМаркет", at, "neutral", first_response_at=at + 90 * timedelta(minutes=1))
    history.mention("ВкусМаркет", at, "neutral")
    history.mention("ВкусМаркет", at, "positive", first_response_at=at + 4 * H)
    history.mention("Магнит", at, "negative", competitor=True)
    for _ in range(3):
        history.mention("Магнит", at, "neutral", competitor=True)
    history.mention("ВкусМаркет", DAY_START - H, "negative", reach=99_999, text="Вчерашнее")
    history.mention("ВкусМаркет", DAY_START + 24 * H, "negative", reach=99_999, text="Сегодняшнее")


def test_digest_counts_shares_and_response_times(sessions):
    with sessions.begin() as session:
        seed_day(History(session))
        session.flush()
        text = digest_message(gather_digest(session, latest_period(DAILY, NOW)))
    assert text.splitlines()[0] == "📊 <b>Сводка за день: 19.11.2026</b> (Europe/Moscow)"
    assert "• ВкусМаркет: 6 — 50% / 33% / 17%" in text
    assert "• Магнит (конкурент): 4 — 25% / 75% / 0%" in text
    assert "<b>Доля голоса:</b> ВкусМаркет 60% · Магнит 40%" in text
    assert "Медиана от публикации до ответа: 1 ч 30 мин (отвечено 3 из 6)" in text


def test_digest_counts_every_negative_still_waiting_not_only_the_periods(sessions):
    with sessions.begin() as session:
        seed_day(History(session))
        session.flush()
        text = digest_message(gather_digest(session, latest_period(DAILY, NOW), NOW))
    # Two began on the day; the day before's and this morning's wait too.
    assert "Негатив без ответа сейчас: 4 (из них за период: 2)" in text


@sqlite_only
def test_digest_of_a_quiet_day_still_counts_what_waits_from_before(sessions):
    with sessions.begin() as session:
        history = History(session)
        for days_ago in (3, 10, 20):
            history.mention("ВкусМаркет", NOW - timedelta(days=days_ago), "negative", text=f"{days_ago} дней")
        history.mention("ВкусМаркет", NOW - timedelta(days=40), "negative", text="Давнее")
        session.flush()
        text = digest_message(gather_digest(session, latest_period(DAILY, NOW), NOW))
    assert "Упоминаний за период нет." in text
    assert "Негатив без ответа сейчас: 3 (из них за период: 0)" in text
    assert "3 дней" in text and "Давнее" not in text
    assert "охват 0" not in text  # reach unknown: not said


def test_digest_lists_the_worst_unanswered_negatives_with_links(sessions):
    with sessions.begin() as session:
        seed_day(History(session))
        session.flush()
        digest = gather_digest(session, latest_period(DAILY, NOW), NOW)
        text = digest_message(digest)
    assert [post.text for post in digest.worst_unanswered] == [
        "Вчерашнее",
        "Сегодняшнее",
        "Грубый кассир",
        "Очередь на час",
    ]
    worst = text.split("<b>Худшие без ответа</b>")[1]
    assert '3. <a href="https://forum.example.ru/t/1">forum · Автор 1</a> · охват 20 000' in worst


@sqlite_only
def test_digest_of_a_quiet_day_says_so(sessions):
    with sessions.begin() as session:
        text = digest_message(gather_digest(session, latest_period(DAILY, NOW)))
    assert "Упоминаний за период нет." in text
    assert "Медиана от публикации до ответа: нет ответов (обращений: 0)" in text


@sqlite_only
def test_digest_stays_within_telegrams_limit(sessions):
    with sessions.begin() as session:
        history = History(session)
        for n in range(60):
            history.mention(f"Бренд {n} " + "ы" * 150, DAY_START + H, "negative", text="жалоба " * 300)
        session.flush()
        text = digest_message(gather_digest(session, latest_period(DAILY, NOW)))
    assert len(text) <= 4096
    assert "и ещё брендов" in text
    assert text.count("<b>") == text.count("</b>") and text.count("<a ") == text.count("</a>")


# --- queueing -------------------------------------------------------------------------------


def digest_rows(session) -> list[tuple[str, str]]:
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "digest").order_by(OutboxMessage.id)
    )
    return [(m.chat_id, m.dedup_key) for m in rows]


def test_due_digest_is_queued_once_per_chat_and_period(sessions):
    with sessions.begin() as session:
        seed_day(History(session))
        session.flush()
        assert queue_due_digests(session, CONFIG, NOW) == 2
        # A later cycle, or a restarted process, the same day.
        assert queue_due_digests(session, CONFIG, NOW + 3 * H) == 0
        key = latest_period(DAILY, NOW).key
        assert digest_rows(session) == [("-300", key), ("-400", key)]


@sqlite_only
def test_next_days_digest_is_a_new_message(sessions):
    with sessions.begin() as session:
        seed_day(History(session))
        session.flush()
        queue_due_digests(session, CONFIG, NOW)
        assert queue_due_digests(session, CONFIG, NOW + 24 * H) == 2


@sqlite_only
def test_no_digest_for_days_before_monitoring_began(sessions):
    with sessions.begin() as session:
        # First started today: yesterday was not watched.
        History(session).source("forum", created_at=NOW - H)
        session.flush()
        assert queue_due_digests(session, CONFIG, NOW) == 0


# --- the command ----------------------------------------------------------------------------


@sqlite_only
def test_digest_command_sends_now_and_not_twice(sessions, bot):
    with sessions.begin() as session:
        seed_day(History(session))
    sender = sender_for(bot)
    first = digest_command(CONFIG, sessions, "daily", dry_run=False, sender=sender, now=NOW)
    again = digest_command(CONFIG, sessions, "daily", dry_run=False, sender=sender, now=NOW)
    assert first[0] == "daily digest for 19.11.2026–19.11.2026: queued for 2 chat(s)"
    assert again == ["daily digest for 19.11.2026–19.11.2026: queued for 0 chat(s), 2 already had it"]
    assert sorted(m["chat_id"] for m in bot.sent) == ["-300", "-400"]
    assert "Грубый кассир" in bot.sent[0]["text"]


@sqlite_only
def test_digest_command_dry_run_prints_plain_text_and_queues_nothing(sessions):
    with sessions.begin() as session:
        seed_day(History(session))
    lines = digest_command(CONFIG, sessions, "daily", dry_run=True, now=NOW)
    assert lines[0].startswith("📊 Сводка за день: 19.11.2026") and "<b>" not in lines[0]
    with sessions() as session:
        assert digest_rows(session) == []


def seeded_database(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'seeded.db'}"
    engine = open_database(url)
    with session_factory(engine).begin() as session:
        seed_day(History(session))
    engine.dispose()
    return url


def cli_config(tmp_path) -> Path:
    config = tmp_path / "spiders.yaml"
    config.write_text(
        CONFIG_YAML + f"storage:\n  url: sqlite:///{tmp_path / 'configured.db'}\n", encoding="utf-8"
    )
    return config


def test_cli_digest_dry_run_reads_the_database_given(tmp_path):
    command = ["digest", "--config", str(cli_config(tmp_path)), "--kind", "weekly", "--dry-run"]
    result = CliRunner().invoke(app, [*command, "--database", seeded_database(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Сводка за неделю" in result.output and "Негатив без ответа сейчас:" in result.output
    assert not (tmp_path / "configured.db").exists()


def test_cli_digest_of_a_database_that_is_not_there_says_so_and_creates_none(tmp_path):
    result = CliRunner().invoke(app, ["digest", "--config", str(cli_config(tmp_path)), "--dry-run"])
    assert result.exit_code == 1
    assert str(result.exception).startswith(f"no database at {tmp_path / 'configured.db'}: nothing")
    assert not (tmp_path / "configured.db").exists()


def test_cli_digest_of_an_empty_database_says_it_is_empty(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    open_database(url).dispose()
    command = ["digest", "--config", str(cli_config(tmp_path)), "--dry-run", "--database", url]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 1 and "Негатив" not in result.output
    assert f"database {tmp_path / 'empty.db'} is empty: no mentions collected yet" in str(result.exception)
