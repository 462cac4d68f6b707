"""crawlers/rss.py: real-looking feeds from tests/fixtures/feeds/ served on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawlers.base import Batch, Cursor
from crawlers.http import fetch
from crawlers.rss import SEEN_IDS_PER_FEED, RssCrawler, unwrap_google_link
from monitor.config import RssSource
from monitor.errors import SourceError, SourceUnavailable
from monitor.items import RawItem
from monitor.local_server import LocalServer

# The session fixture `fixture_server`: tests/fixtures/ plus fault routes on 127.0.0.1.


def crawl(server: LocalServer, *paths: str, cursor: Cursor | None = None) -> Batch:
    source = RssSource(type="rss", name="news-rss", urls=[server.url(path) for path in paths], timeout=2)
    return RssCrawler(sleep=lambda seconds: None).fetch(source, cursor, [])


def by_title(batch: Batch, start: str) -> RawItem:
    return next(item for item in batch.items if (item.title or "").startswith(start))


def test_rss_entries_have_dates_authors_and_titles(fixture_server):
    batch = crawl(fixture_server, "/feeds/news-finance.xml")
    sber = by_title(batch, "Сбербанк снизил лимит")
    assert sber.external_id == "fv-2026-11-20-0142"
    assert sber.url == "https://finvestnik.example.ru/news/2026/11/20/sber-sbp-limit"
    assert sber.published_at == datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    assert sber.author == "Анна Котова"
    assert by_title(batch, "МегаФон запустил 5G").author == "Игорь Лаптев"
    assert batch.warnings == []


def test_html_is_stripped_with_paragraphs_kept_as_newlines(fixture_server):
    sber = by_title(crawl(fixture_server, "/feeds/news-finance.xml"), "Сбербанк снизил лимит")
    assert sber.text == (
        "Сбербанк снизил лимит переводов через СБП для новых клиентов\n"
        "С 1 декабря «Сбербанк» ограничит переводы по номеру телефона для клиентов, "
        "открывших счёт меньше месяца назад.\n"
        'Клиенты жалуются в соцсетях: "деньги зависли на сутки". Подробнее о правилах СБП читайте здесь.'
    )


def test_full_content_is_preferred_to_the_summary_and_scripts_are_dropped(fixture_server):
    tinkoff = by_title(crawl(fixture_server, "/feeds/news-finance.xml"), "Тинькофф объяснил")
    assert "для разблокировки нужен звонок в поддержку." in tinkoff.text
    assert "trackView" not in tinkoff.text


def test_title_is_not_repeated_when_the_body_starts_with_it(fixture_server):
    tinkoff = by_title(crawl(fixture_server, "/feeds/news-finance.xml"), "Тинькофф объяснил")
    assert tinkoff.text.count("Тинькофф объяснил массовые блокировки карт") == 1


def test_relative_links_are_resolved_against_the_feed_url(fixture_server):
    megafon = by_title(crawl(fixture_server, "/feeds/news-finance.xml"), "МегаФон запустил 5G")
    blog = by_title(crawl(fixture_server, "/feeds/blog.atom.xml"), "Как МегаФон отвечает")
    assert megafon.url == fixture_server.url("/news/2026/11/20/megafon-5g")
    assert blog.url == fixture_server.url("/feeds/posts/megafon-support.html")


def test_entry_without_a_date_gets_the_fetch_time(fixture_server):
    before = datetime.now(UTC)
    undated = by_title(crawl(fixture_server, "/feeds/news-finance.xml"), "Пятёрочка начала принимать")
    assert undated.published_at is not None and undated.published_at >= before.replace(microsecond=0)
    assert undated.published_at.tzinfo is not None


def test_atom_entry_without_published_uses_updated(fixture_server):
    entry = by_title(crawl(fixture_server, "/feeds/blog.atom.xml"), "Пятёрочка убрала кассы")
    assert entry.published_at == datetime(2026, 11, 19, 8, 15, tzinfo=UTC)
    assert entry.text.endswith(
        "В трёх магазинах Пятёрочки в Самаре кассы самообслуживания закрыли.\nОчереди выросли вдвое."
    )


def test_google_alerts_links_are_unwrapped_and_titles_stripped(fixture_server):
    batch = crawl(fixture_server, "/feeds/google-alerts-sber.xml")
    omsk = by_title(batch, "Сбербанк закрыл отделения")
    assert omsk.url == "https://omsk-gorod.example.ru/news/sberbank-otdeleniya-2026-11-22"
    assert omsk.title == "Сбербанк закрыл отделения в трёх районах Омска"
    assert omsk.author is None


def test_unwrap_google_link_leaves_other_links_alone():
    assert unwrap_google_link("https://www.google.ru/url?q=https://a.example/x&sa=U") == "https://a.example/x"
    assert (
        unwrap_google_link("https://site.example/url?url=https://a.example/x")
        == "https://site.example/url?url=https://a.example/x"
    )


def test_entry_without_id_or_link_gets_a_stable_hash_id(fixture_server):
    first = by_title(crawl(fixture_server, "/feeds/forum-banki.xml"), "Правила раздела")
    again = by_title(crawl(fixture_server, "/feeds/forum-banki.xml"), "Правила раздела")
    assert first.external_id.startswith("sha1:")
    assert first.external_id == again.external_id


def test_entry_without_guid_is_identified_by_its_link(fixture_server):
    complaint = by_title(crawl(fixture_server, "/feeds/forum-banki.xml"), "Тинькофф списал комиссию")
    assert complaint.external_id == "https://forum-dengi.example.ru/viewtopic.php?t=88412&p=1204551#p1204551"
    assert complaint.author == "kosmonavt_77"


def test_second_run_gets_304_and_returns_nothing(fixture_server):
    first = crawl(fixture_server, "/feeds/google-alerts-sber.xml")
    state = first.cursor["feeds"][fixture_server.url("/feeds/google-alerts-sber.xml")]
    # Forget the seen ids: only a 304 can explain an empty second batch now.
    forgetful = {"feeds": {fixture_server.url("/feeds/google-alerts-sber.xml"): {**state, "seen": []}}}
    second = crawl(fixture_server, "/feeds/google-alerts-sber.xml", cursor=forgetful)
    assert len(first.items) == 2 and state["etag"]
    assert second.items == [] and second.warnings == []
    assert second.cursor == forgetful


def test_cursor_excludes_entries_already_seen(fixture_server):
    url = fixture_server.url("/feeds/news-finance.xml")
    seen = ["fv-2026-11-20-0142", "https://finvestnik.example.ru/news/2026/11/19/tinkoff-blocks"]
    batch = crawl(fixture_server, "/feeds/news-finance.xml", cursor={"feeds": {url: {"seen": seen}}})
    ids = {item.external_id for item in batch.items}
    assert ids == {
        fixture_server.url("/news/2026/11/20/megafon-5g"),
        "fv-2026-11-18-0977",
        "fv-2026-11-17-0311",
    }
    assert set(seen) <= set(batch.cursor["feeds"][url]["seen"])


def test_seen_ids_are_bounded(fixture_server):
    url = fixture_server.url("/feeds/blog.atom.xml")
    old = [f"old-{n}" for n in range(SEEN_IDS_PER_FEED + 100)]
    batch = crawl(fixture_server, "/feeds/blog.atom.xml", cursor={"feeds": {url: {"seen": old}}})
    remembered = batch.cursor["feeds"][url]["seen"]
    assert len(remembered) == SEEN_IDS_PER_FEED
    assert remembered[:2] == ["tag:cxnotes.example.ru,2026:post-218", "tag:cxnotes.example.ru,2026:post-217"]


def test_malformed_feed_yields_the_items_it_could_parse_and_a_warning(fixture_server):
    batch = crawl(fixture_server, "/feeds/broken.xml")
    assert [item.external_id for item in batch.items] == ["otzyvy-55120", "otzyvy-55121"]
    assert by_title(batch, "МегаФон: связь").text.endswith("интернет от МегаФона не работает с утра.")
    assert len(batch.warnings) == 1
    assert "broken.xml: malformed feed (" in batch.warnings[0]
    assert "kept the 2 entries that could be read" in batch.warnings[0]


def test_windows_1251_feed_is_decoded(fixture_server):
    batch = crawl(fixture_server, "/feeds/regional-news.cp1251.xml")
    opening = by_title(batch, "«Пятёрочка» и «Магнит» открыли")
    assert opening.author == "Ирина Ёлкина"
    assert "Цены — «как в Самаре»" in opening.text
    assert batch.warnings == []


def test_gzip_served_feed_is_parsed(fixture_server):
    served = fetch(fixture_server.url("/feeds/blog.atom.xml"), timeout=2, max_bytes=100_000)
    batch = crawl(fixture_server, "/feeds/blog.atom.xml")
    assert served.headers["content-encoding"] == "gzip"
    assert len(batch.items) == 2


def test_one_failing_feed_is_a_warning_and_the_others_go_on(fixture_server):
    batch = crawl(fixture_server, "/status/500", "/feeds/google-alerts-sber.xml")
    assert len(batch.items) == 2
    assert batch.warnings == [
        f"news-rss: {fixture_server.url('/status/500')}: HTTP 500 Internal Server Error after 3 tries"
    ]


def test_a_page_that_is_not_a_feed_is_a_warning(fixture_server):
    batch = crawl(fixture_server, "/feeds/not-a-feed.html", "/feeds/blog.atom.xml")
    assert len(batch.items) == 2
    assert "not-a-feed.html: not an RSS or Atom feed (text/html; charset=utf-8)" in batch.warnings[0]


def test_all_feeds_failing_raises_source_error(fixture_server):
    with pytest.raises(
        SourceError, match=r"^news-rss: all 2 feeds failed: .*/status/502.*; .*/feeds/not-a-feed.html"
    ):
        crawl(fixture_server, "/status/502", "/feeds/not-a-feed.html")


def test_a_single_failing_feed_raises_its_own_error(fixture_server):
    with pytest.raises(SourceUnavailable, match="/feeds/missing.xml: HTTP 404 Not Found"):
        crawl(fixture_server, "/feeds/missing.xml")


def test_failed_feed_keeps_its_cursor_state(fixture_server):
    broken_url = fixture_server.url("/status/503")
    cursor = {"feeds": {broken_url: {"etag": '"abc"', "seen": ["x"]}}}
    batch = crawl(fixture_server, "/status/503", "/feeds/blog.atom.xml", cursor=cursor)
    assert batch.cursor["feeds"][broken_url] == {"etag": '"abc"', "seen": ["x"]}


def test_the_same_entry_in_two_feeds_of_a_source_is_one_item(fixture_server):
    batch = crawl(fixture_server, "/feeds/blog.atom.xml", "/feeds/blog.atom.xml?copy=1")
    assert len(batch.items) == 2
