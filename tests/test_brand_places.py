"""Places that belong to a brand: comments in its community, posts in its channel and every item of
a source tied to it are its mentions, named or not; items that matched nothing stay visible."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from crawlers.base import Batch
from crawlers.vk.parse import Authors, comment_item
from monitor import store
from monitor.brand_places import BrandPlaces, place_keys
from monitor.cli import app
from monitor.config import ConfigError, parse_config
from monitor.db.models import Item, Mention, OutboxMessage
from monitor.db.session import open_database, session_factory
from monitor.items import RawItem
from monitor.pipeline import Pipeline
from monitor.queries import InboxFilter, inbox_page
from monitor.unmatched import unmatched_counts, unmatched_items

CONFIG = """
brands:
  - name: ВкусМаркет
    own_accounts: ["vk.com/vkusmarket", "vk.com/club555", "@vkusmarket_news", "ВкусМаркет_официально"]
  - name: Магнит
    competitor: true
    context: [магазин]
sources:
  - name: vk-main
    type: vk
    groups: [vkusmarket]
  - name: otzovik-vkus
    type: rss
    urls: ["http://127.0.0.1:9/otzovik.xml"]
    brand: ВкусМаркет
  - name: news
    type: rss
    urls: ["http://127.0.0.1:9/news.xml"]
alerts:
  telegram:
    chat_ids: [-100777]
  rules:
    - name: ours
      min_negative_score: 0.4
