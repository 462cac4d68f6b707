"""Weekly numbers for the dashboard's trends and response-time pages and the weekly report.

Counting is done by the database (GROUP BY over a bounded range of weeks, on SQLite and PostgreSQL
alike); Python only sees aggregates or one small row per conversation of the period. Like
monitor/queries.py, a post and its copies (one dedup group) count once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlalchemy import ColumnElement, case, func, literal, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from monitor.clock import timezone_named
from monitor.db.models import Item, Mention, Sentiment, Source
from monitor.phrases import PhraseTally, PhraseTrend, brand_filter, compare


def timezone(name: str | None) -> tzinfo:
    """The time zone weeks are cut in (a Monday starts at 00:00 there); default Europe/Moscow."""
    return timezone_named(name)


@dataclass(frozen=True, order=True)
class Week:
    """An ISO week: Monday to Sunday, written 2026-W47."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        try:
            year, number = text.strip().upper().split("-W")
            date.fromisocalendar(int(year), int(number), 1)
            # Room for the week before and after (the report compares with last week).
            if not 1970 <= int(year) <= 9998:
                raise ValueError
        except ValueError:
            raise ValueError(f"not an ISO week: {text!r} (expected e.g. 2026-W47)") from None
        return cls(int(year), int(number))

    @classmethod
    def containing(cls, moment: datetime, tz: tzinfo) -> Week:
        year, number, _ = moment.astimezone(tz).isocalendar()
        return cls(year, number)

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    def start(self, tz: tzinfo) -> datetime:
        """Monday 00:00 in tz, as a UTC datetime."""
        return datetime.combine(self.monday, datetime.min.time(), tz).astimezone(UTC)

    def end(self, tz: tzinfo) -> datetime:
        return self.shift(1).start(tz)

    def shift(self, weeks: int) -> Week:
        year, number, _ = (self.monday + timedelta(weeks=weeks)).isocalendar()
        return Week(year, number)

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"


def weeks_ending(last: Week, count: int) -> list[Week]:
    """count weeks, oldest first, the last one being `last`."""
    return [last.shift(-n) for n in range(count - 1, -1, -1)]


def effective_label() -> ColumnElement[str]:
    """A staff correction wins over the model."""
    return func.coalesce(Sentiment.override_label, Sentiment.label, "unscored")


@dataclass(frozen=True, kw_only=True)
class SentimentCounts:
    """Mentions by effective label (see effective_label); keyword-only, so the classes built on it
    keep their own fields first when constructed."""

    negative: int = 0
    neutral: int = 0
    positive: int = 0
    unscored: int = 0

    @property
    def total(self) -> int:
        return self.negative + self.neutral + self.positive + self.unscored

    @property
    def scored(self) -> int:
        return self.negative + self.neutral + self.positive


def mention_time() -> ColumnElement[datetime]:
    """When a mention happened: its publication, or its collection for sources without dates."""
    return func.coalesce(Item.published_at, Item.collected_at)


def latest_week_with_mentions(session: Session, tz: tzinfo, until: Week) -> Week | None:
    """The newest week up to `until` that has any mention: where a page should open, rather than on
    a current week with nothing in it yet (every brand -100 %, share of voice 0 of 0)."""
    latest = session.scalar(
        select(func.max(mention_time()))
        .select_from(Mention)
        .join(Item, Mention.item_id == Item.id)
        .where(mention_time() < until.end(tz))
    )
    return None if latest is None else Week.containing(latest, tz)


def week_index(moment: ColumnElement[datetime], weeks: Sequence[Week], tz: tzinfo) -> ColumnElement[int]:
    """Which of `weeks` a timestamp falls in (0, 1, ...), or NULL.

    A CASE over the weeks' UTC boundaries rather than date_trunc/strftime: the same SQL on both
    backends, and weeks cut at midnight in the business's time zone, not in UTC.
    """
    return case(
        *(((moment >= week.start(tz)) & (moment < week.end(tz)), literal(n)) for n, week in enumerate(weeks)),
        else_=None,
    )


# --- Trends ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrandWeek(SentimentCounts):
    """One brand's mentions in one week, by sentiment."""

    week: Week
    brand: str
    competitor: bool


def weekly_volume(session: Session, weeks: Sequence[Week], tz: tzinfo) -> list[BrandWeek]:
    """Mentions per week, brand and sentiment; every brand seen in the range gets every week (zeros
    included, so charts show a gap as a zero)."""
    when = mention_time()
    bucket = week_index(when, weeks, tz).label("week")
    label = effective_label()
    rows = session.execute(
        select(bucket, Mention.brand, Mention.is_competitor, label, func.count(func.distinct(Item.group_id)))
        .join(Item, Mention.item_id == Item.id)
        .outerjoin(Sentiment, Sentiment.mention_id == Mention.id)
        .where(when >= weeks[0].start(tz), when < weeks[-1].end(tz))
        .group_by(bucket, Mention.brand, Mention.is_competitor, label)
    ).all()
    counts: dict[tuple[int, str, bool], dict[str, int]] = {}
    brands: dict[str, bool] = {}
    for index, brand, competitor, lab, n in rows:
        if index is None:
            continue
        counts.setdefault((index, brand, competitor), {})[lab] = n
        brands[brand] = brands.get(brand, False) or competitor
    return [
        BrandWeek(week, brand, competitor, **counts.get((n, brand, competitor), {}))
        for n, week in enumerate(weeks)
        for brand, competitor in sorted(brands.items(), key=lambda b: (b[1], b[0]))
    ]


@dataclass(frozen=True)
class VoiceShare:
    brand: str
    competitor: bool
    mentions: int
    share: float  # of all brands' mentions that week, 0..1


