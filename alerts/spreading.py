"""Complaints that spread after they were found. A re-crawl refreshes a post's likes, reposts,
comments and views; for an open negative mention whose post changed, the alert rules are decided
again with the new numbers:
- a chat that heard of it as an ordinary mention hears once more, marked «набирает обороты», when it
  has become urgent (wide reach, or engagement growing fast);
- a rule its new numbers now meet (min_reach, min_engagement) alerts for the first time.
A mention someone has answered, resolved or ignored is left alone: the team already has it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from alerts.dedup_keys import dedup_key
from alerts.messages import spreading_alert
from alerts.outbox import enqueue_negative, negative_key
from alerts.rules import AlertDecision, ScoredMention, decide
from monitor.config import Config
from monitor.db.models import Item, Mention, OutboxMessage, Sentiment, Source, Workflow

OPEN_STATUSES = ("new", "in_progress")
ToScored = Callable[[Mention, Item, Source, str, float], ScoredMention]


def requeue_grown(
    session: Session, config: Config, updated_since: datetime, now: datetime, to_scored: ToScored
) -> int:
    """Alerts queued for open negative mentions whose posts a crawl updated since `updated_since`."""
    rows = session.execute(
        select(Mention, Item, Source, Sentiment)
        .join(Item, Mention.item_id == Item.id)
        .join(Source, Item.source_id == Source.id)
        .join(Sentiment, Sentiment.mention_id == Mention.id)
        .outerjoin(Workflow, Workflow.mention_id == Mention.id)
        .where(
            Item.updated_at >= updated_since,
            Sentiment.label == "negative",
            or_(
                Workflow.mention_id.is_(None),
                Workflow.status.in_(OPEN_STATUSES) & Workflow.first_response_at.is_(None),
            ),
        )
        .order_by(Mention.id)
    ).all()
    queued = 0
    for mention, item, source, sentiment in rows:
        scored = to_scored(mention, item, source, sentiment.label, sentiment.score)
        decisions = decide(scored, config, now)
        if not decisions:
            continue
        queued += enqueue_negative(session, scored, decisions, group_id=item.group_id)
        queued += enqueue_spreading(session, scored, decisions, group_id=item.group_id)
    return queued


def enqueue_spreading(
    session: Session, mention: ScoredMention, decisions: list[AlertDecision], group_id: int | None = None
) -> int:
    """One «набирает обороты» message per chat whose alert about this post went out as ordinary and
    which the new numbers make urgent; never twice for one post and chat."""
    urgent_chats = {decision.chat_id: decision for decision in decisions if decision.urgent}
    if not urgent_chats:
        return 0
    cause = f"group:{group_id}" if group_id is not None else f"mention:{mention.mention_id}"
    first_alerts = session.execute(
        select(OutboxMessage.chat_id, OutboxMessage.priority).where(
            OutboxMessage.dedup_key == negative_key(mention.brand, group_id, mention.mention_id)
        )
    ).all()
    ordinary = {chat_id for chat_id, priority in first_alerts if priority == 0}
    key = dedup_key("spreading", mention.brand, cause)
    done = set(session.scalars(select(OutboxMessage.chat_id).where(OutboxMessage.dedup_key == key)))
    queued = 0
    for chat_id, decision in urgent_chats.items():
        if chat_id not in ordinary or chat_id in done:
            continue
        session.add(
            OutboxMessage(
                kind="spreading",
                dedup_key=key,
                chat_id=chat_id,
                rule=decision.rule,
                mention_id=mention.mention_id,
                brand=mention.brand,
                text=spreading_alert(mention),
                priority=1,
            )
        )
        queued += 1
    return queued
