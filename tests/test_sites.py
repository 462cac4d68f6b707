"""Review sites and forums: presets, pagination, incremental crawls and misbehaving servers.

Every crawl here is real: SiteCrawler starts `python -m crawlers.sites.runner`, which runs Scrapy
against LocalServer serving tests/fixtures/sites (pages shaped like otzovik, banki.ru, irecommend,
phpBB 3.0 and 3.x, XenForo 1 and 2, and banki.ru's list API answers under banki/api/) plus the
fault routes of tests/support/faults.py. delay=0 turns politeness waits
off. Crawls whose results several tests read run once per module, side by side.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from parsel import Selector

from crawlers.base import Batch
from crawlers.sites import RUNNER_COMMAND, SiteCrawler, last_error_line, parse_runner_output
from crawlers.sites.extract import parse_rating, rating_value, text_value
from crawlers.sites.json_listing import field_text, html_text, next_page_url
from crawlers.sites.middlewares import crawl_settings
from crawlers.sites.rules import preset_names, resolve_rules, selector_alternatives
from monitor.config import BrandConfig, SiteSource
from monitor.errors import (
    ConfigError,
    SourceAuthError,
    SourceError,
    SourceFormatError,
    SourceRateLimited,
    SourceUnavailable,
)
from monitor.local_server import LocalServer, Response
from tests.support.faults import fault_routes

FIXTURES = Path(__file__).parent / "fixtures" / "sites"
DEMO_SITE = Path(__file__).parent.parent / "monitor" / "demo_site"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

OTZOVIK = "/otzovik/reviews/sberbank_rossii/"
OTZOVIK_PAGE_2 = "/otzovik/reviews/sberbank_rossii/2/"
PHPBB = "/forum/viewtopic-t1234.html"
BANKI_API = "/banki/services/responses/list/ajax/"
XENFORO_1 = "/xf1/threads/beeline-internet.3310/"


def site(server: LocalServer, *paths: str, name: str = "test-site", **settings: Any) -> SiteSource:
    return SiteSource(
        type="site", name=name, start_urls=[server.url(path) for path in paths], delay=0, **settings
    )


def crawl(source: SiteSource, cursor: dict[str, Any] | None = None, **crawler_options: Any) -> Batch:
    return SiteCrawler(clock=lambda: NOW, **crawler_options).fetch(source, cursor, [])


@pytest.fixture(scope="module", autouse=True)
def no_http_cache() -> Iterator[None]:
    # The crawl subprocess inherits the environment: a developer's cache must not replay old pages.
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("BRANDPULSE_HTTPCACHE", raising=False)
        yield


def banki_list_api(request: Any) -> Response:
    """banki.ru's /services/responses/list/ajax/?bank=...&page=N: the fixture page N as JSON."""
    query = dict(parse_qsl(urlsplit(request.path).query))
    page = FIXTURES / "banki" / "api" / f"responses-list-page-{query.get('page', '1')}.json"
    body = page.read_bytes() if page.is_file() else b'{"data": [], "hasMorePages": false}'
    return Response(200, body, {"Content-Type": "application/json; charset=utf-8"})


def routes() -> dict[str, Any]:
    return {**fault_routes(), BANKI_API: banki_list_api}


@pytest.fixture(scope="module")
def shared_server() -> Iterator[LocalServer]:
    with LocalServer(FIXTURES, routes=routes()) as server:
        yield server


@pytest.fixture()
def server() -> Iterator[LocalServer]:
    """A server of the test's own, for tests that count requests."""
    with LocalServer(FIXTURES, routes=routes()) as own:
        yield own


