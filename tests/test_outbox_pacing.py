"""Telegram's limits across deliveries, against a fake Bot API on 127.0.0.1: a 429 pauses the chat
(or the bot), rates hold across `send_pending` calls, and a request that hangs is retried later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from alerts.outbox import Pacer, send_pending
from alerts.senders import TelegramSender
from monitor.config import MIN_CLAIM_LEASE, TelegramConfig
from monitor.db.models import OutboxMessage
from tests.support.fake_telegram import FakeBotApi

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class FakeTime:
    """One injected time for the database clock, the pacer's clock and its sleep: sleeping moves it."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def monotonic(self) -> float:
        return self.seconds

    def sleep(self, seconds: float) -> None:
        self.seconds += seconds

    def now(self) -> datetime:
        return START + timedelta(seconds=self.seconds)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


class RecordingSender(TelegramSender):
    """The real sender; it also notes the injected time of each request."""

    def __init__(self, bot: FakeBotApi, fake_time: FakeTime, timeout: float = 5.0):
        super().__init__(SecretStr(bot.token), bot.base_url, timeout=timeout)
        self.fake_time = fake_time
        self.sent_at: list[float] = []

    def send(self, chat_id, text_html, reply_markup=None):
        self.sent_at.append(self.fake_time.seconds)
        return super().send(chat_id, text_html, reply_markup)


def queue(sessions, *chat_ids: str) -> None:
    """Health messages (never batched by alert fatigue), one per chat id given, due at START."""
    with sessions.begin() as session:
        first = len(session.scalars(select(OutboxMessage.id)).all())
        for n, chat_id in enumerate(chat_ids, first):
            session.add(
                OutboxMessage(
                    kind="health",
                    dedup_key=f"pacing:{n}",
                    chat_id=chat_id,
                    text=f"сообщение {n}",
                    next_attempt_at=START,
                )
            )


def deliver(sessions, sender: RecordingSender, fake_time: FakeTime, pacer: Pacer | None = None):
    return send_pending(
        sessions,
        sender,
        now=fake_time.now,
        sleep=fake_time.sleep,
        clock=fake_time.monotonic,
        pacer=pacer,
    )


def states(sessions) -> list[tuple[str, str, int]]:
    with sessions() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [(m.chat_id, m.status, m.attempts) for m in rows]


def test_429_pauses_the_whole_chat_until_retry_after_then_all_arrive_once(sessions, bot, fake_time):
    bot.script.append((429, 30))
    queue(sessions, "-7", "-7", "-7")
    sender = RecordingSender(bot, fake_time)
    report = deliver(sessions, sender, fake_time)
    assert bot.calls == 1 and report.retrying == 1 and bot.sent == []
    fake_time.seconds += 29
    assert deliver(sessions, sender, fake_time).delivered == 0 and bot.calls == 1
    fake_time.seconds += 1
    assert deliver(sessions, sender, fake_time).delivered == 3
    assert sorted(m["text"] for m in bot.sent) == ["сообщение 0", "сообщение 1", "сообщение 2"]


def test_429_for_one_chat_lets_other_chats_go_on(sessions, bot, fake_time):
    bot.script.append((429, 30))
    queue(sessions, "-7", "-7", "-8")
    report = deliver(sessions, RecordingSender(bot, fake_time), fake_time)
    assert report.delivered == 1 and [m["chat_id"] for m in bot.sent] == ["-8"]
    assert states(sessions) == [("-7", "pending", 1), ("-7", "pending", 0), ("-8", "sent", 1)]


def test_429_for_two_chats_at_once_pauses_the_whole_bot(sessions, bot, fake_time):
    bot.script.extend([(429, 30), (429, 30)])
    queue(sessions, "-1", "-2", "-3")
    pacer = Pacer(fake_time.sleep, fake_time.monotonic)
    deliver(sessions, RecordingSender(bot, fake_time), fake_time, pacer)
    assert bot.calls == 2 and states(sessions)[2] == ("-3", "pending", 0)
    fake_time.seconds += 30
    assert deliver(sessions, RecordingSender(bot, fake_time), fake_time, pacer).delivered == 3


