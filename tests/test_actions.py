"""Inbox actions on stored mentions: what each records, on one or many rows, and that viewers are refused."""

from __future__ import annotations

import pytest

from monitor import actions
from monitor.auth import Actor
from monitor.db.models import Sentiment, Workflow
from monitor.errors import PermissionDenied
from tests.support.seed import Post, seed

OLGA = Actor("olga", "staff")
IVAN = Actor("ivan", "staff")
MARKETING = Actor("masha", "viewer")


@pytest.fixture
def stored(sessions):
    with sessions.begin() as session:
        return seed(
            session,
            [
                Post("ВкусМаркет обсчитал на кассе", "ВкусМаркет", "negative"),
                Post("Во ВкусМаркете свежий хлеб", "ВкусМаркет", "positive"),
                Post("ВкусМаркет, где мой заказ?", "ВкусМаркет", None),
            ],
        )


def workflow(sessions, mention_id: int) -> Workflow:
    with sessions() as session:
        return session.get(Workflow, mention_id)


def test_take_assigns_to_the_actor_without_counting_as_a_response(sessions, stored):
    with sessions.begin() as session:
        assert actions.take(session, OLGA, stored[:2]) == 2
    for mention_id in stored[:2]:
        taken = workflow(sessions, mention_id)
        assert taken.assignee == "olga" and taken.status == "new" and taken.first_response_at is None


def test_take_moves_a_taken_mention_to_the_new_taker(sessions, stored):
    with sessions.begin() as session:
        actions.take(session, OLGA, [stored[0]])
    with sessions.begin() as session:
        actions.take(session, IVAN, [stored[0]])
    assert workflow(sessions, stored[0]).assignee == "ivan"


def test_first_status_change_records_first_response(sessions, stored):
    with sessions.begin() as session:
        actions.set_status(session, OLGA, [stored[0]], "in_progress")
    with sessions.begin() as session:
        actions.set_status(session, IVAN, [stored[0]], "resolved")
    moved = workflow(sessions, stored[0])
    assert moved.status == "resolved" and moved.assignee == "olga"
    assert moved.first_response_at is not None and moved.resolved_at >= moved.first_response_at


def test_closing_again_keeps_the_first_resolution_time(sessions, stored):
    with sessions.begin() as session:
        actions.set_status(session, OLGA, [stored[0]], "resolved")
    first = workflow(sessions, stored[0]).resolved_at
    with sessions.begin() as session:
        actions.set_status(session, OLGA, [stored[0]], "resolved")
        actions.set_status(session, OLGA, [stored[0]], "ignored")
    assert workflow(sessions, stored[0]).resolved_at == first


def test_reopening_clears_the_resolution_time(sessions, stored):
    with sessions.begin() as session:
        actions.set_status(session, OLGA, [stored[0]], "resolved")
    with sessions.begin() as session:
        actions.set_status(session, OLGA, [stored[0]], "in_progress")
    assert workflow(sessions, stored[0]).resolved_at is None


def test_set_status_on_many_rows_at_once(sessions, stored):
    with sessions.begin() as session:
        assert actions.set_status(session, OLGA, stored, "ignored") == 3
    assert {workflow(sessions, i).status for i in stored} == {"ignored"}


def test_unknown_status_is_refused(sessions, stored):
    with sessions.begin() as session, pytest.raises(ValueError, match="unknown status 'done'"):
        actions.set_status(session, OLGA, [stored[0]], "done")


def test_replied_records_the_first_response_once_and_starts_the_work(sessions, stored):
    with sessions.begin() as session:
        actions.mark_replied(session, OLGA, [stored[0]])
    first = workflow(sessions, stored[0])
    assert first.first_response_at is not None and first.status == "in_progress" and first.assignee == "olga"
    with sessions.begin() as session:
        actions.mark_replied(session, IVAN, [stored[0]])
    assert workflow(sessions, stored[0]).first_response_at == first.first_response_at


def test_replied_keeps_a_resolved_status(sessions, stored):
    with sessions.begin() as session:
        actions.set_status(session, OLGA, [stored[1]], "resolved")
        actions.mark_replied(session, OLGA, [stored[1]])
    assert workflow(sessions, stored[1]).status == "resolved"


def test_note_is_stored_and_an_empty_note_removes_it(sessions, stored):
    with sessions.begin() as session:
        actions.set_note(session, OLGA, stored[:2], "  позвонили клиенту  ")
    assert workflow(sessions, stored[1]).note == "позвонили клиенту"
    with sessions.begin() as session:
        actions.set_note(session, OLGA, [stored[1]], "")
    assert workflow(sessions, stored[1]).note is None


def test_overlong_note_is_refused(sessions, stored):
    with sessions.begin() as session, pytest.raises(ValueError, match="at most"):
        actions.set_note(session, OLGA, [stored[0]], "x" * (actions.MAX_NOTE_CHARS + 1))


def test_sentiment_correction_is_kept_apart_from_the_model_label(sessions, stored):
    with sessions.begin() as session:
        assert actions.correct_sentiment(session, OLGA, stored[:2], "neutral") == 2
    with sessions() as session:
        corrected = session.get(Sentiment, stored[0])
        assert corrected.label == "negative" and corrected.model == "test"
        assert corrected.override_label == "neutral" and corrected.override_by == "olga"
        assert corrected.override_at is not None


def test_correcting_an_unscored_mention_is_refused(sessions, stored):
    with sessions.begin() as session, pytest.raises(ValueError, match="not scored yet"):
        actions.correct_sentiment(session, OLGA, [stored[2]], "negative")


def test_unknown_sentiment_label_is_refused(sessions, stored):
    with sessions.begin() as session, pytest.raises(ValueError, match="unknown sentiment"):
        actions.correct_sentiment(session, OLGA, [stored[0]], "angry")


def test_unknown_mention_is_refused_and_nothing_changes(sessions, stored):
    with pytest.raises(ValueError, match="no mention with id 999"):
        with sessions.begin() as session:
            actions.set_status(session, OLGA, [stored[0], 999], "resolved")
    assert workflow(sessions, stored[0]).status == "new"


@pytest.mark.parametrize(
    ("action", "args"),
    [
        (actions.take, ()),
        (actions.set_status, ("resolved",)),
        (actions.mark_replied, ()),
        (actions.set_note, ("note",)),
        (actions.correct_sentiment, ("positive",)),
    ],
)
def test_a_viewer_is_refused_every_action(sessions, stored, action, args):
    with pytest.raises(PermissionDenied, match="read-only"):
        with sessions.begin() as session:
            action(session, MARKETING, [stored[0]], *args)
    unchanged = workflow(sessions, stored[0])
    assert (unchanged.status, unchanged.assignee, unchanged.note) == ("new", None, None)
    with sessions() as session:
        assert session.get(Sentiment, stored[0]).override_label is None
