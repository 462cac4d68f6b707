"""Outbox delivery against a fake Bot API on 127.0.0.1, on SQLite and PostgreSQL: alert fatigue
(batching, cool-down, quiet hours), buttons, several senders at once, a crash mid-send, a 10k burst."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import func, insert, select
from sqlalchemy.orm import aliased

from alerts.messages import negative_alert
from alerts.outbox import send_pending
from alerts.rules import ScoredMention
from alerts.senders import SendResult, TelegramSender
from monitor.config import QuietHours, TelegramConfig
from monitor.db.models import Item, ItemGroup, Mention, OutboxMessage, Source
from monitor.db.session import open_database, session_factory
from tests.support.fake_telegram import FakeBotApi, sender_for

CHAT = "-100500"
DAY = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # 15:00 in Moscow


def no_sleep(_seconds: float) -> None:
    pass


def at(moment: datetime):
    return lambda: moment


def deliver(sessions, bot, moment: datetime = DAY, **settings):
    telegram = TelegramConfig(chat_ids=[CHAT], **settings)
    return send_pending(
        sessions, sender_for(bot), now=at(moment), sleep=no_sleep, clock=lambda: 0.0, telegram=telegram
    )


def queue_negatives(
    sessions, count: int, chat: str = CHAT, brand: str = "ВкусМаркет", urgent=False
) -> list[int]:
    """`count` stored negative mentions with their queued alerts, inserted in bulk; their mention ids."""
    with sessions.begin() as session:
        tag = session.scalar(select(func.count()).select_from(Item))
        source = session.scalar(select(Source).where(Source.name == "otzovik"))
        if source is None:
            source = Source(name="otzovik", type="site")
            session.add(source)
        group = ItemGroup(size=1)
        session.add(group)
        session.flush()
        texts = [f"Отзыв {tag + n}: купила в ВкусМаркете просрочку, <b>ужас</b>" for n in range(count)]
        session.execute(
            insert(Item),
            [
                dict(
                    source_id=source.id,
                    external_id=f"r{tag + n}",
                    url=f"https://otzovik.com/review_{tag + n}.html",
                    canonical_url=f"https://otzovik.com/review_{tag + n}.html",
                    text=text,
                    group_id=group.id,
                )
                for n, text in enumerate(texts)
            ],
        )
        item_ids = session.scalars(select(Item.id).where(Item.group_id == group.id).order_by(Item.id)).all()
        start = texts[0].index("ВкусМаркете")
        session.execute(
            insert(Mention),
            [
                dict(
                    item_id=i, brand=brand, span_start=start, span_end=start + 11, matched_text="ВкусМаркете"
                )
                for i in item_ids
            ],
        )
        rows = session.execute(
            select(Mention.id, Item.text, Item.url)
            .join(Item)
            .where(Item.group_id == group.id)
            .order_by(Mention.id)
        ).all()
        session.execute(
            insert(OutboxMessage),
            [
                dict(
                    kind="negative",
                    dedup_key=f"negative:{brand}:mention:{mention_id}",
                    chat_id=chat,
                    mention_id=mention_id,
                    brand=brand,
                    text=negative_alert(_scored(mention_id, brand, text, url, start), urgent),
                    priority=1 if urgent else 0,
                    next_attempt_at=DAY - timedelta(minutes=1),
                )
                for mention_id, text, url in rows
            ],
        )
        return [row[0] for row in rows]


def _scored(mention_id: int, brand: str, text: str, url: str, start: int) -> ScoredMention:
    return ScoredMention(
        mention_id,
        brand,
        False,
        "otzovik",
        "site",
        url,
        "Ирина",
        text,
        start,
        start + 11,
        None,
        "negative",
        0.9,
        0,
        0,
    )


def rows(sessions) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def accounted_mentions(sessions, chat: str = CHAT) -> set[int]:
    """Mentions whose alert reached the chat: sent on its own, or folded into a digest that was sent."""
    digest = aliased(OutboxMessage)
    with sessions() as session:
        found = session.scalars(
            select(OutboxMessage.mention_id)
            .outerjoin(digest, OutboxMessage.batch_id == digest.id)
            .where(
                OutboxMessage.chat_id == chat,
                OutboxMessage.mention_id.is_not(None),
                ((OutboxMessage.status == "sent") & OutboxMessage.batch_id.is_(None))
                | ((OutboxMessage.status == "batched") & (digest.status == "sent")),
            )
        )
        return set(found)


def listed_in_digests(texts: list[str]) -> int:
    """Mentions the digest texts account for: one line each, plus every «и ещё N»."""
    total = 0
    for text in texts:
        total += sum(1 for line in text.splitlines() if line.startswith("• "))
        more = re.search(r"и ещё ([\d ]+) — см\. дашборд", text)
        total += int(more.group(1).replace(" ", "")) if more else 0
    return total


def test_ten_thousand_negative_mentions_in_a_burst_reach_the_chat_in_a_few_messages(database_url, bot):
    sessions = session_factory(open_database(database_url))
    mention_ids = queue_negatives(sessions, 10_000)
    report = deliver(sessions, bot)
    assert len(bot.sent) <= 30
    singles = [m for m in bot.sent if "Негативное упоминание" in m["text"]]
    digests = [m["text"] for m in bot.sent if "Сводка" in m["text"]]
    assert len(singles) == 5 and 1 <= len(digests) <= 3 and report.delivered == len(bot.sent)
    assert all(len(text) <= 4096 for text in digests)
    # Every mention is accounted for, in SQL and in what the chat read.
    assert accounted_mentions(sessions) == set(mention_ids)
    assert listed_in_digests(digests) == 10_000 - 5
    with sessions() as session:
        left = session.scalar(select(func.count()).where(OutboxMessage.status.in_(["pending", "sending"])))
    assert left == 0


def test_alerts_over_the_allowance_arrive_as_one_digest_listing_them(sessions, bot):
    queue_negatives(sessions, 8)
    deliver(sessions, bot)
    assert len(bot.sent) == 6
    digest = bot.sent[-1]["text"]
    assert "3 негативных упоминания" in digest and digest.count("\n• <b>ВкусМаркет</b> · otzovik:") == 3
    assert "&lt;b&gt;ужас&lt;/b&gt;" in digest
    folded = [r for r in rows(sessions) if r.status == "batched"]
    digest_row = next(r for r in rows(sessions) if r.kind == "batch")
    assert len(folded) == 3 and {r.batch_id for r in folded} == {digest_row.id}


def test_second_burst_in_the_window_waits_and_comes_as_the_next_digest(sessions, bot):
    queue_negatives(sessions, 8)
    deliver(sessions, bot)
    queue_negatives(sessions, 4)
    deliver(sessions, bot, DAY + timedelta(minutes=2))
    assert len(bot.sent) == 6
    deliver(sessions, bot, DAY + timedelta(minutes=10))
    assert len(bot.sent) == 7 and "4 негативных упоминания" in bot.sent[-1]["text"]
    assert len(accounted_mentions(sessions)) == 12


def test_cooldown_holds_repeats_about_a_brand_then_sends_them_as_a_digest(sessions, bot):
    queue_negatives(sessions, 3)
    deliver(sessions, bot, cooldown=1800)
    assert len(bot.sent) == 1
    deliver(sessions, bot, DAY + timedelta(minutes=29), cooldown=1800)
    assert len(bot.sent) == 1
    deliver(sessions, bot, DAY + timedelta(minutes=30), cooldown=1800)
    assert len(bot.sent) == 2 and "2 негативных упоминания" in bot.sent[-1]["text"]
    assert len(accounted_mentions(sessions)) == 3


def test_quiet_hours_hold_alerts_and_deliver_one_digest_when_they_end(sessions, bot):
    night = datetime(2026, 11, 20, 22, 30, tzinfo=UTC)  # 01:30 in Moscow
    quiet = QuietHours(start="23:00", end="08:00", timezone="Europe/Moscow")
    queue_negatives(sessions, 3)
    deliver(sessions, bot, night, quiet_hours=quiet)
    assert bot.sent == []
    held = rows(sessions)
    assert {(r.status, r.hold_reason) for r in held} == {("pending", "quiet")}
    assert {r.next_attempt_at for r in held} == {datetime(2026, 11, 21, 5, 0, tzinfo=UTC)}
    deliver(sessions, bot, datetime(2026, 11, 21, 5, 0, tzinfo=UTC), quiet_hours=quiet)
    assert len(bot.sent) == 1 and "тихие часы: 3 негативных упоминания" in bot.sent[0]["text"]
    assert len(accounted_mentions(sessions)) == 3


def test_urgent_alert_bypasses_quiet_hours_when_configured(sessions, bot):
    night = datetime(2026, 11, 20, 22, 30, tzinfo=UTC)
    quiet = QuietHours(start="23:00", end="08:00", urgent_bypass=True)
    queue_negatives(sessions, 1)
    queue_negatives(sessions, 1, urgent=True)
    deliver(sessions, bot, night, quiet_hours=quiet)
    assert len(bot.sent) == 1 and "Срочно" in bot.sent[0]["text"]


def test_negative_alert_carries_the_workflow_buttons(sessions, bot):
    [mention_id] = queue_negatives(sessions, 1)
    deliver(sessions, bot)
    keyboard = bot.sent[0]["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in keyboard] == [
        f"st:{mention_id}:in_progress",
        f"st:{mention_id}:ignored",
    ]


def test_buttons_can_be_turned_off(sessions, bot):
    queue_negatives(sessions, 1)
    deliver(sessions, bot, buttons=False)
    assert "reply_markup" not in bot.sent[0]


class Crash(BaseException):
    """The process dies (kill -9, power loss): nothing after it runs."""


class CrashAfterSending(TelegramSender):
    def __init__(self, bot: FakeBotApi, crash_on: str):
        super().__init__(SecretStr(bot.token), bot.base_url, timeout=5.0)
        self.crash_on = crash_on

    def send(self, chat_id, text_html, reply_markup=None) -> SendResult:
        result = super().send(chat_id, text_html, reply_markup)
        if self.crash_on in text_html:
            raise Crash
        return result


def queue_plain(sessions, *texts: str) -> None:
    with sessions.begin() as session:
        for n, text in enumerate(texts):
            session.add(OutboxMessage(kind="health", dedup_key=f"t:{n}", chat_id=f"-{n + 1}", text=text))


def test_crash_between_send_and_mark_repeats_only_that_message_after_the_lease(sessions, bot):
    queue_plain(sessions, "первое", "второе", "третье")
    with pytest.raises(Crash):
        send_pending(sessions, CrashAfterSending(bot, "второе"), sleep=no_sleep)
    assert [r.status for r in rows(sessions)] == ["sent", "sending", "sending"]
    # Restarted at once: the claims may belong to a sender that is still alive, so they are left alone.
    assert send_pending(sessions, sender_for(bot), sleep=no_sleep).delivered == 0
    later = datetime.now(UTC) + timedelta(seconds=TelegramConfig().claim_lease + 1)
    assert send_pending(sessions, sender_for(bot), sleep=no_sleep, now=at(later)).delivered == 2
    assert sorted(m["text"] for m in bot.sent) == ["второе", "второе", "первое", "третье"]
    assert [r.status for r in rows(sessions)] == ["sent", "sent", "sent"]


class MeetingSender(TelegramSender):
    """Holds its first send until the other sender is sending too: both hold claims at once."""

    def __init__(self, bot: FakeBotApi, barrier: threading.Barrier):
        super().__init__(SecretStr(bot.token), bot.base_url, timeout=5.0)
        self.barrier, self.met = barrier, False

    def send(self, chat_id, text_html, reply_markup=None) -> SendResult:
        if not self.met:
            self.barrier.wait()
            self.met = True
        return super().send(chat_id, text_html, reply_markup)


def test_two_senders_at_once_send_every_row_exactly_once(database_url, bot):
    engines = [open_database(database_url) for _ in range(2)]
    try:
        factories = [session_factory(engine) for engine in engines]
        texts = [f"сообщение {n}" for n in range(40)]
        queue_plain(factories[0], *texts)
        barrier = threading.Barrier(2, timeout=20)
        reports = {}

        def work(n: int) -> None:
            reports[n] = send_pending(
                factories[n], MeetingSender(bot, barrier), sleep=no_sleep, clock=lambda: 0.0, claim_size=5
            )

        threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not barrier.broken
        assert sorted(m["text"] for m in bot.sent) == sorted(texts)
        assert reports[0].delivered > 0 and reports[1].delivered > 0
        assert reports[0].delivered + reports[1].delivered == 40
        assert {r.status for r in rows(factories[0])} == {"sent"}
    finally:
        for engine in engines:
            engine.dispose()
