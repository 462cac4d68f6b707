"""Read-only questions the CLI, the demo summary and the dashboard ask. No UI code here;
the inbox's writes are in monitor/actions.py.

Analytics count dedup groups, not items: a post and its reposts count once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVarTuple

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from monitor.db.models import Item, ItemGroup, Mention, OutboxMessage, Sentiment, Source, Workflow
from monitor.db.text_search import contains_text

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
    # Only mentions taken by this user ("mine").
    assignee: str | None = None
    # Published (collected, when the source gave no date) in [since, until).
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class InboxChoices:
    """What the inbox filters offer: brands (with the competitor flag) and source names."""

    brands: list[tuple[str, bool]]
    sources: list[str]


def inbox_choices(session: Session) -> InboxChoices:
    """Distinct brands (an index scan on mentions) and the sources table: cheap on large tables."""
    brands = session.execute(
        select(Mention.brand, Mention.is_competitor).distinct().order_by(Mention.is_competitor, Mention.brand)
    ).all()
    sources = session.scalars(select(Source.name).order_by(Source.name)).all()
    return InboxChoices([(brand, bool(competitor)) for brand, competitor in brands], list(sources))


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
    note: str | None = None
    first_response_at: datetime | None = None
    # The model's own label when staff corrected it (the row's `sentiment` is the correction).
    model_label: str | None = None
    # "rating" when the review's stars decided the label; `rating_model_label` is then the model's.
    decided_by: str = "model"
    rating_model_label: str | None = None
    # Written by the brand's own account: shown, never alerted on.
    own_post: bool = False
    # Names no brand: counted for the brand because of where it was published.
    by_place: bool = False


# The inbox order: newest first (the publication time, else when we collected it), ties broken by the
# higher mention id. The expression is the one indexed as ix_items_newest: write it exactly like this.
NEWEST = func.coalesce(Item.published_at, Item.collected_at)


@dataclass(frozen=True)
class InboxCursor:
    """A row's place in the inbox order. Pages seek from it instead of skipping rows with OFFSET:
    page 500 costs what page 1 costs, and a mention stored while someone pages (it sorts before
    the cursor) neither repeats nor hides the older ones."""

    newest_at: datetime
    mention_id: int


@dataclass(frozen=True)
class InboxView:
    """One inbox page and where the pages around it start."""

    rows: list[InboxRow]
    # Pass as `after` for the next (older) page; None on the last page.
    older: InboxCursor | None
    # Pass as `before` for the previous (newer) page; None on the first page.
    newer: InboxCursor | None


def _cursor(row: InboxRow) -> InboxCursor:
    assert row.published_at is not None  # NEWEST is never NULL: collected_at is required
    return InboxCursor(row.published_at, row.mention_id)


def inbox_view(
    session: Session,
    filters: InboxFilter,
    limit: int = 50,
    after: InboxCursor | None = None,
    before: InboxCursor | None = None,
) -> InboxView:
    """The first page, the page older than `after`, or the page newer than `before`."""
    if before is not None:
        rows = inbox_page(session, filters, limit + 1, before=before)
        if len(rows) <= limit:
            # Back at the top (the rows there may have left the filter meanwhile): a full first page.
            return inbox_view(session, filters, limit)
        rows = rows[1:]
        return InboxView(rows, _cursor(rows[-1]), _cursor(rows[0]))
    rows = inbox_page(session, filters, limit + 1, after=after)
    older = _cursor(rows[limit - 1]) if len(rows) > limit else None
    rows = rows[:limit]
    newer = None if after is None else (_cursor(rows[0]) if rows else after)
    return InboxView(rows, older, newer)


def inbox_page(
    session: Session,
    filters: InboxFilter,
    limit: int = 50,
    after: InboxCursor | None = None,
    before: InboxCursor | None = None,
) -> list[InboxRow]:
    """Newest mentions first, filtered and paged in the database (never the whole table in memory):
    the `limit` rows older than `after`, or the `limit` rows just newer than `before`, or the first."""
    label = func.coalesce(Sentiment.override_label, Sentiment.label)
    query = _filtered(
        select(
            Mention,
            Item,
            Source.name,
            label,
            Sentiment.score,
            Workflow.status,
            Workflow.assignee,
            ItemGroup.size,
            Workflow.note,
            Workflow.first_response_at,
            Sentiment.override_label,
            Sentiment.label,
            Sentiment.decided_by,
            Sentiment.model_label,
        ),
        filters,
        # SQLite would rather fetch every mention of the brands by ix_mentions_brand_created and
        # sort them all (seconds for a big brand) than walk ix_items_newest and stop at a page.
        brand_index=session.get_bind().dialect.name != "sqlite",
    ).join(ItemGroup, Item.group_id == ItemGroup.id)
    # `NEWEST <= t` on its own is what lets the database start its index scan at the cursor.
    if after is not None:
        query = query.where(
            NEWEST <= after.newest_at,
            or_(NEWEST < after.newest_at, Mention.id < after.mention_id),
        ).order_by(NEWEST.desc(), Mention.id.desc())
    elif before is not None:
        query = query.where(
            NEWEST >= before.newest_at,
            or_(NEWEST > before.newest_at, Mention.id > before.mention_id),
        ).order_by(NEWEST.asc(), Mention.id.asc())
    else:
        query = query.order_by(NEWEST.desc(), Mention.id.desc())
    rows = list(session.execute(query.limit(limit)).all())
    if before is not None:
        rows.reverse()
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
            note=note,
            first_response_at=first_response_at,
            model_label=model_label if override else None,
            decided_by=decided_by or "model",
            rating_model_label=rating_model_label if decided_by == "rating" else None,
            own_post=bool(mention.own_post),
            by_place=bool(mention.by_place),
        )
        for (
            mention, item, source_name, lab, score, status, assignee, size, note, first_response_at, override,
            model_label, decided_by, rating_model_label,
        ) in rows
    ]  # fmt: skip


# Counting every match reads all of them (PostgreSQL cannot count from an index alone): seconds on
# a million mentions. Counting stops past the cap instead and the inbox shows "1 000+"; the cost is
# then about cap / (the filters' share of mentions) rows. A filter that matches few rows (a rare
# search word) still reads the table to count them: the dashboard caches the count per filters.
INBOX_COUNT_CAP = 1_000


def inbox_count(session: Session, filters: InboxFilter, cap: int = INBOX_COUNT_CAP) -> int | None:
    """How many mentions the filters match, or None when more than `cap` do."""
    matching = _filtered(select(Mention.id), filters).limit(cap + 1).subquery()
    count = session.scalar(select(func.count()).select_from(matching)) or 0
    return count if count <= cap else None


Columns = TypeVarTuple("Columns")


def _filtered(query: Select[*Columns], filters: InboxFilter, brand_index: bool = True) -> Select[*Columns]:
    """`query` over mentions joined to their item, source, sentiment and workflow, filtered.
    Without `brand_index` the brand test is written so that no index can serve it."""
    query = (
        query.select_from(Mention)
        .join(Item, Mention.item_id == Item.id)
        .join(Source, Item.source_id == Source.id)
        .outerjoin(Sentiment, Sentiment.mention_id == Mention.id)
        .outerjoin(Workflow, Workflow.mention_id == Mention.id)
    )
    if filters.brands:
        brand = Mention.brand if brand_index else Mention.brand.concat("")
        query = query.where(brand.in_(filters.brands))
    # The same tests as coalesce(override_label, label) and coalesce(status, 'new'), spelled on the
    # plain columns: PostgreSQL estimates these from its column statistics (it guesses 0.5% for an
    # expression), and a wrong guess makes it sort every mention of a brand instead of walking
    # ix_items_newest to the first page.
    if filters.sentiments:
        query = query.where(
            or_(
                Sentiment.override_label.in_(filters.sentiments),
                and_(Sentiment.override_label.is_(None), Sentiment.label.in_(filters.sentiments)),
            )
        )
    if filters.statuses:
        status = Workflow.status.in_(filters.statuses)
        query = query.where(or_(status, Workflow.status.is_(None)) if "new" in filters.statuses else status)
    if filters.sources:
        query = query.where(Source.name.in_(filters.sources))
    if filters.assignee:
        query = query.where(Workflow.assignee == filters.assignee)
    if filters.since is not None:
        query = query.where(NEWEST >= filters.since)
    if filters.until is not None:
        query = query.where(NEWEST < filters.until)
    if filters.search.strip():
        # A substring scan, newest first: it stops once a page is full, so common words page fast;
        # a rare word reads the whole table (docs/dashboard.md).
        query = query.where(contains_text(Item.text, filters.search.strip()))
    return query


@dataclass(frozen=True)
class ChatBacklog:
    """Alerts to one Telegram chat that are not delivered: waiting, or given up on."""

    chat_id: str
    pending: int
    failed: int
    oldest_pending_at: datetime | None
    last_error: str | None


def outbox_backlog(session: Session) -> list[ChatBacklog]:
    """Undelivered alerts per chat, with the newest error (e.g. "bot was blocked by the user")."""
    waiting = ("pending", "sending")
    rows = session.execute(
        select(
            OutboxMessage.chat_id,
            func.sum(case((OutboxMessage.status.in_(waiting), 1), else_=0)),
            func.sum(case((OutboxMessage.status == "failed", 1), else_=0)),
            func.min(case((OutboxMessage.status.in_(waiting), OutboxMessage.created_at))),
        )
        .where(OutboxMessage.status.in_((*waiting, "failed")))
        .group_by(OutboxMessage.chat_id)
        .order_by(OutboxMessage.chat_id)
    ).all()
    backlog = []
    for chat_id, pending, failed, oldest in rows:
        last_error = session.scalar(
            select(OutboxMessage.last_error)
            .where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.status.in_((*waiting, "failed")),
                OutboxMessage.last_error.is_not(None),
            )
            .order_by(OutboxMessage.next_attempt_at.desc(), OutboxMessage.id.desc())
            .limit(1)
        )
        backlog.append(ChatBacklog(chat_id, int(pending or 0), int(failed or 0), oldest, last_error))
    return backlog


@dataclass(frozen=True)
class ModelUse:
    """A sentiment model that scored stored mentions: how many and when it last did."""

    model: str
    mentions: int
    last_scored_at: datetime | None


def sentiment_models(session: Session) -> list[ModelUse]:
    """The models behind the stored sentiment labels, the one that scored last first."""
    rows = session.execute(
        select(Sentiment.model, func.count(), func.max(Sentiment.scored_at))
        .group_by(Sentiment.model)
        .order_by(func.max(Sentiment.scored_at).desc())
    ).all()
    return [ModelUse(model, n, last) for model, n, last in rows]
