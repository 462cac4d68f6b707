"""What the dashboard and the demo summary ask the database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.db.models import Workflow
from monitor.queries import (
    InboxFilter,
    brand_sentiment_counts,
    inbox_choices,
    inbox_page,
    inbox_view,
    outbox_backlog,
    sentiment_models,
)
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
        first = inbox_view(session, InboxFilter(), limit=2)
        second = inbox_view(session, InboxFilter(), limit=2, after=first.older)
    assert [r.text for r in found] == ["Во ВкусМаркете свежий хлеб"]
    assert not {r.mention_id for r in first.rows} & {r.mention_id for r in second.rows}


def test_inbox_search_ignores_case_and_yo_in_cyrillic(sessions, stored):
    with sessions() as session:
        upper = inbox_page(session, InboxFilter(search="ХЛЕБ"))
        brand = inbox_page(session, InboxFilter(search="вкусмаркете"))
    assert [r.text for r in upper] == ["Во ВкусМаркете свежий хлеб"]
    assert [r.text for r in brand] == ["Во ВкусМаркете свежий хлеб"]


def test_inbox_search_treats_percent_and_underscore_literally(sessions, stored):
    with sessions() as session:
        assert inbox_page(session, InboxFilter(search="%")) == []
        assert inbox_page(session, InboxFilter(search="_")) == []


def test_inbox_shows_copies_count(sessions, stored):
    with sessions() as session:
        rows = inbox_page(session, InboxFilter(sources=("vk",)))
    assert rows[0].copies == 2


def test_inbox_filters_by_assignee(sessions, stored):
    with sessions.begin() as session:
        session.get(Workflow, stored[3]).assignee = "olga"
    with sessions() as session:
        mine = inbox_page(session, InboxFilter(assignee="olga"))
    assert [r.mention_id for r in mine] == [stored[3]]


def test_inbox_rows_carry_the_note_and_the_corrected_model_label(sessions, stored):
    with sessions.begin() as session:
        from monitor.db.models import Sentiment

        session.get(Workflow, stored[3]).note = "позвонили"
        session.get(Sentiment, stored[3]).override_label = "negative"
    with sessions() as session:
        row = next(r for r in inbox_page(session, InboxFilter()) if r.mention_id == stored[3])
    assert row.note == "позвонили" and row.sentiment == "negative" and row.model_label == "positive"


def test_inbox_choices_list_brands_ours_first_and_sources(sessions, stored):
    with sessions() as session:
        choices = inbox_choices(session)
    assert choices.brands == [("ВкусМаркет", False), ("Магнит", True)]
    assert choices.sources == ["forum", "otzovik", "vk"]


def test_outbox_backlog_counts_undelivered_alerts_per_chat_with_the_last_error(sessions, stored):
    from monitor.db.models import OutboxMessage

    def message(n: int, chat: str, status: str, error: str | None = None) -> OutboxMessage:
        return OutboxMessage(
            kind="negative",
            dedup_key=f"k{n}",
            chat_id=chat,
            text="…",
            status=status,
            last_error=error,
            next_attempt_at=datetime(2026, 11, 20, 10, n, tzinfo=UTC),
        )

    with sessions.begin() as session:
        session.add_all(
            [
                message(1, "-100", "failed", "Forbidden: bot was blocked by the user"),
                message(2, "-100", "pending", "timed out"),
                message(3, "-100", "sent", "an old error of a message delivered later"),
                message(4, "-200", "sent"),
                message(5, "-300", "pending"),
            ]
        )
    with sessions() as session:
        backlog = {b.chat_id: b for b in outbox_backlog(session)}
    assert set(backlog) == {"-100", "-300"}
    assert (backlog["-100"].pending, backlog["-100"].failed) == (1, 1)
    assert backlog["-100"].last_error == "timed out"  # the latest attempt's error
    assert backlog["-300"].oldest_pending_at is not None and backlog["-300"].last_error is None


def test_sentiment_models_name_the_model_behind_the_labels(sessions, stored):
    with sessions() as session:
        models = sentiment_models(session)
    assert [(m.model, m.mentions) for m in models] == [("test", 5)]


def test_search_fold_treats_yo_as_ye():
    from monitor.db.text_search import fold

    assert fold("Ещё ЁЛКА") == "еще елка"
