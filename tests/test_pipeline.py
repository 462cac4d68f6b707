"""The whole flow on local sources: crawl → store → match → score → alert, through the real code."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.clock import utcnow
from monitor.config import parse_config
from monitor.db.models import Item, Mention, OutboxMessage, Sentiment, Source
from monitor.db.session import open_database, session_factory
from monitor.local_server import LocalServer
from monitor.pipeline import Pipeline
from tests.support.fake_telegram import sender_for

FIXTURES = Path(__file__).parent / "fixtures" / "pipeline"

CONFIG = """
brands:
  - name: ВкусМаркет
  - name: Магнит
    competitor: true
    context: [магазин, молоко, цены, касса]
sources:
  - name: city-forum
    type: rss
    urls: ["{base}/news.xml"]
  - name: dead-forum
    type: rss
    urls: ["{base}/missing.xml"]
alerts:
  max_post_age: off  # the fixture posts keep their 2026 dates however old they get
  telegram:
    chat_ids: [-100777]
  rules:
    - name: ours
      min_negative_score: 0.4
"""


@pytest.fixture
def site():
    with LocalServer(FIXTURES) as server:
        yield server


@pytest.fixture
def pipeline(database_url, site, bot):
    config = parse_config(CONFIG.replace("{base}", site.base_url))
    sessions = session_factory(open_database(database_url))
    sender = sender_for(bot)
    pipe = Pipeline(config, sessions, sender=sender)
    pipe.register_sources()
    return pipe


def count(pipeline: Pipeline, model) -> int:
    with pipeline.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_items_from_a_feed_end_as_mentions_with_sentiment(pipeline):
    reports = {r.source: r for r in pipeline.crawl_all()}
    assert reports["city-forum"].new_items == 4
    pipeline.process()
    with pipeline.sessions() as session:
        mentions = session.execute(select(Mention.brand, Item.external_id).join(Item)).all()
    assert sorted(mentions) == [
        ("ВкусМаркет", "forum-1001"),
        ("ВкусМаркет", "forum-1002"),
        ("ВкусМаркет", "forum-1004"),
        ("Магнит", "forum-1004"),
    ]
    assert count(pipeline, Sentiment) == 4


def test_broken_source_is_recorded_and_the_others_go_on(pipeline):
    reports = {r.source: r for r in pipeline.crawl_all()}
    assert reports["dead-forum"].error and "missing.xml" in reports["dead-forum"].error
    assert reports["city-forum"].error is None
    with pipeline.sessions() as session:
        dead = session.scalars(select(Source).where(Source.name == "dead-forum")).one()
        assert dead.consecutive_failures == 1 and "missing.xml" in dead.last_error


def test_negative_mention_of_our_brand_reaches_the_chat(pipeline, bot):
    pipeline.crawl_all()
    pipeline.process()
    texts = [m["text"] for m in bot.sent]
    assert any("просрочен" in text for text in texts)
    assert all(m["chat_id"] == "-100777" for m in bot.sent)
    # Rivals and praise are not alerted on by a rule that names no brands.
    assert not any("привезли за 40 минут" in text for text in texts)


def test_running_everything_twice_stores_and_alerts_nothing_twice(pipeline, bot):
    pipeline.crawl_all()
    pipeline.process()
    before = (count(pipeline, Item), count(pipeline, Mention), count(pipeline, OutboxMessage), len(bot.sent))
    pipeline.crawl_all()
    pipeline.process()
    after = (count(pipeline, Item), count(pipeline, Mention), count(pipeline, OutboxMessage), len(bot.sent))
    assert after == before


def test_alert_is_queued_in_the_outbox_before_delivery(pipeline, bot):
    bot.script.extend([500] * 10)
    pipeline.crawl_all()
    pipeline.process()
    with pipeline.sessions() as session:
        pending = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
    assert pending and bot.sent == []


class UnstorableCursorCrawler:
    """A crawler with a bug: its cursor cannot be stored as JSON."""

    kind = "rss"

    def fetch(self, source, cursor, brands):
        from crawlers.base import Batch
        from monitor.items import RawItem

        item = RawItem(source=source.name, external_id="1", url="http://127.0.0.1/1", text="ВкусМаркет")
        return Batch([item], {"since": object()})


def test_a_batch_that_cannot_be_stored_fails_that_source_only(database_url, site):
    config = parse_config(CONFIG.replace("{base}", site.base_url))
    sessions = session_factory(open_database(database_url))
    pipe = Pipeline(config, sessions, crawlers={"rss": UnstorableCursorCrawler()})
    pipe.register_sources()
    reports = pipe.crawl_all()
    assert all("storing the batch failed" in (r.error or "") for r in reports)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 0
        assert {s.consecutive_failures for s in session.scalars(select(Source))} == {1}


def test_an_edited_post_is_matched_and_scored_again(pipeline):
    from crawlers.base import Batch
    from monitor import store
    from monitor.items import RawItem

    def save(text: str) -> None:
        item = RawItem(source="city-forum", external_id="edit-1", url="http://127.0.0.1/edit-1", text=text)
        with pipeline.sessions.begin() as session:
            store.save_batch(session, "city-forum", "rss", Batch([item], {}))

    save("Зашёл во ВкусМаркет за хлебом.")
    pipeline.process()
    save("Отредактировано: во ВкусМаркете продали просроченный хлеб, кассир нахамила, ужас!")
    pipeline.process()
    with pipeline.sessions() as session:
        mention = session.scalars(select(Mention).join(Item).where(Item.external_id == "edit-1")).one()
        assert mention.matched_text == "ВкусМаркете"
        assert mention.sentiment is not None
        text = mention.item.text
        assert text[mention.span_start : mention.span_end] == "ВкусМаркете"


FRESH_COMPLAINT = """
    <item>
      <title>Снова ВкусМаркет</title>
      <link>https://forum.example.ru/t/2001</link>
      <guid>forum-2001</guid>
      <pubDate>{date}</pubDate>
      <description><![CDATA[Купила во ВкусМаркете сметану, а она просрочена. Ужасно!]]></description>
    </item>
  </channel>"""


def test_first_crawl_stores_and_scores_weeks_old_posts_without_alerting(database_url, tmp_path, bot):
    # The default alerts.max_post_age, 2 days: the complaint about the cottage cheese is a month old.
    now = utcnow()
    feed = (FIXTURES / "news.xml").read_text(encoding="utf-8")
    feed = feed.replace("Sat, 21 Nov 2026 08:12:00 +0300", format_datetime(now - timedelta(days=30)))
    feed = feed.replace(
        "  </channel>", FRESH_COMPLAINT.format(date=format_datetime(now - timedelta(hours=1)))
    )
    (tmp_path / "news.xml").write_text(feed, encoding="utf-8")
    with LocalServer(tmp_path) as site:
        config = parse_config(CONFIG.replace("{base}", site.base_url).replace("  max_post_age: off", ""))
        pipe = Pipeline(config, session_factory(open_database(database_url)), sender=sender_for(bot))
        pipe.register_sources()
        pipe.crawl_all()
        pipe.process()
    with pipe.sessions() as session:
        scored = session.scalars(select(Item.external_id).join(Mention).join(Sentiment)).all()
    assert "forum-1001" in scored and "forum-2001" in scored
    texts = [m["text"] for m in bot.sent]
    assert any("сметану" in text for text in texts)
    assert not any("творог" in text for text in texts)
