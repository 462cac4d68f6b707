"""Read-only questions the CLI, the demo summary and the dashboard ask. No UI code here.

Analytics count dedup groups, not items: a post and its reposts count once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.clock import utcnow
from monitor.db.models import Item, ItemGroup, Mention, OutboxMessage, Sentiment, Source, Workflow

LABELS = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class BrandSentiment:
    brand: str
    competitor: bool
    negative: int
    neutral: int
    positive: int
    unscored: int

    @property
    def total(self) -> int:
        return self.negative + self.neutral + self.positive + self.unscored


def brand_sentiment_counts(session: Session) -> list[BrandSentiment]:
    """Mentions per brand and sentiment (staff corrections win), copies of one post counted once."""
    label = func.coalesce(Sentiment.override_label, Sentiment.label, "unscored")
    rows = session.execute(
        select(Mention.brand, Mention.is_competitor, label, func.count(func.distinct(Item.group_id)))
        .join(Item, Mention.item_id == Item.id)
        .outerjoin(Sentiment, Sentiment.mention_id == Mention.id)
        .group_by(Mention.brand, Mention.is_competitor, label)
    ).all()
    counts: dict[tuple[str, bool], dict[str, int]] = {}
    for brand, competitor, lab, n in rows:
        counts.setdefault((brand, competitor), {})[lab] = n
    return sorted(
        (
            BrandSentiment(
                brand,
                competitor,
                c.get("negative", 0),
                c.get("neutral", 0),
                c.get("positive", 0),
                c.get("unscored", 0),
            )
            for (brand, competitor), c in counts.items()
        ),
        key=lambda b: (b.competitor, -b.total, b.brand),
    )


def items_per_source(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Source.name, func.count(Item.id))
        .outerjoin(Item, Item.source_id == Source.id)
        .group_by(Source.name)
    ).all()
    return {name: n for name, n in rows}


def outbox_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    return {status: n for status, n in rows}


STATUSES = ("new", "in_progress", "resolved", "ignored")


@dataclass(frozen=True)
class InboxFilter:
    brands: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    search: str = ""


@dataclass(frozen=True)
class InboxRow:
    mention_id: int
    brand: str
    competitor: bool
    source: str
    author: str | None
    reach: int
    published_at: datetime | None
    text: str
    span_start: int
    span_end: int
    url: str
    sentiment: str | None
    score: float | None
    status: str
    assignee: str | None
    copies: int


def inbox_page(session: Session, filters: InboxFilter, limit: int = 50, offset: int = 0) -> list[InboxRow]:
    """Newest mentions first, filtered and paged in the database (never the whole table in memory)."""
    label = func.coalesce(Sentiment.override_label, Sentiment.label)
    query = (
        select(
            Mention,
            Item,
            Source.name,
            label,
            Sentiment.score,
            Workflow.status,
            Workflow.assignee,
            ItemGroup.size,
        )
        .join(Item, Mention.item_id == Item.id)
        .join(Source, Item.source_id == Source.id)
        .join(ItemGroup, Item.group_id == ItemGroup.id)
        .outerjoin(Sentiment, Sentiment.mention_id == Mention.id)
        .outerjoin(Workflow, Workflow.mention_id == Mention.id)
    )
    if filters.brands:
        query = query.where(Mention.brand.in_(filters.brands))
    if filters.sentiments:
        query = query.where(label.in_(filters.sentiments))
    if filters.statuses:
        query = query.where(func.coalesce(Workflow.status, "new").in_(filters.statuses))
    if filters.sources:
        query = query.where(Source.name.in_(filters.sources))
    if filters.search.strip():
        query = query.where(Item.text.ilike(f"%{filters.search.strip()}%"))
    newest = func.coalesce(Item.published_at, Item.collected_at)
    rows = session.execute(query.order_by(newest.desc(), Mention.id.desc()).limit(limit).offset(offset)).all()
    return [
        InboxRow(
            mention_id=mention.id,
            brand=mention.brand,
            competitor=mention.is_competitor,
            source=source_name,
            author=item.author,
            reach=item.reach,
            published_at=item.published_at or item.collected_at,
            text=item.text,
            span_start=mention.span_start,
            span_end=mention.span_end,
            url=item.url,
            sentiment=lab,
            score=score,
            status=status or "new",
            assignee=assignee,
            copies=size,
        )
        for mention, item, source_name, lab, score, status, assignee, size in rows
    ]


def set_status(session: Session, mention_ids: list[int], status: str, user: str) -> int:
    """Move mentions along the workflow; the first move away from 'new' counts as the first response."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; expected one of: {', '.join(STATUSES)}")
    now = utcnow()
    changed = 0
    for mention_id in mention_ids:
        workflow = session.get(Workflow, mention_id) or Workflow(mention_id=mention_id, status="new")
        session.add(workflow)
        if workflow.first_response_at is None and status != "new":
            workflow.first_response_at = now
        workflow.status = status
        workflow.assignee = workflow.assignee or user
        workflow.resolved_at = now if status in ("resolved", "ignored") else None
        workflow.updated_at = now
        changed += 1
    return changed
