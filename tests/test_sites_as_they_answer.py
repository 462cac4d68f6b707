"""Sites as they really answer (issue 18): anti-bot pages, cookie-setting redirects, list APIs that
page by count, layouts the presets missed, and sources without a preset configured in YAML alone.

Real crawls as in tests/test_sites.py: SiteCrawler runs Scrapy in a subprocess against LocalServer
serving tests/fixtures/sites, plus routes imitating the sites' APIs and anti-bot steps.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from crawlers.antibot import anti_bot_check
from crawlers.sites.date_formats import parse_with_format
from crawlers.sites.json_listing import next_page_url
from crawlers.sites.rules import PagingRules, resolve_rules
from monitor.config import SiteSource
from monitor.errors import ConfigError, SourceBlocked, SourceUnavailable
from monitor.local_server import LocalServer, Response
from tests.support.faults import fault_routes
from tests.test_sites import FIXTURES, OTZOVIK, banki_list_api, crawl, site

BANKI_API = "/banki/services/responses/list/ajax/"
GUARDED_API = "/guarded/services/responses/list/ajax/"
LOOPING_API = "/looping/services/responses/list/ajax/"
TOTAL_ONLY_API = "/total-only/services/responses/list/ajax/"
SRAVNI_API = "/sravni/proxy-reviews/reviews"
BLOCKED = FIXTURES / "blocked"


@pytest.fixture(scope="module", autouse=True)
def no_http_cache() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("BRANDPULSE_HTTPCACHE", raising=False)
        yield


def html(path: str, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    body = (BLOCKED / path).read_bytes()
    return lambda request: Response(
        status, body, {"Content-Type": "text/html; charset=utf-8", **(headers or {})}
    )


def guarded_api(request: Any) -> Response:
    """banki.ru's anti-bot step: without the __hash_ cookie, 302 back to the same URL setting it."""
    if "__hash_=" in request.headers.get("Cookie", ""):
        return banki_list_api(request)
    return Response(302, b"", {"Location": request.path, "Set-Cookie": "__hash_=5f0c7a2e91d4; path=/"})


def looping_api(request: Any) -> Response:
    """A true loop: a new cookie and the same URL, however often it is asked."""
    looping_api.calls += 1  # type: ignore[attr-defined]
    cookie = f"__hash_={looping_api.calls:08x}; path=/"  # type: ignore[attr-defined]
    return Response(302, b"", {"Location": request.path, "Set-Cookie": cookie})


looping_api.calls = 0  # type: ignore[attr-defined]


def total_only_api(request: Any) -> Response:
    """banki.ru's answer with `total` and no `hasMorePages`: the same three reviews, new ids per page."""
    query = dict(parse_qsl(urlsplit(request.path).query))
    page = int(query.get("page", "1"))
    answer = json.loads((FIXTURES / "banki" / "api" / "responses-list-total-only.json").read_text("utf-8"))
    for record in answer["data"]:
        record["id"] -= 10 * (page - 1)
    if "total" in query:
        answer["total"] = int(query["total"])
    return Response(200, json.dumps(answer).encode(), {"Content-Type": "application/json"})


def sravni_api(request: Any) -> Response:
    """sravni.ru's review API: ?pageIndex=N (from 0) &pageSize=M -> {"items", "total", "pageIndex",
    "pageSize"}."""
    query = dict(parse_qsl(urlsplit(request.path).query))
    index, size = int(query.get("pageIndex", "0")), int(query.get("pageSize", "10"))
    everything = json.loads((FIXTURES / "sravni" / "reviews.json").read_text("utf-8"))
    items = everything["items"][index * size : (index + 1) * size]
    answer = {"items": items, "total": len(everything["items"]), "pageIndex": index, "pageSize": size}
    return Response(
        200, json.dumps(answer, ensure_ascii=False).encode(), {"Content-Type": "application/json"}
    )