@pytest.fixture(scope="module")
def batches(shared_server: LocalServer) -> dict[str, Batch]:
    """The read-only crawls, run in parallel (each is its own subprocess)."""
    s = shared_server
    sources = {
        "otzovik": site(s, OTZOVIK, preset="otzovik"),
        "banki": site(s, "/banki/services/responses/bank/alfabank/", preset="banki", max_pages=1),
        "irecommend": site(s, "/irecommend/content/magazin-pyaterochka", preset="irecommend", max_pages=1),
        "phpbb": site(s, PHPBB, preset="phpbb"),
        "xenforo": site(s, "/xenforo/threads/rabota-kassirov-v-magnite.5521.html", preset="xenforo"),
        "xenforo1": site(s, XENFORO_1, preset="xenforo"),
        "banki_api": site(s, BANKI_API + "?bank=alfabank&is_countable=on&page=1", preset="banki_api"),
        "phpbb30": site(s, "/oldforum/viewtopic-t77.html", preset="phpbb"),
        "cp1251": site(s, "/oldforum/viewtopic-t531.cp1251.html", preset="phpbb"),
        "broken": site(s, "/broken/otzovik-perekrestok.html", preset="otzovik", max_pages=1),
        "changed": site(s, OTZOVIK, "/changed/otzovik-sberbank-2027.html", preset="otzovik", max_pages=1),
        # One crawl through the faults: the good page must survive them all.
        "faulty": site(
            s,
            OTZOVIK,
            "/status/500?case=faulty",
            "/big/10",
            "/private/otzovik-hidden.html",
            "/delay/5",
            preset="otzovik",
            max_pages=1,
            max_bytes=1_000_000,
            timeout=1,
        ),
    }
    cursors = {"otzovik": {"seen": ["older-1", "older-2"]}}  # ids from an earlier crawl, not on the pages
    with ThreadPoolExecutor(max_workers=len(sources)) as pool:
        futures = {key: pool.submit(crawl, source, cursors.get(key)) for key, source in sources.items()}
        return {key: future.result() for key, future in futures.items()}


def by_id(batch: Batch, external_id: str) -> Any:
    return next(item for item in batch.items if item.external_id == external_id)


# --- presets ---------------------------------------------------------------------------------------


def test_otzovik_preset_reads_author_date_rating_title_and_absolute_url(
    batches: dict[str, Batch], shared_server: LocalServer
) -> None:
    first = batches["otzovik"].items[0]
    assert first.author == "marina_k"
    assert first.published_at == datetime(2026, 11, 21, 16, 42, tzinfo=UTC)
    assert first.rating == 1.0
    assert first.title == "Сбербанк России - Заблокировали карту без объяснений"
    assert first.url == shared_server.url("/otzovik/review_15873412.html")
    assert first.external_id == first.url
    assert first.kind == "review"


def test_otzovik_date_falls_back_to_the_visible_text(batches: dict[str, Batch]) -> None:
    # The third review has no content="" attribute, only "18 ноя 2026".
    assert batches["otzovik"].items[2].published_at == datetime(2026, 11, 17, 21, 0, tzinfo=UTC)


def test_item_text_keeps_blocks_as_lines_and_collapses_spaces(batches: dict[str, Batch]) -> None:
    assert batches["otzovik"].items[0].text == (
        "Достоинства: Отделения в каждом районе\n"
        "Недостатки: Блокировки, поддержка отвечает шаблонами\n"
        "Перевела сестре 40 000 рублей, и через минуту карту заблокировали «до выяснения».\n"
        "В чате три дня присылали одно и то же сообщение. В отделении сказали ждать.\n"
        "Зарплата пришла, а снять её не могу."
    )


def test_banki_preset_reads_grade_attribute_and_date(
    batches: dict[str, Batch], shared_server: LocalServer
) -> None:
    batch = batches["banki"]
    assert [item.rating for item in batch.items][:3] == [1.0, 5.0, 3.0]
    first = batch.items[0]
    assert first.title == "Заблокировали счёт ИП по 115-ФЗ"
    assert first.author == "ip_sergeev"
    assert first.published_at == datetime(2026, 11, 22, 15, 47, tzinfo=UTC)
    assert first.url == shared_server.url("/banki/services/responses/bank/response/12044871/")
    assert first.text.startswith("Открыл счёт для ИП в феврале")


def test_banki_preset_reads_the_grade_component_when_the_item_has_no_grade_attribute(
    batches: dict[str, Batch],
) -> None:
    # <div class="Grade__sc-m0t12o-0 …" value="2">2</div>, no data-test-grade on the item.
    last = batches["banki"].items[-1]
    assert (last.title, last.rating) == ("Навязали страховку к кредитной карте", 2.0)


def test_banki_api_preset_reads_reviews_from_the_list_api(
    batches: dict[str, Batch], shared_server: LocalServer
) -> None:
    first = batches["banki_api"].items[0]
    assert first.title == "Приложение не пускает после обновления"
    assert (first.author, first.rating, first.kind) == ("dmitry_nsk", 1.0, "review")
    assert first.published_at == datetime(2026, 11, 23, 7, 41, 7, tzinfo=UTC)  # 10:41:07 in Moscow
    # The API's host serves the review pages too: /services/… is from the site's root, here and live.
    assert first.url == shared_server.url("/services/responses/bank/response/12051288/")
    assert first.external_id == first.url


