"""The one generic Scrapy spider for review sites and forums: pages in, plain item dicts out.

Everything site-specific comes from SiteRules (crawlers/sites/rules.py, presets.yaml): where the
items are, which selector gives which field, where the next page is; reading the fields is
crawlers/sites/extract.py (pages) or crawlers/sites/json_listing.py (a site's list API).
Politeness, retries and size limits are Scrapy settings (`crawl_settings` in
crawlers/sites/middlewares.py). Problems that do not stop the crawl (a page failed, a selector
matched nothing) are reported as records through `report`, never swallowed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import scrapy
from parsel import Selector, SelectorList
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.response import get_base_url
from twisted.python.failure import Failure

from crawlers.antibot import anti_bot_check, blocked_reason
from crawlers.sites import json_listing
from crawlers.sites.dates import timezone_named
from crawlers.sites.extract import extract_item, first_value, select
from crawlers.sites.rules import SiteRules

log = logging.getLogger(__name__)
Report = Callable[[dict[str, Any]], None]
# One page read: its items (None for one without text) and the next page's URL.
PageRead = tuple[list[dict[str, Any] | None], str | None]

_TWISTED_REASON = re.compile(r"twisted\.[\w.]*?\.(\w+): ([^>\]]*)")
_PLAIN_REASONS = {
    "ConnectionDone": "the server closed the connection without answering",
    "ConnectionLost": "the connection was lost before the page was complete",
    "ConnectionRefusedError": "connection refused",
    "DownloadConnectionRefusedError": "connection refused",
    "DNSLookupError": "cannot resolve the host name",
    "CannotResolveHostError": "cannot resolve the host name",
    "ResponseNeverReceived": "the server closed the connection without answering",
}


class SiteSpider(scrapy.Spider):
    """Crawls `rules.start_urls`, follows `rules.next_page` up to `rules.max_pages` per start URL.

    `seen`: external ids stored by earlier crawls, skipped; on a newest-first listing a page with
    nothing new ends its chain of pages (a forum topic, oldest first, is walked up to max_pages).
    `report`: receives {"warning": ...}, {"page_failed": {...}} and, at the end, {"done": {...}}.
    """

    name = "brandpulse-site"

    def __init__(
        self,
        rules: SiteRules,
        seen: Iterable[str] = (),
        now: datetime | None = None,
        report: Report | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.rules = rules
        self.seen = set(seen)
        self.now = now or datetime.now(UTC)
        self.zone = timezone_named(rules.timezone)
        self.report = report or _log_record
        self.emitted: set[str] = set()
        self.pages_ok = 0
        self.pages_failed = 0

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SiteSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[Request]:
        for url in self.rules.start_urls:
            yield self._page_request(url, 1)

    def _page_request(self, url: str, page_no: int) -> Request:
        return Request(url, callback=self.parse_page, errback=self.page_failed, meta={"page_no": page_no})

    def warn(self, message: str) -> None:
        self.report({"warning": f"{self.rules.source}: {message}"})

    def parse_page(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            self.pages_failed += 1
            content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
            self._failed(response.url, "format", f"not an HTML page ({content_type or 'no Content-Type'})")
            return
        read = self._read_json_page if self.rules.format == "json" else self._read_html_page
        page = read(response)
        if page is None:
            return
        items, next_url = page
        new = without_text = 0
        for item in items:
            if item is None:
                without_text += 1
                continue
            if item["external_id"] in self.seen or item["external_id"] in self.emitted:
                continue
            self.emitted.add(item["external_id"])
            new += 1
            yield item
        if without_text:
            self.warn(
                f"{without_text} of {len(items)} items on {response.url} have no text "
                f"(fields.text {self.rules.fields.text!r} matched nothing)"
            )
        if new == 0 and self.rules.newest_first:
            return  # everything here is known: the older pages behind it hold nothing new either
        page_no = response.meta.get("page_no", 1)
        if next_url and page_no < self.rules.max_pages:
            yield self._page_request(next_url, page_no + 1)

    def _read_html_page(self, response: TextResponse) -> PageRead | None:
        """The items of an HTML page and its next page's URL; None (after a warning) when none matched."""
        nodes = select(response.selector, self.rules.item)
        if not nodes:
            if self._blocked(response):
                return None
            self.pages_ok += 1
            self.warn(f"no items matched selector {self.rules.item!r} on {response.url} (layout changed?)")
            return None
        self.pages_ok += 1
        base_url = get_base_url(response)
        items = []
        for node in nodes:
            with _nested_items_detached(node, nodes):
                items.append(extract_item(node, self.rules, response.url, self.now, self.zone, base_url))
        href = first_value(response.selector, self.rules.next_page) if self.rules.next_page else None
        return items, response.urljoin(href) if href else None

    def _read_json_page(self, response: TextResponse) -> PageRead | None:
        """The records of a list API's answer and its next page; None when it holds no list."""
        try:
            data = json_listing.parse_json(response.text)
        except json_listing.NotJson as exc:
            # A captcha or an error page instead of the API's answer: the page failed.
            if self._blocked(response):
                return None
            self.pages_failed += 1
            self._failed(response.url, "format", str(exc))
            return None
        self.pages_ok += 1
        try:
            records = json_listing.records_at(data, self.rules.item)
        except json_listing.NoList as exc:
            self.warn(f"{exc} on {response.url} (API changed?)")
            return None
        items = [
            json_listing.read_record(record, self.rules, response.url, self.now, self.zone)
            for record in records
        ]
        return items, json_listing.next_page_url(
            data, self.rules.next_page, response.url, self.rules.paging, len(records)
        )

    def _blocked(self, response: TextResponse) -> bool:
        """True (the page failed as blocked) when `response`, which gave nothing, is an anti-bot check."""
        check = anti_bot_check(response.text, _headers(response), response.status)
        if check is None:
            return False
        self.pages_failed += 1
        self._failed(response.url, "blocked", blocked_reason(check, response.text, response.status))
        return True

    def page_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        self.pages_failed += 1
        kind, reason = describe_failure(failure, request, self.rules)
        if request.meta.get("redirect_urls") and failure.check(IgnoreRequest):
            # Given up on a chain of redirects: name the page the crawl asked for, not the last hop.
            self._failed(request.meta["redirect_urls"][0], kind, reason)
            return
        self._failed(request.url, kind, reason)

    def request_dropped(self, request: Request, spider: Any = None) -> None:
        # The duplicate filter drops a redirect back to a page already fetched; say so, or the page
        # would vanish without a trace. (A next link to a known page is dropped quietly: that is normal.)
        if request.meta.get("redirect_times"):
            self.pages_failed += 1
            first = (request.meta.get("redirect_urls") or [request.url])[0]
            self._failed(first, "unavailable", f"redirects in a loop (back to {request.url})")

    def _failed(self, url: str, kind: str, reason: str) -> None:
        self.report({"page_failed": {"url": url, "kind": kind, "reason": reason}})

    def closed(self, reason: str) -> None:
        self.report(
            {
                "done": {
                    "reason": reason,
                    "pages_ok": self.pages_ok,
                    "pages_failed": self.pages_failed,
                    "items": len(self.emitted),
                }
            }
        )


