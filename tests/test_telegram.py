"""crawlers/telegram.py: t.me/s previews from tests/fixtures/telegram/ served on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from crawlers.base import Batch, Cursor
from crawlers.telegram import (
    PAGE_DELAY_SECONDS,
    TelegramCrawler,
    channel_name,
    parse_channel_page,
    parse_count,
)
from monitor.config import TelegramSource
from monitor.errors import SourceError
from monitor.local_server import LocalServer

# The session fixture `fixture_server`: tests/fixtures/ plus fault routes on 127.0.0.1.

FIXTURES = Path(__file__).parent / "fixtures"
CHANNEL = "banki_i_svyaz"
PAGE_ONE = f"/telegram/s/{CHANNEL}"
PAGE_TWO = f"/telegram/s/{CHANNEL}?before=12"


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
        ("", None),
        ("много", None),
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


@pytest.mark.parametrize(
    "configured",
    [CHANNEL, f"@{CHANNEL}", f"t.me/{CHANNEL}", f"https://t.me/s/{CHANNEL}", f"https://t.me/{CHANNEL}/20"],
)
def test_channel_can_be_given_as_handle_or_link(configured):
    assert channel_name(configured) == CHANNEL