def test_banki_api_text_html_becomes_lines_of_plain_text(batches: dict[str, Batch]) -> None:
    assert batches["banki_api"].items[0].text == (
        "После вчерашнего обновления приложение на Android просит код из СМС, а СМС не приходит.\n"
        'В поддержке предложили "переустановить" — не помогло.\n'
        "Три дня без доступа к счёту."
    )


def test_banki_api_review_without_a_grade_has_no_rating(batches: dict[str, Batch]) -> None:
    review = next(item for item in batches["banki_api"].items if item.author == "kostya_ekb")
    assert review.rating is None and review.text.startswith("Кешбэк за ноябрь")


def test_banki_api_pages_while_it_says_it_has_more(
    batches: dict[str, Batch], shared_server: LocalServer
) -> None:
    assert [item.rating for item in batches["banki_api"].items] == [1.0, 5.0, None, 2.0, 4.0]
    asked = [path for path in shared_server.requests if path.startswith(BANKI_API)]
    assert asked == [
        BANKI_API + "?bank=alfabank&is_countable=on&page=1",
        BANKI_API + "?bank=alfabank&is_countable=on&page=2",
    ]  # page 2 said hasMorePages: false


def test_list_api_answering_a_page_that_is_not_json_is_a_format_error(server: LocalServer) -> None:
    # An error page; a captcha instead of the answer is "blocked" (tests/test_sites_as_they_answer.py).
    server.routes["/maintenance/"] = lambda request: Response(
        200, "<html><body>Сервис временно недоступен</body></html>".encode()
    )
    with pytest.raises(SourceFormatError, match=r"not JSON .*it starts '<html><body>"):
        crawl(site(server, "/maintenance/?page=1", preset="banki_api"))


def test_irecommend_preset_counts_lit_stars_not_the_widget_size(batches: dict[str, Batch]) -> None:
    # Every widget is "fivestarWidgetStatic-5" (five stars drawn); the rating is how many are lit.
    assert [item.rating for item in batches["irecommend"].items] == [1.0, 4.0, 2.0]


def test_irecommend_preset_reads_the_product_list_not_other_products_teasers(
    batches: dict[str, Batch],
) -> None:
    batch = batches["irecommend"]
    assert [item.author for item in batch.items] == ["Ольга С.", "Макс_Пермь", "Татьяна 1975"]
    assert batch.items[0].published_at == datetime(2026, 11, 22, 17, 14, tzinfo=UTC)
    assert batch.items[1].published_at == datetime(2026, 11, 18, 21, 0, tzinfo=UTC)
    assert batch.items[2].title == "Доставка опоздала на два часа"


def test_phpbb_preset_reads_posts_with_permalinks_and_post_ids(
    batches: dict[str, Batch], shared_server: LocalServer
) -> None:
    post = by_id(batches["phpbb"], "p88427")
    assert post.author == "pensioner_63"
    assert post.published_at == datetime(2026, 11, 21, 5, 3, tzinfo=UTC)
    assert post.url == shared_server.url("/forum/viewtopic.php?p=88427#p88427")
    assert post.title == "Re: Вклад в Тинькофф или ВТБ?"
    assert post.kind == "post"
    assert "обсчитали на обмене валюты" in post.text


def test_xenforo_preset_reads_author_attribute_and_iso_time(
    batches: dict[str, Batch], shared_server: LocalServer
) -> None:
    batch = batches["xenforo"]
    assert [item.external_id for item in batch.items] == ["post-120455", "post-120470", "post-120488"]
    second = batch.items[1]
    assert second.author == "Olga_Vladimirovna"
    assert second.published_at == datetime(2026, 11, 20, 6, 2, tzinfo=UTC)
    assert second.url == shared_server.url("/xenforo/threads/rabota-kassirov-v-magnite.5521/post-120470")
    assert second.text.startswith("Вчера в «Магните» у метро обсчитали")


def test_xenforo_preset_reads_xenforo_1_threads(
    batches: dict[str, Batch], shared_server: LocalServer
) -> None:
    batch = batches["xenforo1"]
    assert [item.external_id for item in batch.items] == ["post-88120", "post-88157", "post-88203"]
    assert [item.author for item in batch.items] == ["Алексей_М", "Irina_T", "Сергей Тлт"]
    second = batch.items[1]
    # Links are relative to <base href="/xf1/">, not to the thread's URL.
    assert second.url == shared_server.url("/xf1/posts/88157/")
    assert "начались обрывы по вечерам" in second.text


