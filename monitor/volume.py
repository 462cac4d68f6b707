"""Mention volume for alerts: per brand per hour (spike alerts) and per period (digests), plus the
posts worth showing next to the numbers.

A mention's hour is that of its publication (its collection for sources without dates; see
monitor.analytics.mention_time), not of its collection: the first crawl of a new source stores weeks
of posts at once, which by collection time would be one huge fake spike, by publication time is
history. Like the rest of the analytics, a post and its copies (one dedup group) count once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, func, literal, select
from sqlalchemy.orm import Session

from monitor.analytics import SentimentCounts, effective_label, mention_time
from monitor.db.models import Item, Mention, Sentiment, Source

HOUR = timedelta(hours=1)
# A mention is stored after its post was published; this much slack covers posts dated a little in
# the future by a source's clock. It lets the (brand, created_at) index bound every scan.
CLOCK_SKEW = timedelta(days=1)


@dataclass(frozen=True)
class HourCount:
    total: int = 0
    negative: int = 0

    def of(self, metric: str) -> int:
        return self.negative if metric == "negative" else self.total


def hourly_mention_counts(
    session: Session, brands: Sequence[str], hours: Iterable[datetime], sources: Sequence[str] = ()
) -> dict[tuple[str, datetime], HourCount]:
    """Mentions (dedup groups) of each brand in each of `hours` (UTC hour starts), all and negative.

    Only the hours asked for are counted: a spike check needs the current hour and the same hour on
    the days before, not every hour of two weeks. Hours without mentions are missing from the result.
    """
    wanted = sorted(set(hours))
    if not wanted or not brands:
        return {}
    when = mention_time()
    # A CASE over the hours' boundaries, not date_trunc/strftime: the same SQL on both backends.
    bucket = case(
        *(((when >= hour) & (when < hour + HOUR), literal(n)) for n, hour in enumerate(wanted)),
        else_=None,
    ).label("hour")
    negative = func.count(func.distinct(case((effective_label() == "negative", Item.group_id))))
    query = (
        select(Mention.brand, bucket, func.count(func.distinct(Item.group_id)), negative)
        .join(Item, Mention.item_id == Item.id)
        .outerjoin(Sentiment, Sentiment.mention_id == Mention.id)
        .where(
            Mention.brand.in_(brands),
            Mention.created_at >= wanted[0] - CLOCK_SKEW,
            when >= wanted[0],
            when < wanted[-1] + HOUR,
        )
        .group_by(Mention.brand, bucket)
    )
    if sources:
        query = query.join(Source, Item.source_id == Source.id).where(Source.name.in_(sources))
    counts = {}
    for brand, index, total, negatives in session.execute(query).all():
        if index is not None:
            counts[(brand, wanted[index])] = HourCount(total, negatives)
    return counts


def first_mention_at(session: Session, brand: str) -> datetime | None:
    """When brandpulse first stored a mention of `brand`: the start of its history.

    Posts published before that (the backfill of a first crawl) are an incomplete record, so
    baselines must not reach back past it.
    """
    return session.scalar(select(func.min(Mention.created_at)).where(Mention.brand == brand))


@dataclass(frozen=True)
class NotablePost:
    """A mention to show under an alert or in a digest."""

    mention_id: int
    brand: str
    source: str
    author: str | None
    url: str
    text: str
    published_at: datetime | None
    reach: int
    label: str | None
    score: float | None


def _reach() -> ColumnElement[int]:
    # Item.reach in SQL: followers or views, whichever is larger.
    author_reach, views = func.coalesce(Item.author_reach, 0), func.coalesce(Item.views, 0)
    return case((author_reach > views, author_reach), else_=views)


def notable_posts(
    session: Session,
    brand: str,
    start: datetime,
    end: datetime,
    *,
    negative_only: bool,
    sources: Sequence[str] = (),
    limit: int = 3,
) -> list[NotablePost]:
    """The posts of [start, end) about `brand` with the widest reach (then the most negative), one
    per dedup group."""
    when = mention_time()
    label = func.coalesce(Sentiment.override_label, Sentiment.label)
    reach = _reach()
    query = (
        select(Mention.id, Item.group_id, Source.name, Item, reach, label, Sentiment.score)
        .join(Item, Mention.item_id == Item.id)
        .join(Source, Item.source_id == Source.id)
        .outerjoin(Sentiment, Sentiment.mention_id == Mention.id)
        .where(
            Mention.brand == brand,
            Mention.created_at >= start - CLOCK_SKEW,
            when >= start,
            when < end,
        )
        .order_by(reach.desc(), case((label == "negative", Sentiment.score), else_=0).desc(), Mention.id)
        # Copies of one post are skipped below; this many rows leaves room for them.
        .limit(limit * 10)
    )
    if negative_only:
        query = query.where(label == "negative")
    if sources:
        query = query.where(Source.name.in_(sources))
    posts: list[NotablePost] = []
    groups: set[int] = set()
    for mention_id, group_id, source, item, reach_value, lab, score in session.execute(query).all():
        if group_id in groups:
            continue
        groups.add(group_id)
        posts.append(
            NotablePost(
                mention_id=mention_id,
                brand=brand,
                source=source,
                author=item.author,
                url=item.url,
                text=item.text,
                published_at=item.published_at,
                reach=int(reach_value or 0),
                label=lab,
                score=score,
            )
        )
        if len(posts) == limit:
            break
    return posts


@dataclass(frozen=True)
class BrandVolume(SentimentCounts):
    """One brand's mentions in a period, by sentiment."""

    brand: str
    competitor: bool


def period_volume(session: Session, start: datetime, end: datetime) -> list[BrandVolume]:
    """Mentions of every brand in [start, end) by sentiment; ours first, then by volume."""
    when = mention_time()
    label = effective_label()
    rows = session.execute(
        select(Mention.brand, Mention.is_competitor, label, func.count(func.distinct(Item.group_id)))
        .join(Item, Mention.item_id == Item.id)
        .outerjoin(Sentiment, Sentiment.mention_id == Mention.id)
        .where(Mention.created_at >= start - CLOCK_SKEW, when >= start, when < end)
        .group_by(Mention.brand, Mention.is_competitor, label)
    ).all()
    counts: dict[tuple[str, bool], dict[str, int]] = {}
    for brand, competitor, lab, n in rows:
        counts.setdefault((brand, competitor), {})[lab] = n
    volumes = [BrandVolume(brand, competitor, **c) for (brand, competitor), c in counts.items()]
    return sorted(volumes, key=lambda v: (v.competitor, -v.total, v.brand))


def reach_and_score(session: Session, mention_ids: Sequence[int]) -> dict[int, tuple[int, float | None]]:
    """Reach and sentiment score of the given mentions, to rank them."""
    if not mention_ids:
        return {}
    rows = session.execute(
        select(Mention.id, _reach(), Sentiment.score)
        .join(Item, Mention.item_id == Item.id)
        .outerjoin(Sentiment, Sentiment.mention_id == Mention.id)
        .where(Mention.id.in_(mention_ids))
    ).all()
    return {mention_id: (int(reach or 0), score) for mention_id, reach, score in rows}