def share_of_voice(volume: Iterable[BrandWeek], week: Week) -> list[VoiceShare]:
    """Each brand's part of the week's mentions of all watched brands, ours and competitors'."""
    rows = [row for row in volume if row.week == week]
    everything = sum(row.total for row in rows)
    return sorted(
        (
            VoiceShare(row.brand, row.competitor, row.total, row.total / everything if everything else 0.0)
            for row in rows
        ),
        key=lambda s: (-s.mentions, s.brand),
    )


@dataclass(frozen=True)
class WeekChange:
    brand: str
    competitor: bool
    this_week: int
    last_week: int
    negative_this_week: int
    negative_last_week: int

    @property
    def change(self) -> float | None:
        """(this - last) / last; None when last week had none (growth from zero has no percentage)."""
        return (self.this_week - self.last_week) / self.last_week if self.last_week else None


def week_over_week(volume: Iterable[BrandWeek], week: Week) -> list[WeekChange]:
    by_key = {(row.week, row.brand): row for row in volume}
    brands = sorted({(row.brand, row.competitor) for row in by_key.values()}, key=lambda b: (b[1], b[0]))
    changes = []
    for brand, competitor in brands:
        now = by_key.get((week, brand)) or BrandWeek(week, brand, competitor)
        before = by_key.get((week.shift(-1), brand)) or BrandWeek(week.shift(-1), brand, competitor)
        changes.append(WeekChange(brand, competitor, now.total, before.total, now.negative, before.negative))
    return changes


@dataclass(frozen=True)
class Ranked:
    name: str
    mentions: int
    negative: int


def _top(
    session: Session,
    column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None],
    week: Week,
    tz: tzinfo,
    limit: int,
    join_source: bool,
) -> list[Ranked]:
    when = mention_time()
    group = Item.group_id
    negative = func.count(func.distinct(case((effective_label() == "negative", group))))
    mentions = func.count(func.distinct(group))
    query = (
        select(column, mentions, negative)
        .select_from(Mention)
        .join(Item, Mention.item_id == Item.id)
        .outerjoin(Sentiment, Sentiment.mention_id == Mention.id)
        .where(Mention.is_competitor.is_(False), when >= week.start(tz), when < week.end(tz))
        .where(column.is_not(None))
        .group_by(column)
        .order_by(mentions.desc(), negative.desc(), column)
        .limit(limit)
    )
    if join_source:
        query = query.join(Source, Item.source_id == Source.id)
    return [Ranked(name or "", n, neg) for name, n, neg in session.execute(query).all()]


def top_sources(session: Session, week: Week, tz: tzinfo, limit: int = 10) -> list[Ranked]:
    """Where our brands were mentioned most this week."""
    return _top(session, Source.name, week, tz, limit, join_source=True)


def top_authors(session: Session, week: Week, tz: tzinfo, limit: int = 10) -> list[Ranked]:
    """Who mentioned our brands most this week."""
    return _top(session, Item.author, week, tz, limit, join_source=False)


@dataclass(frozen=True)
class NegativeTopics:
    words: list[PhraseTrend]
    phrases: list[PhraseTrend]
    this_week_texts: int
    last_week_texts: int


def negative_topics(
    session: Session,
    week: Week,
    tz: tzinfo,
    brand_terms: Iterable[str] = (),
    limit: int = 15,
    min_count: int = 2,
) -> NegativeTopics:
    """Words and two-word phrases of our negative mentions this week, against last week.

    Reads the texts of two weeks of negative mentions (one per dedup group): a bounded set. The
    brands' own names (every brand in the database, plus brand_terms such as aliases) are left out.
    """
    weeks = [week.shift(-1), week]
    when = mention_time()
    bucket = week_index(when, weeks, tz).label("week")
    rows = session.execute(
        select(bucket, Item.group_id, func.min(Item.text))
        .select_from(Mention)
        .join(Item, Mention.item_id == Item.id)
        .join(Sentiment, Sentiment.mention_id == Mention.id)
        .where(
            Mention.is_competitor.is_(False),
            effective_label() == "negative",
            when >= weeks[0].start(tz),
            when < weeks[1].end(tz),
        )
        .group_by(bucket, Item.group_id)
    ).all()
    names = session.scalars(select(Mention.brand).distinct()).all()
    is_brand = brand_filter([*names, *brand_terms])
    last, this = PhraseTally(is_brand), PhraseTally(is_brand)
    for index, _group, text in rows:
        (this if index == 1 else last).add(text)
    return NegativeTopics(
        words=compare(this, last, phrases=False, limit=limit, min_count=min_count),
        phrases=compare(this, last, phrases=True, limit=limit, min_count=min_count),
        this_week_texts=this.texts,
        last_week_texts=last.texts,
    )


@dataclass(frozen=True)
class Trends:
    """Marketing's weekly view: `week` and the weeks before it."""

    week: Week
    volume: list[BrandWeek]  # every week of the range, for the charts
    share_of_voice: list[VoiceShare]
    changes: list[WeekChange]
    top_sources: list[Ranked]
    top_authors: list[Ranked]
    negative_topics: NegativeTopics


def trends(
    session: Session, week: Week, tz: tzinfo, weeks: int = 8, brand_terms: Iterable[str] = ()
) -> Trends:
    volume = weekly_volume(session, weeks_ending(week, max(weeks, 2)), tz)
    return Trends(
        week=week,
        volume=volume,
        share_of_voice=share_of_voice(volume, week),
        changes=week_over_week(volume, week),
        top_sources=top_sources(session, week, tz),
        top_authors=top_authors(session, week, tz),
        negative_topics=negative_topics(session, week, tz, brand_terms),
    )
