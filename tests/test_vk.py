"""crawlers/vk/ against a fake VK API on 127.0.0.1 (tests/support/fake_vk.py) serving the demo's
posts: newsfeed.search, community walls and their comments, VK's errors, the rate limit, the token."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from crawlers import registry
from crawlers.base import Batch, Cursor
from crawlers.vk import (
    RETRY_DELAYS,
    SEARCH_OVERLAP_SECONDS,
    VkCrawler,
    community_ref,
    search_terms,
)
from crawlers.vk.parse import Authors, post_item
from monitor.config import BrandConfig, VkSource
from monitor.demo_vk import VkApiEmulator, load_vk_data
from monitor.errors import SourceAuthError, SourceError, SourceRateLimited, SourceUnavailable
from monitor.items import RawItem
from tests.support.fake_vk import TOKEN, FakeClock, FakeVk

VKUSMARKET = BrandConfig(name="ВкусМаркет")
MAGNIT = BrandConfig(name="Магнит", competitor=True)
PYATEROCHKA = BrandConfig(name="Пятёрочка", competitor=True)
BRANDS = [VKUSMARKET, MAGNIT, PYATEROCHKA]
# The brand's own community in the demo data, and a closed one (its wall answers error 15).
OWN = -218734561
CLOSED_GROUP = "vkusmarket_staff"


def at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def vk(vk_server: FakeVk, clock: FakeClock) -> FakeVk:
    """The module's fake VK with the demo data, nothing scripted, and this test's clock."""
    vk_server.reset(clock=clock)
    return vk_server


def crawl(
    vk: FakeVk,
    clock: FakeClock,
    *,
    all_brands: list[BrandConfig] = BRANDS,
    cursor: Cursor | None = None,
    **fields,
) -> Batch:
    source = VkSource(type="vk", name="vk-test", api_base=vk.api_base, timeout=5, **fields)
    return VkCrawler(clock=clock, sleep=clock.sleep).fetch(source, cursor, all_brands)


def by_id(batch: Batch) -> dict[str, RawItem]:
    return {item.external_id: item for item in batch.items}


def wall_ids(batch: Batch, owner_id: int = OWN) -> set[str]:
    return {i.external_id for i in batch.items if i.external_id.startswith(f"wall{owner_id}_")}


# --- newsfeed.search ------------------------------------------------------------------------


def test_search_follows_next_from_through_every_page(vk_token, vk, clock):
    vk.reset(clock=clock, max_count={"newsfeed.search": 2})
    batch = crawl(vk, clock, all_brands=[VKUSMARKET])
    searches = vk.calls("newsfeed.search")
    assert len(searches) == 3
    assert "start_from" not in searches[0]
    assert searches[1]["start_from"] and searches[2]["start_from"] != searches[1]["start_from"]
    assert len(batch.items) == 6
    assert batch.warnings == []


def test_search_maps_counts_dates_and_urls_of_a_post(vk_token, vk, clock):
    post = by_id(crawl(vk, clock, all_brands=[VKUSMARKET]))["wall-171930254_88214"]
    assert post.url == "https://vk.com/wall-171930254_88214"
    assert post.text.startswith("Подписчица пишет: «Купила вчера во ВкусМаркете")
    assert post.published_at == at(19, 13, 40)
    assert post.published_at.tzinfo is not None
    assert (post.likes, post.reposts, post.views, post.comments) == (1240, 96, 58300, 2)
    assert post.kind == "post" and post.source == "vk-test"


def test_search_names_a_community_author_with_its_members_as_reach(vk_token, vk, clock):
    post = by_id(crawl(vk, clock, all_brands=[VKUSMARKET]))["wall-171930254_88214"]
    assert post.author == "Подслушано в Тюмени"
    assert post.author_url == "https://vk.com/club171930254"
    assert post.author_reach == 312400


def test_search_names_a_user_author_with_followers_as_reach(vk_token, vk, clock):
    post = by_id(crawl(vk, clock, all_brands=[VKUSMARKET]))["wall48127730_2301"]
    assert post.author == "Сергей Кузнецов"
    assert post.author_url == "https://vk.com/id48127730"
    assert post.author_reach == 12450


def test_search_asks_for_authors_with_their_reach_fields(vk_token, vk, clock):
    crawl(vk, clock, all_brands=[VKUSMARKET])
    search = vk.calls("newsfeed.search")[0]
    assert search["q"] == "ВкусМаркет"
    assert search["extended"] == "1"
    assert {"followers_count", "members_count"} <= set(search["fields"].split(","))


def test_every_name_and_alias_of_the_chosen_brands_is_searched_once(vk_token, vk, clock):
    brands = [BrandConfig(name="ВкусМаркет", aliases=["Вкус Маркет", "вкусмаркет"]), MAGNIT]
    batch = crawl(vk, clock, all_brands=brands, brands=["ВкусМаркет"])
    assert [c["q"] for c in vk.calls("newsfeed.search")] == ["ВкусМаркет", "Вкус Маркет"]
    assert "wall88012456_155" in by_id(batch)  # «Вкус Маркет на Шевченко» comes from the alias


def test_first_search_has_no_start_time_and_cursor_keeps_newest_date(vk_token, vk, clock):
    batch = crawl(vk, clock, all_brands=[VKUSMARKET])
    assert "start_time" not in vk.calls("newsfeed.search")[0]
    assert batch.cursor["queries"]["вкусмаркет"] == {"last_date": int(at(20, 15, 0).timestamp())}


def test_search_starts_at_cursor_date_minus_overlap_and_skips_older_posts(vk_token, vk, clock):
    last_date = int(at(18, 0, 0).timestamp())
    cursor = {"queries": {"вкусмаркет": {"last_date": last_date}}}
    batch = crawl(vk, clock, all_brands=[VKUSMARKET], cursor=cursor)
    assert vk.calls("newsfeed.search")[0]["start_time"] == str(last_date - SEARCH_OVERLAP_SECONDS)
    assert set(by_id(batch)) == {"wall-218734561_1549", "wall-171930254_88214", "wall48127730_2301"}
    assert batch.cursor["queries"]["вкусмаркет"]["last_date"] == int(at(20, 15, 0).timestamp())


def test_search_stops_at_max_pages_with_a_warning(vk_token, vk, clock):
    vk.reset(clock=clock, max_count={"newsfeed.search": 2})
    batch = crawl(vk, clock, all_brands=[VKUSMARKET], max_pages=2)
    assert len(vk.calls("newsfeed.search")) == 2
    assert len(batch.items) == 4
    assert len(batch.warnings) == 1 and "more than 2 pages" in batch.warnings[0]


# --- community walls and comments -------------------------------------------------------------


def test_wall_gives_new_posts_of_a_community(vk_token, vk, clock):
    batch = crawl(vk, clock, all_brands=[MAGNIT], groups=["vkusmarket"], with_comments=False)
    assert wall_ids(batch) == {f"wall{OWN}_{n}" for n in (1520, 1541, 1549, 1552)}
    post = by_id(batch)[f"wall{OWN}_1541"]
    assert post.url == "https://vk.com/wall-218734561_1541"
    assert post.author == "ВкусМаркет — сеть супермаркетов"
    assert post.author_reach == 48210
    assert post.comments == 2
    assert vk.calls("wall.getComments") == []


def test_comments_under_community_posts_become_comment_items(vk_token, vk, clock):
    batch = crawl(vk, clock, all_brands=[MAGNIT], groups=["vkusmarket"])
    comment = by_id(batch)[f"wall{OWN}_1541_r1545"]
    assert comment.kind == "comment"
    assert comment.parent_external_id == f"wall{OWN}_1541"
    assert comment.url == "https://vk.com/wall-218734561_1541?reply=1545"
    assert comment.text.startswith("Купила творог «Домашний» в новом ВкусМаркете")
    assert (comment.author, comment.author_url, comment.author_reach) == (
        "Марина Ефимова",
        "https://vk.com/id88012456",
        431,
    )
    assert comment.likes == 34
    assert comment.published_at == at(13, 3, 15)


def test_items_from_a_watched_wall_name_their_community(vk_token, vk, clock):
    # So the pipeline can credit the brand for complaints under its posts that never name it.
    batch = by_id(crawl(vk, clock, all_brands=[VKUSMARKET], groups=["vkusmarket"]))
    assert batch[f"wall{OWN}_1520_r1546"].extra == {"community": "vkusmarket", "place": "vk:vkusmarket"}
    assert batch[f"wall{OWN}_1549"].extra == {
        "community": "vkusmarket",
        "place": "vk:vkusmarket",
    }  # found by the search too
    assert batch["wall48127730_2301"].extra == {}


def test_replies_in_comment_threads_are_items_with_mentions_as_plain_names(vk_token, vk, clock):
    batch = crawl(vk, clock, all_brands=[MAGNIT], groups=["vkusmarket"])
    reply = by_id(batch)[f"wall{OWN}_1520_r1547"]
    assert reply.text.startswith("Екатерина, здравствуйте!")
    assert reply.author_url == "https://vk.com/club218734561"
    assert reply.parent_external_id == f"wall{OWN}_1520"
    comments = {i for i in wall_ids(batch) if "_r" in i}
    assert comments == {
        f"wall{OWN}_{p}_r{c}"
        for p, c in [(1541, 1544), (1541, 1545), (1520, 1546), (1520, 1547), (1520, 1551), (1549, 1554)]
    }


def test_community_screen_name_is_resolved_once_and_kept_in_cursor(vk_token, vk, clock):
    first = crawl(vk, clock, all_brands=[MAGNIT], groups=["https://vk.com/vkusmarket"])
    assert first.cursor["groups"]["vkusmarket"]["owner_id"] == OWN
    crawl(vk, clock, all_brands=[MAGNIT], groups=["vkusmarket"], cursor=first.cursor)
    assert [c["group_id"] for c in vk.calls("groups.getById")] == ["vkusmarket"]
    assert {c["owner_id"] for c in vk.calls("wall.get")} == {str(OWN)}


def test_numeric_community_needs_no_lookup(vk_token, vk, clock):
    batch = crawl(vk, clock, all_brands=[MAGNIT], groups=["club218734561"], with_comments=False)
    assert vk.calls("groups.getById") == []
    assert len(wall_ids(batch)) == 4


def test_wall_stops_at_last_seen_post_and_an_old_pinned_post_does_not_stop_it(vk_token, vk, clock):
    vk.reset(clock=clock, max_count={"wall.get": 1})
    cursor = {"groups": {"vkusmarket": {"owner_id": OWN, "last_post_id": 1549}}}
    batch = crawl(vk, clock, all_brands=[MAGNIT], groups=["vkusmarket"], cursor=cursor, with_comments=False)
    # Pages of one post: the old pinned 1520, then 1552 (new), then 1549 (seen); 1541 is never asked for.
    assert [c["offset"] for c in vk.calls("wall.get")] == ["0", "1", "2"]
    assert wall_ids(batch) == {f"wall{OWN}_1552"}
    assert batch.cursor["groups"]["vkusmarket"]["last_post_id"] == 1552


def test_second_crawl_returns_only_new_posts_and_comments(vk_token, vk, clock):
    first = crawl(vk, clock, all_brands=[MAGNIT], groups=["vkusmarket"])
    comment_calls_before = len(vk.calls("wall.getComments"))
    vk.data.posts.append(
        {
            "id": 1560,
            "owner_id": OWN,
            "from_id": OWN,
            "date": int(at(29, 6, 0).timestamp()),
            "text": "Режим работы в праздники: с 10:00 до 20:00.",
            "likes": {"count": 1},
        }
    )
    vk.data.comments.append(
        {
            "id": 1558,
            "owner_id": OWN,
            "post_id": 1552,
            "from_id": 39560221,
            "parents_stack": [],
            "date": int(at(28, 20, 0).timestamp()),
            "text": "Наборы разобрали за день, привезите ещё!",
        }
    )
    second = crawl(vk, clock, all_brands=[MAGNIT], groups=["vkusmarket"], cursor=first.cursor)
    assert wall_ids(second) == {f"wall{OWN}_1560", f"wall{OWN}_1552_r1558"}
    # Only the post whose comment count moved was asked for its comments again.
    assert [c["post_id"] for c in vk.calls("wall.getComments")[comment_calls_before:]] == ["1552"]


# --- answers shaped like api.vk.com's ------------------------------------------------------------

MTS = BrandConfig(name="МТС")
# A telecom's community, added by add_mts_wall() to the demo data, and one of its posts.
MTS_WALL = -217540320
MTS_POST = 90412
# A comment under that post with a long thread of replies, and the replies.
LONG_THREAD = 90420
THREAD_REPLIES = range(90421, 90435)
# A comment its author deleted, which keeps its two replies.
DELETED_COMMENT = 90440


def add_mts_wall(vk: FakeVk) -> None:
    """МТС's community with a post about new tariffs, under it an argument: 14 replies to one comment
    (VK shows 10 with it) and a deleted comment whose replies stay."""
    vk.data.groups.append(
        {
            "id": -MTS_WALL,
            "name": "МТС",
            "screen_name": "mts",
            "is_closed": 0,
            "type": "page",
            "members_count": 1290400,
            "activity": "Телекоммуникации",
        }
    )
    vk.data.posts.append(
        {
            "id": MTS_POST,
            "owner_id": MTS_WALL,
            "from_id": MTS_WALL,
            "date": int(at(24, 9, 0).timestamp()),
            "post_type": "post",
            "text": "С 1 декабря обновляем тарифы «Мой МТС»: больше гигабайт за ту же цену.",
            "marked_as_ads": 0,
            "likes": {"count": 212, "user_likes": 0, "can_like": 1},
            "reposts": {"count": 9, "user_reposted": 0},
            # No "views": VK leaves it out for some posts.
        }
    )

    def comment(comment_id: int, from_id: int, minute: int, text: str, parents: list[int]) -> dict:
        return {
            "id": comment_id,
            "from_id": from_id,
            "post_id": MTS_POST,
            "owner_id": MTS_WALL,
            "date": int(at(24, 10, minute).timestamp()),
            "text": text,
            "parents_stack": parents,
            "likes": {"count": 3, "user_likes": 0, "can_like": 1},
        }

    vk.data.comments.append(
        comment(LONG_THREAD, 51234017, 0, "За ту же цену? У меня абонплата выросла с 550 до 650 ₽.", [])
    )
    for n, reply_id in enumerate(THREAD_REPLIES):
        author, text = (
            (MTS_WALL, "[id51234017|Анна], здравствуйте! Проверим ваш тариф, напишите в личные сообщения.")
            if n % 2
            else (60981142, f"[club217540320|МТС], и у меня то же самое, уже {n + 2}-й месяц.")
        )
        vk.data.comments.append(comment(reply_id, author, n + 1, text, [LONG_THREAD]))
    deleted = comment(DELETED_COMMENT, 73310985, 30, "", [])
    del deleted["from_id"], deleted["likes"]
    vk.data.comments.append({**deleted, "deleted": True})
    vk.data.comments += [
        comment(90441, 48127730, 31, "Что тут было? Опять про списания за подписки?", [DELETED_COMMENT]),
        comment(
            90442, 73310985, 32, "МТС списал 299 ₽ за подписку, которую я не подключала.", [DELETED_COMMENT]
        ),
    ]


def mts_comment(comment_id: int) -> str:
    return f"wall{MTS_WALL}_{MTS_POST}_r{comment_id}"


def test_repost_keeps_the_words_of_every_copy_and_points_to_the_original(vk_token, vk, clock):
    # The reposter named no brand: МТС is named only in the original, two reposts down.
    vk.data.posts.append(
        {
            "id": 5133,
            "owner_id": -193407718,
            "from_id": -193407718,
            "date": int(at(25, 12, 0).timestamp()),
            "post_type": "post",
            "text": "Проверьте свои выписки 👇",
            "likes": {"count": 41},
            "reposts": {"count": 3},
            "views": {"count": 5200},
            "copy_history": [
                {
                    "id": 88302,
                    "owner_id": -171930254,
                    "from_id": -171930254,
                    "date": int(at(25, 9, 0).timestamp()),
                    "post_type": "post",
                    "text": "Кто ещё столкнулся?",
                },
                {
                    "id": 702,
                    "owner_id": 60981142,
                    "from_id": 60981142,
                    "date": int(at(25, 8, 0).timestamp()),
                    "post_type": "post",
                    "text": "МТС списал 299 ₽ за подписку, которую я не подключал. Поддержка молчит.",
                },
            ],
        }
    )
    batch = crawl(vk, clock, all_brands=[MAGNIT], groups=["skidki_tmn"], with_comments=False)
    repost = by_id(batch)["wall-193407718_5133"]
    assert repost.text == (
        "Проверьте свои выписки 👇\n\nКто ещё столкнулся?\n\n"
        "МТС списал 299 ₽ за подписку, которую я не подключал. Поддержка молчит."
    )
    assert repost.extra == {
        "community": "skidki_tmn",
        "place": "vk:skidki_tmn",
        "repost_of": "wall60981142_702",
    }
    # The reach and the counters are the repost's own.
    assert (repost.author, repost.author_reach, repost.views) == ("Скидки и акции Тюмени", 87650, 5200)


def test_search_result_that_is_a_comment_becomes_a_comment_under_its_post(vk_token, vk, clock):
    add_mts_wall(vk)
    # newsfeed.search finds comments too: post_type "reply", `id` the comment's, `post_id` the post's.
    vk.data.posts.append(
        {
            "id": 90455,
            "owner_id": MTS_WALL,
            "from_id": 88012456,
            "date": int(at(24, 18, 5).timestamp()),
            "post_type": "reply",
            "post_id": MTS_POST,
            "text": "[club217540320|МТС], верните старый тариф, новый дороже на 100 ₽",
            "likes": {"count": 17},
        }
    )
    batch = by_id(crawl(vk, clock, all_brands=[MTS]))
    reply = batch[mts_comment(90455)]
    assert reply.kind == "comment"
    assert reply.url == f"https://vk.com/wall{MTS_WALL}_{MTS_POST}?reply=90455"
    assert reply.parent_external_id == f"wall{MTS_WALL}_{MTS_POST}"
    assert reply.text == "МТС, верните старый тариф, новый дороже на 100 ₽"
    assert (reply.author, reply.likes, reply.extra) == ("Марина Ефимова", 17, {})
    assert f"wall{MTS_WALL}_90455" not in batch  # no post has that id
    assert f"wall{MTS_WALL}_{MTS_POST}" in batch


def test_long_comment_thread_is_read_beyond_the_replies_vk_shows(vk_token, vk, clock):
    add_mts_wall(vk)
    batch = crawl(vk, clock, all_brands=[MAGNIT], groups=["club217540320"])
    found = set(by_id(batch))
    assert {mts_comment(reply) for reply in THREAD_REPLIES} <= found
    assert by_id(batch)[mts_comment(LONG_THREAD)].comments == len(THREAD_REPLIES)
    # Only the long thread was asked for on its own, newest replies first.
    [thread_call] = [call for call in vk.calls("wall.getComments") if "comment_id" in call]
    assert (thread_call["comment_id"], thread_call["sort"]) == (str(LONG_THREAD), "desc")
    assert batch.warnings == []
    assert batch.cursor["groups"]["-217540320"]["comments"][str(MTS_POST)]["threads"] == {
        str(LONG_THREAD): len(THREAD_REPLIES)
    }


def test_long_thread_is_read_again_only_when_its_reply_count_moved(vk_token, vk, clock):
    add_mts_wall(vk)
    first = crawl(vk, clock, all_brands=[MAGNIT], groups=["club217540320"])
    vk.data.comments.append(
        {
            "id": 90460,
            "from_id": 39560221,
            "post_id": MTS_POST,
            "owner_id": MTS_WALL,
            "date": int(at(25, 8, 0).timestamp()),
            "text": "[club217540320|МТС], ответили в личке: вернут разницу за ноябрь.",
            "parents_stack": [LONG_THREAD],
        }
    )
    calls_before = len(vk.calls("wall.getComments"))
    second = crawl(vk, clock, all_brands=[MAGNIT], groups=["club217540320"], cursor=first.cursor)
    assert [item.external_id for item in second.items if item.kind == "comment"] == [mts_comment(90460)]
    assert by_id(second)[mts_comment(90460)].text == "МТС, ответили в личке: вернут разницу за ноябрь."
    assert sum("comment_id" in call for call in vk.calls("wall.getComments")[calls_before:]) == 1
    calls_before = len(vk.calls("wall.getComments"))
    crawl(vk, clock, all_brands=[MAGNIT], groups=["club217540320"], cursor=second.cursor)
    assert vk.calls("wall.getComments")[calls_before:] == []


def test_deleted_comment_is_skipped_and_its_replies_are_kept(vk_token, vk, clock):
    add_mts_wall(vk)
    batch = by_id(crawl(vk, clock, all_brands=[MAGNIT], groups=["club217540320"]))
    assert mts_comment(DELETED_COMMENT) not in batch
    assert {mts_comment(90441), mts_comment(90442)} <= set(batch)
    assert batch[mts_comment(90442)].parent_external_id == f"wall{MTS_WALL}_{MTS_POST}"


def test_post_without_views_has_none_rather_than_zero(vk_token, vk, clock):
    add_mts_wall(vk)
    post = by_id(crawl(vk, clock, all_brands=[MTS]))[f"wall{MTS_WALL}_{MTS_POST}"]
    assert post.views is None and post.likes == 212


def test_answer_with_raw_control_characters_is_read(vk_token, vk, clock):
    vk.raw_control_characters = True
    vk.data.posts.append(
        {
            "id": 415,
            "owner_id": 51234017,
            "from_id": 51234017,
            "date": int(at(26, 20, 0).timestamp()),
            "post_type": "post",
            # Pasted from Word, whose line break is a vertical tab.
            "text": "Перешла в МТС с Билайна:\x0bв метро связь лучше, а на даче интернет пропадает.",
        }
    )
    batch = crawl(vk, clock, all_brands=[MTS])
    assert batch.warnings == []
    post = by_id(batch)["wall51234017_415"]
    assert post.text == "Перешла в МТС с Билайна: в метро связь лучше, а на даче интернет пропадает."


@pytest.mark.parametrize(
    ("raw", "read"),
    [
        (
            "Писал в [club217540320|МТС] и [id51234017|Анне] из поддержки, ответа нет",
            "Писал в МТС и Анне из поддержки, ответа нет",
        ),
        (
            "Читайте [https://vk.com/wall-217540320_90412|пост], отзывы [vk.com/topic-217540320_4|тут]",
            "Читайте пост, отзывы тут",
        ),
        (
            "Тариф &quot;Мой МТС&quot; подорожал<br>Абонплата 650 ₽",
            'Тариф "Мой МТС" подорожал\nАбонплата 650 ₽',
        ),
        # What only looks like markup stays as it is.
        ("Роуминг через AT&T [без пакета] — 5 $/мин", "Роуминг через AT&T [без пакета] — 5 $/мин"),
    ],
    ids=["mentions", "links", "old html", "look-alikes"],
)
def test_vk_markup_and_old_html_read_as_people_see_them(raw, read):
    post = {"id": 1, "owner_id": 51234017, "from_id": 51234017, "date": 1795000000, "text": raw}
    item = post_item("vk-test", post, Authors({}))
    assert item is not None and item.text == read


# --- VK's errors --------------------------------------------------------------------------------


def test_errors_6_and_9_are_retried_after_a_pause_then_succeed(vk_token, vk, clock):
    vk.fail("newsfeed.search", 6, times=2)
    vk.fail("wall.get", 9, times=1)
    batch = crawl(vk, clock, all_brands=[VKUSMARKET], groups=["vkusmarket"], with_comments=False)
    assert batch.warnings == []
    assert len(vk.calls("newsfeed.search")) == 3
    assert len(vk.calls("wall.get")) == 2
    assert len(wall_ids(batch)) == 4 and "wall-171930254_88214" in by_id(batch)
    # wall.get waited once, the search twice, each after the delays in RETRY_DELAYS.
    assert sorted(s for s in clock.sleeps if s >= 1) == sorted([*RETRY_DELAYS[:1], *RETRY_DELAYS[:2]])


def test_error_6_that_persists_gives_up_after_bounded_retries(vk_token, vk, clock):
    vk.fail("newsfeed.search", 6, times=None, q="Магнит")
    batch = crawl(vk, clock)
    assert len(vk.calls("newsfeed.search")) == 2 + len(RETRY_DELAYS) + 1
    assert len(batch.warnings) == 1
    assert "search «Магнит»" in batch.warnings[0] and "VK error 6" in batch.warnings[0]


@pytest.mark.parametrize(
    ("code", "method", "where", "label", "words"),
    [
        (14, "newsfeed.search", {"q": "Магнит"}, "search «Магнит»", "captcha"),
        (5, "newsfeed.search", {"q": "Магнит"}, "search «Магнит»", "VK_TOKEN"),
        (15, "wall.get", {"owner_id": OWN}, "community vkusmarket", "closed"),
        (30, "wall.get", {"owner_id": OWN}, "community vkusmarket", "private"),
        (18, "wall.get", {"owner_id": OWN}, "community vkusmarket", "remove it"),
        (100, "groups.getById", {"group_id": "vkusmarket"}, "community vkusmarket", "spiders.yaml"),
        (29, "newsfeed.search", {"q": "Магнит"}, "search «Магнит»", "resets tomorrow"),
        (203, "wall.get", {"owner_id": OWN}, "community vkusmarket", "closed to this token"),
    ],
)
def test_refused_query_or_community_is_one_warning_and_the_others_go_on(
    vk_token, vk, clock, code, method, where, label, words
):
    vk.fail(method, code, times=None, **where)
    batch = crawl(vk, clock, groups=["vkusmarket", "skidki_tmn"])
    assert len(batch.warnings) == 1
    warning = batch.warnings[0]
    assert warning.startswith(f"vk-test: {label}: {method}: VK error {code} (")
    assert words in warning and "\n" not in warning
    # The other queries and communities still gave their posts.
    found = set(by_id(batch))
    assert {"wall60981142_640", "wall-193407718_5120"} <= found  # «Пятёрочка», the skidki_tmn wall
    if method == "newsfeed.search":
        assert f"wall{OWN}_1552" in found  # the vkusmarket wall
    else:
        assert "wall73310985_97" in found  # «Магнит»


def test_closed_community_is_skipped_with_one_warning(vk_token, vk, clock):
    batch = crawl(vk, clock, all_brands=[MAGNIT], groups=[CLOSED_GROUP, "vkusmarket"], with_comments=False)
    assert batch.warnings == [
        "vk-test: community vkusmarket_staff: wall.get: VK error 15 (Access denied: this wall available only "
        "for community members): access denied: the community is closed or private, or its wall is for "
        "members only"
    ]
    assert len(wall_ids(batch)) == 4
    # The id found for it is kept, so the next run does not look it up again.
    assert batch.cursor["groups"][CLOSED_GROUP] == {"owner_id": -220051937}


def test_failed_query_keeps_its_cursor_state(vk_token, vk, clock):
    cursor = {"queries": {"магнит": {"last_date": 1794000000}}}
    vk.fail("newsfeed.search", 14, q="Магнит")
    batch = crawl(vk, clock, cursor=cursor)
    assert batch.cursor["queries"]["магнит"] == {"last_date": 1794000000}


def test_comment_failure_is_a_warning_and_the_wall_still_counts(vk_token, vk, clock):
    vk.fail("wall.getComments", 212, times=None, post_id=1520)
    batch = crawl(vk, clock, all_brands=[MAGNIT], groups=["vkusmarket"])
    assert len(batch.warnings) == 1 and "comments of wall-218734561_1520" in batch.warnings[0]
    assert f"wall{OWN}_1541_r1545" in by_id(batch) and f"wall{OWN}_1520" in by_id(batch)
    # Nothing recorded for that post, so the next run asks for its comments again.
    assert batch.cursor["groups"]["vkusmarket"]["comments"]["1520"] == {}


@pytest.mark.parametrize(
    ("code", "error"),
    [(5, SourceAuthError), (14, SourceRateLimited), (6, SourceRateLimited), (10, SourceUnavailable)],
)
def test_source_fails_with_the_matching_error_when_every_query_and_community_failed(
    vk_token, vk, clock, code, error
):
    for method in ("newsfeed.search", "groups.getById"):
        vk.fail(method, code, times=None)
    with pytest.raises(error) as failed:
        crawl(vk, clock, groups=["vkusmarket"])
    assert type(failed.value) is error
    assert "all 4 queries and communities failed" in str(failed.value)


def test_source_fails_with_plain_source_error_when_the_reasons_differ(vk_token, vk, clock):
    vk.fail("newsfeed.search", 5, times=None)
    vk.fail("wall.get", 14, times=None)
    with pytest.raises(SourceError) as failed:
        crawl(vk, clock, all_brands=[VKUSMARKET], groups=["vkusmarket"])
    assert type(failed.value) is SourceError


def test_unreachable_api_is_source_unavailable_after_retries(vk_token, clock):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # nothing listens there once the probe is closed
    source = VkSource(type="vk", name="vk-test", api_base=f"http://127.0.0.1:{closed_port}/method", timeout=2)
    with pytest.raises(SourceUnavailable, match="cannot reach"):
        VkCrawler(clock=clock, sleep=clock.sleep).fetch(source, None, [VKUSMARKET])
    assert [s for s in clock.sleeps if s >= 1] == list(RETRY_DELAYS)


# --- the token and the rate limit ---------------------------------------------------------------


def test_missing_token_is_an_auth_error_before_any_request(vk, clock):
    with pytest.raises(SourceAuthError, match="VK_TOKEN is not set"):
        crawl(vk, clock)
    assert vk.requests == []


def test_token_from_the_environment_and_api_version_are_sent(vk_token, vk, clock):
    crawl(vk, clock, groups=["vkusmarket"], api_version="5.199")
    assert vk.requests
    assert {r.params["access_token"] for r in vk.requests} == {TOKEN}
    assert {r.params["v"] for r in vk.requests} == {"5.199"}


def test_token_given_to_the_crawler_wins_over_the_environment(vk, clock, monkeypatch):
    monkeypatch.setenv("VK_TOKEN", "vk1.a.someone-elses")
    source = VkSource(type="vk", name="vk-test", api_base=vk.api_base)
    crawler = VkCrawler(token=SecretStr(TOKEN), clock=clock, sleep=clock.sleep)
    assert crawler.fetch(source, None, [VKUSMARKET]).items


def test_token_never_appears_in_warnings_errors_or_logs(vk_token, vk, clock, caplog):
    caplog.set_level(logging.DEBUG)
    vk.fail(
        "newsfeed.search", 5, times=None, message=f"User authorization failed: invalid access_token {TOKEN}"
    )
    vk.fail("wall.get", 15, times=None)
    with pytest.raises(SourceAuthError) as failed:
        crawl(vk, clock, groups=["vkusmarket"])
    assert TOKEN not in str(failed.value)
    assert "invalid access_token ***" in str(failed.value)
    assert TOKEN not in caplog.text


def test_no_more_than_three_requests_in_any_second(vk_token, vk, clock):
    crawl(vk, clock, groups=["vkusmarket", "skidki_tmn"])
    moments = [request.at for request in vk.requests]
    assert len(moments) >= 8
    assert all(later - earlier >= 1.0 for earlier, later in zip(moments, moments[3:], strict=False))


def test_rate_limit_holds_across_sources_of_one_crawler(vk_token, vk, clock):
    crawler = VkCrawler(clock=clock, sleep=clock.sleep)
    for name in ("vk-a", "vk-b"):
        crawler.fetch(VkSource(type="vk", name=name, api_base=vk.api_base), None, [VKUSMARKET])
    moments = [request.at for request in vk.requests]
    assert all(later - earlier >= 1.0 for earlier, later in zip(moments, moments[3:], strict=False))


# --- the fake itself ---------------------------------------------------------------------------


def test_fake_answers_errors_like_vk_without_echoing_the_token():
    api = VkApiEmulator(load_vk_data(), token=TOKEN)
    answer = api.answer("wall.get", {"owner_id": "-220051937", "access_token": TOKEN, "v": "5.199"})
    error = answer["error"]
    assert (error["error_code"], error["error_msg"]) == (
        15,
        "Access denied: this wall available only for community members",
    )
    assert {"key": "method", "value": "wall.get"} in error["request_params"]
    assert TOKEN not in str(error)


def test_fake_answers_groups_get_by_id_in_the_shape_of_the_asked_version():
    api = VkApiEmulator(load_vk_data())
    asked = {"group_id": "vkusmarket", "access_token": "x"}
    assert api.answer("groups.getById", {**asked, "v": "5.199"})["response"]["groups"][0]["id"] == 218734561
    assert api.answer("groups.getById", {**asked, "v": "5.131"})["response"][0]["id"] == 218734561


# --- small parts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("vkusmarket", ("vkusmarket", None)),
        ("@VkusMarket", ("vkusmarket", None)),
        ("https://vk.com/vkusmarket", ("vkusmarket", None)),
        ("vk.com/vkusmarket", ("vkusmarket", None)),
        ("-218734561", ("-218734561", -218734561)),
        ("club218734561", ("-218734561", -218734561)),
        ("public218734561", ("-218734561", -218734561)),
    ],
)
def test_community_ref_reads_every_way_of_naming_a_community(configured, expected):
    assert community_ref(configured) == expected


def test_search_terms_are_all_brands_when_the_source_names_none():
    source = VkSource(type="vk", name="vk-test")
    assert search_terms(source, BRANDS) == ["ВкусМаркет", "Магнит", "Пятёрочка"]


def test_vk_crawler_is_registered_under_its_type():
    assert isinstance(registry()["vk"], VkCrawler)
