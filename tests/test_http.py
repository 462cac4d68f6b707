"""crawlers/http.py: the polite fetch, against a real server on 127.0.0.1 with fault routes."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import pytest

from crawlers.http import (
    USER_AGENT,
    decode_body,
    error_from_httpx,
    fetch,
    html_to_text,
)
from monitor.errors import (
    SourceAuthError,
    SourceError,
    SourceFormatError,
    SourceRateLimited,
    SourceUnavailable,
)
from monitor.local_server import LocalServer

# The session fixture `fixture_server`: tests/fixtures/ plus fault routes on 127.0.0.1.


@pytest.fixture
def sleeps() -> list[float]:
    """Injected instead of time.sleep: records each wait, waits for none."""
    return []


def get(server: LocalServer, path: str, sleeps: list[float], **options: object):  # type: ignore[no-untyped-def]
    settings: dict[str, object] = {"timeout": 5.0, "max_bytes": 5_000_000, "sleep": sleeps.append, **options}
    return fetch(server.url(path), **settings)  # type: ignore[arg-type]


def requests_to(server: LocalServer, path: str) -> int:
    return server.requests.count(path)


def test_fetch_sends_a_user_agent_naming_the_product(fixture_server, sleeps):
    result = get(fixture_server, "/headers", sleeps)
    assert json.loads(result.text)["User-Agent"] == USER_AGENT
    assert "brandpulse" in USER_AGENT and "https://github.com/brandpulse/brandpulse" in USER_AGENT


def test_fetch_decompresses_a_gzip_response(fixture_server, sleeps):
    result = get(fixture_server, "/feeds/news-finance.xml", sleeps)
    assert result.headers["content-encoding"] == "gzip"
    assert result.body.startswith(b"<?xml")
    assert "Сбербанк снизил лимит" in result.text


def test_fetch_decodes_windows_1251_named_in_content_type(fixture_server, sleeps):
    result = get(fixture_server, "/feeds/regional-news.cp1251.xml", sleeps)
    assert "windows-1251" in result.headers["content-type"]
    assert "Покупатели жалуются на очереди в «Пятёрочке»" in result.text


def test_second_fetch_with_etag_is_not_modified(fixture_server, sleeps):
    first = get(fixture_server, "/feeds/blog.atom.xml", sleeps)
    second = get(fixture_server, "/feeds/blog.atom.xml", sleeps, etag=first.etag)
    assert first.status == 200 and first.etag
    assert second.not_modified and second.status == 304
    assert second.body == b""


def test_fetch_with_last_modified_is_not_modified(fixture_server, sleeps):
    first = get(fixture_server, "/feeds/blog.atom.xml", sleeps)
    second = get(fixture_server, "/feeds/blog.atom.xml", sleeps, last_modified=first.last_modified)
    assert second.not_modified


def test_server_errors_are_retried_with_exponential_backoff(fixture_server, sleeps):
    path = "/status/503?case=backoff"
    with pytest.raises(SourceUnavailable, match=r"HTTP 503 Service Unavailable after 3 tries"):
        get(fixture_server, path, sleeps)
    assert requests_to(fixture_server, path) == 3
    assert sleeps == [1.0, 2.0]


def test_not_found_is_not_retried(fixture_server, sleeps):
    path = "/status/404?case=no-retry"
    with pytest.raises(SourceUnavailable, match="HTTP 404 Not Found; check the URL"):
        get(fixture_server, path, sleeps)
    assert requests_to(fixture_server, path) == 1


def test_forbidden_is_an_auth_error(fixture_server, sleeps):
    with pytest.raises(SourceAuthError, match="HTTP 403 Forbidden"):
        get(fixture_server, "/status/403", sleeps)


def test_429_waits_for_retry_after_then_gets_the_page(fixture_server, sleeps):
    result = get(fixture_server, "/retry-after/7?case=honoured", sleeps)
    assert result.status == 200
    assert sleeps == [7.0]


def test_429_asking_to_wait_longer_than_the_cap_is_rate_limited_at_once(fixture_server, sleeps):
    path = "/retry-after/3600?case=too-long"
    with pytest.raises(SourceRateLimited, match=r"asked to wait 3600 s \(more than 60 s\)"):
        get(fixture_server, path, sleeps)
    assert sleeps == []
    assert requests_to(fixture_server, path) == 1


def test_429_on_every_try_is_rate_limited(fixture_server, sleeps):
    with pytest.raises(SourceRateLimited, match="HTTP 429 Too Many Requests after 3 tries"):
        get(fixture_server, "/retry-after/2?times=5&case=persistent", sleeps)
    assert sleeps == [2.0, 2.0]


def test_timeout_is_source_unavailable(fixture_server, sleeps):
    with pytest.raises(SourceUnavailable, match=r"/delay/2: timed out after 0.2 s \(3 tries\)") as caught:
        get(fixture_server, "/delay/2", sleeps, timeout=0.2)
    assert isinstance(caught.value.__cause__, httpx.TimeoutException)


def test_dropped_connection_is_source_unavailable(fixture_server, sleeps):
    with pytest.raises(SourceUnavailable, match="closed the connection"):
        get(fixture_server, "/drop", sleeps)


def test_refused_connection_is_source_unavailable(sleeps):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceUnavailable, match="cannot connect"):
        fetch(f"http://127.0.0.1:{port}/feed.xml", timeout=2, max_bytes=1000, sleep=sleeps.append)


def test_endless_redirect_is_a_clear_error(fixture_server, sleeps):
    with pytest.raises(SourceUnavailable, match="too many redirects .* redirects in a loop"):
        get(fixture_server, "/redirect-loop", sleeps)


def test_page_larger_than_max_bytes_is_skipped(fixture_server, sleeps):
    with pytest.raises(SourceFormatError, match="/big/10: response is larger than 5000000 bytes, skipped"):
        get(fixture_server, "/big/10", sleeps)


def test_reading_stops_at_max_bytes_when_the_size_is_not_announced(sleeps):
    sent: list[int] = []

    def endless_page() -> Iterator[bytes]:
        while True:
            sent.append(1)
            yield b"x" * 1024

    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=endless_page()))
    with (
        httpx.Client(transport=transport) as client,
        pytest.raises(SourceFormatError, match="larger than 10000 bytes"),
    ):
        fetch("http://feeds.example/endless", timeout=5, max_bytes=10_000, client=client, sleep=sleeps.append)
    assert len(sent) < 20


def test_errors_name_the_source_and_the_url(fixture_server, sleeps):
    url = fixture_server.url("/status/410")
    with pytest.raises(SourceUnavailable) as caught:
        get(fixture_server, "/status/410", sleeps, source="news-rss")
    assert str(caught.value) == f"news-rss: {url}: HTTP 410 Gone; check the URL"
    assert caught.value.source == "news-rss"


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


@pytest.mark.parametrize(
    "error_class", [*_all_subclasses(httpx.HTTPError), httpx.HTTPError, httpx.InvalidURL]
)
def test_every_httpx_error_maps_to_a_source_error_naming_the_url(error_class):
    request = httpx.Request("GET", "https://feeds.example/rss")
    if error_class is httpx.HTTPStatusError:
        error = error_class("502", request=request, response=httpx.Response(502, request=request))
    elif error_class in (httpx.HTTPError, httpx.InvalidURL):
        error = error_class("boom")
    else:
        error = error_class("boom", request=request)
    mapped = error_from_httpx(error, "https://feeds.example/rss", timeout=20, tries=3)
    assert isinstance(mapped, SourceError) and type(mapped) is not SourceError
    assert "https://feeds.example/rss" in str(mapped)


def test_decode_body_uses_meta_charset_when_the_header_has_none():
    page = '<html><head><meta charset="windows-1251"></head><body>Тинькофф</body></html>'.encode(
        "windows-1251"
    )
    assert "Тинькофф" in decode_body(page, "text/html")


def test_decode_body_uses_the_xml_declaration():
    feed = '<?xml version="1.0" encoding="windows-1251"?><rss><title>МегаФон</title></rss>'.encode(
        "windows-1251"
    )
    assert "МегаФон" in decode_body(feed, "application/xml")


def test_decode_body_detects_utf8_without_any_declaration():
    assert decode_body("Пятёрочка".encode(), None) == "Пятёрочка"


def test_decode_body_detects_windows_1251_without_any_declaration():
    assert decode_body("Пятёрочка".encode("windows-1251"), None) == "Пятёрочка"


def test_decode_body_falls_back_to_detection_when_the_header_lies():
    assert decode_body("Сбербанк".encode("windows-1251"), "text/html; charset=utf-8") == "Сбербанк"


def test_html_to_text_keeps_paragraphs_as_lines_and_unescapes_entities():
    html = (
        "<p>«Сбер» &amp; МегаФон:\n  тариф</p>"
        "<p>Первые три месяца&nbsp;&mdash; бесплатно<br>для ИП</p><script>x()</script>"
    )
    assert html_to_text(html) == "«Сбер» & МегаФон: тариф\nПервые три месяца — бесплатно\nдля ИП"
