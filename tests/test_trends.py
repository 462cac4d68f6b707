"""Weekly trends: volume and sentiment per brand, share of voice, week over week, top sources and
authors, and what negative mentions talk about, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.analytics import (
    BrandWeek,
    Week,
    negative_topics,
    share_of_voice,
    top_authors,
    top_sources,
    week_over_week,
    weekly_volume,
)
from monitor.phrases import PhraseTrend
from tests.support.seed import Post, seed

MOSCOW = ZoneInfo("Europe/Moscow")
W46, W47 = Week(2026, 46), Week(2026, 47)


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


TREND_POSTS = [
    # 2026-W47 (16-22 November)
    Post("ВкусМаркет обсчитал на кассе, долгое ожидание", "ВкусМаркет", published_at=at(17), author="Анна",
         group=1),
    Post("Репост: ВкусМаркет обсчитал на кассе, долгое ожидание", "ВкусМаркет", source="vk",
         published_at=at(17, 14), author="Пётр", group=1),
    Post("Во ВкусМаркете долгое ожидание и не вернули деньги", "ВкусМаркет", source="vk", published_at=at(18),
         author="Анна"),
    Post("ВкусМаркет не вернул деньги за брак, обсчитали", "ВкусМаркет", source="forum", published_at=at(19),
         author="Олег"),
    Post("Во ВкусМаркете свежий хлеб", "ВкусМаркет", "positive", published_at=at(20), author="Анна"),
    Post("Магнит открыл новый магазин", "Магнит", "neutral", source="vk", competitor=True,
         published_at=at(18)),
    Post("Магнит снизил цены", "Магнит", "neutral", competitor=True, published_at=at(19)),
    Post("Пятёрочка: очереди и долгое ожидание", "Пятёрочка", competitor=True, published_at=at(20)),
    # 2026-W47 starts at Monday 00:00 Moscow time, which is Sunday 21:00 UTC.
    Post("ВкусМаркет обсчитал на кассе", "ВкусМаркет",
         published_at=datetime(2026, 11, 15, 21, 30, tzinfo=UTC)),
    # 2026-W46
    Post("ВкусМаркет обсчитал на кассе", "ВкусМаркет", published_at=at(10)),
    Post("ВкусМаркет хороший магазин", "ВкусМаркет", "positive", source="vk", published_at=at(10)),
    Post("Магнит: долгое ожидание", "Магнит", "neutral", competitor=True,
         published_at=datetime(2026, 11, 15, 20, 59, tzinfo=UTC)),
]  # fmt: skip


@pytest.fixture
def trends(sessions):
    with sessions.begin() as session:
        seed(session, TREND_POSTS)
    return sessions


def volumes(sessions):
    with sessions() as session:
        return weekly_volume(session, [W46, W47], MOSCOW)


def test_weekly_volume_counts_copies_once_per_brand_and_sentiment(trends):
    rows = {(r.week, r.brand): r for r in volumes(trends)}
    ours = rows[(W47, "ВкусМаркет")]
    assert (ours.negative, ours.positive, ours.neutral, ours.total) == (4, 1, 0, 5)
    assert rows[(W46, "ВкусМаркет")].total == 2 and rows[(W46, "ВкусМаркет")].negative == 1


def test_weeks_are_cut_at_midnight_in_the_business_time_zone(trends):
    rows = {(r.week, r.brand): r for r in volumes(trends)}
    # Sunday 20:59 UTC is still Sunday in Moscow; 21:30 UTC is already Monday.
    assert rows[(W46, "Магнит")].total == 1 and rows[(W47, "Магнит")].total == 2


def test_every_brand_gets_every_week_with_zeros(trends):
    rows = {(r.week, r.brand): r for r in volumes(trends)}
    assert rows[(W46, "Пятёрочка")].total == 0 and rows[(W46, "Пятёрочка")].competitor


# What weekly_volume gives for TREND_POSTS (checked above): pure functions work on it without a database.
VOLUME = [
    BrandWeek(W46, "ВкусМаркет", False, negative=1, positive=1),
    BrandWeek(W46, "Магнит", True, neutral=1),
    BrandWeek(W46, "Пятёрочка", True),
    BrandWeek(W47, "ВкусМаркет", False, negative=4, positive=1),
    BrandWeek(W47, "Магнит", True, neutral=2),
    BrandWeek(W47, "Пятёрочка", True, negative=1),
]


def test_weekly_volume_matches_the_figures_the_pure_tests_use(trends):
    assert volumes(trends) == VOLUME


def test_share_of_voice_is_each_brands_part_of_all_mentions():
    shares = {s.brand: s for s in share_of_voice(VOLUME, W47)}
    assert shares["ВкусМаркет"].share == pytest.approx(5 / 8)
    assert shares["Магнит"].share == pytest.approx(2 / 8) and shares["Магнит"].competitor
    assert shares["Пятёрочка"].share == pytest.approx(1 / 8)


def test_week_over_week_change():
    changes = {c.brand: c for c in week_over_week(VOLUME, W47)}
    ours = changes["ВкусМаркет"]
    assert (ours.this_week, ours.last_week, ours.change) == (5, 2, pytest.approx(1.5))
    assert (ours.negative_this_week, ours.negative_last_week) == (4, 1)
    assert changes["Пятёрочка"].change is None  # nothing last week: no percentage


def test_top_sources_and_authors_of_our_mentions(trends):
    with trends() as session:
        sources = [(r.name, r.mentions, r.negative) for r in top_sources(session, W47, MOSCOW)]
        authors = [(r.name, r.mentions, r.negative) for r in top_authors(session, W47, MOSCOW, limit=2)]
    assert sources == [("otzovik", 3, 2), ("vk", 2, 2), ("forum", 1, 1)]
    assert authors == [("Анна", 3, 2), ("Автор 8", 1, 1)]


def test_negative_topics_are_lemmatized_without_brand_names(trends):
    with trends() as session:
        topics = negative_topics(session, W47, MOSCOW)
    assert (topics.this_week_texts, topics.last_week_texts) == (4, 1)
    assert topics.words == [
        PhraseTrend("обсчитать", 3, 1),
        PhraseTrend("деньги", 2, 0),
        PhraseTrend("долгий", 2, 0),
        PhraseTrend("не вернуть", 2, 0),
        PhraseTrend("ожидание", 2, 0),
        PhraseTrend("касса", 2, 1),  # as many texts, but it grew less
    ]
    assert topics.phrases == [PhraseTrend("долгое ожидание", 2, 0), PhraseTrend("не вернул деньги", 2, 0)]
    shown = {t.phrase for t in topics.words + topics.phrases}
    assert not any("вкусмаркет" in phrase for phrase in shown)


def test_week_parses_and_prints_iso_weeks():
    assert Week.parse("2026-w47") == W47 and str(W47) == "2026-W47"
    assert W47.shift(-47) == Week(2025, 52) and Week(2026, 1).shift(-1) == Week(2025, 52)
    with pytest.raises(ValueError, match="not an ISO week: '2026-47'"):
        Week.parse("2026-47")
    with pytest.raises(ValueError, match="not an ISO week"):
        Week.parse("2026-W54")
    with pytest.raises(ValueError, match="not an ISO week"):
        Week.parse("1-W01")  # the week before it could not be computed