def test_xenforo_1_dates_come_from_the_unix_time_or_the_title(batches: dict[str, Batch]) -> None:
    first, second, third = batches["xenforo1"].items
    assert first.published_at == datetime(2026, 10, 12, 16, 20, tzinfo=UTC)  # title="12 окт 2026 в 19:20"
    assert second.published_at == datetime(2026, 11, 22, 15, 30, tzinfo=UTC)  # data-time, "Вчера в 18:30"
    assert third.published_at == datetime(2026, 11, 23, 8, 15, tzinfo=UTC)


def test_phpbb_30_topic_follows_the_page_link_after_the_current_page(batches: dict[str, Batch]) -> None:
    # phpBB 3.0 has no "next" link: <strong>1</strong><span class="page-sep">, </span><a …>2</a>.
    posts = batches["phpbb30"].items
    assert [post.external_id for post in posts] == ["p1201", "p1204", "p1209", "p1215", "p1222"]
    assert posts[0].published_at == datetime(2026, 11, 18, 16, 44, tzinfo=UTC)  # "18 ноя 2026, 19:44"
    assert posts[4].author == "Наталья_К"


def test_every_preset_has_an_item_and_a_text_selector() -> None:
    source_for = {
        name: SiteSource(type="site", name="x", preset=name, start_urls=["http://x/"])
        for name in preset_names()
    }
    assert set(source_for) >= {"otzovik", "irecommend", "banki", "phpbb", "xenforo"}
    for source in source_for.values():
        rules = resolve_rules(source, [])
        assert rules.item and rules.fields.text


# --- pages and paging ------------------------------------------------------------------------------


def test_pagination_follows_the_next_page_link(batches: dict[str, Batch]) -> None:
    otzovik_pages = {item.extra["page_url"].split("/otzovik")[1] for item in batches["otzovik"].items}
    assert len(batches["otzovik"].items) == 7
    assert otzovik_pages == {"/reviews/sberbank_rossii/", "/reviews/sberbank_rossii/2/"}
    assert len(batches["phpbb"].items) == 6


def test_pagination_stops_at_max_pages(server: LocalServer) -> None:
    batch = crawl(site(server, OTZOVIK, preset="otzovik", max_pages=1))
    assert len(batch.items) == 4
    assert OTZOVIK_PAGE_2 not in server.requests


def test_incremental_crawl_stops_at_a_page_of_already_seen_items(server: LocalServer) -> None:
    first = crawl(site(server, OTZOVIK, preset="otzovik"))
    pages_before = server.requests.count(OTZOVIK_PAGE_2)

    again = crawl(site(server, OTZOVIK, preset="otzovik"), first.cursor)

    assert again.items == []
    assert server.requests.count(OTZOVIK_PAGE_2) == pages_before  # page 2 not fetched again
    assert again.cursor["seen"] == first.cursor["seen"]


def test_forum_topic_oldest_first_is_walked_even_when_its_first_page_is_known(server: LocalServer) -> None:
    first = crawl(site(server, PHPBB, preset="phpbb"))
    again = crawl(site(server, PHPBB, preset="phpbb"), first.cursor)
    assert again.items == []
    assert server.requests.count("/forum/viewtopic-t1234-start4.html") == 2  # new posts land on the last page


def test_cursor_lists_new_ids_before_the_ones_seen_before(batches: dict[str, Batch]) -> None:
    batch = batches["otzovik"]
    assert batch.cursor["seen"] == [item.external_id for item in batch.items] + ["older-1", "older-2"]


def test_changed_layout_is_a_warning_naming_selector_and_url(
    batches: dict[str, Batch], shared_server: LocalServer
) -> None:
    batch = batches["changed"]
    assert len(batch.items) == 4  # the page with the old layout still counts
    assert batch.warnings == [
        "test-site: no items matched selector "
        "\".review-list-chunk .item, [itemprop='review'][itemtype*='schema.org/Review']\" on "
        f"{shared_server.url('/changed/otzovik-sberbank-2027.html')} (layout changed?)"
    ]


