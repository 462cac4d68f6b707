"""The alert outbox against a fake Bot API on 127.0.0.1: delivered once, retried, never dropped."""

from __future__ import annotations

import io
from datetime import timedelta

from pydantic import SecretStr
from sqlalchemy import select

from alerts.outbox import send_pending
from alerts.senders import ConsoleSender, TelegramSender
from monitor.clock import utcnow
from monitor.db.models import OutboxMessage
from tests.support.fake_telegram import sender_for


def queue(sessions, *chat_ids: str, text: str = "Негатив о <b>ВкусМаркет</b>", priority: int = 0) -> None:
    with sessions.begin() as session:
        for n, chat_id in enumerate(chat_ids):
            session.add(
                OutboxMessage(
                    kind="negative",
                    dedup_key=f"test:{n}:{text[:20]}",
                    chat_id=chat_id,
                    text=text,
                    priority=priority,
                )
            )


def statuses(sessions) -> list[tuple[str, str, int]]:
    with sessions() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [(m.chat_id, m.status, m.attempts) for m in rows]


def no_sleep(_seconds: float) -> None:
    pass


def test_pending_message_is_delivered_with_html_and_no_preview(sessions, bot):
    queue(sessions, "-100500")
    report = send_pending(sessions, sender_for(bot), sleep=no_sleep)
    assert report.delivered == 1
    assert bot.sent[0]["chat_id"] == "-100500"
    assert bot.sent[0]["parse_mode"] == "HTML"
    assert bot.sent[0]["link_preview_options"] == {"is_disabled": True}
    assert statuses(sessions) == [("-100500", "sent", 1)]


def test_delivered_message_is_not_sent_again(sessions, bot):
    queue(sessions, "-100500")
    send_pending(sessions, sender_for(bot), sleep=no_sleep)
    send_pending(sessions, sender_for(bot), sleep=no_sleep)
    assert len(bot.sent) == 1


def test_429_waits_for_retry_after_then_delivers(sessions, bot):
    bot.script.extend([429])
    queue(sessions, "-100500")
    first = send_pending(sessions, sender_for(bot), sleep=no_sleep)
    assert first.retrying == 1 and bot.sent == []
    # Not due yet: retry_after is 3 seconds.
    assert send_pending(sessions, sender_for(bot), sleep=no_sleep).delivered == 0
    later = send_pending(
        sessions, sender_for(bot), sleep=no_sleep, now=lambda: utcnow() + timedelta(seconds=4)
    )
    assert later.delivered == 1 and len(bot.sent) == 1


def test_server_error_is_retried_with_backoff_not_dropped(sessions, bot):
    bot.script.extend([500, 502])
    queue(sessions, "-100500")
    future = [utcnow()]

    def now():
        return future[0]

    for _ in range(3):
        send_pending(sessions, sender_for(bot), sleep=no_sleep, now=now)
        future[0] += timedelta(hours=2)
    assert statuses(sessions) == [("-100500", "sent", 3)]


def test_dropped_connection_is_retried(sessions, bot):
    bot.script.extend(["drop"])
    queue(sessions, "-100500")
    report = send_pending(sessions, sender_for(bot), sleep=no_sleep)
    assert report.retrying == 1
    assert statuses(sessions) == [("-100500", "pending", 1)]


def test_blocked_bot_fails_that_chat_and_others_go_on(sessions, bot):
    bot.script.extend([403])
    queue(sessions, "-1001", "-1002")
    report = send_pending(sessions, sender_for(bot), sleep=no_sleep)
    assert report.failed == 1 and report.delivered == 1
    assert "bot was blocked" in report.errors[0]
    assert statuses(sessions) == [("-1001", "failed", 1), ("-1002", "sent", 1)]


def test_urgent_messages_go_first(sessions, bot):
    queue(sessions, "-1", text="обычное")
    queue(sessions, "-2", text="срочное", priority=1)
    send_pending(sessions, sender_for(bot), sleep=no_sleep)
    assert [m["text"] for m in bot.sent] == ["срочное", "обычное"]


def test_one_chat_gets_at_most_one_message_per_second(sessions, bot):
    queue(sessions, "-7", "-7", "-7")
    slept: list[float] = []
    send_pending(sessions, sender_for(bot), sleep=slept.append, clock=lambda: 0.0)
    assert len(bot.sent) == 3
    assert slept == [1.0, 1.0]


def test_wrong_token_stops_delivery_and_keeps_every_message_queued(sessions, bot):
    queue(sessions, "-1", "-2")
    sender = TelegramSender(SecretStr("999:wrong"), bot.base_url)
    report = send_pending(sessions, sender, sleep=no_sleep)
    assert report.delivered == 0 and report.failed == 0
    assert "check TELEGRAM_BOT_TOKEN" in report.errors[0] and "999:wrong" not in report.errors[0]
    assert bot.calls == 1
    assert statuses(sessions) == [("-1", "pending", 0), ("-2", "pending", 0)]
    # Once the token is right, both go out.
    assert send_pending(sessions, sender_for(bot), sleep=no_sleep).delivered == 2


def test_chat_not_found_fails_that_message_only(sessions, bot):
    bot.script.extend([400])
    queue(sessions, "-404", "-1")
    report = send_pending(sessions, sender_for(bot), sleep=no_sleep)
    assert "chat not found" in report.errors[0]
    assert statuses(sessions) == [("-404", "failed", 1), ("-1", "sent", 1)]


def test_alerts_printed_without_a_token_are_sent_once_a_token_is_set(sessions, bot):
    queue(sessions, "-1")
    send_pending(sessions, ConsoleSender(io.StringIO()), sleep=no_sleep)
    assert send_pending(sessions, ConsoleSender(io.StringIO()), sleep=no_sleep).delivered == 0
    assert send_pending(sessions, sender_for(bot), sleep=no_sleep).delivered == 1
    assert statuses(sessions) == [("-1", "sent", 2)]


def test_console_sender_prints_plain_text_and_keeps_message(sessions):
    queue(sessions, "-1", text="Негатив о <b>ВкусМаркет</b> &amp; доставке")
    stream = io.StringIO()
    send_pending(sessions, ConsoleSender(stream), sleep=no_sleep)
    assert "Негатив о ВкусМаркет & доставке" in stream.getvalue()
    assert statuses(sessions) == [("-1", "printed", 1)]
