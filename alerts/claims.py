"""The claim protocol that lets several sender processes share one outbox without sending a row twice.

A sender claims rows in one short transaction per chat: it locks the chat (a PostgreSQL advisory
lock; on SQLite a write that takes the database's write lock), reads the due rows (`FOR UPDATE SKIP
LOCKED` on PostgreSQL), plans them (alerts/fatigue.py: send, hold, or fold into a digest) and
compare-and-sets the chosen ones from their status to "sending" with its token and the time. Then it
sends each and marks it in a transaction of its own, again only where the token is still its own.

A sender that dies between sending and marking leaves its rows "sending"; once the claim is older
than the lease, any sender takes them back. Only the one row that was sent but not marked goes out
twice; the rest were never sent.
"""

from __future__ import annotations

import html
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from alerts.batches import DigestEntry, digest_parts
from alerts.fatigue import BURST, FOLDABLE_KINDS, ChatHistory, ChatPolicy, DueAlert, plan_chat
from monitor.db.models import Item, Mention, OutboxMessage, Source

log = logging.getLogger(__name__)

SENDING, BATCHED = "sending", "batched"
BATCH_KIND = "batch"
# Statuses of an alert that reached (or is reaching) the chat on its own.
_DELIVERED = ("sending", "sent", "printed")
# Any constant: the namespace of the PostgreSQL advisory locks taken per chat while planning.
_PLANNING_LOCK = 0x62706F62  # "bpob"
_CHUNK = 500
# A digest lists at most this many entries per message it may have; the rest are counted.
_ENTRIES_PER_MESSAGE = 60


@dataclass(frozen=True)
class ClaimedMessage:
    id: int
    chat_id: str
    kind: str
    text: str
    mention_id: int | None
    priority: int
    attempts: int
    # The status to go back to when the send is retried later ("pending", or "printed").
    status_before: str


PolicyLookup = Callable[[str], ChatPolicy]


class _LostRace(Exception):
    """Another sender changed a row this one was about to claim: give up this chat for now."""


def claim_due(
    sessions: sessionmaker[Session],
    statuses: Sequence[str],
    token: str,
    now: datetime,
    policy_for: PolicyLookup,
    lease: timedelta,
    room: int,
) -> list[ClaimedMessage]:
    """Claim up to `room` messages to send now (stale claims first), most urgent first."""
    claimed = reclaim_stale(sessions, token, now, lease, room)
    with sessions() as session:
        chats = session.execute(
            select(OutboxMessage.chat_id)
            .where(OutboxMessage.status.in_(statuses), OutboxMessage.next_attempt_at <= now)
            .group_by(OutboxMessage.chat_id)
            .order_by(func.max(OutboxMessage.priority).desc(), func.min(OutboxMessage.id))
        ).all()
    for (chat_id,) in chats:
        if len(claimed) >= room:
            break
        try:
            claimed += _claim_chat(
                sessions, chat_id, statuses, token, now, policy_for(chat_id), room - len(claimed)
            )
        except _LostRace:
            log.info("chat %s: another sender claimed its alerts first", chat_id)
    return sorted(claimed, key=lambda m: (-m.priority, m.id))


