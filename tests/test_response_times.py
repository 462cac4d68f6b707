"""Response times per week, source and manager, shares answered in time, and the negative
mentions still waiting, on SQLite and PostgreSQL. Expected numbers are worked out by hand below."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.analytics import Week
from monitor.response_times import percentile, response_report, unanswered_negative
from tests.support.seed import Post, seed

MOSCOW = ZoneInfo("Europe/Moscow")
W46, W47 = Week(2026, 46), Week(2026, 47)
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # Sunday 15:00 in Moscow, still 2026-W47


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


# Hours to first response from publication / from collection, and to resolution from publication:
#   A 0.5 / 0.5 / 2     B 2 / 1 / -     C 5 / 4.5 / 24     D 0.75 / 0.75 / -     E 30 / 29 / 36
#   F, K unanswered (K only 30 minutes old);  J (last week) 3.
RESPONSE_POSTS = [
    Post("A: ВкусМаркет обсчитал", "ВкусМаркет", published_at=at(17, 10), collected_at=at(17, 10, 10),
         first_response_at=at(17, 10, 40), resolved_at=at(17, 12), status="resolved", assignee="olga",
         group=1),
    # A copy of A found later on VK and never touched: A's conversation, answered by olga on otzovik.
    Post("A: репост", "ВкусМаркет", source="vk", published_at=at(17, 11), collected_at=at(17, 11), group=1),
    Post("B", "ВкусМаркет", "positive", source="vk", published_at=at(17, 12), collected_at=at(17, 13),
         first_response_at=at(17, 14), status="in_progress", assignee="olga"),
    Post("C", "ВкусМаркет", published_at=at(18, 9), collected_at=at(18, 9, 30), first_response_at=at(18, 14),
         resolved_at=at(19, 9), status="resolved", assignee="ivan"),
    Post("D", "ВкусМаркет", "neutral", source="vk", published_at=at(19, 8), collected_at=at(19, 8),
         first_response_at=at(19, 8, 45), status="in_progress", assignee="ivan"),
    Post("E", "ВкусМаркет", source="forum", published_at=at(20, 0), collected_at=at(20, 1),
         first_response_at=at(21, 6), resolved_at=at(21, 12), status="resolved", assignee="olga"),
    Post("F: <b>никто не ответил</b>", "ВкусМаркет", published_at=at(20, 10), collected_at=at(20, 10)),
    Post("K", "ВкусМаркет", source="vk", published_at=at(22, 11, 30), collected_at=at(22, 11, 30)),
    # Not counted: marked not relevant; a competitor's complaint.
    Post("H", "ВкусМаркет", published_at=at(18, 10), collected_at=at(18, 10), status="ignored"),
    Post("I", "Магнит", competitor=True, published_at=at(20, 10), collected_at=at(20, 10)),
    # 2026-W46
    Post("J", "ВкусМаркет", "neutral", published_at=at(11, 10), collected_at=at(11, 10),
         first_response_at=at(11, 13), status="in_progress", assignee="ivan"),
]  # fmt: skip


@pytest.fixture
def handled(sessions):
    with sessions.begin() as session:
        ids = seed(session, RESPONSE_POSTS)
    return sessions, ids


def report(sessions):
    with sessions() as session:
        return response_report(session, [W46, W47], MOSCOW, NOW)


def test_percentile_interpolates_like_postgres_percentile_cont():
    assert percentile([0.5, 0.75, 2, 5, 30], 0.5) == 2
    assert percentile([30, 5, 2, 0.75, 0.5], 0.9) == pytest.approx(20)  # 5 + 0.6 * 25
    assert percentile([3], 0.9) == 3 and percentile([], 0.5) is None


def test_weekly_medians_and_p90_from_publication_and_collection(handled):
    week = report(handled[0]).by_week[1]
    assert week.key == "2026-W47"
    assert (week.conversations, week.answered, week.resolved) == (7, 5, 3)
    first = week.response_from_publication
    assert (first.count, first.median_hours, first.p90_hours) == (5, 2, pytest.approx(20))
    collected = week.response_from_collection
    assert (collected.median_hours, collected.p90_hours) == (1, pytest.approx(19.2))  # 4.5 + 0.6 * 24.5
    resolution = week.resolution_from_publication
    assert (resolution.count, resolution.median_hours, resolution.p90_hours) == (3, 24, pytest.approx(33.6))
    resolution = week.resolution_from_collection  # 1h50m, 23.5h, 35h
    assert (resolution.median_hours, resolution.p90_hours) == (23.5, pytest.approx(32.7))


def test_shares_answered_in_time_leave_out_conversations_not_due_yet(handled):
    week = report(handled[0]).by_week[1]
    # Due: the 5 answered and F; K is 30 minutes old and still has time.
    assert week.within_hour == pytest.approx(2 / 6)  # A and D
    assert week.within_day == pytest.approx(4 / 6)  # A, B, C and D


def test_each_week_counts_its_own_conversations(handled):
    week = report(handled[0]).by_week[0]
    assert (week.key, week.conversations, week.response_from_publication.median_hours) == ("2026-W46", 1, 3)
    assert (week.within_hour, week.within_day) == (0, 1)


def test_per_source_follows_the_first_answered_copy(handled):
    by_source = {s.key: s for s in report(handled[0]).by_source}
    assert set(by_source) == {"otzovik", "vk", "forum"}
    otzovik = by_source["otzovik"]  # A, C, F and J: 0.5, 5, 3 hours
    assert (otzovik.conversations, otzovik.answered) == (4, 3)
    assert (otzovik.response_from_publication.median_hours, otzovik.response_from_publication.p90_hours) == (
        3,
        pytest.approx(4.6),
    )
    vk = by_source["vk"]  # B, D and K
    assert (vk.conversations, vk.response_from_publication.median_hours) == (3, pytest.approx(1.375))


def test_per_manager(handled):
    by_manager = {s.key: s for s in report(handled[0]).by_manager}
    olga, ivan, nobody = by_manager["olga"], by_manager["ivan"], by_manager["—"]
    assert (olga.conversations, olga.response_from_publication.median_hours) == (3, 2)
    assert olga.response_from_publication.p90_hours == pytest.approx(24.4)  # 2 + 0.8 * 28
    assert (ivan.conversations, ivan.response_from_publication.median_hours) == (3, 3)
    assert (nobody.conversations, nobody.answered, nobody.response_from_publication.median_hours) == (
        2,
        0,
        None,
    )


def test_unanswered_negative_lists_only_what_waits_over_an_hour(handled):
    sessions, ids = handled
    with sessions() as session:
        waiting = unanswered_negative(session, NOW)
        later = unanswered_negative(session, NOW + timedelta(hours=1))
    assert [c.mention_id for c in waiting] == [ids[6]]  # F; not K (too new), H (ignored), I (competitor)
    assert waiting[0].text == "F: <b>никто не ответил</b>" and waiting[0].source == "otzovik"
    assert [c.mention_id for c in later] == [ids[6], ids[7]]


def test_no_conversations_give_empty_figures(sessions):
    with sessions() as session:
        week = response_report(session, [W47], MOSCOW, NOW).by_week[0]
    assert (week.conversations, week.within_hour, week.response_from_publication.median_hours) == (
        0,
        None,
        None,
    )