def test_broken_markup_still_yields_each_review_with_its_own_text(batches: dict[str, Batch]) -> None:
    first, second = batches["broken"].items
    # An unclosed <div> nests the second review inside the first; each keeps its own fields.
    assert first.author == "svetik_77" and second.author == "oleg_tlt"
    assert first.text.startswith("Взяла йогурт, а срок годности вышел позавчера.")
    assert "Доставили" not in first.text
    assert first.title == "Перекрёсток - Хамство кассира и просрочка на полке"
    assert (first.rating, second.rating) == (1.0, 5.0)


def test_windows_1251_page_is_decoded(batches: dict[str, Batch]) -> None:
    posts = batches["cp1251"].items
    assert [post.author for post in posts] == ["Сергей_Воронеж", "Ёжик", "Людмила"]
    assert posts[1].text.startswith("В «Мегаполис-Авто» мне при замене масла поцарапали бампер")


def test_old_phpbb_text_date_is_found_among_author_words(batches: dict[str, Batch]) -> None:
    # phpBB 3.0 prints "автор Ёжик » Вт ноя 17, 2026 08:05" and has no <time>.
    assert batches["cp1251"].items[1].published_at == datetime(2026, 11, 17, 5, 5, tzinfo=UTC)


def test_item_without_url_gets_a_content_hash_id(server: LocalServer) -> None:
    source = site(server, PHPBB, preset="phpbb", max_pages=1, fields={"url": None, "external_id": None})
    ids = [item.external_id for item in crawl(source).items]
    assert all(external_id.startswith("sha1:") for external_id in ids)
    assert len(set(ids)) == 4


# --- politeness and failures -----------------------------------------------------------------------


def test_robots_txt_disallowed_page_is_not_fetched(
    batches: dict[str, Batch], shared_server: LocalServer
) -> None:
    # Five start URLs wait together for robots.txt: Scrapy ≥ 2.13 let all but one of them through.
    assert "/private/otzovik-hidden.html" not in shared_server.requests
    hidden = shared_server.url("/private/otzovik-hidden.html")
    assert f"test-site: {hidden}: forbidden by robots.txt (obey_robots: true)" in batches["faulty"].warnings


def test_robots_txt_is_ignored_when_the_source_says_so(server: LocalServer) -> None:
    batch = crawl(site(server, "/private/otzovik-hidden.html", preset="otzovik", obey_robots=False))
    assert [item.title for item in batch.items] == ["Сбербанк России - Закрытый отзыв"]


def test_source_whose_every_page_robots_txt_forbids_is_an_auth_error(server: LocalServer) -> None:
    with pytest.raises(SourceAuthError, match="forbidden by robots.txt"):
        crawl(site(server, "/private/otzovik-hidden.html", preset="otzovik"))


def test_server_error_is_retried_then_warned_while_other_pages_are_crawled(
    batches: dict[str, Batch], shared_server: LocalServer
) -> None:
    assert shared_server.requests.count("/status/500?case=faulty") == 4  # 1 + RETRY_TIMES
    assert f"test-site: {shared_server.url('/status/500?case=faulty')}: HTTP 500 after 3 retries" in (
        batches["faulty"].warnings
    )
    assert len(batches["faulty"].items) == 4


def test_endless_redirects_are_a_warning_per_url_while_other_pages_are_crawled(server: LocalServer) -> None:
    # A page redirecting to itself (the duplicate filter ends it) and a chain of new URLs without
    # end (Scrapy's redirect limit ends it), next to a good page.
    batch = crawl(site(server, OTZOVIK, "/redirect-loop", "/redirect-chain/1", preset="otzovik", max_pages=1))
    assert len(batch.items) == 4
    loop = [w for w in batch.warnings if server.url("/redirect-loop") in w]
    chain = [w for w in batch.warnings if server.url("/redirect-chain/1") + ":" in w]
    assert len(loop) == 1 and "redirects in a loop" in loop[0]
    assert len(chain) == 1 and "redirects without end (gave up after 20 redirects" in chain[0]
    assert len(batch.warnings) == 2
    # The chain was followed to Scrapy's limit, not for ever: the first page and 20 redirects.
    assert sum(path.startswith("/redirect-chain/") for path in server.requests) == 21


def test_page_larger_than_max_bytes_is_skipped_with_a_warning(
    batches: dict[str, Batch], shared_server: LocalServer
) -> None:
    assert (
        f"test-site: {shared_server.url('/big/10')}: page larger than max_bytes (1000000 bytes), skipped"
        in batches["faulty"].warnings
    )