"""


@pytest.mark.parametrize(
    ("url", "place", "keys"),
    [
        ("https://vk.com/wall-555_17?reply=90", None, {"vk:club555"}),
        ("https://m.vk.com/wall42_7", None, {"vk:id42"}),
        ("https://vk.com/wall-555_17", "vk:vkusmarket", {"vk:club555", "vk:vkusmarket"}),
        ("https://vk.com/wall-555_17", "vk:-555", {"vk:club555"}),
        ("https://t.me/vkusmarket_news/1520", None, {"tg:vkusmarket_news"}),
        ("https://t.me/s/VkusMarket_News/1520", None, {"tg:vkusmarket_news"}),
        ("https://otzovik.com/review_1.html", None, set()),
        (None, None, set()),
    ],
)
def test_where_an_item_was_published_reads_from_its_url_and_place(url, place, keys):
    assert place_keys(url, place) == keys


def test_a_brand_place_is_its_community_channel_or_tied_source_never_a_user_name():
    places = BrandPlaces({"otzovik-vkus": "ВкусМаркет"}, {"ВкусМаркет": ["-555", "@vkusmarket_news", "Вкус"]})
    assert places.brand_of("otzovik-vkus", "https://otzovik.com/review_1.html", None) == "ВкусМаркет"
    assert places.brand_of("vk", "https://vk.com/wall-555_1?reply=2", None) == "ВкусМаркет"
    assert places.brand_of("tg", "https://t.me/vkusmarket_news/9", None) == "ВкусМаркет"
    assert places.brand_of("vk", "https://vk.com/wall-777_1", None) is None
    assert places.brand_of("forum", "https://forum.example/Вкус", None) is None
    assert not BrandPlaces({}, {"ВкусМаркет": ["Вкус"]})


def test_a_vk_comment_read_from_a_watched_community_carries_that_place():
    comment = {"id": 90, "from_id": 77, "date": 1765000000, "text": "привезли в 22:40, курьер хамил"}
    raw = comment_item("vk-main", -555, 17, comment, Authors({}), community="vkusmarket")
    assert raw is not None and raw.extra["place"] == "vk:vkusmarket"


def test_a_source_tied_to_an_unknown_brand_is_a_one_line_error():
    with pytest.raises(ConfigError, match="otzovik-vkus.*Пятёрочка"):
        parse_config(CONFIG.replace("brand: ВкусМаркет", "brand: Пятёрочка"))


class NegativeEngine:
    name = "negative"

    def predict(self, texts: Sequence[str], brand: str | None = None) -> list[tuple[str, float]]:
        return [("negative", 0.9) for _ in texts]


@pytest.fixture
def pipeline(database_url):
    sessions = session_factory(open_database(database_url))
    pipe = Pipeline(parse_config(CONFIG), sessions, engine=NegativeEngine())
    pipe.register_sources()
    return pipe


def save(pipeline: Pipeline, source: str, *items: RawItem) -> None:
    with pipeline.sessions.begin() as session:
        store.save_batch(session, source, "rss" if source != "vk-main" else "vk", Batch(list(items), {}))


def vk(external_id: str, text: str, url: str, author_url: str, place: str | None = None) -> RawItem:
    extra = {"place": place} if place else {}
    return RawItem("vk-main", external_id, url, text, author_url=author_url, kind="comment", extra=extra)


def mentions(pipeline: Pipeline) -> dict[str, tuple[str, bool, bool]]:
    with pipeline.sessions() as session:
        rows = session.execute(select(Item.external_id, Mention).join(Mention)).all()
        return {external_id: (m.brand, m.by_place, m.own_post) for external_id, m in rows}


def test_comments_in_the_brand_community_and_its_channel_are_its_mentions(pipeline):
    save(
        pipeline,
        "vk-main",
        vk("c1", "привезли в 22:40, курьер хамил", "https://vk.com/wall-555_17?reply=90", "https://vk.com/id77",
           place="vk:vkusmarket"),
        vk("c2", "мандарины по акции пробили по полной цене", "https://vk.com/wall-555_17?reply=91",
           "https://vk.com/id78"),
        vk("own", "Дорогие покупатели, с 1 января новые часы работы", "https://vk.com/wall-555_18",
           "https://vk.com/club555"),
        vk("elsewhere", "привезли в 23:00, всё помято", "https://vk.com/wall-999_3?reply=4", "https://vk.com/id79"),
        vk("named", "В ВкусМаркет опять очередь", "https://vk.com/wall-555_19?reply=5", "https://vk.com/id80"),
    )  # fmt: skip
    save(
        pipeline,
        "news",
        RawItem("news", "tg1", "https://t.me/vkusmarket_news/1520", "Скидки на сыр до воскресенья"),
    )
    pipeline.match_pending()
    pipeline.score_pending()
    assert mentions(pipeline) == {
        "c1": ("ВкусМаркет", True, False),
        "c2": ("ВкусМаркет", True, False),
        "own": ("ВкусМаркет", True, True),
        "named": ("ВкусМаркет", False, False),
        "tg1": ("ВкусМаркет", True, False),
    }
    with pipeline.sessions() as session:
        alerted = set(
            session.scalars(
                select(Item.external_id)
                .join(Mention)
                .join(OutboxMessage, OutboxMessage.mention_id == Mention.id)
            )
        )
        rows = {row.url: row for row in inbox_page(session, InboxFilter())}
    assert "own" not in {e for e in alerted} and {"c1", "c2"} <= alerted
    assert rows["https://vk.com/wall-555_17?reply=90"].by_place
    assert not rows["https://vk.com/wall-555_19?reply=5"].by_place


def test_every_item_of_a_tied_source_counts_for_its_brand_beside_other_brands_named(pipeline):
    save(
        pipeline,
        "otzovik-vkus",
        RawItem("otzovik-vkus", "r1", "https://otzovik.com/review_1.html", "Доставили всё вовремя, спасибо"),
        RawItem("otzovik-vkus", "r2", "https://otzovik.com/review_2.html", "Лучше, чем в магазине Магнит"),
    )
    pipeline.match_pending()
    with pipeline.sessions() as session:
        rows = session.execute(select(Item.external_id, Mention.brand, Mention.by_place).join(Mention)).all()
    assert sorted(rows) == [("r1", "ВкусМаркет", True), ("r2", "ВкусМаркет", True), ("r2", "Магнит", False)]


def test_items_that_matched_no_brand_are_counted_and_listed(pipeline, database_url, tmp_path):
    save(
        pipeline,
        "news",
        RawItem("news", "n1", "https://news.example/1", "В городе открыли новый каток"),
        RawItem("news", "n2", "https://news.example/2", "ВкусМаркет открыл магазин на Ленина"),
    )
    save(pipeline, "vk-main", vk("x", "Погода отличная", "https://vk.com/wall-999_1", "https://vk.com/id5"))
    with pipeline.sessions() as session:
        assert unmatched_counts(session) == {}  # not looked at yet: not "unmatched"
    pipeline.match_pending()
    with pipeline.sessions() as session:
        assert unmatched_counts(session) == {"news": 1, "vk-main": 1}
        [only] = unmatched_items(session, source="news")
    assert only.text == "В городе открыли новый каток" and only.url == "https://news.example/1"
    config = tmp_path / "spiders.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["unmatched", "--config", str(config), "--database", database_url, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert "news 1, vk-main 1" in result.stderr
    assert "каток" in result.stdout and "Погода" in result.stdout and "Ленина" not in result.stdout