@pytest.fixture()
def server() -> Iterator[LocalServer]:
    routes = {
        **fault_routes(),
        BANKI_API: banki_list_api,
        GUARDED_API: guarded_api,
        LOOPING_API: looping_api,
        TOTAL_ONLY_API: total_only_api,
        SRAVNI_API: sravni_api,
        "/captcha/smart": html("smartcaptcha.html"),
        "/captcha/ddos-guard": html("ddos-guard.html", 403, {"Server": "ddos-guard"}),
        "/captcha/qrator": html("qrator.html", 200, {"Server": "QRATOR"}),
        "/captcha/cloudflare": html(
            "cloudflare.html", 403, {"Server": "cloudflare", "cf-mitigated": "challenge"}
        ),
        "/maintenance/": lambda request: Response(
            200, "<html><body><h1>Сервис временно недоступен</h1></body></html>".encode()
        ),
    }
    with LocalServer(FIXTURES, routes=routes) as own:
        yield own


# --- 1. anti-bot answers are "blocked", not an empty listing ----------------------------------------


def test_captcha_page_served_with_200_is_blocked_not_an_empty_listing(server: LocalServer) -> None:
    with pytest.raises(SourceBlocked) as raised:
        crawl(site(server, "/captcha/smart", preset="otzovik"))
    assert "blocked by the site's anti-bot check (Yandex SmartCaptcha, HTTP 200, «Вы не робот?»)" in str(
        raised.value
    )
    assert "layout changed" not in str(raised.value)


@pytest.mark.parametrize(
    ("path", "check"),
    [
        ("/captcha/ddos-guard", "DDoS-Guard, HTTP 403"),
        ("/captcha/qrator", "Qrator, HTTP 200"),
        ("/captcha/cloudflare", "Cloudflare challenge, HTTP 403, «Just a moment...»"),
    ],
)
def test_protection_services_interstitials_are_blocked(server: LocalServer, path: str, check: str) -> None:
    with pytest.raises(SourceBlocked, match=f"blocked by the site's anti-bot check \\({check}"):
        crawl(site(server, path, preset="banki"))


def test_list_api_answering_a_captcha_page_is_blocked(server: LocalServer) -> None:
    with pytest.raises(SourceBlocked, match=r"Yandex SmartCaptcha"):
        crawl(site(server, "/captcha/smart?page=1", preset="banki_api"))


def test_list_api_answering_an_error_page_is_still_a_format_error_not_a_block(server: LocalServer) -> None:
    from monitor.errors import SourceFormatError

    with pytest.raises(SourceFormatError, match=r"not JSON .*Сервис временно недоступен"):
        crawl(site(server, "/maintenance/?page=1", preset="banki_api"))


def test_one_blocked_page_among_good_ones_is_a_warning_naming_it(server: LocalServer) -> None:
    batch = crawl(site(server, OTZOVIK, "/captcha/smart", preset="otzovik", max_pages=1))
    assert len(batch.items) == 4
    assert batch.warnings == [
        f"test-site: {server.url('/captcha/smart')}: blocked by the site's anti-bot check "
        "(Yandex SmartCaptcha, HTTP 200, «Вы не робот?»)"
    ]


def test_review_that_talks_about_captchas_is_read_not_taken_for_a_block(server: LocalServer) -> None:
    batch = crawl(site(server, "/otzovik/reviews/gosuslugi_ru/", preset="otzovik"))
    assert [item.title for item in batch.items] == ["Госуслуги - Капча на каждом шагу"]
    assert batch.warnings == []


def test_anti_bot_check_ignores_ordinary_pages_and_bare_server_headers() -> None:
    page = (FIXTURES / "otzovik" / "reviews" / "sberbank_rossii" / "index.html").read_text("utf-8")
    assert anti_bot_check(page, {"server": "ddos-guard"}, 200) is None
    assert anti_bot_check("", {"server": "ddos-guard"}, 403) == "DDoS-Guard"
    assert anti_bot_check("<html><body><h1>404</h1></body></html>", {}, 404) is None


# --- 2. a redirect that sets a cookie is followed once with it --------------------------------------


