"""crawlers/telegram.py: t.me/s previews from tests/fixtures/telegram/ served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest

from crawlers.base import Batch, Cursor
from crawlers.telegram import (
    PAGE_DELAY_SECONDS,
    Message,
    TelegramCrawler,
    channel_name,
    parse_channel_page,
    parse_count,
)
from monitor.config import TelegramSource
from monitor.errors import SourceError
from monitor.local_server import LocalServer, Response

# The session fixture `fixture_server`: tests/fixtures/ plus fault routes on 127.0.0.1.

FIXTURES = Path(__file__).parent / "fixtures"
CHANNEL = "banki_i_svyaz"
PAGE_ONE = f"/telegram/s/{CHANNEL}"
PAGE_TWO = f"/telegram/s/{CHANNEL}?before=12"
# Laid out like a real t.me/s page: pinned notice, signed and edited post, replies to a post and
# to a photo, forwards from a channel and from a hidden user, an album, a poll, a sticker, a link
# preview, a document. Its older page is t.me's "No posts found" answer to a throttled client.
REAL = "mts_otzyvy"


def crawl(
    server: LocalServer,
    *channels: str,
    cursor: Cursor | None = None,
    max_pages: int = 5,
    sleeps: list[float] | None = None,
) -> Batch:
    source = TelegramSource(
        type="telegram",
        name="tg-channels",
        channels=list(channels or [CHANNEL]),
        base_url=server.url("/telegram"),
        max_pages=max_pages,
        timeout=2,
    )
    waits = sleeps if sleeps is not None else []
    return TelegramCrawler(sleep=waits.append).fetch(source, cursor, [])


def page_one() -> str:
    return (FIXTURES / "telegram" / "s" / CHANNEL).read_text(encoding="utf-8")


def real_page() -> str:
    return (FIXTURES / "telegram" / "s" / REAL).read_text(encoding="utf-8")


def real_posts(html: str | None = None) -> dict[int, Message]:
    return {m.id: m for m in parse_channel_page(html or real_page()).messages}


@pytest.fixture(scope="module")
def tme() -> Iterator[LocalServer]:
    """tests/fixtures/ plus t.me's answers that are not files: redirects away from /s/, throttling."""
    notice = (FIXTURES / "telegram" / "s" / f"{REAL}__before=301").read_bytes()

    def to_card(request: BaseHTTPRequestHandler) -> Response:
        # What t.me does for a channel without a web preview: 302 from /s/<name> to its card.
        return Response(302, b"", {"Location": "/telegram/zakrytyi_klub"})

    def throttled(request: BaseHTTPRequestHandler) -> Response:
        return Response(200, notice, {"Content-Type": "text/html; charset=utf-8"})

    routes = {
        "/telegram/s/zakrytyi_klub": to_card,
        f"/telegram/s/{REAL}?before=": to_card,
        "/telegram/s/mts_peregruz": throttled,
    }
    with LocalServer(FIXTURES, routes=routes) as server:
        yield server


def test_page_is_parsed_into_messages_oldest_first():
    page = parse_channel_page(page_one())
    assert [m.id for m in page.messages] == [12, 13, 14, 15, 16, 18, 20]
    newest = page.messages[-1]
    assert newest.channel == CHANNEL
    assert newest.published_at == datetime(2026, 11, 22, 19, 20, 55, tzinfo=UTC)
    assert newest.text.startswith("Читатель пишет: МегаФон списал 350 ₽")


def test_line_breaks_in_a_post_become_newlines():
    first = parse_channel_page(page_one()).messages[0]
    assert first.text == (
        "😡 Сбербанк Онлайн лежит с утра\n"
        "Не проходят переводы по СБП и оплата ЖКХ. В поддержке отвечают «ведутся технические работы».\n"
        "#сбой #Сбербанк"
    )


def test_reply_quote_and_link_preview_are_not_the_post_text():
    messages = {m.id: m for m in parse_channel_page(page_one()).messages}
    assert messages[14].text.startswith("Апдейт: приложение заработало")
    assert messages[16].text == "Пятёрочка тестирует оплату картой «Мир» по QR на кассах самообслуживания"


def test_views_are_parsed_from_the_page():
    views = {m.id: m.views for m in parse_channel_page(page_one()).messages}
    assert views == {12: 3400, 13: 2100, 14: 987, 15: 1200, 16: 5600, 18: 15300, 20: 812}


