"""Inbox keyset paging: every mention once and in order, forward and back, filtered, while new ones arrive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.db.models import Mention, Sentiment
from monitor.queries import (
    InboxCursor,
    InboxFilter,
    InboxView,
    inbox_count,
    inbox_page,
    inbox_view,
)
from tests.support.seed import Post, seed

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _posts() -> list[Post]:
    """23 mentions over 8 distinct times: most share their timestamp with others."""
    return [
        Post(
            f"ВкусМаркет пост {n}" + (" возврат" if n % 4 == 0 else ""),
            "Магнит" if n % 5 == 0 else "ВкусМаркет",
            "negative" if n % 2 else "positive",
            source="vk" if n % 3 else "otzovik",
            published_at=T0 + timedelta(hours=n % 8),
            competitor=n % 5 == 0,
            status="new" if n % 3 else "resolved",
        )
        for n in range(23)
    ]


@pytest.fixture
def stored(sessions) -> list[int]:
    with sessions.begin() as session:
        return seed(session, _posts())


def _walk(session, filters: InboxFilter, limit: int) -> list[InboxView]:
    views = [inbox_view(session, filters, limit)]
    while views[-1].older is not None:
        views.append(inbox_view(session, filters, limit, after=views[-1].older))
        assert len(views) < 100, "paging never ends"
    return views


def _expected(session, filters: InboxFilter) -> list[int]:
    """The whole filtered inbox in one page, for comparison."""
    return [row.mention_id for row in inbox_page(session, filters, limit=1000)]


def test_walking_forward_visits_every_mention_once_newest_first_ties_by_id(sessions, stored):
    with sessions() as session:
        views = _walk(session, InboxFilter(), limit=4)
    seen = [row for view in views for row in view.rows]
    assert len(views) == 6 and [len(v.rows) for v in views] == [4, 4, 4, 4, 4, 3]
    assert sorted(row.mention_id for row in seen) == sorted(stored)
    keys = [(row.published_at, row.mention_id) for row in seen]
    assert keys == sorted(keys, reverse=True)
    assert views[0].newer is None and all(view.newer is not None for view in views[1:])


def test_a_page_exactly_as_long_as_the_rest_is_the_last_one(sessions, stored):
    with sessions() as session:
        views = _walk(session, InboxFilter(), limit=23)
    assert len(views) == 1 and views[0].older is None and views[0].newer is None


def test_previous_page_returns_the_page_before(sessions, stored):
    with sessions() as session:
        views = _walk(session, InboxFilter(), limit=4)
        for before, page in zip(views, views[1:], strict=False):
            back = inbox_view(session, InboxFilter(), limit=4, before=page.newer)
            assert [r.mention_id for r in back.rows] == [r.mention_id for r in before.rows]
            assert back.older == before.older
            assert (back.newer is None) == (before is views[0])


def test_previous_page_near_the_top_comes_back_as_a_full_first_page(sessions, stored):
    with sessions() as session:
        rows = inbox_page(session, InboxFilter(), limit=23)
        # From the third row, only two rows are newer: the first page shows four.
        third = InboxCursor(rows[2].published_at, rows[2].mention_id)
        back = inbox_view(session, InboxFilter(), limit=4, before=third)
    assert [r.mention_id for r in back.rows] == [r.mention_id for r in rows[:4]] and back.newer is None


FILTERS = [
    InboxFilter(brands=("ВкусМаркет",)),
    InboxFilter(sentiments=("negative",), statuses=("new",)),
    InboxFilter(sources=("vk",), search="возврат"),
    InboxFilter(since=T0 + timedelta(hours=2), until=T0 + timedelta(hours=6)),
]


def test_filters_combine_with_paging(sessions, stored):
    with sessions() as session:
        for filters in FILTERS:
            expected = _expected(session, filters)
            views = _walk(session, filters, limit=3)
            assert [row.mention_id for view in views for row in view.rows] == expected, filters
            assert inbox_count(session, filters) == len(expected) and 0 < len(expected) < len(stored)


def test_the_staff_correction_decides_the_sentiment_filter_while_paging(sessions, stored):
    with sessions.begin() as session:
        session.get(Sentiment, stored[0]).override_label = "negative"  # the model said positive
    with sessions() as session:
        negative = [
            r.mention_id for v in _walk(session, InboxFilter(sentiments=("negative",)), 4) for r in v.rows
        ]
    assert stored[0] in negative and stored[1] in negative and stored[2] not in negative


def test_date_range_is_half_open_on_the_shown_time(sessions, stored):
    with sessions() as session:
        rows = inbox_page(session, InboxFilter(since=T0 + timedelta(hours=7), until=T0 + timedelta(hours=8)))
    assert rows and {row.published_at for row in rows} == {T0 + timedelta(hours=7)}


def test_a_mention_stored_while_paging_neither_repeats_nor_hides_older_ones(sessions, stored):
    with sessions() as session:
        first = inbox_view(session, InboxFilter(), limit=5)
    # With OFFSET the newest one would push a row of page 1 onto page 2 and show it twice.
    newest = Post("ВкусМаркет свежее", "ВкусМаркет", source="rss", published_at=T0 + timedelta(days=1))
    late = Post("ВкусМаркет давнее", "ВкусМаркет", source="rss", published_at=T0 - timedelta(days=1))
    with sessions.begin() as session:
        newcomer, latecomer = seed(session, [newest, late])
    with sessions() as session:
        rest = _walk_from(session, first, limit=5)
    seen = [r.mention_id for r in first.rows] + [r.mention_id for v in rest for r in v.rows]
    # The newer one waits for the first page; the one published earlier is met on the way.
    assert sorted(seen) == sorted([*stored, latecomer]) and newcomer not in seen


def _walk_from(session, view: InboxView, limit: int) -> list[InboxView]:
    views = []
    while view.older is not None:
        view = inbox_view(session, InboxFilter(), limit, after=view.older)
        views.append(view)
    return views


def test_mentions_without_a_publication_date_sort_by_collection_time(sessions, stored):
    with sessions.begin() as session:
        [undated] = seed(session, [Post("ВкусМаркет без даты", "ВкусМаркет", source="rss")])
        item = session.get(Mention, undated).item
        item.published_at = None
        item.collected_at = T0 + timedelta(hours=3, minutes=30)
    with sessions() as session:
        seen = [r for v in _walk(session, InboxFilter(), limit=4) for r in v.rows]
    at = [r.mention_id for r in seen].index(undated)
    assert seen[at].published_at == T0 + timedelta(hours=3, minutes=30)
    assert seen[at - 1].published_at > seen[at].published_at > seen[at + 1].published_at


def test_the_count_stops_at_the_cap(sessions, stored):
    with sessions() as session:
        assert inbox_count(session, InboxFilter(), cap=23) == 23
        assert inbox_count(session, InboxFilter(), cap=22) is None