def test_redirect_to_the_same_url_setting_a_cookie_is_followed_with_the_cookie(server: LocalServer) -> None:
    batch = crawl(site(server, GUARDED_API + "?bank=alfabank&page=1", preset="banki_api"))
    assert [item.rating for item in batch.items] == [1.0, 5.0, None, 2.0, 4.0]
    assert batch.warnings == []
    asked = [path for path in server.requests if path.startswith(GUARDED_API)]
    # Page 1: once without the cookie (302), once with it; page 2 carries the cookie from the start.
    assert asked == [
        GUARDED_API + "?bank=alfabank&page=1",
        GUARDED_API + "?bank=alfabank&page=1",
        GUARDED_API + "?bank=alfabank&page=2",
    ]


def test_redirect_to_itself_that_sets_a_cookie_every_time_is_still_a_loop(server: LocalServer) -> None:
    with pytest.raises(SourceUnavailable, match=r"redirects in a loop .*even with the cookie it set"):
        crawl(site(server, LOOPING_API + "?bank=alfabank&page=1", preset="banki_api"))
    assert sum(path.startswith(LOOPING_API) for path in server.requests) == 2


# --- 3. a list API that gives only a total is paged by it -------------------------------------------


def test_banki_api_pages_on_total_when_the_answer_has_no_has_more_pages(server: LocalServer) -> None:
    batch = crawl(site(server, TOTAL_ONLY_API + "?bank=alfabank&page=1", preset="banki_api", max_pages=3))
    assert len(batch.items) == 9  # 3 pages of 3 (bounded by max_pages, not by total=9465)
    asked = [path for path in server.requests if path.startswith(TOTAL_ONLY_API)]
    assert [dict(parse_qsl(urlsplit(path).query))["page"] for path in asked] == ["1", "2", "3"]


def test_paging_on_total_stops_once_every_record_is_read(server: LocalServer) -> None:
    batch = crawl(site(server, TOTAL_ONLY_API + "?bank=alfabank&total=5&page=1", preset="banki_api"))
    assert len(batch.items) == 6  # 3 + 3 >= 5: no third page
    assert sum(path.startswith(TOTAL_ONLY_API) for path in server.requests) == 2


@pytest.mark.parametrize(
    ("answer", "records", "expected"),
    [
        ({"total": 9465}, 25, "http://x/api/?bank=vtb&page=3"),
        ({"total": "9465"}, 25, "http://x/api/?bank=vtb&page=3"),
        ({"total": 50}, 25, None),  # pages 1 and 2 hold all 50
        ({"total": 9465}, 0, None),  # an empty page ends paging whatever total says
        ({"total": None}, 25, None),
        ({"total": "много"}, 25, None),
        ({"total": 9465, "hasMorePages": False}, 25, None),  # the API's own flag wins
        ({}, 25, None),
    ],
)
def test_next_page_from_total_and_page_size(
    answer: dict[str, Any], records: int, expected: str | None
) -> None:
    paging = PagingRules(total="total")
    assert next_page_url(answer, "hasMorePages", "http://x/api/?page=2&bank=vtb", paging, records) == expected


# --- 4. banki.ru: a review that names no author has none ---------------------------------------------


def test_banki_review_without_an_author_has_no_author_not_its_grade_line(server: LocalServer) -> None:
    batch = crawl(site(server, "/banki/services/responses/bank/sberbank/", preset="banki", max_pages=1))
    assert [(item.author, item.rating) for item in batch.items] == [
        (None, 2.0),
        ("Тимур Г.", 5.0),
        ("vera_nn", 1.0),
    ]


# --- 5. otzovik: the home page's cards and a single review page ---------------------------------------


def test_otzovik_home_cards_read_pros_and_cons_with_the_reviews_own_title_and_stars(
    server: LocalServer,
) -> None:
    batch = crawl(site(server, "/otzovik/", preset="otzovik", max_pages=1))
    first = batch.items[0]
    assert first.text == (
        "Достоинства: Приложение удобное\nНедостатки: Блокируют карту за границей, на линии ждать по часу"
    )
    assert (first.title, first.rating, first.author) == ("Карту заблокировали в отпуске", 2.0, "olga_spb")
    assert first.url == server.url("/otzovik/review_16024410.html")
    assert first.published_at == datetime(2026, 11, 22, 18, 15, tzinfo=UTC)
    assert [(item.title, item.rating) for item in batch.items] == [
        ("Карту заблокировали в отпуске", 2.0),
        ("Ценники не совпадают с кассой", 1.0),
    ]


