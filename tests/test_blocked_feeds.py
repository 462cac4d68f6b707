"""An anti-bot page where a feed, a Telegram preview or any page should be is a blocked source,
not a broken or empty one: RSS and Telegram read through crawlers/http.py like the sites do."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from crawlers.http import fetch
from crawlers.rss import RssCrawler
from crawlers.telegram import TelegramCrawler
from monitor.config import RssSource, TelegramSource
from monitor.errors import SourceBlocked, SourceError, failure_kind
from monitor.local_server import LocalServer, Response

BLOCKED = Path(__file__).resolve().parent / "fixtures" / "sites" / "blocked"
CAPTCHA = (BLOCKED / "smartcaptcha.html").read_bytes()
HTML = {"Content-Type": "text/html; charset=utf-8"}
FEED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Новости</title>
<item><title>ВкусМаркет открыл магазин</title><link>https://news.example/1</link>
<guid>n1</guid><description>На Ленина открылся новый ВкусМаркет</description></item>
</channel></rss>""".encode()


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    def route(status: int, body: bytes, headers: dict[str, str]):
        def serve(request: BaseHTTPRequestHandler) -> Response:
            return Response(status, body, headers)

        return serve

    routes = {
        "/feed-captcha": route(200, CAPTCHA, HTML),
        "/feed-ok": route(200, FEED, {"Content-Type": "application/rss+xml"}),
        "/feed-403-captcha": route(403, CAPTCHA, HTML),
        "/plain-403": route(403, "<h1>Доступ запрещён</h1>".encode(), HTML),
        "/s/vkusmarket": route(200, CAPTCHA, HTML),
    }
    with LocalServer(routes=routes) as local:
        yield local


def rss(server: LocalServer, *paths: str) -> RssSource:
    return RssSource(type="rss", name="news-rss", urls=[server.url(p) for p in paths], timeout=2)


def test_a_captcha_page_where_a_feed_should_be_is_blocked(server):
    with pytest.raises(SourceBlocked, match=r"feed-captcha: blocked by the site's anti-bot check \(Yandex"):
        RssCrawler(sleep=lambda s: None).fetch(rss(server, "/feed-captcha"), None, [])


def test_a_blocked_feed_beside_a_good_one_is_a_warning_and_the_good_one_is_read(server):
    batch = RssCrawler(sleep=lambda s: None).fetch(rss(server, "/feed-captcha", "/feed-ok"), None, [])
    assert [item.external_id for item in batch.items] == ["n1"]
    assert "blocked by the site's anti-bot check" in batch.warnings[0]


def test_http_403_answers_are_told_apart(server):
    with pytest.raises(SourceBlocked) as blocked:
        fetch(server.url("/feed-403-captcha"), timeout=2, max_bytes=100_000, source="news-rss")
    assert failure_kind(blocked.value) == "blocked" and "HTTP 403" in str(blocked.value)
    with pytest.raises(SourceError) as plain:
        fetch(server.url("/plain-403"), timeout=2, max_bytes=100_000, source="news-rss")
    assert not isinstance(plain.value, SourceBlocked) and "403" in str(plain.value)


def test_a_captcha_instead_of_a_telegram_preview_is_blocked(server):
    source = TelegramSource(
        type="telegram", name="tg", channels=["vkusmarket"], base_url=server.url(""), timeout=2
    )
    with pytest.raises(SourceBlocked, match=r"blocked by the site's anti-bot check"):
        TelegramCrawler(sleep=lambda s: None).fetch(source, None, [])
