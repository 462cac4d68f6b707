"""The persistent alert outbox: alerts are written with the scoring that caused them, then delivered.

Delivery claims rows first (alerts/claims.py), so several sender processes can share the outbox; a
message is marked sent right after Telegram accepts it, one commit per message: a crash between the
two can re-send at most that one message, and nothing queued is ever dropped.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts.claims import SENDING, ClaimedMessage, claim_due
from alerts.dedup_keys import dedup_key
from alerts.fatigue import FOLDABLE_KINDS, chat_policy
from alerts.keyboard import alert_keyboard
from alerts.messages import negative_alert
from alerts.rules import AlertDecision, ScoredMention
from alerts.senders import Sender, SendResult
from monitor.clock import utcnow
from monitor.config import TelegramConfig
from monitor.db.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
# Telegram allows about one message per second to one chat, 20 per minute to one group or
# channel, and 30 per second overall.
PER_CHAT_INTERVAL = 1.0
GROUP_PER_MINUTE = 20
GLOBAL_INTERVAL = 1 / 30
# Rows claimed per round: a sender holds few claims at a time, so a crash strands few.
CLAIM_SIZE = 20


def enqueue_negative(
    session: Session, mention: ScoredMention, decisions: list[AlertDecision], group_id: int | None = None
) -> int:
    """Queue one message per decision. A chat hears about one post (or its copies, when the dedup
    `group_id` is given) for one brand once, however often the pipeline runs."""
    queued = 0
    key = negative_key(mention.brand, group_id, mention.mention_id)
    already = set(session.scalars(select(OutboxMessage.chat_id).where(OutboxMessage.dedup_key == key)))
    for decision in decisions:
        if decision.chat_id in already:
            continue
        session.add(
            OutboxMessage(
                kind="negative",
                dedup_key=key,
                chat_id=decision.chat_id,
                rule=decision.rule,
                mention_id=mention.mention_id,
                brand=mention.brand,
                text=negative_alert(mention, decision.urgent),
                priority=1 if decision.urgent else 0,
            )
        )
        queued += 1
    return queued


def negative_key(brand: str, group_id: int | None, mention_id: int) -> str:
    """The dedup key of the first alert about a post (or its copies) for one brand."""
    return dedup_key("negative", brand, post_cause(group_id, mention_id))


def post_cause(group_id: int | None, mention_id: int) -> str:
    """What a post's alerts are keyed on: its dedup group (so copies count once), else the mention."""
    return f"group:{group_id}" if group_id is not None else f"mention:{mention_id}"


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class Pacer:
    """Keeps to Telegram's per-chat, per-group and global rates by waiting before each send, and
    remembers the chats (or the whole bot) that a 429 told to wait.

    One pacer lives as long as its sender (the Pipeline owns one), so the rates hold across
    `send_pending` calls; the outbox itself carries a chat's 429 pause to other processes.
    """

    def __init__(
        self, sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic
    ):
        self._sleep, self._clock = sleep, clock
        self._last_by_chat: dict[str, float] = {}
        self._recent_by_group: dict[str, deque[float]] = {}
        self._last_any = float("-inf")
        self._paused_until: dict[str, float] = {}
        self._bot_paused_until = float("-inf")

    def wait_for(self, chat_id: str) -> None:
        now = self._clock()
        ready_at = max(
            self._last_by_chat.get(chat_id, float("-inf")) + PER_CHAT_INTERVAL,
            self._last_any + GLOBAL_INTERVAL,
        )
        recent = self._recent_by_group.get(chat_id)
        if recent is not None and len(recent) == GROUP_PER_MINUTE:
            ready_at = max(ready_at, recent[0] + 60.0)
        if ready_at > now:
            self._sleep(ready_at - now)
        self._last_by_chat[chat_id] = self._last_any = sent_at = self._clock()
        if _is_group(chat_id):
            self._recent_by_group.setdefault(chat_id, deque(maxlen=GROUP_PER_MINUTE)).append(sent_at)

    def pause(self, chat_id: str, seconds: float) -> None:
        """Telegram answered 429 for this chat: nothing more goes to it for `seconds`."""
        now = self._clock()
        # Two chats told to wait at the same time: the limit hit is the bot's own, not one chat's.
        if any(until > now for chat, until in self._paused_until.items() if chat != chat_id):
            self._bot_paused_until = max(self._bot_paused_until, now + seconds)
        self._paused_until[chat_id] = max(self._paused_until.get(chat_id, now), now + seconds)

    def paused_for(self, chat_id: str) -> float:
        """Seconds this chat (or the whole bot) must still wait after a 429; 0 when it may send."""
        until = max(self._paused_until.get(chat_id, float("-inf")), self._bot_paused_until)
        return max(0.0, until - self._clock())

    def bot_paused_for(self) -> float:
        return max(0.0, self._bot_paused_until - self._clock())


def _is_group(chat_id: str) -> bool:
    # Users have positive ids; groups, supergroups and channels negative ones or an @username.
    return not chat_id.strip().isdigit()


