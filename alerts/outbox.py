"""The persistent alert outbox: alerts are written with the scoring that caused them, then delivered.

A message is marked sent right after Telegram accepts it, one commit per message: a crash between the
two can re-send at most that one message, and nothing queued is ever dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.messages import negative_alert
from alerts.rules import AlertDecision, ScoredMention
from alerts.senders import Sender
from monitor.clock import utcnow
from monitor.db.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
# Telegram allows about one message per second to one chat and 30 per second overall.
PER_CHAT_INTERVAL = 1.0
GLOBAL_INTERVAL = 1 / 30


def enqueue_negative(
    session: Session, mention: ScoredMention, decisions: list[AlertDecision], group_id: int | None = None
) -> int:
    """Queue one message per decision. A chat hears about one post (or its copies, when the dedup
    `group_id` is given) for one brand once, however often the pipeline runs."""
    queued = 0
    cause = f"group:{group_id}" if group_id is not None else f"mention:{mention.mention_id}"
    dedup_key = f"negative:{mention.brand}:{cause}"
    already = set(session.scalars(select(OutboxMessage.chat_id).where(OutboxMessage.dedup_key == dedup_key)))
    for decision in decisions:
        if decision.chat_id in already:
            continue
        session.add(
            OutboxMessage(
                kind="negative",
                dedup_key=dedup_key,
                chat_id=decision.chat_id,
                rule=decision.rule,
                mention_id=mention.mention_id,
                text=negative_alert(mention, decision.urgent),
                priority=1 if decision.urgent else 0,
            )
        )
        queued += 1
    return queued


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class _Pacer:
    """Keeps to Telegram's per-chat and global rates by waiting before each send."""

    def __init__(self, sleep: Callable[[float], None], clock: Callable[[], float]):
        self._sleep, self._clock = sleep, clock
        self._last_by_chat: dict[str, float] = {}
        self._last_any = float("-inf")

    def wait_for(self, chat_id: str) -> None:
        now = self._clock()
        ready_at = max(
            self._last_by_chat.get(chat_id, float("-inf")) + PER_CHAT_INTERVAL,
            self._last_any + GLOBAL_INTERVAL,
        )
        if ready_at > now:
            self._sleep(ready_at - now)
        self._last_by_chat[chat_id] = self._last_any = self._clock()


def send_pending(
    sessions: sessionmaker[Session],
    sender: Sender,
    limit: int = 200,
    now: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> DeliveryReport:
    """Deliver what is due, most urgent first; failures are rescheduled with backoff, never dropped."""
    report = DeliveryReport()
    pacer = _Pacer(sleep, clock)
    with sessions() as session:
        due = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status.in_(sender.picks_up), OutboxMessage.next_attempt_at <= now())
            .order_by(OutboxMessage.priority.desc(), OutboxMessage.id)
            .limit(limit)
        ).all()
        for message in due:
            pacer.wait_for(message.chat_id)
            result = sender.send(message.chat_id, message.text)
            if result.sender_error:
                # Not this message's fault: keep everything queued and stop until the setup is fixed.
                report.errors.append(result.sender_error)
                log.error("alert delivery stopped, every alert stays queued: %s", result.sender_error)
                session.rollback()
                break
            message.attempts += 1
            if result.ok:
                message.status = sender.delivered_status
                message.sent_at = now()
                message.last_error = None
                report.delivered += 1
            elif result.permanent_error:
                message.status = "failed"
                message.last_error = result.permanent_error
                report.failed += 1
                report.errors.append(f"chat {message.chat_id}: {result.permanent_error}")
                log.error(
                    "alert %s to chat %s failed for good: %s",
                    message.id,
                    message.chat_id,
                    result.permanent_error,
                )
            else:
                wait = (
                    timedelta(seconds=result.retry_after)
                    if result.retry_after is not None
                    else min(timedelta(seconds=5 * 2 ** min(message.attempts, 10)), MAX_BACKOFF)
                )
                message.next_attempt_at = now() + wait
                message.last_error = result.error
                report.retrying += 1
                log.warning(
                    "alert %s to chat %s will be retried in %ss: %s",
                    message.id,
                    message.chat_id,
                    int(wait.total_seconds()),
                    result.error,
                )
            # One commit per message: what Telegram accepted is recorded before the next send.
            session.commit()
    return report