def test_slow_page_times_out_after_source_timeout(
    batches: dict[str, Batch], shared_server: LocalServer
) -> None:
    assert f"test-site: {shared_server.url('/delay/5')}: no answer within 1 s after 3 retries" in (
        batches["faulty"].warnings
    )


def test_rate_limited_page_is_retried_after_retry_after(server: LocalServer) -> None:
    arrivals: list[float] = []
    limiter = server.routes["/retry-after/"]
    server.routes["/retry-after/"] = lambda request: (arrivals.append(time.monotonic()), limiter(request))[1]
    source = site(server, "/retry-after/1?case=honour", item="body", fields={"text": "p"})

    batch = crawl(source)

    assert [item.text for item in batch.items] == ["OK after waiting"]
    assert len(arrivals) == 2 and arrivals[1] - arrivals[0] >= 0.9


def test_source_that_stays_rate_limited_raises_source_rate_limited(server: LocalServer) -> None:
    source = site(server, "/retry-after/600?case=long&times=9", item="body", fields={"text": "p"})
    with pytest.raises(SourceRateLimited, match="the server asks to wait 600 s"):
        crawl(source)
    assert server.requests.count("/retry-after/600?case=long&times=9") == 1  # not waited out, not hammered


def test_source_whose_pages_all_fail_raises_source_unavailable(server: LocalServer) -> None:
    with pytest.raises(SourceUnavailable, match=r"no page could be fetched: .*/status/404: HTTP 404"):
        crawl(site(server, "/status/404", preset="otzovik"))


def test_crawl_running_past_the_wall_clock_limit_is_stopped(server: LocalServer) -> None:
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="did not finish within 2 s"):
        crawl(site(server, "/delay/20", preset="otzovik", timeout=60), time_limit=2)
    assert time.monotonic() - started < 10


def test_crashing_runner_becomes_source_error_with_its_last_error_line() -> None:
    traceback = 'Traceback (most recent call last):\\n  File "runner.py"\\nKeyError: rules\\n'
    crash = f"import sys; sys.stderr.write('{traceback}'); sys.exit(3)"
    source = SiteSource(type="site", name="crashy", preset="otzovik", start_urls=["http://127.0.0.1:9/"])
    with pytest.raises(SourceError) as caught:
        SiteCrawler(runner=[sys.executable, "-c", crash]).fetch(source, None, [])
    assert str(caught.value) == "crashy: site crawler failed (exit status 3): KeyError: rules"