def test_group_chat_gets_at_most_20_messages_a_minute(sessions, bot, fake_time):
    queue(sessions, *["-100500"] * 21)
    sender = RecordingSender(bot, fake_time)
    deliver(sessions, sender, fake_time)
    # One a second for the first 20, then the 21st waits for the first to leave the minute.
    assert sender.sent_at[:20] == [float(n) for n in range(20)]
    assert sender.sent_at[20] == 60.0


def test_channel_username_counts_as_a_group(sessions, bot, fake_time):
    queue(sessions, *["@vkusmarket_news"] * 21)
    sender = RecordingSender(bot, fake_time)
    deliver(sessions, sender, fake_time)
    assert sender.sent_at[20] == 60.0


def test_private_chat_is_held_to_one_a_second_only(sessions, bot, fake_time):
    queue(sessions, *["42"] * 21)
    sender = RecordingSender(bot, fake_time)
    deliver(sessions, sender, fake_time)
    assert sender.sent_at[20] == 20.0


def test_the_bot_sends_at_most_30_messages_a_second_overall(sessions, bot, fake_time):
    queue(sessions, *[f"-{n}" for n in range(1, 62)])
    sender = RecordingSender(bot, fake_time)
    deliver(sessions, sender, fake_time)
    assert len(sender.sent_at) == 61
    # Any 31 messages in a row span at least a second.
    assert all(b - a >= 1.0 - 1e-9 for a, b in zip(sender.sent_at, sender.sent_at[30:], strict=False))


def test_pacing_holds_across_two_calls_that_share_a_pacer(sessions, bot, fake_time):
    pacer = Pacer(fake_time.sleep, fake_time.monotonic)
    sender = RecordingSender(bot, fake_time)
    queue(sessions, "-7")
    deliver(sessions, sender, fake_time, pacer)
    queue(sessions, "-7")
    deliver(sessions, sender, fake_time, pacer)
    assert sender.sent_at == [0.0, 1.0]


def test_request_that_hangs_past_the_timeout_is_retried_later_and_other_chats_go_on(sessions, bot, fake_time):
    bot.script.append("hang")
    queue(sessions, "-1", "-2")
    sender = RecordingSender(bot, fake_time, timeout=0.3)
    report = deliver(sessions, sender, fake_time)
    assert bot.hung == 1 and report.retrying == 1 and report.delivered == 1
    assert states(sessions) == [("-1", "pending", 1), ("-2", "sent", 1)]
    with sessions() as session:
        retry_at = session.scalar(select(OutboxMessage.next_attempt_at).where(OutboxMessage.chat_id == "-1"))
    # Backoff: not due again at once.
    assert retry_at is not None and retry_at.replace(tzinfo=UTC) >= START + timedelta(seconds=10)
    fake_time.seconds += 10
    assert deliver(sessions, sender, fake_time).delivered == 1
    assert [m["chat_id"] for m in bot.sent] == ["-2", "-1"]


def test_claim_that_ran_low_while_pacing_is_handed_back_unsent(sessions, bot, fake_time):
    def oversleep(seconds: float) -> None:
        # A machine under load: the one-second wait between messages to a chat lasts 100 s longer.
        fake_time.sleep(seconds + 100)

    queue(sessions, "42", "42")
    sender = RecordingSender(bot, fake_time)
    report = send_pending(
        sessions,
        sender,
        now=fake_time.now,
        sleep=oversleep,
        clock=fake_time.monotonic,
        telegram=TelegramConfig(claim_lease=MIN_CLAIM_LEASE),
    )
    assert report.delivered == 1 and sender.sent_at == [0.0]
    with sessions() as session:
        second = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        assert (second.status, second.claim_token, second.attempts) == ("pending", None, 0)