@pytest.mark.parametrize(
    ("shown", "count"),
    [
        ("987", 987),
        ("1.2K", 1200),
        ("3,4K", 3400),
        ("12.5M", 12_500_000),
        ("1 234", 1234),
        ("1,234", 1234),
        ("12 345", 12_345),
        ("1,2 тыс.", 1200),
        ("3 млн", 3_000_000),
        ("", None),
        ("много", None),
        ("1.2X", None),
        ("K", None),
    ],
)
def test_view_counts_are_read_like_telegram_writes_them(shown, count):
    assert parse_count(shown) == count


def test_channel_title_and_subscribers_are_read_from_the_header():
    page = parse_channel_page(page_one())
    assert page.title == "Банки и связь | инсайды"
    assert page.subscribers == 48_300


def test_crawl_paginates_backwards_with_before(fixture_server):
    already = fixture_server.requests.count(PAGE_TWO)
    batch = crawl(fixture_server)
    assert fixture_server.requests.count(PAGE_TWO) == already + 1
    assert [item.external_id for item in batch.items] == [
        f"{CHANNEL}/{n}" for n in (3, 5, 7, 10, 11, 12, 14, 15, 16, 18, 20)
    ]
    assert batch.warnings == []


def test_pages_are_fetched_with_a_pause_between_them(fixture_server):
    sleeps: list[float] = []
    crawl(fixture_server, sleeps=sleeps)
    assert sleeps == [PAGE_DELAY_SECONDS]


def test_posts_without_text_and_service_messages_are_skipped(fixture_server):
    ids = {item.external_id for item in crawl(fixture_server).items}
    assert not ids & {f"{CHANNEL}/1", f"{CHANNEL}/8", f"{CHANNEL}/13"}


def test_crawl_stops_at_the_last_seen_post(fixture_server):
    already = fixture_server.requests.count(PAGE_TWO)
    batch = crawl(fixture_server, cursor={"channels": {CHANNEL: {"last_id": 15}}})
    assert [item.external_id for item in batch.items] == [f"{CHANNEL}/16", f"{CHANNEL}/18", f"{CHANNEL}/20"]
    assert fixture_server.requests.count(PAGE_TWO) == already


def test_cursor_keeps_the_newest_post_id_per_channel(fixture_server):
    assert crawl(fixture_server).cursor == {"channels": {CHANNEL: {"last_id": 20}}}


def test_nothing_new_returns_no_items_and_keeps_the_cursor(fixture_server):
    cursor = {"channels": {CHANNEL: {"last_id": 20}}}
    batch = crawl(fixture_server, cursor=cursor)
    assert batch.items == [] and batch.cursor == cursor and batch.warnings == []


def test_max_pages_limits_paging_and_warns_when_posts_were_skipped(fixture_server):
    batch = crawl(fixture_server, cursor={"channels": {CHANNEL: {"last_id": 4}}}, max_pages=1)
    assert min(int(item.external_id.split("/")[1]) for item in batch.items) == 12
    assert "more than 1 pages of new posts" in batch.warnings[0]


def test_items_use_canonical_t_me_links_even_from_a_local_server(fixture_server):
    item = crawl(fixture_server).items[-1]
    assert item.url == f"https://t.me/{CHANNEL}/20"
    assert item.author_url == f"https://t.me/{CHANNEL}"


def test_items_carry_author_reach_views_and_kind(fixture_server):
    item = next(i for i in crawl(fixture_server).items if i.external_id == f"{CHANNEL}/15")
    assert item.author == "Банки и связь | инсайды"
    assert item.author_reach == 48_300
    assert item.views == 1200
    assert item.kind == "message"
    assert item.extra == {"forwarded_from": "Финтех без воды"}


def test_changed_layout_is_a_warning_not_silence(fixture_server):
    batch = crawl(fixture_server, "novyi_dizain", CHANNEL)
    assert any(item.external_id.startswith(CHANNEL) for item in batch.items)
    assert len(batch.warnings) == 1
    assert "novyi_dizain: no messages found on the page" in batch.warnings[0]
    assert "changed its layout" in batch.warnings[0]


def test_one_missing_channel_is_a_warning_and_the_others_go_on(fixture_server):
    batch = crawl(fixture_server, "no_such_channel", CHANNEL)
    assert len(batch.items) == 11
    assert batch.warnings == [
        f"tg-channels: {fixture_server.url('/telegram/s/no_such_channel')}: HTTP 404 Not Found; check the URL"
    ]


def test_a_failing_older_page_keeps_newer_posts_and_the_old_cursor():
    def telegram(request: httpx.Request) -> httpx.Response:
        if "before" in request.url.params:
            return httpx.Response(503, request=request)
        return httpx.Response(200, text=page_one(), headers={"Content-Type": "text/html; charset=utf-8"})

    source = TelegramSource(type="telegram", name="tg-channels", channels=[CHANNEL], base_url="https://t.me")
    with httpx.Client(transport=httpx.MockTransport(telegram)) as client:
        batch = TelegramCrawler(client=client, sleep=lambda seconds: None).fetch(
            source, {"channels": {CHANNEL: {"last_id": 5}}}, []
        )
    assert [item.external_id for item in batch.items][0] == f"{CHANNEL}/12"
    assert batch.cursor == {"channels": {CHANNEL: {"last_id": 5}}}
    assert "HTTP 503 Service Unavailable after 3 tries; kept 6 newer posts" in batch.warnings[0]


