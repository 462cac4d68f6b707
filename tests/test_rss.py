"""crawlers/rss.py: real-looking feeds from tests/fixtures/feeds/ served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from crawlers.base import Batch, Cursor
from crawlers.http import fetch
from crawlers.rss import SEEN_IDS_PER_FEED, RssCrawler, unwrap_google_link
from monitor.config import RssSource
from monitor.errors import SourceError, SourceUnavailable
from monitor.items import RawItem
from monitor.local_server import LocalServer, Response

# The session fixture `fixture_server`: tests/fixtures/ plus fault routes on 127.0.0.1.

FEEDS = Path(__file__).resolve().parent / "fixtures" / "feeds"


@pytest.fixture(scope="module")
def labelled_server() -> Iterator[LocalServer]:
    """tests/fixtures/feeds/ byte for byte, with the Content-Type a test names: see served_as()."""

    def serve(request: BaseHTTPRequestHandler) -> Response:
        split = urlsplit(request.path)
        body = (FEEDS / Path(split.path).name).read_bytes()
        return Response(200, body, {"Content-Type": parse_qs(split.query)["type"][0]})

    with LocalServer(routes={"/feeds/": serve}) as server:
        yield server


def served_as(name: str, content_type: str) -> str:
    return f"/feeds/{name}?type={quote(content_type, safe='')}"


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


def test_yandex_full_text_is_read_when_the_description_is_only_a_lead(fixture_server):
    credit = by_title(crawl(fixture_server, "/feeds/news-yandex-fulltext.xml"), "Банки Поволжья")
    assert "Сильнее всех сократил выдачу «Альфа-Банк»: клиенты жалуются" in credit.text
    assert "&laquo;" not in credit.text and "<p>" not in credit.text


def test_turbo_content_is_read_when_the_description_is_only_a_lead(fixture_server):
    tariffs = by_title(crawl(fixture_server, "/feeds/news-yandex-fulltext.xml"), "Сотовые операторы")
    assert "Абоненты Билайна пишут, что об изменениях их предупредили только SMS за день." in tariffs.text
    assert tariffs.text.count("Сотовые операторы подняли цены на тарифы") == 1


def test_moscow_and_gmt_plus_offset_dates_are_converted_to_utc(fixture_server):
    credit = by_title(crawl(fixture_server, "/feeds/news-yandex-fulltext.xml"), "Банки Поволжья")
    reviews = crawl(fixture_server, "/feeds/shop-reviews-widget.xml").items
    assert credit.published_at == datetime(2026, 11, 23, 6, 15, tzinfo=UTC)
    assert [review.published_at for review in reviews] == [
        datetime(2026, 11, 22, 7, 5, tzinfo=UTC),
        datetime(2026, 11, 22, 6, 40, tzinfo=UTC),
    ]


def test_html_entities_outside_cdata_are_read_without_a_warning(fixture_server):
    batch = crawl(fixture_server, "/feeds/regional-html-entities.xml")
    opening = by_title(batch, "«Пятёрочка» откроет в Перми ещё 12 магазинов")
    assert "новые магазины «Пятёрочки» откроются до конца весны — в том числе" in opening.text
    assert "Покупатели в соцсетях просят" in opening.text
    assert "&" not in opening.text and "<br" not in opening.text
    assert by_title(batch, "Банкоматы ВТБ").text.endswith("В банке сообщили о сбое в процессинге.")
    assert batch.warnings == []


def test_blank_lines_before_the_xml_declaration_keep_its_windows_1251(fixture_server):
    # Served as application/xml; charset=utf-8: only <?xml encoding="windows-1251"?> tells the truth.
    batch = crawl(fixture_server, "/feeds/city-news-leading-blank.xml")
    assert [item.title for item in batch.items] == [
        "«Магнит» на Революционной закрылся на ремонт",
        "Жители Автозаводского района жалуются на связь МТС",
    ]
    assert batch.warnings == []


def test_windows_1251_feed_without_any_declared_charset_is_decoded(labelled_server):
    batch = crawl(labelled_server, served_as("forum-strahovanie.cp1251.xml", "text/xml"))
    [post] = batch.items
    assert post.title == "Ингосстрах затягивает выплату по ОСАГО"
    assert post.text.endswith("Ёлки-палки, сколько можно?")


def test_utf8_feed_labelled_windows_1251_is_decoded_as_utf8(labelled_server):
    # A host whose default charset is still windows-1251 (AddDefaultCharset) serving a UTF-8 blog.
    batch = crawl(labelled_server, served_as("blog.atom.xml", "application/atom+xml; charset=windows-1251"))
    assert by_title(batch, "Как МегаФон отвечает").author == "Ольга Смирнова"


def test_utf8_bom_wins_over_a_windows_1251_label(labelled_server):
    batch = crawl(labelled_server, served_as("press-center-bom.xml", "text/xml; charset=windows-1251"))
    [news] = batch.items
    assert news.title == "«Лента» снизила цены на 300 социально значимых товаров"


def test_a_letter_cut_in_half_does_not_garble_the_whole_feed(fixture_server):
    batch = crawl(fixture_server, "/feeds/forum-pokupateli-cut.xml")
    ozon = by_title(batch, "Озон потерял посылку")
    assert "поддержка отвечает шаблоном" in ozon.text
    assert by_title(batch, "Вайлдберриз начал брать плату").author == "Денис"


def test_entries_sharing_one_guid_are_told_apart_by_their_links(fixture_server):
    batch = crawl(fixture_server, "/feeds/retail-news-same-guid.xml")
    assert [item.external_id for item in batch.items] == [
        "https://retail-obzor.example.ru/news/perekrestok-dostavka-kazan",
        "https://retail-obzor.example.ru/news/ashan-ocheredi",
        "https://retail-obzor.example.ru/news/vkusvill-kofe",
    ]


def test_untitled_entries_without_guid_or_link_keep_distinct_stable_ids(fixture_server):
    first = crawl(fixture_server, "/feeds/shop-reviews-widget.xml")
    again = crawl(fixture_server, "/feeds/shop-reviews-widget.xml")
    ids = [item.external_id for item in first.items]
    assert len(set(ids)) == 2 and all(id_.startswith("sha1:") for id_ in ids)
    assert [item.external_id for item in again.items] == ids
    assert first.items[1].text.startswith("В Эльдорадо третий раз переносят доставку")


def test_an_impossible_gmt_offset_leaves_the_entry_and_its_date_to_feedparser():
    import feedparser

    from crawlers.rss import entry_to_item

    feed = feedparser.parse(
        "<rss version='2.0'><channel><item><title>Сбер</title><link>https://example.ru/1</link>"
        "<description>Сбербанк снова завис</description>"
        "<pubDate>Mon, 03 Mar 2025 09:15:00 GMT+30</pubDate></item></channel></rss>"
    )
    item = entry_to_item(feed.entries[0], "news", "https://example.ru/rss", datetime(2025, 3, 4, tzinfo=UTC))
    assert item is not None and "Сбербанк снова завис" in item.text


def test_entries_sharing_the_home_page_link_without_guid_stay_distinct(fixture_server):
    # Every entry links to https://volga-motors.example.ru/; one is printed twice, word for word.
    batch = crawl(fixture_server, "/feeds/dealer-news-home-links.xml")
    assert [item.title for item in batch.items] == [
        "Сервис LADA работает в выходные",
        "Задержка поставок LADA Vesta",
        "Режим работы в праздники",
        "Режим работы в праздники",
        "Отзывная кампания LADA Granta",
    ]
    assert {item.url for item in batch.items} == {"https://volga-motors.example.ru/"}
    assert len({item.external_id for item in batch.items}) == 5


def test_entries_sharing_a_link_keep_their_ids_from_run_to_run(fixture_server):
    first = crawl(fixture_server, "/feeds/dealer-news-home-links.xml")
    url = fixture_server.url("/feeds/dealer-news-home-links.xml")
    again = crawl(fixture_server, "/feeds/dealer-news-home-links.xml", cursor={"feeds": {url: {"seen": []}}})
    assert [item.external_id for item in again.items] == [item.external_id for item in first.items]
    state = first.cursor["feeds"][url]
    assert (
        crawl(fixture_server, "/feeds/dealer-news-home-links.xml", cursor={"feeds": {url: state}}).items == []
    )


def category_feed(entries: int | None = None) -> bytes:
    """dealer-news-home-links.xml with every link on /news/ (a category page, not the home page),
    cut to its first `entries` entries."""
    feed = (FEEDS / "dealer-news-home-links.xml").read_text(encoding="utf-8")
    feed = feed.replace(
        "<link>https://volga-motors.example.ru/</link>\n      <desc",
        "<link>https://volga-motors.example.ru/news/</link>\n      <desc",
    )
    if entries is not None:
        head, *items = feed.split("<item>")
        feed = "<item>".join([head, *items[:entries]]) + "</channel></rss>"
    return feed.encode()


@pytest.fixture
def changing_feed() -> Iterator[tuple[LocalServer, dict[str, bytes]]]:
    """/feeds/category.xml answering whatever the test puts in the dict under "body"."""
    served: dict[str, bytes] = {}

    def answer(request: BaseHTTPRequestHandler) -> Response:
        return Response(200, served["body"], {"Content-Type": "application/rss+xml; charset=utf-8"})

    with LocalServer(routes={"/feeds/": answer}) as server:
        yield server, served


def test_entries_without_guid_sharing_a_page_link_are_told_apart_by_content(changing_feed):
    server, served = changing_feed
    served["body"] = category_feed()
    assert served["body"].count(b"/news/</link>") == 6
    batch = crawl(server, "/feeds/category.xml")
    assert len(batch.items) == 5
    assert len({item.external_id for item in batch.items}) == 5


def test_an_entry_told_apart_by_content_is_still_seen_when_alone_on_its_link(changing_feed):
    server, served = changing_feed
    served["body"] = category_feed()
    cursor = crawl(server, "/feeds/category.xml").cursor
    # The CMS now lists a single entry: its link alone would identify it, but it was read already.
    served["body"] = category_feed(entries=1)
    assert [item.title for item in crawl(server, "/feeds/category.xml").items] == [
        "Сервис LADA работает в выходные"
    ]
    assert crawl(server, "/feeds/category.xml", cursor=cursor).items == []


def test_placeholder_and_absurd_dates_are_treated_as_unknown(fixture_server):
    before = datetime.now(UTC).replace(microsecond=0)
    batch = crawl(fixture_server, "/feeds/city-portal-placeholder-dates.xml")
    dates = {item.external_id: item.published_at for item in batch.items}
    # 1 January 1970 (date('r', 0), dc:date of epoch 0), a typo'd 1926 and 2062: the fetch time.
    for placeholder in ("zp-12055", "zp-12056", "zp-12057", "zp-12058"):
        assert dates[placeholder] is not None
        assert before <= dates[placeholder] <= datetime.now(UTC), placeholder
    assert dates["zp-12059"] == datetime(2026, 11, 22, 8, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    "content_type", ["text/xml", "application/rss+xml", "application/rss+xml; charset=iso-8859-1"]
)
def test_koi8r_feed_without_a_declared_charset_is_decoded(labelled_server, content_type):
    # No encoding in <?xml?>, and no charset or only a server's Latin default in the header.
    batch = crawl(labelled_server, served_as("forum-vaz.koi8r.xml", content_type))
    gearbox = by_title(batch, "АвтоВАЗ не признаёт гарантийный случай")
    assert gearbox.author == "Михалыч"
    assert "Кто судился с АвтоВАЗом" in gearbox.text
    assert by_title(batch, "Ёлочка на приборке").author == "Шурик_63"


def test_koi8r_feed_labelled_koi8r_is_decoded(labelled_server):
    batch = crawl(labelled_server, served_as("forum-vaz.koi8r.xml", "application/rss+xml; charset=KOI8-R"))
    assert by_title(batch, "АвтоВАЗ не признаёт гарантийный случай").author == "Михалыч"


def test_utf16_feed_with_a_bom_is_decoded(labelled_server):
    batch = crawl(labelled_server, served_as("forum-vaz.utf16.xml", "text/xml"))
    assert by_title(batch, "Ёлочка на приборке").author == "Шурик_63"
    assert batch.warnings == []