def test_runner_whose_spider_cannot_start_exits_non_zero_with_the_reason() -> None:
    source = SiteSource(type="site", name="x", preset="otzovik", start_urls=["http://127.0.0.1:9/"])
    rules = resolve_rules(source, []).to_dict() | {"timezone": "Mars/Olympus"}
    request = json.dumps({"rules": rules, "seen": [], "now": NOW.isoformat()})
    run = subprocess.run(RUNNER_COMMAND, input=request, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and run.stdout == ""
    assert last_error_line(run.stderr).startswith("ValueError: unknown timezone 'Mars/Olympus'")


def test_configuration_error_surfaces_as_source_error_before_any_request() -> None:
    source = SiteSource(type="site", name="no-rules", start_urls=["http://127.0.0.1:9/"])
    with pytest.raises(SourceError, match="^no-rules: 'item' is not set"):
        SiteCrawler(runner=[sys.executable, "-c", "raise SystemExit('must not run')"]).fetch(source, None, [])


# --- rules -----------------------------------------------------------------------------------------


def test_search_url_expands_once_per_brand_term_url_encoded() -> None:
    source = SiteSource(
        type="site", name="search", preset="otzovik", search_url="https://otzovik.com/?search_text={query}"
    )
    brands = [
        BrandConfig(name="ВкусМаркет", aliases=["Vkusmarket", "Вкус Маркет"]),
        BrandConfig(name="Магнит", competitor=True),
    ]
    assert resolve_rules(source, brands).start_urls == (
        "https://otzovik.com/?search_text=%D0%92%D0%BA%D1%83%D1%81%D0%9C%D0%B0%D1%80%D0%BA%D0%B5%D1%82",
        "https://otzovik.com/?search_text=Vkusmarket",
        "https://otzovik.com/?search_text=%D0%92%D0%BA%D1%83%D1%81%20%D0%9C%D0%B0%D1%80%D0%BA%D0%B5%D1%82",
        "https://otzovik.com/?search_text=%D0%9C%D0%B0%D0%B3%D0%BD%D0%B8%D1%82",
    )


def test_source_settings_override_the_preset() -> None:
    source = SiteSource(
        type="site",
        name="custom",
        preset="otzovik",
        start_urls=["http://x/"],
        fields={"text": ".review-body"},
        next_page="a.next::attr(href)",
        date_format="%d.%m.%Y",
    )
    rules = resolve_rules(source, [])
    assert rules.fields.text == ".review-body"
    assert rules.fields.author == ".user-login [itemprop='name']::text, .user-login ::text"  # from the preset
    assert rules.next_page == "a.next::attr(href)"
    assert rules.date_format == "%d.%m.%Y"


def test_null_in_the_source_drops_the_preset_selector() -> None:
    source = SiteSource(
        type="site", name="no-rating", preset="otzovik", start_urls=["http://x/"], fields={"rating": None}
    )
    assert resolve_rules(source, []).fields.rating is None


def test_missing_text_selector_is_a_config_error_naming_source_and_key() -> None:
    source = SiteSource(type="site", name="blog", start_urls=["http://x/"], item="article")
    with pytest.raises(ConfigError, match=r"^source 'blog': 'fields.text' is not set"):
        resolve_rules(source, [])


def test_unknown_preset_is_a_config_error_listing_the_known_ones() -> None:
    source = SiteSource(type="site", name="typo", preset="otzovk", start_urls=["http://x/"])
    with pytest.raises(
        ConfigError,
        match=r"unknown preset 'otzovk' \(known: banki, banki_api, irecommend, otzovik, phpbb, rutracker, "
        r"sravni_api, xenforo\)",
    ):
        resolve_rules(source, [])


def test_count_is_a_config_error_outside_the_rating_field() -> None:
    source = SiteSource(
        type="site",
        name="stars",
        preset="irecommend",
        start_urls=["http://x/"],
        fields={"title": "h2::count"},
    )
    with pytest.raises(ConfigError, match=r"^source 'stars': fields.title: ::count counts stars"):
        resolve_rules(source, [])


def test_json_preset_fields_are_key_paths_not_css() -> None:
    def api(url_field: str) -> SiteSource:
        return SiteSource(
            type="site", name="api", preset="banki_api", start_urls=["http://x/"], fields={"url": url_field}
        )

    assert resolve_rules(api("/r/{id}/"), []).format == "json"  # not valid CSS, a fine template
    with pytest.raises(ConfigError, match=r"^source 'api': fields.url: not a key path or template"):
        resolve_rules(api("/r/{id"), [])


def test_invalid_css_selector_is_a_config_error_naming_the_key() -> None:
    source = SiteSource(
        type="site", name="bad-css", preset="otzovik", start_urls=["http://x/"], fields={"title": "h3 >> a"}
    )
    with pytest.raises(ConfigError, match=r"^source 'bad-css': fields.title: not a valid CSS selector"):
        resolve_rules(source, [])


# --- Scrapy settings (pure) ------------------------------------------------------------------------


def test_crawl_settings_carry_the_source_limits_and_politeness() -> None:
    source = SiteSource(
        type="site", name="polite", preset="otzovik", start_urls=["http://x/"], timeout=7, max_bytes=123_456
    )
    settings = crawl_settings(resolve_rules(source, []))
    assert settings["USER_AGENT"] == "brandpulse/0.1 (+https://github.com/brandpulse/brandpulse)"
    assert settings["ROBOTSTXT_OBEY"] is True
    assert (settings["DOWNLOAD_TIMEOUT"], settings["DOWNLOAD_MAXSIZE"]) == (7, 123_456)
    assert (settings["DOWNLOAD_DELAY"], settings["AUTOTHROTTLE_ENABLED"]) == (1.0, True)
    assert settings["RETRY_TIMES"] == 3 and 429 in settings["RETRY_HTTP_CODES"]
    assert (settings["LOG_LEVEL"], settings["TELNETCONSOLE_ENABLED"]) == ("WARNING", False)
    assert "HTTPCACHE_ENABLED" not in settings


def test_http_cache_is_on_when_brandpulse_httpcache_is_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BRANDPULSE_HTTPCACHE", "1")
    monkeypatch.setenv("BRANDPULSE_HTTPCACHE_DIR", str(tmp_path))
    source = SiteSource(type="site", name="dev", preset="otzovik", start_urls=["http://x/"])
    settings = crawl_settings(resolve_rules(source, []))
    assert (settings["HTTPCACHE_ENABLED"], settings["HTTPCACHE_DIR"]) == (True, str(tmp_path))


# --- extraction and the runner protocol (pure) -----------------------------------------------------


def test_selector_alternatives_split_on_top_level_commas_only() -> None:
    assert selector_alternatives("a.title::text, [title='a, b'] ::text,h3::attr(data-x)") == [
        "a.title::text",
        "[title='a, b'] ::text",
        "h3::attr(data-x)",
    ]


def test_first_alternative_with_text_wins() -> None:
    node = Selector(text="<div><span class='a'> </span><b>Второй</b></div>")
    assert text_value(node, "span.a ::text, b ::text") == "Второй"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("4", 4.0),
        ("4,5", 4.5),
        ("Общий рейтинг: 3", 3.0),
        ("starsRating fivestarWidgetStatic-2", 2.0),
        ("нет оценки", None),
        (None, None),
    ],
)
def test_rating_is_the_first_number(value: str | None, expected: float | None) -> None:
    assert parse_rating(value) == expected


