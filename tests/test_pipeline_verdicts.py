"""The pipeline's verdict per mention: a review's stars decide, the brand's own posts never alert,
and long posts are scored on the sentences around the brand."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import select

from crawlers.base import Batch
from monitor import store
from monitor.config import parse_config
from monitor.db.models import Item, Mention, OutboxMessage
from monitor.db.session import open_database, session_factory
from monitor.items import RawItem
from monitor.pipeline import Pipeline

CONFIG = """
brands:
  - name: ВкусМаркет
    own_accounts: ["vk.com/public555", "@vkusmarket"]
sources:
  - name: reviews
    type: rss
    urls: ["http://127.0.0.1:9/unused.xml"]
alerts:
  telegram:
    chat_ids: [-100777]
  rules:
    - name: ours
      min_negative_score: 0.4
"""


class RecordingEngine:
    """Says negative to everything and remembers what it was asked to read."""

    name = "recording"

    def __init__(self) -> None:
        self.read: list[str] = []

    def predict(self, texts: Sequence[str], brand: str | None = None) -> list[tuple[str, float]]:
        self.read += list(texts)
        return [("negative", 0.9) for _ in texts]


@pytest.fixture
def engine() -> RecordingEngine:
    return RecordingEngine()


@pytest.fixture
def pipeline(database_url, engine):
    sessions = session_factory(open_database(database_url))
    pipe = Pipeline(parse_config(CONFIG), sessions, engine=engine)
    pipe.register_sources()
    return pipe


def save(pipeline: Pipeline, *items: RawItem) -> None:
    with pipeline.sessions.begin() as session:
        store.save_batch(session, "reviews", "rss", Batch(list(items), {}))


def item(external_id: str, text: str, **fields) -> RawItem:
    return RawItem(
        source="reviews", external_id=external_id, url=f"http://127.0.0.1/{external_id}", text=text, **fields
    )


def verdicts(pipeline: Pipeline) -> dict[str, tuple[str, str, str | None]]:
    with pipeline.sessions() as session:
        rows = session.execute(select(Item.external_id, Mention).join(Mention)).all()
        return {
            external_id: (m.sentiment.label, m.sentiment.decided_by, m.sentiment.model_label)
            for external_id, m in rows
        }


def queued_for(pipeline: Pipeline) -> set[str]:
    with pipeline.sessions() as session:
        return {
            external_id
            for (external_id,) in session.execute(
                select(Item.external_id)
                .join(Mention)
                .join(OutboxMessage, OutboxMessage.mention_id == Mention.id)
            )
        }


def test_a_five_star_review_is_positive_whatever_the_model_says(pipeline):
    save(
        pipeline,
        item("r5", "Достоинства: всё. Недостатки: нет. ВкусМаркет лучший", kind="review", rating=5),
        item("r1", "ВкусМаркет, доставка как доставка", kind="review", rating=1),
        item("r3", "ВкусМаркет средне", kind="review", rating=3),
    )
    pipeline.match_pending()
    pipeline.score_pending()
    assert verdicts(pipeline) == {
        "r5": ("positive", "rating", "negative"),
        "r1": ("negative", "rating", "negative"),
        "r3": ("negative", "model", "negative"),
    }
    assert queued_for(pipeline) == {"r1", "r3"}


def test_the_brand_s_own_posts_are_stored_but_never_alerted(pipeline):
    save(
        pipeline,
        item(
            "own-vk",
            "Дорогие покупатели! ВкусМаркет закрыт на санобработку",
            author_url="https://vk.com/club555",
        ),
        item("own-tg", "ВкусМаркет: график на праздники", author_url="https://t.me/vkusmarket"),
        item("customer", "ВкусМаркет продал тухлую рыбу", author_url="https://vk.com/id77"),
    )
    pipeline.match_pending()
    pipeline.score_pending()
    with pipeline.sessions() as session:
        own = dict(session.execute(select(Item.external_id, Mention.own_post).join(Mention)).all())
    assert own == {"own-vk": True, "own-tg": True, "customer": False}
    assert queued_for(pipeline) == {"customer"}


def test_a_long_post_is_scored_on_the_sentences_around_the_brand(pipeline, engine):
    filler = "Рассказываю про выходные на даче, шашлыки удались, соседи приходили. " * 20
    save(pipeline, item("long", filler + "Вечером зашёл во ВкусМаркет, там грубят на кассе. " + filler))
    pipeline.match_pending()
    pipeline.score_pending()
    [read] = engine.read
    assert "Вечером зашёл во ВкусМаркет, там грубят на кассе." in read
    assert len(read) < 700
