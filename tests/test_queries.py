"""What the dashboard and the demo summary ask the database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.db.models import Workflow
from monitor.queries import InboxFilter, brand_sentiment_counts, inbox_page, set_status
from tests.support.seed import Post, seed


@pytest.fixture
def stored(sessions):
    with sessions.begin() as session:
        ids = seed(
            session,
            [
                Post(
                    "ВкусМаркет обсчитал на кассе",
                    "ВкусМаркет",
                    "negative",
                    published_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
                ),
                Post("Репост: ВкусМаркет обсчитал на кассе", "ВкусМаркет", "negative", source="vk", group=1),
                Post("ВкусМаркет обсчитал на кассе!!", "ВкусМаркет", "negative", source="forum", group=1),
                Post(
                    "Во ВкусМаркете свежий хлеб",
                    "ВкусМаркет",
                    "positive",
                    published_at=datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
                ),
                Post("Магнит открыл новый магазин", "Магнит", "neutral", competitor=True),
            ],
        )
    return ids


def test_counts_group_copies_of_one_post_once(sessions, stored):
    with sessions() as session:
        counts = {c.brand: c for c in brand_sentiment_counts(session)}
    assert counts["ВкусМаркет"].negative == 2  # the first post, and one group of two copies
    assert counts["ВкусМаркет"].positive == 1
    assert counts["Магнит"].competitor and counts["Магнит"].neutral == 1


def test_staff_correction_wins_over_the_model_in_counts(sessions, stored):
    with sessions.begin() as session:
        from monitor.db.models import Sentiment

        session.get(Sentiment, stored[3]).override_label = "negative"
    with sessions() as session:
        counts = {c.brand: c for c in brand_sentiment_counts(session)}
    assert counts["ВкусМаркет"].negative == 3 and counts["ВкусМаркет"].positive == 0


def test_inbox_is_newest_first_and_filters_by_brand_and_sentiment(sessions, stored):
    with sessions() as session:
        rows = inbox_page(session, InboxFilter(brands=("ВкусМаркет",)))
        negative = inbox_page(session, InboxFilter(sentiments=("negative",)))
    assert rows[0].text == "Во ВкусМаркете свежий хлеб"
    assert {r.brand for r in rows} == {"ВкусМаркет"}
    assert {r.sentiment for r in negative} == {"negative"} and len(negative) == 3


def test_inbox_search_and_paging(sessions, stored):
    with sessions() as session:
        found = inbox_page(session, InboxFilter(search="хлеб"))
        first = inbox_page(session, InboxFilter(), limit=2, offset=0)
        second = inbox_page(session, InboxFilter(), limit=2, offset=2)
    assert [r.text for r in found] == ["Во ВкусМаркете свежий хлеб"]
    assert not {r.mention_id for r in first} & {r.mention_id for r in second}


def test_inbox_shows_copies_count(sessions, stored):
    with sessions() as session:
        rows = inbox_page(session, InboxFilter(sources=("vk",)))
    assert rows[0].copies == 2


def test_first_status_change_records_first_response(sessions, stored):
    with sessions.begin() as session:
        set_status(session, [stored[0]], "in_progress", user="olga")
    with sessions.begin() as session:
        set_status(session, [stored[0]], "resolved", user="ivan")
    with sessions() as session:
        workflow = session.get(Workflow, stored[0])
        assert workflow.status == "resolved" and workflow.assignee == "olga"
        assert workflow.first_response_at is not None and workflow.resolved_at >= workflow.first_response_at


def test_unknown_status_is_refused(sessions, stored):
    with sessions.begin() as session, pytest.raises(ValueError, match="unknown status 'done'"):
        set_status(session, [stored[0]], "done", user="olga")
