"""Scrapy settings and downloader middlewares for one site crawl: politeness, retries with backoff,
size limits, a cookie-setting redirect back to the same page, and a fix for Scrapy's robots.txt
middleware.

`crawl_settings` names the middlewares here by dotted path (DOWNLOADER_MIDDLEWARES), so moving one
means changing its string there too.
"""

from __future__ import annotations

import inspect
import os
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as _ScrapyRobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.misc import load_object
from scrapy.utils.response import response_status_message
from twisted.internet.task import deferLater

from crawlers.sites.rules import SiteRules

USER_AGENT = "brandpulse/0.1 (+https://github.com/brandpulse/brandpulse)"
RETRY_TIMES = 3
# A Retry-After longer than this is not waited out: the page is given up with a warning.
RETRY_AFTER_MAX = 120.0
BACKOFF_MAX = 60.0


def crawl_settings(rules: SiteRules) -> dict[str, Any]:
    """Scrapy settings for one site crawl; `delay` 0 turns every politeness wait off (tests)."""
    settings: dict[str, Any] = {
        "USER_AGENT": USER_AGENT,
        "ROBOTSTXT_OBEY": rules.obey_robots,
        "DOWNLOAD_DELAY": rules.delay,
        "AUTOTHROTTLE_ENABLED": rules.delay > 0,
        "AUTOTHROTTLE_START_DELAY": rules.delay,
        "AUTOTHROTTLE_MAX_DELAY": max(30.0, rules.delay * 10),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": RETRY_TIMES,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        # Retries wait delay × 2^n (1 s, 2 s, 4 s with the default delay) or what Retry-After asks.
        "BRANDPULSE_RETRY_BACKOFF": rules.delay,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawlers.sites.middlewares.BackoffRetryMiddleware": 550,
            # After CookiesMiddleware (700) has stored the cookie, before RedirectMiddleware (600).
            "crawlers.sites.middlewares.CookieRedirectMiddleware": 650,
            **(
                {
                    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
                    "crawlers.sites.middlewares.RobotsTxtMiddleware": 100,
                }
                if _robots_middleware_needs_fix()
                else {}
            ),
        },
        "DOWNLOAD_TIMEOUT": rules.timeout,
        "DOWNLOAD_MAXSIZE": rules.max_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy 2.19 opens by default a local HTTP server that runs Python code sent to it; not here.
        "REMOTE_CONTROL_ENABLED": False,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    }
    if os.environ.get("BRANDPULSE_HTTPCACHE") == "1":
        # Development only: replay pages from disk instead of hitting the site while tuning selectors.
        settings.update(
            HTTPCACHE_ENABLED=True,
            HTTPCACHE_DIR=os.path.abspath(os.environ.get("BRANDPULSE_HTTPCACHE_DIR", "data/httpcache")),
            HTTPCACHE_IGNORE_HTTP_CODES=[403, 408, 429, 500, 502, 503, 504],
        )
    return settings