def test_otzovik_home_card_without_pros_or_cons_is_reported_and_skipped(server: LocalServer) -> None:
    batch = crawl(site(server, "/otzovik/", preset="otzovik", max_pages=1))
    assert len(batch.items) == 2
    assert len(batch.warnings) == 1 and "1 of 3 items" in batch.warnings[0]


def test_otzovik_single_review_page_gives_its_one_review(server: LocalServer) -> None:
    batch = crawl(site(server, "/otzovik/review_16024410.html", preset="otzovik"))
    assert len(batch.items) == 1
    review = batch.items[0]
    assert (review.title, review.rating, review.author) == ("Карту заблокировали в отпуске", 2.0, "olga_spb")
    assert review.text.splitlines() == [
        "Достоинства: Приложение удобное",
        "Недостатки: Блокируют карту за границей, на линии ждать по часу",
        "Улетела в Турцию, предупредила банк через приложение. "
        "На второй день карту заблокировали при оплате в кафе.",
        "Дозвонилась только через час, разблокировали, но осадок остался.",
    ]
    assert review.url == server.url("/otzovik/review_16024410.html")


# --- 11. sources without a preset: JSON paging and a forum's date format in YAML ---------------------


def sravni_source(server: LocalServer, **settings: Any) -> SiteSource:
    return site(
        server,
        SRAVNI_API
        + "?filterBy=all&orderBy=byDate&pageIndex=0&pageSize=3&reviewObjectId=2561&reviewObjectType=banks",
        name="sravni",
        format="json",
        item="items",
        fields={
            "text": "text",
            "title": "title",
            "author": "authorName",
            "date": "date",
            "rating": "rating",
            "url": "/bank/{reviewObjectId}/otzyvy/{id}/",
        },
        paging={"page_param": "pageIndex", "first_page": 0, "size_param": "pageSize", "total": "total"},
        **settings,
    )


def test_json_api_without_a_preset_pages_by_page_index_from_zero(server: LocalServer) -> None:
    batch = crawl(sravni_source(server))
    assert len(batch.items) == 7
    first = batch.items[0]
    assert (first.title, first.author, first.rating) == (
        "Одобрили кредит, но навязали страховку",
        "Андрей К.",
        2.0,
    )
    assert first.published_at == datetime(2026, 11, 23, 8, 41, 12, 315000, tzinfo=UTC)
    assert first.url == server.url("/bank/2561/otzyvy/500311/")
    asked = [dict(parse_qsl(urlsplit(p).query)) for p in server.requests if p.startswith(SRAVNI_API)]
    assert [(q["pageIndex"], q["pageSize"]) for q in asked] == [("0", "3"), ("1", "3"), ("2", "3")]


def test_json_api_paging_with_a_has_more_flag_key(server: LocalServer) -> None:
    paging = PagingRules(page_param="pageIndex", first_page=0, has_more="meta.hasNext")
    url = "http://x/reviews?pageIndex=0&pageSize=3"
    assert (
        next_page_url({"meta": {"hasNext": True}}, None, url, paging, 3)
        == "http://x/reviews?pageSize=3&pageIndex=1"
    )
    assert next_page_url({"meta": {"hasNext": False}}, None, url, paging, 3) is None
    # Without a page parameter in the URL the first page is the one just read.
    assert next_page_url({"meta": {"hasNext": True}}, None, "http://x/reviews", paging, 3) == (
        "http://x/reviews?pageIndex=1"
    )


def test_forum_date_format_reads_russian_month_abbreviations(server: LocalServer) -> None:
    source = site(
        server,
        "/rutracker/viewtopic-t6011223.html",
        name="rutracker",
        item="tbody[id^='post_']",
        fields={
            "text": ".post_body",
            "author": ".nick ::text",
            "date": ".p-link ::text",
            "url": ".p-link::attr(href)",
        },
        date_format="%d-%b-%y %H:%M",
        newest_first=False,
    )
    batch = crawl(source)
    assert [item.published_at for item in batch.items] == [
        datetime(2026, 4, 10, 9, 55, tzinfo=UTC),  # 12:55 in Moscow
        datetime(2011, 3, 3, 5, 15, tzinfo=UTC),
        None,  # "??-???-?? --:--": no date, the post is kept
    ]
    assert batch.items[2].extra["date_text"] == "??-???-?? --:--"
    assert batch.items[0].author == "seeder_77"


