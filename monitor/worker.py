"""`brandpulse worker`: fetch pages of distributed site sources from the shared Redis queue and
store their items in the shared database. Run one on every crawling machine.

Scrapy runs in this process, one crawler per source, for the worker's whole life: Twisted's
reactor starts once per process, and a worker is one long crawl (unlike SiteCrawler, which needs a
subprocess per crawl). Items are saved in batches through store.save_batch, and the source's
cursor is merged under a row lock, so workers on any number of machines can write to one
PostgreSQL without undoing each other's progress. The queue and seeding: crawlers/sites/distributed.py.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from crawlers.base import Batch
from crawlers.sites import SEEN_LIMIT, to_raw_item
from crawlers.sites.rules import SiteRules, resolve_rules
from monitor import store
from monitor.config import Config, SiteSource
from monitor.errors import ConfigError, failure_kind
from monitor.secrets import mask_url_password

log = logging.getLogger(__name__)

# Items are saved when this many wait, or when the oldest waited this long, when the worker idles
# and when it stops: a worker killed outright loses at most a few seconds of pages, which the next
# round fetches again (they are not in the cursor).
BATCH_ITEMS = 50
BATCH_SECONDS = 2.0
ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


@dataclass
class WorkerReport:
    """What one worker did for one source."""

    source: str
    pages_ok: int = 0
    pages_failed: int = 0
    items: int = 0
    new_items: int = 0
    updated: int = 0
    warnings: int = 0
    error: str | None = None
    started: bool = False
    failures: list[dict[str, str]] = field(default_factory=list)


class ItemSink:
    """One source's items on their way to the database, saved batch by batch on a thread of their
    own: the downloads go on while a batch is written (to a PostgreSQL that may be a network away).
    A save that fails keeps its items for the next one, so a database restart costs a delay, not data."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        source: SiteSource,
        rules: SiteRules,
        report: WorkerReport,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.sessions = sessions
        self.source = source
        self.rules = rules
        self.report = report
        self.clock = clock
        self.pending: list[dict[str, Any]] = []
        self.last_handoff = clock()
        # One thread: batches are saved in order, and `unsaved` is only ever touched there.
        self._saver = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"save-{source.name}")
        self._unsaved: list[dict[str, Any]] = []
        # This run's (since the queue last ran dry) item count and warnings: noted on the source once,
        # at its end, so the 2-second batches neither reset nor inflate the source's warning runs.
        self.run_items = 0
        self.run_warnings: list[str] = []

    def add(self, record: dict[str, Any]) -> None:
        self.pending.append(record)
        self.report.items += 1
        self.run_items += 1
        if len(self.pending) >= BATCH_ITEMS or self.clock() - self.last_handoff >= BATCH_SECONDS:
            self._hand_off()

    def save(self) -> bool:
        """Save everything found so far and wait for it; False when the last save failed (logged)."""
        return self._hand_off().result()

    def warn(self, warning: str) -> None:
        self.run_warnings.append(warning)

    def end_run(self) -> bool:
        """Save everything found so far, then note the run's item count and warnings on the source;
        False when either failed (logged). A run that found nothing and warned of nothing (the queue
        still dry at the next idle signal) is no run: it would end a streak of warned runs."""
        if not self.save():
            return False
        if not self.run_items and not self.run_warnings:
            return True
        items, warnings = self.run_items, self.run_warnings
        self.run_items, self.run_warnings = 0, []
        noted = self._saver.submit(self._note_run, items, warnings).result()
        if not noted:
            # Kept for the next end of a run.
            self.run_items += items
            self.run_warnings = warnings + self.run_warnings
        return noted

    def close(self) -> bool:
        saved = self.end_run()
        self._saver.shutdown()
        return saved

    def _note_run(self, items: int, warnings: list[str]) -> bool:
        try:
            with self.sessions.begin() as session:
                store.note_run(session, self.source.name, self.source.type, items, warnings)
        except SQLAlchemyError as exc:
            self.report.error = f"{self.source.name}: noting the run failed: {_one_line(exc)}"
            log.error("%s", self.report.error)
            return False
        return True

    def _hand_off(self) -> Future[bool]:
        self.last_handoff = self.clock()
        batch, self.pending = self.pending, []
        return self._saver.submit(self._save, batch)

    def _save(self, batch: list[dict[str, Any]]) -> bool:
        records = self._unsaved + batch
        if not records:
            return True
        items = [to_raw_item(record, self.rules) for record in records]
        try:
            with self.sessions.begin() as session:
                stored = store.get_cursor(session, self.source.name, lock=True) or {}
                seen = [str(value) for value in stored.get("seen", [])]
                new_ids = [item.external_id for item in items]
                cursor = {**stored, "seen": list(dict.fromkeys(new_ids + seen))[:SEEN_LIMIT]}
                saved = store.save_batch(
                    session, self.source.name, self.source.type, Batch(items, cursor), end_of_run=False
                )
        except SQLAlchemyError as exc:
            self._unsaved = records
            self.report.error = f"{self.source.name}: storing {len(items)} items failed: {_one_line(exc)}"
            log.error("%s (kept for the next try)", self.report.error)
            return False
        self._unsaved = []
        self.report.error = None
        self.report.new_items += len(saved.new_item_ids)
        self.report.updated += saved.updated
        return True

    def stored_seen(self) -> list[str]:
        """External ids in the source's cursor: what any worker stored before."""
        with self.sessions() as session:
            cursor = store.get_cursor(session, self.source.name) or {}
        return [str(value) for value in cursor.get("seen", [])][:SEEN_LIMIT]