def test_all_channels_failing_raises_source_error(fixture_server):
    with pytest.raises(SourceError, match="all 2 channels failed"):
        crawl(fixture_server, "no_such_channel", "another_missing_one")


def test_real_layout_text_keeps_line_breaks_emoji_and_hashtags():
    assert real_posts()[303].text == (
        "😡 МТС Банк опять списал комиссию за обслуживание карты\n"
        "299 ₽, хотя по тарифу первый год бесплатно. Поддержка в чате отвечает шаблонами.\n"
        "#МТСБанк #комиссия"
    )


def test_reply_quote_is_not_part_of_the_reply():
    posts = real_posts()
    assert posts[304].text.startswith("Апдейт: деньги вернули")
    assert "комиссию" not in posts[304].text
    # A reply to a photo quotes it as "Photo" (metatext), not as text.
    assert posts[305].text.startswith("На скриншоте — тариф «Мой МТС»")


def test_forward_names_the_channel_or_the_hidden_sender_it_came_from():
    posts = real_posts()
    assert posts[306].forwarded_from == "Связь без цензуры"
    assert posts[307].forwarded_from == "Анна Смирнова"
    assert posts[305].forwarded_from is None


def test_album_caption_and_post_with_link_preview_are_read_once():
    posts = real_posts()
    assert (
        posts[308].text == "Очередь в салоне МТС на Тверской, суббота, 12:00. Электронная очередь не работает"
    )
    assert posts[312].text == (
        "Разобрали новые условия кешбэка по карте МТС Деньги 👇\nfinvestnik.example.ru/mts-dengi-cashback"
    )


def test_poll_question_and_options_are_the_text_of_a_poll():
    assert real_posts()[310].text == "Каким оператором вы пользуетесь?\nМТС\nБилайн\nМегаФон\nТ2"


def test_media_without_caption_and_service_notices_have_no_text():
    posts = real_posts()
    assert (posts[302].text, posts[302].media) == ("", ("photo",))
    assert (posts[311].text, posts[311].media) == ("", ("sticker",))
    assert (posts[301].text, posts[301].service) == ("", True)


def test_real_layout_views_and_header():
    page = parse_channel_page(real_page())
    views = {m.id: m.views for m in page.messages}
    assert views[301] is None
    assert (views[302], views[303], views[304], views[306]) == (15_300, 1_200, 987, 24_700)
    assert page.title == "МТС и МТС Банк: отзывы 📶"
    assert page.subscribers == 12_400


def test_post_without_a_time_keeps_its_text_and_has_no_date():
    html = real_page().replace('<time datetime="2026-03-03T09:15:00+00:00" class="time">09:15</time>', "")
    assert html != real_page()
    post = real_posts(html)[303]
    assert post.published_at is None
    assert post.text.startswith("😡 МТС Банк")


def test_real_layout_items_skip_notices_photos_and_stickers(fixture_server):
    batch = crawl(fixture_server, REAL)
    assert [item.external_id for item in batch.items] == [
        f"{REAL}/{n}" for n in (303, 304, 305, 306, 307, 308, 310, 312, 313)
    ]
    forwarded = next(item for item in batch.items if item.external_id == f"{REAL}/306")
    assert forwarded.extra == {"forwarded_from": "Связь без цензуры"}
    assert (forwarded.author, forwarded.author_reach, forwarded.views) == (
        "МТС и МТС Банк: отзывы 📶",
        12_400,
        24_700,
    )


def test_first_crawl_ends_quietly_where_older_posts_run_out(fixture_server):
    batch = crawl(fixture_server, REAL)
    assert batch.warnings == []
    assert batch.cursor == {"channels": {REAL: {"last_id": 313}}}


def test_no_posts_found_on_an_older_page_keeps_the_cursor_and_warns(fixture_server):
    # Posts 251..300 were never read: advancing the cursor to 313 would lose them for good.
    batch = crawl(fixture_server, REAL, cursor={"channels": {REAL: {"last_id": 250}}})
    assert len(batch.items) == 9
    assert batch.cursor == {"channels": {REAL: {"last_id": 250}}}
    assert len(batch.warnings) == 1
    assert "No posts found" in batch.warnings[0] and "kept 9 newer posts" in batch.warnings[0]