@pytest.mark.parametrize(
    ("text", "date_format", "expected"),
    [
        ("10-Апр-26 12:55", "%d-%b-%y %H:%M", datetime(2026, 4, 10, 9, 55, tzinfo=UTC)),
        ("3 марта 2025, 14:05", "%d %B %Y, %H:%M", datetime(2025, 3, 3, 11, 5, tzinfo=UTC)),
        ("05 мая 2025", "%d %B %Y", datetime(2025, 5, 4, 21, 0, tzinfo=UTC)),
        ("10-Apr-26 12:55", "%d-%b-%y %H:%M", datetime(2026, 4, 10, 9, 55, tzinfo=UTC)),
        ("10-Абв-26 12:55", "%d-%b-%y %H:%M", None),
        ("", "%d-%b-%y %H:%M", None),
    ],
)
def test_date_format_with_russian_month_names(text: str, date_format: str, expected: datetime | None) -> None:
    from zoneinfo import ZoneInfo

    assert parse_with_format(text, date_format, ZoneInfo("Europe/Moscow")) == expected


def yaml_site(**settings: Any) -> SiteSource:
    return SiteSource(type="site", name="forum", start_urls=["https://forum.example.ru/t/1"], **settings)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"item": "div.post", "fields": {"text": ".body"}, "date_format": "дд.мм.гггг"},
            "source 'forum': date_format: 'дд.мм.гггг' has no %-directives",
        ),
        (
            {"item": "div.post", "fields": {"text": ".body"}, "date_format": "%d.%Q.%Y"},
            "source 'forum': date_format: '%d.%Q.%Y': unknown directive %Q",
        ),
        (
            {"item": "div.post", "fields": {"text": ".body"}, "paging": {"page_param": "p"}},
            "source 'forum': paging is for list APIs (format: json)",
        ),
        (
            {"preset": "otzovik", "format": "json"},
            "source 'forum': format 'json' does not fit preset 'otzovik'",
        ),
        (
            {
                "format": "json",
                "item": "items",
                "fields": {"text": "text"},
                "paging": {"total": "meta..total"},
            },
            "source 'forum': paging.total: empty key in 'meta..total'",
        ),
    ],
)
def test_bad_paging_or_date_format_is_a_config_error_naming_source_and_key(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match="^" + re.escape(message)):
        resolve_rules(yaml_site(**settings), [])


def test_source_paging_keys_override_the_presets() -> None:
    rules = resolve_rules(yaml_site(preset="banki_api", paging={"page_size": 25}), [])
    assert rules.paging == PagingRules(total="total", page_size=25)
    assert rules.format == "json"


def test_the_sravni_preset_pages_the_review_api_by_page_index(server: LocalServer) -> None:
    start = SRAVNI_API + "?filterBy=all&orderBy=byDate&pageIndex=0&pageSize=3&reviewObjectId=2561"
    batch = crawl(site(server, start, name="sravni", preset="sravni_api"))
    assert len(batch.items) == 7
    assert batch.items[0].kind == "review" and batch.items[0].rating == 2.0
    assert batch.items[0].url == server.url("/bank/2561/otzyvy/500311/")


def test_the_rutracker_preset_reads_posts_and_their_russian_dates(server: LocalServer) -> None:
    batch = crawl(site(server, "/rutracker/viewtopic-t6011223.html", name="rutracker", preset="rutracker"))
    assert [item.published_at for item in batch.items][:2] == [
        datetime(2026, 4, 10, 9, 55, tzinfo=UTC),
        datetime(2011, 3, 3, 5, 15, tzinfo=UTC),
    ]
    assert all(item.text and item.author for item in batch.items[:2])
