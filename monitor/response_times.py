"""How fast staff answer our mentions: publication (and collection) to first response and to
resolution, median and p90 per week, source and manager; shares answered within 1 and 24 hours;
negative mentions still waiting for an answer.

The unit is a conversation: the mentions of one of our brands in one dedup group (a post and its
copies). It is answered when any copy is, resolved when any copy is resolved, and belongs to the
source and manager of the copy answered first. Conversations staff marked all "ignored" (not
relevant) and competitors' mentions are left out: nobody is expected to answer those.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from monitor.analytics import Week, effective_label, mention_time
from monitor.db.models import Item, Mention, Sentiment, Source, Workflow

HOUR = timedelta(hours=1)
DAY = timedelta(hours=24)
# A copy of a post can be found days after the original; look this far around a period so each
# conversation's first copy (its publication time) and its later, maybe answered, copies are seen.
COPIES_LOOKBACK = timedelta(days=7)
UNASSIGNED = "—"


@dataclass(frozen=True)
class Conversation:
    """One conversation, told by its first-answered copy (or the first copy, when unanswered)."""

    mention_id: int
    brand: str
    source: str
    assignee: str | None
    author: str | None
    text: str
    url: str
    negative: bool
    published_at: datetime
    collected_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None


def conversations(session: Session, start: datetime, end: datetime) -> list[Conversation]:
    """Our conversations that began in [start, end): one small row each, grouped by the database.

    Window functions (SQLite >= 3.25 and PostgreSQL) fold a group's copies into one row.
    """
    when = mention_time()
    status = func.coalesce(Workflow.status, "new")
    conversation = (Item.group_id, Mention.brand)
    first_answered = (
        case((Workflow.first_response_at.is_(None), 1), else_=0),
        Workflow.first_response_at,
        when,
        Mention.id,
    )
    ranked = (
        select(
            Mention.id.label("mention_id"),
            Mention.brand,
            Source.name.label("source"),
            Workflow.assignee,
            Item.author,
            Item.text,
            Item.url,
            func.max(case((effective_label() == "negative", 1), else_=0))
            .over(partition_by=conversation)
            .label("negative"),
            func.min(when).over(partition_by=conversation).label("published_at"),
            func.min(Item.collected_at).over(partition_by=conversation).label("collected_at"),
            func.min(Workflow.first_response_at).over(partition_by=conversation).label("first_response_at"),
            func.min(case((status == "resolved", Workflow.resolved_at)))
            .over(partition_by=conversation)
            .label("resolved_at"),
            func.min(case((status == "ignored", 1), else_=0))
            .over(partition_by=conversation)
            .label("all_ignored"),
            func.row_number().over(partition_by=conversation, order_by=first_answered).label("rank"),
        )
        .join(Item, Mention.item_id == Item.id)
        .join(Source, Item.source_id == Source.id)
        .outerjoin(Sentiment, Sentiment.mention_id == Mention.id)
        .outerjoin(Workflow, Workflow.mention_id == Mention.id)
        .where(
            Mention.is_competitor.is_(False),
            Mention.own_post.is_(False),  # the brand's own posts wait for nobody's answer
            when >= start - COPIES_LOOKBACK,
            when < end + COPIES_LOOKBACK,
        )
        .subquery()
    )
    rows = session.execute(
        select(ranked)
        .where(
            ranked.c.rank == 1,
            ranked.c.all_ignored == 0,
            ranked.c.published_at >= start,
            ranked.c.published_at < end,
        )
        .order_by(ranked.c.published_at, ranked.c.mention_id)
    ).all()
    return [
        Conversation(
            mention_id=row.mention_id,
            brand=row.brand,
            source=row.source,
            assignee=row.assignee,
            author=row.author,
            text=row.text,
            url=row.url,
            negative=bool(row.negative),
            published_at=row.published_at,
            collected_at=row.collected_at,
            first_response_at=row.first_response_at,
            resolved_at=row.resolved_at,
        )
        for row in rows
    ]


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks: what PostgreSQL's percentile_cont returns.

    Computed here rather than in SQL because SQLite has no percentile function: one code path gives
    the same number on both backends, and the input is bounded (one duration per conversation of
    the weeks on screen, a few thousand at most).
    """
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Durations:
    """Median and 90th percentile of a set of durations, in hours."""

    count: int
    median_hours: float | None
    p90_hours: float | None

    @classmethod
    def of(cls, durations: Iterable[timedelta]) -> Durations:
        hours = [d.total_seconds() / 3600 for d in durations]
        return cls(len(hours), percentile(hours, 0.5), percentile(hours, 0.9))