def reclaim_stale(
    sessions: sessionmaker[Session], token: str, now: datetime, lease: timedelta, room: int
) -> list[ClaimedMessage]:
    """Take over rows whose sender died mid-send (claim older than the lease)."""
    stale = (OutboxMessage.status == SENDING) & (OutboxMessage.claimed_at < now - lease)
    with sessions.begin() as session:
        ids = session.scalars(
            select(OutboxMessage.id)
            .where(stale)
            .order_by(OutboxMessage.priority.desc(), OutboxMessage.id)
            .limit(room)
            .with_for_update(skip_locked=True)
        ).all()
        if not ids:
            return []
        # Compare-and-set: a row another sender took over meanwhile no longer matches `stale`.
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), stale)
            .values(claim_token=token, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        rows = _claimed_rows(session, ids, token, status_before="pending")
    for row in rows:
        log.warning("alert %s to chat %s: its sender died mid-send; retrying it", row.id, row.chat_id)
    return rows


def _claim_chat(
    sessions: sessionmaker[Session],
    chat_id: str,
    statuses: Sequence[str],
    token: str,
    now: datetime,
    policy: ChatPolicy,
    room: int,
) -> list[ClaimedMessage]:
    with sessions() as session:
        try:
            _lock_chat(session, chat_id)
            due_rows = session.execute(
                select(
                    OutboxMessage.id,
                    OutboxMessage.kind,
                    OutboxMessage.brand,
                    OutboxMessage.priority,
                    OutboxMessage.hold_reason,
                    OutboxMessage.status,
                )
                .where(
                    OutboxMessage.chat_id == chat_id,
                    OutboxMessage.status.in_(statuses),
                    OutboxMessage.next_attempt_at <= now,
                )
                .order_by(OutboxMessage.priority.desc(), OutboxMessage.id)
                .with_for_update(skip_locked=True)
            ).all()
            due = [DueAlert(r.id, r.kind, r.brand, r.priority > 0, r.hold_reason) for r in due_rows]
            status_before = {r.id: r.status for r in due_rows}
            plan = plan_chat(due, _history(session, chat_id, policy, now), policy, now)
            holds: dict[tuple[datetime, str], list[int]] = defaultdict(list)
            for hold in plan.holds:
                holds[(hold.until, hold.reason)].append(hold.alert_id)
            for (until, reason), ids in holds.items():
                _compare_and_set(session, ids, statuses, next_attempt_at=until, hold_reason=reason)
            digest_ids = []
            for reason, ids in plan.folds.items():
                digest_ids += _fold(session, chat_id, reason, ids, statuses, token, now, policy)
            send_ids = plan.send[:room]
            _compare_and_set(session, send_ids, statuses, status=SENDING, claim_token=token, claimed_at=now)
            claimed = _claimed_rows(session, send_ids, token, status_before="pending")
            claimed = [replace(m, status_before=status_before.get(m.id, "pending")) for m in claimed]
            claimed += _claimed_rows(session, digest_ids, token, status_before="pending")
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return claimed


def _lock_chat(session: Session, chat_id: str) -> None:
    """Plan one chat at a time across processes, so two never spend its batch allowance twice."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_PLANNING_LOCK, func.hashtext(chat_id))))
    else:
        # SQLite: a write (that matches nothing) opens the transaction with the write lock, so
        # what is read next is the newest state and no other writer can change it until commit.
        session.execute(text("UPDATE alert_outbox SET claim_token = claim_token WHERE id < 0"))


def _history(session: Session, chat_id: str, policy: ChatPolicy, now: datetime) -> ChatHistory:
    window_start = now - policy.batch_window
    alone = (
        (OutboxMessage.chat_id == chat_id)
        & OutboxMessage.kind.in_(FOLDABLE_KINDS)
        & OutboxMessage.batch_id.is_(None)
        & OutboxMessage.status.in_(_DELIVERED)
    )
    sent_in_window = session.scalar(
        select(func.count()).where(alone, OutboxMessage.claimed_at >= window_start)
    )
    last_burst_digest_at = session.scalar(
        select(func.max(OutboxMessage.created_at)).where(
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.kind == BATCH_KIND,
            OutboxMessage.rule == BURST,
            OutboxMessage.created_at >= window_start,
        )
    )
    last_by_brand: dict[str, datetime] = {}
    if policy.cooldown is not None:
        rows = session.execute(
            select(OutboxMessage.brand, func.max(OutboxMessage.claimed_at))
            .where(alone, OutboxMessage.brand.is_not(None), OutboxMessage.claimed_at >= now - policy.cooldown)
            .group_by(OutboxMessage.brand)
        ).all()
        last_by_brand = {brand: at for brand, at in rows if brand is not None and at is not None}
    return ChatHistory(sent_in_window or 0, last_burst_digest_at, last_by_brand)


def _fold(
    session: Session,
    chat_id: str,
    reason: str,
    ids: list[int],
    statuses: Sequence[str],
    token: str,
    now: datetime,
    policy: ChatPolicy,
) -> list[int]:
    """Queue the digest carrying `ids` (claimed by us, to send now) and mark each as carried by it."""
    entries = _digest_entries(session, ids[: policy.batch_max_messages * _ENTRIES_PER_MESSAGE])
    parts = digest_parts(reason, entries, len(ids), policy.batch_max_messages)
    digests = [
        OutboxMessage(
            kind=BATCH_KIND,
            # A row is folded once, so the first one names this digest uniquely.
            dedup_key=f"batch:{reason}:{ids[0]}:{n}",
            chat_id=chat_id,
            rule=reason,
            text=part.text,
            priority=0,
            status=SENDING,
            claim_token=token,
            claimed_at=now,
            next_attempt_at=now,
            created_at=now,
        )
        for n, part in enumerate(parts)
    ]
    session.add_all(digests)
    session.flush()
    start = 0
    for n, (part, digest) in enumerate(zip(parts, digests, strict=True)):
        # The last message also carries the ones counted in its "и ещё N" line.
        end = len(ids) if n == len(parts) - 1 else start + part.listed
        _compare_and_set(
            session,
            ids[start:end],
            statuses,
            status=BATCHED,
            batch_id=digest.id,
            claimed_at=now,
            claim_token=None,
            hold_reason=None,
        )
        start = end
    log.info(
        "chat %s: %d alerts folded into a %s digest of %d messages", chat_id, len(ids), reason, len(parts)
    )
    return [digest.id for digest in digests]


def _digest_entries(session: Session, ids: list[int]) -> list[DigestEntry]:
    rows = session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.text,
            Mention.brand,
            Mention.span_start,
            Mention.span_end,
            Item.text,
            Item.url,
            Source.name,
        )
        .outerjoin(Mention, OutboxMessage.mention_id == Mention.id)
        .outerjoin(Item, Mention.item_id == Item.id)
        .outerjoin(Source, Item.source_id == Source.id)
        .where(OutboxMessage.id.in_(ids))
    ).all()
    by_id = {
        row[0]: DigestEntry(
            brand=row[2],
            source=row[7],
            url=row[6],
            text=row[5],
            span_start=row[3] or 0,
            span_end=row[4] or 0,
            fallback=_plain(row[1]),
        )
        for row in rows
    }
    return [by_id[i] for i in ids if i in by_id]


def _compare_and_set(session: Session, ids: list[int], statuses: Sequence[str], **values: object) -> None:
    """Update rows only if they are still in one of `statuses`; any row that is not means a race."""
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(chunk), OutboxMessage.status.in_(statuses))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != len(chunk):  # type: ignore[attr-defined]
            raise _LostRace


def _claimed_rows(
    session: Session, ids: list[int] | Sequence[int], token: str, status_before: str
) -> list[ClaimedMessage]:
    found: list[ClaimedMessage] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        mine: ColumnElement[bool] = (OutboxMessage.claim_token == token) & (OutboxMessage.status == SENDING)
        rows = session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.chat_id,
                OutboxMessage.kind,
                OutboxMessage.text,
                OutboxMessage.mention_id,
                OutboxMessage.priority,
                OutboxMessage.attempts,
            ).where(OutboxMessage.id.in_(chunk), mine)
        ).all()
        found += [ClaimedMessage(*row, status_before=status_before) for row in rows]
    return found


def _plain(html_text: str | None) -> str | None:
    return None if html_text is None else html.unescape(re.sub(r"<[^>]+>", "", html_text))