def test_bare_attr_reads_the_items_own_attribute_not_its_descendants() -> None:
    post = Selector(text='<li data-author="Ирина"><div data-author="Алексей">цитата</div></li>').css("li")[0]
    assert text_value(post, "::attr(data-author)") == "Ирина"


def test_rating_counts_lit_stars_and_falls_back_when_none_are_lit() -> None:
    stars = "<div class='stars'>" + "<i class='on'></i>" * 3 + "<i class='off'></i>" * 2 + "</div>"
    assert rating_value(Selector(text=stars), ".stars .on::count, .score ::text") == 3.0
    unlit = "<div class='stars'><i class='off'></i></div><b class='score'>Оценка: 4 из 5</b>"
    assert rating_value(Selector(text=unlit), ".stars .on::count, .score ::text") == 4.0


def test_json_template_field_is_none_when_a_key_is_missing() -> None:
    record = {"id": 12044871, "company": {"code": "alfabank"}}
    assert field_text(record, "/response/{id}/?bank={company.code}") == "/response/12044871/?bank=alfabank"
    assert field_text(record, "/response/{uuid}/") is None
    assert field_text(record, "company.name") is None


def test_json_html_text_keeps_paragraphs_and_breaks_as_lines() -> None:
    assert html_text("<p>Первый&nbsp;абзац</p><p>второй<br>третий</p>") == "Первый абзац\nвторой\nтретий"
    assert html_text("  просто   текст ") == "просто текст"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "http://x/api/?bank=vtb&page=3"),
        (False, None),
        (3, "http://x/api/?bank=vtb&page=3"),
        ("/api/?bank=vtb&cursor=abc", "http://x/api/?bank=vtb&cursor=abc"),
        (None, None),
    ],
)
def test_json_next_page_is_a_url_or_the_next_page_number(value: Any, expected: str | None) -> None:
    assert next_page_url({"more": value}, "more", "http://x/api/?page=2&bank=vtb") == expected


def test_runner_output_counts_lines_that_are_not_ours() -> None:
    stdout = "\n".join(
        [
            json.dumps({"item": {"external_id": "1"}}),
            "DEBUG: something printed",
            json.dumps({"warning": "w"}),
            json.dumps({"done": {"pages_ok": 1}}),
            "",
        ]
    )
    output = parse_runner_output(stdout)
    assert (len(output.items), output.warnings, output.done, output.stray_lines) == (
        1,
        ["w"],
        {"pages_ok": 1},
        1,
    )


def test_last_error_line_is_the_exception_line_of_a_traceback() -> None:
    stderr = (
        'Traceback (most recent call last):\n  File "a.py", line 1\nValueError: bad rules\nINFO: closing\n'
    )
    assert last_error_line(stderr) == "ValueError: bad rules"


# --- the demo site ---------------------------------------------------------------------------------


def test_demo_pages_parse_with_the_presets() -> None:
    with LocalServer(DEMO_SITE) as demo:
        reviews = crawl(site(demo, "/otzovik/reviews/vkusmarket/", name="demo-otzovik", preset="otzovik"))
        forum = crawl(site(demo, "/forum/viewtopic-t42.html", name="demo-forum", preset="phpbb"))
    assert (len(reviews.items), len(forum.items)) == (14, 11)
    assert reviews.warnings == forum.warnings == []
    dates = [item.published_at for item in reviews.items + forum.items]
    assert all(date is not None and date.year == 2026 and date.month == 11 for date in dates)