@dataclass(frozen=True)
class ResponseStats:
    key: str  # the week (2026-W47), the source or the manager
    conversations: int
    answered: int
    resolved: int
    response_from_publication: Durations
    response_from_collection: Durations
    resolution_from_publication: Durations
    resolution_from_collection: Durations
    # Of the conversations whose deadline has passed or that were answered: answered in time,
    # counted from publication. None when there is none to count.
    within_hour: float | None
    within_day: float | None


def _elapsed(start: datetime, end: datetime | None) -> timedelta | None:
    # A post dated after our answer (a clock skew at the source) counts as answered at once.
    return None if end is None else max(end - start, timedelta(0))


def _share(convs: Sequence[Conversation], limit: timedelta, now: datetime) -> float | None:
    # A conversation younger than the limit and not answered yet may still make it: not counted.
    due = [c for c in convs if c.first_response_at is not None or now - c.published_at >= limit]
    if not due:
        return None
    on_time = [c for c in due if c.first_response_at and c.first_response_at - c.published_at <= limit]
    return len(on_time) / len(due)


def summarize(key: str, convs: Sequence[Conversation], now: datetime) -> ResponseStats:
    def durations(
        start: Callable[[Conversation], datetime], end: Callable[[Conversation], datetime | None]
    ) -> Durations:
        found = (_elapsed(start(c), end(c)) for c in convs)
        return Durations.of(d for d in found if d is not None)

    return ResponseStats(
        key=key,
        conversations=len(convs),
        answered=sum(c.first_response_at is not None for c in convs),
        resolved=sum(c.resolved_at is not None for c in convs),
        response_from_publication=durations(lambda c: c.published_at, lambda c: c.first_response_at),
        response_from_collection=durations(lambda c: c.collected_at, lambda c: c.first_response_at),
        resolution_from_publication=durations(lambda c: c.published_at, lambda c: c.resolved_at),
        resolution_from_collection=durations(lambda c: c.collected_at, lambda c: c.resolved_at),
        within_hour=_share(convs, HOUR, now),
        within_day=_share(convs, DAY, now),
    )


@dataclass(frozen=True)
class ResponseReport:
    weeks: list[Week]
    by_week: list[ResponseStats]
    by_source: list[ResponseStats]
    by_manager: list[ResponseStats]
    total: ResponseStats


def _grouped(
    convs: Sequence[Conversation], key: Callable[[Conversation], str], now: datetime
) -> list[ResponseStats]:
    groups: dict[str, list[Conversation]] = {}
    for conv in convs:
        groups.setdefault(key(conv), []).append(conv)
    stats = [summarize(name, members, now) for name, members in groups.items()]
    return sorted(stats, key=lambda s: (-s.conversations, s.key))


def response_report(session: Session, weeks: Sequence[Week], tz: tzinfo, now: datetime) -> ResponseReport:
    """Response times for conversations that began in `weeks` (consecutive, oldest first)."""
    convs = conversations(session, weeks[0].start(tz), weeks[-1].end(tz))
    by_week = {week: [c for c in convs if Week.containing(c.published_at, tz) == week] for week in weeks}
    return ResponseReport(
        weeks=list(weeks),
        by_week=[summarize(str(week), by_week[week], now) for week in weeks],
        by_source=_grouped(convs, lambda c: c.source, now),
        by_manager=_grouped(convs, lambda c: c.assignee or UNASSIGNED, now),
        total=summarize("всего", convs, now),
    )


# Negative conversations this recent still count as waiting for an answer (the response page, the
# weekly report and the digests agree on it).
WAITING_DAYS = 30


@dataclass(frozen=True)
class Waiting:
    """The negative conversations of the last days, and those nobody has answered yet."""

    negative: int
    unanswered: list[Conversation]  # oldest first


def waiting_for_answer(
    session: Session, now: datetime, older_than: timedelta = HOUR, days: int = WAITING_DAYS
) -> Waiting:
    """Negative conversations of the last `days`, and those of them nobody has answered for over
    `older_than`: the ones to answer right now. With `negative` the caller can tell "all answered"
    from "nothing negative to answer"."""
    negative = [c for c in conversations(session, now - timedelta(days=days), now) if c.negative]
    unanswered = [c for c in negative if c.first_response_at is None and now - c.published_at > older_than]
    return Waiting(len(negative), unanswered)


def unanswered_negative(
    session: Session, now: datetime, older_than: timedelta = HOUR, days: int = WAITING_DAYS, limit: int = 100
) -> list[Conversation]:
    """Negative conversations of the last `days` nobody has answered for over `older_than`, oldest
    first: the ones to answer right now."""
    return waiting_for_answer(session, now, older_than, days).unanswered[:limit]
