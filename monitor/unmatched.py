"""Collected items that matched no brand: counted per source and listed, so nothing is dropped
unseen. A source that brings many of them is a hint: a missing alias, a too strict `context`, or a
community whose comments never name the brand (tie it: `sources[].brand`, `brands[].own_accounts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from monitor.clock import utcnow
from monitor.db.models import Item, Mention, Source

DEFAULT_DAYS = 7


@dataclass(frozen=True)
class UnmatchedItem:
    source: str
    published_at: datetime | None
    collected_at: datetime
    author: str | None
    url: str
    text: str


def _unmatched(since: datetime) -> ColumnElement[bool]:
    """Items matched (looked at) since `since` that have no mention: the WHERE of both queries."""
    no_mention = ~select(Mention.id).where(Mention.item_id == Item.id).exists()
    return and_(Item.matched_at.is_not(None), Item.collected_at >= since, no_mention)


def unmatched_counts(
    session: Session, days: int = DEFAULT_DAYS, now: datetime | None = None
) -> dict[str, int]:
    """source name -> items collected in the last `days` days that matched no brand."""
    since = (now or utcnow()) - timedelta(days=days)
    rows = session.execute(
        select(Source.name, func.count(Item.id))
        .join(Item, Item.source_id == Source.id)
        .where(_unmatched(since))
        .group_by(Source.name)
    )
    return {name: count for name, count in rows}


def unmatched_items(
    session: Session,
    source: str | None = None,
    days: int = DEFAULT_DAYS,
    limit: int = 50,
    now: datetime | None = None,
) -> list[UnmatchedItem]:
    """The newest items that matched no brand, optionally of one source."""
    since = (now or utcnow()) - timedelta(days=days)
    query = (
        select(Source.name, Item.published_at, Item.collected_at, Item.author, Item.url, Item.text)
        .join(Item, Item.source_id == Source.id)
        .where(_unmatched(since))
        .order_by(Item.collected_at.desc(), Item.id.desc())
        .limit(limit)
    )
    if source is not None:
        query = query.where(Source.name == source)
    return [UnmatchedItem(*row) for row in session.execute(query)]