class BackoffRetryMiddleware:
    """RETRY_TIMES / RETRY_HTTP_CODES / RETRY_EXCEPTIONS as Scrapy's RetryMiddleware, but waiting
    before each retry: Retry-After when the server sends one, else exponential backoff."""

    def __init__(self, crawler: Any):
        settings = crawler.settings
        if not settings.getbool("RETRY_ENABLED"):
            raise NotConfigured
        self.crawler = crawler
        self.retry_http_codes = {int(code) for code in settings.getlist("RETRY_HTTP_CODES")}
        self.retry_exceptions = tuple(
            load_object(name) if isinstance(name, str) else name
            for name in settings.getlist("RETRY_EXCEPTIONS")
        )
        self.backoff: float = settings.getfloat("BRANDPULSE_RETRY_BACKOFF", 1.0)

    @classmethod
    def from_crawler(cls, crawler: Any) -> BackoffRetryMiddleware:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Any:
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        asked = _retry_after_seconds(response)
        if asked is not None and asked > RETRY_AFTER_MAX:
            request.meta["brandpulse_retry_after"] = asked
            return response
        retry = self._retry_request(request, response_status_message(response.status))
        if retry is None:
            return response
        await self._wait(asked if asked is not None else self._backoff(request))
        return retry

    async def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> Any:
        if request.meta.get("dont_retry") or not isinstance(exception, self.retry_exceptions):
            return None
        retry = self._retry_request(request, exception)
        if retry is not None:
            await self._wait(self._backoff(request))
        return retry

    def _retry_request(self, request: Request, reason: str | Exception) -> Request | None:
        from scrapy.downloadermiddlewares.retry import get_retry_request

        return get_retry_request(request, spider=self.crawler.spider, reason=reason)

    def _backoff(self, request: Request) -> float:
        retries: int = request.meta.get("retry_times", 0)
        growth: int = 2**retries  # typeshed: int ** int is Any (a negative power is a float)
        return min(BACKOFF_MAX, self.backoff * growth)

    async def _wait(self, seconds: float) -> None:
        if seconds > 0:
            from twisted.internet import reactor

            await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))


class CookieRedirectMiddleware:
    """A redirect back to the page just asked for that sets a cookie is followed once, with the cookie.

    That is how anti-bot steps work (banki.ru's list API answers 302 to the same URL with
    `Set-Cookie: __hash_=...`): the second request carries the cookie and gets the page. Scrapy's
    RedirectMiddleware would hand that request to the duplicate filter, which drops a URL already
    fetched ("redirects in a loop"). A second such redirect, cookie or not, is a true loop.
    """

    REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

    @classmethod
    def from_crawler(cls, crawler: Any) -> CookieRedirectMiddleware:
        if not crawler.settings.getbool("COOKIES_ENABLED", True):
            raise NotConfigured
        return cls()

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Any:
        location = response.headers.get(b"Location")
        if response.status not in self.REDIRECT_STATUSES or not location or request.meta.get("dont_redirect"):
            return response
        target = urljoin(request.url, location.decode("latin-1").strip())
        earlier = [*request.meta.get("redirect_urls", []), request.url]
        if target not in earlier:
            return response  # a new URL: RedirectMiddleware follows it as usual
        if request.meta.get("brandpulse_cookie_redirect"):
            raise IgnoreRequest(f"redirects in a loop (back to {target}) even with the cookie it set")
        if not response.headers.getlist(b"Set-Cookie"):
            return response  # no cookie, nothing changes on a second try: let the loop be reported
        meta = {
            **request.meta,
            "brandpulse_cookie_redirect": True,
            "redirect_urls": earlier,
            "redirect_times": request.meta.get("redirect_times", 0) + 1,
        }
        return request.replace(url=target, meta=meta, dont_filter=True)


class RobotsTxtMiddleware(_ScrapyRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware with a fix: every request that waits for robots.txt gets the parser.

    Since Scrapy 2.13 the requests waiting for a site's robots.txt all await one shared Deferred; the
    first one consumes its result and the others receive None, which means "no robots.txt, allow
    all": with three or more start URLs, disallowed pages were fetched. Each waiter here gets its
    own Deferred fed from the shared one, as before 2.13.
    """

    async def robot_parser(self, request: Request) -> Any:
        from scrapy.utils.httpobj import urlparse_cached
        from twisted.internet.defer import Deferred

        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            mine: Deferred[Any] = Deferred()

            def relay(result: Any) -> Any:
                mine.callback(result)
                return result

            pending.addCallback(relay)
            return await maybe_deferred_to_future(mine)
        return await super().robot_parser(request)


def _robots_middleware_needs_fix() -> bool:
    return inspect.iscoroutinefunction(getattr(_ScrapyRobotsTxtMiddleware, "robot_parser", None))


def _retry_after_seconds(response: Response) -> float | None:
    value = response.headers.get(b"Retry-After")
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        from email.utils import parsedate_to_datetime

        return max(0.0, (parsedate_to_datetime(text) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None
