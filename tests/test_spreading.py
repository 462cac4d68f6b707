"""Complaints that spread after they were found: a re-crawl with grown engagement alerts again."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from alerts.senders import ConsoleSender
from crawlers.base import Batch
from monitor.actions import correct_sentiment
from monitor.auth import Actor
from monitor.clock import utcnow
from monitor.config import parse_config
from monitor.db.models import OutboxMessage, Workflow
from monitor.db.session import open_database, session_factory
from monitor.items import RawItem
from monitor.pipeline import Pipeline

CONFIG = """
brands:
  - name: ВкусМаркет
sources:
  - name: vk-wall
    type: rss
    urls: ["http://127.0.0.1:9/unused.xml"]
alerts:
  telegram:
    chat_ids: [-100777]
  urgent_engagement_per_hour: 100
  rules:
    - name: ours
      min_negative_score: 0.5
    - name: loud
      min_negative_score: 0.5
      min_engagement: 500
      chat_ids: [-100888]
"""
COMPLAINT = "ВкусМаркет продал просроченный творог, в поддержке молчат третий день"


class PostWithLikes:
    """A source whose one post gains likes between crawls, as a complaint that spreads does."""

    kind = "rss"

    def __init__(self) -> None:
        self.likes = 3
        self.published_at = utcnow() - timedelta(hours=2)

    def fetch(self, source, cursor, brands) -> Batch:
        item = RawItem(
            source=source.name,
            external_id="wall-1_501",
            url="https://vk.com/wall-1_501",
            text=COMPLAINT,
            published_at=self.published_at,
            likes=self.likes,
        )
        return Batch([item], {})


class AlwaysNegative:
    """The sentiment model is not what is tested here."""

    name = "test-negative"

    def predict(self, texts, brand=None):
        return [("negative", 0.9) for _ in texts]


@pytest.fixture
def setup(database_url):
    config = parse_config(CONFIG)
    source = PostWithLikes()
    pipeline = Pipeline(
        config,
        session_factory(open_database(database_url)),
        crawlers={"rss": source},
        engine=AlwaysNegative(),
        sender=ConsoleSender(io.StringIO()),
    )
    pipeline.register_sources()
    return pipeline, source


def crawl_and_queue(pipeline: Pipeline, deliver: bool = True) -> None:
    pipeline.crawl_all()
    pipeline.match_pending()
    pipeline.score_pending()
    pipeline.requeue_grown(utcnow())
    if deliver:
        pipeline.deliver_alerts()


def outbox(pipeline: Pipeline) -> list[tuple[str, str, int]]:
    with pipeline.sessions() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [(row.kind, row.chat_id, row.priority) for row in rows]


def test_a_complaint_that_gains_engagement_is_alerted_again_once(setup):
    pipeline, source = setup
    crawl_and_queue(pipeline)
    assert outbox(pipeline) == [("negative", "-100777", 0)]

    source.likes = 900  # 450 an hour: urgent, and over the loud rule's 500
    crawl_and_queue(pipeline)
    assert outbox(pipeline) == [
        ("negative", "-100777", 0),
        ("negative", "-100888", 1),  # the loud rule's chat hears of it for the first time
        ("spreading", "-100777", 1),  # the chat that heard of it as ordinary hears it has grown
    ]
    with pipeline.sessions() as session:
        text = session.scalars(select(OutboxMessage.text).where(OutboxMessage.kind == "spreading")).one()
    assert text.startswith("📣 <b>Жалоба набирает обороты</b>") and "реакций 900" in text

    source.likes = 2000
    crawl_and_queue(pipeline)
    assert len(outbox(pipeline)) == 3


def test_a_complaint_the_team_has_answered_is_left_alone(setup):
    pipeline, source = setup
    crawl_and_queue(pipeline)
    with pipeline.sessions.begin() as session:
        mention_id = session.scalars(select(OutboxMessage.mention_id)).one()
        workflow = session.get(Workflow, mention_id) or Workflow(mention_id=mention_id)
        workflow.status, workflow.first_response_at = "in_progress", utcnow()
        session.add(workflow)
    source.likes = 900
    crawl_and_queue(pipeline)
    assert outbox(pipeline) == [("negative", "-100777", 0)]


def test_engagement_that_stays_low_brings_nothing_new(setup):
    pipeline, source = setup
    crawl_and_queue(pipeline)
    source.likes = 20
    crawl_and_queue(pipeline)
    assert outbox(pipeline) == [("negative", "-100777", 0)]


def test_an_alert_still_waiting_in_the_outbox_turns_urgent_instead(setup):
    pipeline, source = setup
    crawl_and_queue(pipeline, deliver=False)
    source.likes = 900
    crawl_and_queue(pipeline, deliver=False)
    with pipeline.sessions() as session:
        first = session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == "-100777")).one()
    assert (first.kind, first.priority, first.status) == ("negative", 1, "pending")
    assert first.text.startswith("🔴 <b>Срочно") and "реакций 900" in first.text


def test_a_post_staff_marked_as_not_negative_is_not_alerted_again(setup):
    pipeline, source = setup
    crawl_and_queue(pipeline)
    with pipeline.sessions.begin() as session:
        mention_id = session.scalars(select(OutboxMessage.mention_id)).one()
        correct_sentiment(session, Actor("olga", "staff"), [mention_id], "neutral")
    source.likes = 900
    crawl_and_queue(pipeline)
    assert outbox(pipeline) == [("negative", "-100777", 0)]


def test_a_restart_with_a_new_rule_does_not_alert_the_past_day_again(setup, database_url):
    pipeline, source = setup
    crawl_and_queue(pipeline)
    config = parse_config(CONFIG.replace("min_engagement: 500", "min_engagement: 0"))
    restarted = Pipeline(config, pipeline.sessions, crawlers={"rss": source}, engine=AlwaysNegative())
    restarted.requeue_grown(utcnow())
    assert outbox(pipeline) == [("negative", "-100777", 0)]
