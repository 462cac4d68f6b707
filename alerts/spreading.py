"""Complaints that spread after they were found. A re-crawl refreshes a post's likes, reposts,
comments and views; for an open negative mention whose post changed, the alert rules are decided
again with the new numbers:
- a chat that heard of it as an ordinary mention hears once more, marked «набирает обороты», when it
  has become urgent (wide reach, or engagement growing fast); an ordinary alert not sent yet (held
  for quiet hours or a cool-down) becomes urgent instead;
- a rule its new numbers now meet (min_reach, min_engagement) alerts for the first time.
A mention someone has answered, resolved or ignored is left alone: the team already has it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from alerts.dedup_keys import dedup_key
from alerts.messages import negative_alert, spreading_alert
from alerts.outbox import enqueue_negative, negative_key, post_cause
from alerts.rules import AlertDecision, ScoredMention, decide
from monitor.config import Config
from monitor.db.models import Item, Mention, OutboxMessage, Sentiment, Source, Workflow

OPEN_STATUSES = ("new", "in_progress")
# An outbox row not claimed by a sender yet: waiting for its turn, quiet hours or a cool-down.
PENDING = "pending"
ToScored = Callable[[Mention, Item, Source, str, float], ScoredMention]


def requeue_grown(
    session: Session, config: Config, updated_since: datetime, now: datetime, to_scored: ToScored
) -> int:
    """Alerts queued for open negative mentions whose posts a crawl updated since `updated_since`."""
    # A staff correction of the sentiment wins over the model, as everywhere.
    label = func.coalesce(Sentiment.override_label, Sentiment.label)
    rows = session.execute(
        select(Mention, Item, Source, Sentiment)
        .join(Item, Mention.item_id == Item.id)
        .join(Source, Item.source_id == Source.id)
        .join(Sentiment, Sentiment.mention_id == Mention.id)
        .outerjoin(Workflow, Workflow.mention_id == Mention.id)
        .where(
            Item.updated_at >= updated_since,
            # Changed since it was scored and its alerts decided: not merely stored and scored.
            Item.updated_at > Sentiment.scored_at,
            label == "negative",
            or_(
                Workflow.mention_id.is_(None),
                Workflow.status.in_(OPEN_STATUSES) & Workflow.first_response_at.is_(None),
            ),
        )
        .order_by(Mention.id)
    ).all()
    queued = 0
    for mention, item, source, sentiment in rows:
        scored = to_scored(mention, item, source, "negative", sentiment.score)
        decisions = decide(scored, config, now)
        if not decisions:
            continue
        queued += enqueue_negative(session, scored, decisions, group_id=item.group_id)
        queued += enqueue_spreading(session, scored, decisions, group_id=item.group_id)
    return queued


def enqueue_spreading(
    session: Session, mention: ScoredMention, decisions: list[AlertDecision], group_id: int | None = None
) -> int:
    """For each chat whose alert about this post was ordinary and which the new numbers make urgent:
    a first alert still waiting in the outbox (quiet hours, cool-down) turns urgent in place; one
    already delivered gets one «набирает обороты» message, never two for one post and chat."""
    urgent_chats = {decision.chat_id: decision for decision in decisions if decision.urgent}
    if not urgent_chats:
        return 0
    first_alerts = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.dedup_key == negative_key(mention.brand, group_id, mention.mention_id),
            OutboxMessage.chat_id.in_(list(urgent_chats)),
            OutboxMessage.priority == 0,
        )
    ).all()
    key = dedup_key("spreading", mention.brand, post_cause(group_id, mention.mention_id))
    done = set(session.scalars(select(OutboxMessage.chat_id).where(OutboxMessage.dedup_key == key)))
    queued = 0
    for first in first_alerts:
        if first.status == PENDING:
            first.priority, first.text = 1, negative_alert(mention, urgent=True)
            continue
        if first.chat_id in done:
            continue
        session.add(
            OutboxMessage(
                kind="spreading",
                dedup_key=key,
                chat_id=first.chat_id,
                rule=urgent_chats[first.chat_id].rule,
                mention_id=mention.mention_id,
                brand=mention.brand,
                text=spreading_alert(mention),
                priority=1,
            )
        )
        queued += 1
    return queued
