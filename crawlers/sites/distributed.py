"""Distributed site crawls on scrapy-redis: the Scrapy side of `brandpulse worker` and of seeding.

Each source with `distributed: true` owns two Redis keys, shared by the workers on every machine:

    <key_prefix>:<source>:requests     pages waiting to be fetched (scrapy_redis PriorityQueue)
    <key_prefix>:<source>:dupefilter   fingerprints of every page queued this round (RFPDupeFilter)

`seed` starts a round: it forgets the last round's fingerprints and queues the start pages
(start_urls, and search_url once per brand term). Workers (WorkerSpider) pop pages and queue the
next-page links through the shared filter, so each page of a round is fetched once, by one worker;
a worker with nothing to do for `idle_timeout` seconds exits. Nothing here touches the database:
monitor/worker.py stores what the spiders find.

    seed ─▶ Redis queue ◀─▶ worker 1..N (WorkerSpider) ─▶ items ─▶ PostgreSQL
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request

from crawlers.sites import _whole_source_error
from crawlers.sites.middlewares import crawl_settings
from crawlers.sites.rules import SiteRules, resolve_rules
from crawlers.sites.spider import SiteSpider
from monitor.config import BrandConfig, DistributedConfig, SiteSource
from monitor.errors import ConfigError, SourceError, SourceUnavailable
from monitor.secrets import mask_url_password

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
REQUEST_SERIALIZER = "crawlers.sites.request_json"


@dataclass(frozen=True)
class QueueKeys:
    """The Redis keys of one source's shared crawl."""

    prefix: str
    source: str

    @property
    def requests(self) -> str:
        return f"{self.prefix}:{self.source}:requests"

    @property
    def dupefilter(self) -> str:
        return f"{self.prefix}:{self.source}:dupefilter"


@dataclass(frozen=True)
class SeedResult:
    # Start pages queued for the workers; 0 when the last round was still queued.
    queued: int
    # Pages of the last round still waiting in the queue (then no new round starts).
    still_queued: int = 0


def redis_url(config: DistributedConfig) -> str:
    """The Redis URL from the environment variable the config names (it may hold a password)."""
    return os.environ.get(config.redis_url_env, "").strip() or DEFAULT_REDIS_URL


def connect(url: str, source: str) -> redis.Redis:
    """A client for `url`, checked with PING; SourceUnavailable naming the server (never its password)."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        where, reason = mask_url_password(url), _reason(exc, url)
        raise SourceUnavailable(source, f"cannot use the Redis queue at {where}: {reason}") from None
    return client


def worker_settings(rules: SiteRules, url: str, keys: QueueKeys) -> dict[str, Any]:
    """The site's own crawl settings (politeness, retries, limits) with the queue and filter in Redis."""
    settings = crawl_settings(rules)
    settings.update(
        SCHEDULER="scrapy_redis.scheduler.Scheduler",
        SCHEDULER_QUEUE_CLASS="scrapy_redis.queue.PriorityQueue",
        DUPEFILTER_CLASS="scrapy_redis.dupefilter.RFPDupeFilter",
        SCHEDULER_QUEUE_KEY=keys.requests,
        SCHEDULER_DUPEFILTER_KEY=keys.dupefilter,
        SCHEDULER_SERIALIZER=REQUEST_SERIALIZER,
        # Workers come and go: one closing must not clear the queue and filter the others use.
        SCHEDULER_PERSIST=True,
        # >0 makes scrapy-redis wait in a blocking pop, which would stall this worker's downloads.
        SCHEDULER_IDLE_BEFORE_CLOSE=0,
        REDIS_URL=url,
        # A worker takes from the queue only what it downloads at once (per-site concurrency);
        # the rest stays in Redis for the other workers instead of idling in this one's memory.
        CONCURRENT_REQUESTS=settings["CONCURRENT_REQUESTS_PER_DOMAIN"],
    )
    return settings


class WorkerSpider(SiteSpider):
    """SiteSpider fed by the shared queue: it has no start pages of its own (`seed` queues them),
    and an empty queue does not end it until `idle_timeout` seconds pass without a page (0 = never).

    Scrapy's engine looks at an empty queue every 5 s (its heartbeat), so a worker notices new
    work, and its own idleness, to within those 5 s.
    """

    name = "brandpulse-worker"

    def __init__(
        self,
        rules: SiteRules,
        idle_timeout: float = 0,
        clock: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ):
        super().__init__(rules, **kwargs)
        self.idle_timeout = idle_timeout
        self.clock = clock
        self.idle_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> WorkerSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, WorkerSpider)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.on_page_done, signal=signals.request_left_downloader)
        return spider

    def start_requests(self) -> Iterator[Request]:
        return iter(())

    def first_page(self, url: str) -> Request:
        return self._page_request(url, 1)

    def on_page_done(self, request: Request, spider: Any = None) -> None:
        self.idle_since = None
        # A worker may run for days: "вчера в 14:05" is read against when the page came.
        self.now = datetime.now(UTC)

    def on_idle(self, spider: Any = None) -> None:
        now = self.clock()
        if self.idle_since is None:
            self.idle_since = now
        if self.idle_timeout and now - self.idle_since >= self.idle_timeout:
            return  # the engine closes the spider, and this worker ends
        raise DontCloseSpider


def seed(source: SiteSource, brands: list[BrandConfig], config: DistributedConfig) -> SeedResult:
    """Start a round of `source` for the workers: see `seed_round`. SourceError when it cannot."""
    try:
        rules = resolve_rules(source, brands)
    except ConfigError as exc:
        raise SourceError(source.name, str(exc).removeprefix(f"source {source.name!r}: ")) from exc
    url = redis_url(config)
    client = connect(url, source.name)
    try:
        return seed_round(client, rules, QueueKeys(config.key_prefix, source.name))
    except redis.RedisError as exc:
        raise SourceUnavailable(source.name, f"seeding the Redis queue failed: {_reason(exc, url)}") from None
    finally:
        client.close()


def seed_round(client: redis.Redis, rules: SiteRules, keys: QueueKeys) -> SeedResult:
    """Forget the last round's fingerprints and queue the start pages, unless the last round still
    has pages queued: then nothing changes (seeding again would let its pages be fetched twice)."""
    from scrapy_redis.dupefilter import RFPDupeFilter
    from scrapy_redis.queue import PriorityQueue

    from crawlers.sites import request_json

    waiting = int(client.zcard(keys.requests))
    if waiting:
        return SeedResult(queued=0, still_queued=waiting)
    spider = WorkerSpider(rules)
    queue = PriorityQueue(client, spider, keys.requests, serializer=request_json)
    fingerprints = RFPDupeFilter(client, keys.dupefilter)
    fingerprints.clear()
    queued = 0
    for url in rules.start_urls:
        request = spider.first_page(url)
        if not fingerprints.request_seen(request):
            queue.push(request)
            queued += 1
    return SeedResult(queued=queued)


def whole_source_error(source: str, failures: list[dict[str, str]]) -> SourceError:
    """The one error for a worker none of whose pages could be fetched (as SiteCrawler reports it)."""
    return _whole_source_error(source, failures)


def _reason(exc: BaseException, url: str) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    try:
        from redis.connection import parse_url

        password = parse_url(url).get("password")
    except Exception:  # an unparsable URL carries no password we could find
        password = None
    return text.replace(password, "***") if password else text


__all__ = [
    "DEFAULT_REDIS_URL",
    "QueueKeys",
    "SeedResult",
    "WorkerSpider",
    "connect",
    "redis_url",
    "seed",
    "seed_round",
    "whole_source_error",
    "worker_settings",
]