def test_no_posts_found_on_the_first_page_is_reported_as_throttling(tme):
    batch = crawl(tme, "mts_peregruz", cursor={"channels": {"mts_peregruz": {"last_id": 40}}})
    assert batch.items == []
    assert batch.cursor == {"channels": {"mts_peregruz": {"last_id": 40}}}
    assert len(batch.warnings) == 1
    assert 't.me answered "No posts found"' in batch.warnings[0]


def test_page_of_captionless_media_is_not_reported_as_a_layout_change(fixture_server):
    batch = crawl(fixture_server, "mts_memy")
    assert batch.items == [] and batch.warnings == []
    assert batch.cursor == {"channels": {"mts_memy": {"last_id": 6}}}


def test_channel_without_web_preview_is_one_warning_naming_the_redirect(tme):
    batch = crawl(tme, "zakrytyi_klub", CHANNEL)
    assert len(batch.items) == 11
    assert len(batch.warnings) == 1
    assert batch.warnings[0] == (
        f"tg-channels: {tme.url('/telegram/s/zakrytyi_klub')}: the channel has no public web preview "
        f"(redirected to {tme.url('/telegram/zakrytyi_klub')}); check the channel name"
    )


def test_card_page_instead_of_a_preview_fails_the_channel_in_one_line(fixture_server):
    with pytest.raises(SourceError, match="not a channel preview") as failure:
        crawl(fixture_server, "chat_zhiteley_khimok")
    assert "\n" not in str(failure.value)
    batch = crawl(fixture_server, "chat_zhiteley_khimok", CHANNEL)
    assert len(batch.items) == 11
    assert len(batch.warnings) == 1 and "chat_zhiteley_khimok: not a channel preview" in batch.warnings[0]


def test_older_page_redirected_away_keeps_newer_posts_and_the_cursor(tme):
    batch = crawl(tme, REAL, cursor={"channels": {REAL: {"last_id": 250}}})
    assert len(batch.items) == 9
    assert batch.cursor == {"channels": {REAL: {"last_id": 250}}}
    assert "no public web preview" in batch.warnings[0] and "kept 9 newer posts" in batch.warnings[0]


@pytest.mark.parametrize(
    "configured",
    [CHANNEL, f"@{CHANNEL}", f"t.me/{CHANNEL}", f"https://t.me/s/{CHANNEL}", f"https://t.me/{CHANNEL}/20"],
)
def test_channel_can_be_given_as_handle_or_link(configured):
    assert channel_name(configured) == CHANNEL


# A public chat whose counter says "members" (as groups and some channels do), not "subscribers".
MEMBERS = "domru_klienty"


def members_page() -> str:
    return (FIXTURES / "telegram" / "s" / MEMBERS).read_text(encoding="utf-8")


def test_members_counter_is_the_audience(fixture_server):
    batch = crawl(fixture_server, MEMBERS)
    assert [item.external_id for item in batch.items] == [f"{MEMBERS}/{n}" for n in (1, 2, 3)]
    assert {item.author_reach for item in batch.items} == {1200}
    assert batch.warnings == []


@pytest.mark.parametrize(
    ("value", "kind", "audience"),
    [
        ("1.2K", "members", 1200),
        ("1", "member", 1),
        ("12 345", "участников", 12_345),
        ("2 381", "участника", 2381),
        ("48,3K", "подписчиков", 48_300),
        ("1,2 тыс.", "участников", 1200),
        # broken or not an audience: no reach rather than a wrong one
        ("много", "members", None),
        ("1.2K", "online", None),
    ],
)
def test_audience_counter_is_read_in_every_wording(value, kind, audience):
    html = members_page().replace(
        '<span class="counter_value">1.2K</span> <span class="counter_type">members</span>',
        f'<span class="counter_value">{value}</span> <span class="counter_type">{kind}</span>',
    )
    html = html.replace('<div class="tgme_header_counter">1.2K members</div>', "")
    assert html != members_page()
    assert parse_channel_page(html).subscribers == audience


@pytest.mark.parametrize(
    ("header", "audience"),
    [("1.2K members", 1200), ("12 345 участников", 12_345), ("2.9K subscribers", 2900), ("", None)],
)
def test_header_counter_is_read_when_the_channel_card_has_no_counters(header, audience):
    # The narrow layout shows only the header: "<title> 1.2K members".
    card = members_page().split('<div class="tgme_channel_info_counters">')
    without_counters = card[0] + card[1].split("</div>\n          </div>", 1)[1]
    html = without_counters.replace("1.2K members", header)
    assert "tgme_channel_info_counter" not in html
    assert parse_channel_page(html).subscribers == audience