def run_worker(
    config: Config,
    sessions: sessionmaker[Session],
    sources: list[SiteSource],
    idle_timeout: int,
) -> list[WorkerReport]:
    """Crawl `sources` from the shared queue until every one was idle for `idle_timeout` s (0 = until
    SIGTERM / Ctrl-C, which finish the pages in flight and save their items)."""
    from scrapy.crawler import Crawler, CrawlerProcess
    from scrapy.utils.reactor import install_reactor

    from crawlers.sites.distributed import QueueKeys, WorkerSpider, connect, redis_url, worker_settings

    if not sources:
        raise ConfigError("no distributed sources to work on: mark site sources with `distributed: true`")
    chosen: list[tuple[SiteSource, SiteRules]] = []
    for source in sources:
        if not source.distributed:
            raise ConfigError(f"source {source.name!r} is not distributed (set `distributed: true` on it)")
        chosen.append((source, resolve_rules(source, config.brands)))
    url = redis_url(config.distributed)
    connect(url, sources[0].name).close()
    _register(sessions, sources)
    log.info(
        "worker %s:%d: %s from %s (key prefix %r), %s",
        socket.gethostname(),
        os.getpid(),
        ", ".join(source.name for source in sources),
        mask_url_password(url),
        config.distributed.key_prefix,
        f"exits after {idle_timeout} s idle" if idle_timeout else "runs until stopped",
    )

    # Installed here, once: each source's crawler brings its own settings, and a Crawler made
    # outside CrawlerProcess.create_crawler expects the reactor to be there already.
    install_reactor(ASYNCIO_REACTOR)
    _quiet_scrapy_redis_deprecations()
    scrapy_level = logging.getLogger("scrapy").level
    logging.disable(logging.INFO)  # Scrapy's start-up banner: versions of a dozen libraries
    try:
        process = CrawlerProcess(settings=_process_settings())
    finally:
        logging.disable(logging.NOTSET)
    # Scrapy resets its loggers to DEBUG; the CLI's choice (warnings and up) stands.
    logging.getLogger("scrapy").setLevel(scrapy_level)
    reports = []
    for source, rules in chosen:
        report = WorkerReport(source.name)
        sink = ItemSink(sessions, source, rules, report)
        settings = worker_settings(rules, url, QueueKeys(config.distributed.key_prefix, source.name))
        crawler = Crawler(WorkerSpider, settings)
        _connect_signals(crawler, sink, report, sessions)
        process.crawl(
            crawler,
            rules=rules,
            seen=sink.stored_seen(),
            report=_reporter(report, sink),
            idle_timeout=idle_timeout,
        )
        reports.append(report)
    process.start()
    for report in reports:
        if not report.started:
            # Scrapy logs a crawler that failed to start and carries on: that is no quiet source.
            report.error = report.error or f"{report.source}: the crawl did not start (see the log above)"
    return reports