def send_pending(
    sessions: sessionmaker[Session],
    sender: Sender,
    limit: int = 200,
    now: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    telegram: TelegramConfig | None = None,
    claim_size: int = CLAIM_SIZE,
    pacer: Pacer | None = None,
) -> DeliveryReport:
    """Deliver what is due, most urgent first; failures are rescheduled with backoff, never dropped.

    Safe to run in several processes at once: each sends only the rows it claimed (alerts/claims.py).
    Alert fatigue rules (alerts/fatigue.py) decide per chat what goes now, waits, or folds into a digest.
    Pass the same `pacer` to every call so Telegram's rates hold across calls; without one, a fresh
    pacer built on `sleep` and `clock` paces this call alone.
    """
    settings = telegram or TelegramConfig()
    lease = timedelta(seconds=settings.claim_lease)
    token = uuid.uuid4().hex
    report = DeliveryReport()
    pacer = pacer or Pacer(sleep, clock)
    attempted = 0
    while attempted < limit and not pacer.bot_paused_for():
        claimed = claim_due(
            sessions,
            sender.picks_up,
            token,
            now(),
            lambda chat_id: chat_policy(settings, chat_id),
            lease,
            min(claim_size, limit - attempted),
        )
        if not claimed:
            break
        # Past most of the lease another sender may take these rows over: hand them back unsent.
        hand_back_at = clock() + 0.8 * lease.total_seconds()
        for n, message in enumerate(claimed):
            if clock() > hand_back_at:
                _release(sessions, claimed[n:], token)
                break
            if bot_wait := pacer.bot_paused_for():
                log.warning("Telegram asked the bot to slow down: sending resumes in %ds", int(bot_wait))
                _release(sessions, claimed[n:], token, now() + timedelta(seconds=bot_wait))
                return report
            if chat_wait := pacer.paused_for(message.chat_id):
                _release(sessions, [message], token, now() + timedelta(seconds=chat_wait))
                continue
            pacer.wait_for(message.chat_id)
            # The wait can be long (a group's minute): the lease may have run low meanwhile. Stop
            # here rather than claim again, which would only wait again.
            if clock() > hand_back_at:
                _release(sessions, claimed[n:], token)
                return report
            result = sender.send(message.chat_id, message.text, reply_markup=_markup(message, settings))
            attempted += 1
            if result.sender_error:
                # Not this message's fault: keep everything queued and stop until the setup is fixed.
                report.errors.append(result.sender_error)
                log.error("alert delivery stopped, every alert stays queued: %s", result.sender_error)
                _release(sessions, claimed[n:], token)
                return report
            # One commit per message: what Telegram accepted is recorded before the next send.
            _record(sessions, message, token, result, sender.delivered_status, now(), report)
            if result.retry_after is not None:
                pacer.pause(message.chat_id, result.retry_after)
                _pause_chat(
                    sessions, message.chat_id, sender.picks_up, now() + timedelta(seconds=result.retry_after)
                )
    return report


def _pause_chat(
    sessions: sessionmaker[Session], chat_id: str, statuses: Sequence[str], until: datetime
) -> None:
    """A 429 for a chat holds all its queued alerts, in the outbox, so that every sender process
    (and this one's next call) waits out `retry_after` for that chat, not only for the one message."""
    with sessions.begin() as session:
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.status.in_(statuses),
                OutboxMessage.next_attempt_at < until,
            )
            .values(next_attempt_at=until)
            .execution_options(synchronize_session=False)
        )


def _markup(message: ClaimedMessage, settings: TelegramConfig) -> dict[str, Any] | None:
    if settings.buttons and message.kind in FOLDABLE_KINDS and message.mention_id is not None:
        return alert_keyboard(message.mention_id)
    return None


def _record(
    sessions: sessionmaker[Session],
    message: ClaimedMessage,
    token: str,
    result: SendResult,
    delivered_status: str,
    now: datetime,
    report: DeliveryReport,
) -> None:
    values: dict[str, Any] = {"attempts": OutboxMessage.attempts + 1, "claim_token": None}
    if result.ok:
        values |= {"status": delivered_status, "sent_at": now, "last_error": None}
        report.delivered += 1
    elif result.permanent_error:
        values |= {"status": "failed", "last_error": result.permanent_error}
        report.failed += 1
        report.errors.append(f"chat {message.chat_id}: {result.permanent_error}")
        log.error(
            "alert %s to chat %s failed for good: %s", message.id, message.chat_id, result.permanent_error
        )
    else:
        wait = (
            timedelta(seconds=result.retry_after)
            if result.retry_after is not None
            else min(timedelta(seconds=5 * 2 ** min(message.attempts + 1, 10)), MAX_BACKOFF)
        )
        values |= {"status": message.status_before, "next_attempt_at": now + wait, "last_error": result.error}
        report.retrying += 1
        log.warning(
            "alert %s to chat %s will be retried in %ss: %s",
            message.id,
            message.chat_id,
            int(wait.total_seconds()),
            result.error,
        )
    with sessions.begin() as session:
        marked = session.execute(_still_mine(message.id, token).values(**values)).rowcount  # type: ignore[attr-defined]
    if not marked:
        log.warning(
            "alert %s to chat %s: the claim ran out before it was marked; another sender may repeat it",
            message.id,
            message.chat_id,
        )


def _release(
    sessions: sessionmaker[Session],
    messages: list[ClaimedMessage],
    token: str,
    next_attempt_at: datetime | None = None,
) -> None:
    """Give claimed rows back unsent, as they were (no attempt counted), due again at `next_attempt_at`."""
    values: dict[str, Any] = {"claim_token": None}
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    with sessions.begin() as session:
        for message in messages:
            session.execute(_still_mine(message.id, token).values(status=message.status_before, **values))


def _still_mine(message_id: int, token: str) -> Any:
    return (
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == SENDING,
            OutboxMessage.claim_token == token,
        )
        .execution_options(synchronize_session=False)
    )