def describe_failure(failure: Failure, request: Request, rules: SiteRules) -> tuple[str, str]:
    """(kind, one-line reason) for a page that could not be fetched; kind picks the SourceError."""
    retries = request.meta.get("retry_times", 0)
    after = f" after {retries} retries" if retries else ""
    error = failure.value
    if isinstance(error, HttpError):
        status = error.response.status
        asked = request.meta.get("brandpulse_retry_after")
        if status == 429:
            wait = f", the server asks to wait {asked:.0f} s" if asked else ""
            return "rate_limited", f"HTTP 429 Too Many Requests{after}{wait}"
        blocked = _blocked_answer(error.response)
        if blocked:
            return "blocked", blocked
        if status in (401, 403):
            return "auth", f"HTTP {status}: access denied"
        return "unavailable", f"HTTP {status}{after}"
    name, message = type(error).__name__, str(error)
    # Scrapy ≥ 2.14 raises DownloadCancelledError for DOWNLOAD_MAXSIZE; older ones a CancelledError.
    if name in ("DownloadCancelledError", "CancelledError") or "max size" in message.lower():
        return "too_large", f"page larger than max_bytes ({rules.max_bytes} bytes), skipped"
    if failure.check(IgnoreRequest) and "robots.txt" in message:
        return "robots", "forbidden by robots.txt (obey_robots: true)"
    if failure.check(IgnoreRequest) and "redirects in a loop" in message:
        return "unavailable", message
    if failure.check(IgnoreRequest) and "max redirections" in message:
        hops = request.meta.get("redirect_times", 0)
        return "unavailable", f"redirects without end (gave up after {hops} redirects, at {request.url})"
    if "timeout" in name.lower() or "timed out" in message.lower():
        return "unavailable", f"no answer within {rules.timeout:g} s{after}"
    # Twisted's reasons arrive wrapped: "[<twisted.python.failure.Failure twisted...ConnectionDone: ...>]".
    inner = _TWISTED_REASON.search(message)
    if inner:
        name, message = inner.group(1), inner.group(2).strip()
    plain = _PLAIN_REASONS.get(name)
    if plain:
        return "unavailable", f"{plain}{after}"
    return "unavailable", f"{name}: {message or 'download failed'}{after}"


def _headers(response: Response) -> dict[str, str]:
    return {
        key.decode("latin-1").lower(): b", ".join(values).decode("latin-1")
        for key, values in response.headers.items()
    }


def _blocked_answer(response: Response) -> str | None:
    """The reason when an error status came with an anti-bot page (a 403 challenge), else None."""
    text = response.text if isinstance(response, TextResponse) else ""
    check = anti_bot_check(text, _headers(response), response.status)
    return blocked_reason(check, text, response.status) if check else None


@contextmanager
def _nested_items_detached(node: Selector, items: SelectorList[Selector]) -> Iterator[None]:
    """Broken markup (an unclosed <div>) can put the next item inside this one: take it out while
    this item's fields are read, so each review keeps only its own text, then put it back."""
    others = {id(other.root) for other in items if other.root is not node.root}
    detached = []
    if others and not isinstance(node.root, str):
        for element in node.root.iterdescendants():
            if id(element) in others:
                parent = element.getparent()
                detached.append((parent, parent.index(element), element))
                parent.remove(element)
    try:
        yield
    finally:
        for parent, index, element in reversed(detached):
            parent.insert(index, element)


def _log_record(record: dict[str, Any]) -> None:
    log.warning("%s", record)