def _connect_signals(
    crawler: Any, sink: ItemSink, report: WorkerReport, sessions: sessionmaker[Session]
) -> None:
    from scrapy import signals

    def on_opened(spider: Any) -> None:
        report.started = True

    def on_item(item: Any, response: Any, spider: Any) -> None:
        sink.add(dict(item))

    def on_idle(spider: Any) -> None:
        # The queue ran dry here: store what waits, and learn what other workers stored meanwhile,
        # so this worker's next round stops at pages that hold nothing new.
        if sink.end_run():
            spider.seen.update(sink.stored_seen())

    def on_error(failure: Any, response: Any, spider: Any) -> None:
        # A bug in parsing one page: logged with its URL, the other pages go on.
        reason = f"{failure.type.__name__} while parsing: {failure.value}"
        report.failures.append({"url": response.url, "kind": "parse_error", "reason": reason})
        log.error("%s: %s: %s", report.source, response.url, reason)

    def on_closed(spider: Any, reason: str) -> None:
        sink.close()
        report.pages_ok, report.pages_failed = spider.pages_ok, spider.pages_failed
        if report.failures and report.pages_ok == 0:
            from crawlers.sites.distributed import whole_source_error

            whole = whole_source_error(report.source, report.failures)
            error = str(whole)
            report.error = report.error or error
            with sessions.begin() as session:
                store.record_failure(session, report.source, "site", error, kind=failure_kind(whole))

    crawler.signals.connect(on_opened, signal=signals.spider_opened, weak=False)
    crawler.signals.connect(on_item, signal=signals.item_scraped, weak=False)
    crawler.signals.connect(on_idle, signal=signals.spider_idle, weak=False)
    crawler.signals.connect(on_error, signal=signals.spider_error, weak=False)
    crawler.signals.connect(on_closed, signal=signals.spider_closed, weak=False)


def _reporter(report: WorkerReport, sink: ItemSink) -> Callable[[dict[str, Any]], None]:
    """What the spider reports (see SiteSpider): warnings and failed pages are logged as they come,
    and warnings also go to the sink, to be noted on the source's health at the end of the run."""

    def receive(record: dict[str, Any]) -> None:
        if "warning" in record:
            report.warnings += 1
            sink.warn(str(record["warning"]))
            log.warning("%s", record["warning"])
        elif "page_failed" in record:
            failure = record["page_failed"]
            report.failures.append(failure)
            log.warning("%s: %s: %s", report.source, failure["url"], failure["reason"])

    return receive


def _register(sessions: sessionmaker[Session], sources: list[SiteSource]) -> None:
    """Make sure each source has its row (the cursor lock needs one); workers starting together
    may race to create it, and the loser finds the winner's row on its second try."""
    for attempt in (1, 2):
        try:
            with sessions.begin() as session:
                for source in sources:
                    store.ensure_source(session, source.name, source.type)
            return
        except IntegrityError:
            if attempt == 2:
                raise


def _process_settings() -> dict[str, Any]:
    return {
        "TWISTED_REACTOR": ASYNCIO_REACTOR,
        "LOG_LEVEL": "WARNING",
        # The CLI set up logging already; a second root handler would print every line twice.
        "LOG_INSTALL_ROOT_HANDLER": False,
        "TELNETCONSOLE_ENABLED": False,
    }


def _quiet_scrapy_redis_deprecations() -> None:
    # scrapy-redis 0.9.1 still calls Spider.log() and passes `spider` to the stats collector, which
    # Scrapy 2.13+ deprecates (they still work). Hidden here so the worker's log stays readable;
    # tests/test_distributed.py is what fails if a Scrapy release removes them.
    from scrapy.exceptions import ScrapyDeprecationWarning

    for message in (r"Spider\.log\(\) is deprecated", r"Passing a 'spider' argument to StatsCollector"):
        warnings.filterwarnings("ignore", message=message, category=ScrapyDeprecationWarning)


def _one_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return " ".join(str(original).split()) or type(original).__name__
