"""The flow, one stage at a time: crawl → store (dedup) → match → score → queue alerts → deliver.

Each stage reads its work from the database and commits its results, so any stage can be re-run or
resumed after a crash without losing or doubling anything. A failing source or item is logged with
its name (and URL), counted, and skipped; the rest goes on.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.digests import queue_due_digests
from alerts.health import queue_health_alerts
from alerts.outbox import DeliveryReport, Pacer, enqueue_negative, send_pending
from alerts.rules import ScoredMention, decide
from alerts.senders import Sender
from alerts.spike_alerts import queue_spike_alerts
from alerts.spreading import requeue_grown
from crawlers.base import Crawler
from monitor import store
from monitor.brand_places import BrandPlaces
from monitor.clock import utcnow
from monitor.config import Config, SiteSource, SourceConfig
from monitor.db.models import Item, Mention, Sentiment, Source, Workflow
from monitor.errors import SourceError, failure_kind
from monitor.matching import BrandMatcher, Match
from monitor.own_accounts import OwnAccounts
from sentiment import SentimentEngine
from sentiment.passages import passage
from sentiment.verdict import decide as decide_verdict

log = logging.getLogger(__name__)
# After a restart, posts updated this long ago are looked at again for grown complaints.
GROWN_LOOKBACK = timedelta(days=1)
GROWN_OVERLAP = timedelta(minutes=10)


@dataclass
class CrawlReport:
    source: str
    fetched: int = 0
    new_items: int = 0
    updated: int = 0
    grouped: int = 0
    # Distributed sources: start pages queued for the workers (see `seed`).
    queued: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    # What kind of failure `error` is (monitor.errors.failure_kind): "blocked" when the site
    # answered with its anti-bot check; the scheduler then waits longer before the next try.
    error_kind: str | None = None

    @property
    def blocked(self) -> bool:
        return self.error_kind == "blocked"


@dataclass
class ProcessReport:
    matched_items: int = 0
    mentions: int = 0
    scored: int = 0
    alerts_queued: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)


class Pipeline:
    """Holds the compiled matcher, the sentiment engine and the sender for one configuration."""

    def __init__(
        self,
        config: Config,
        sessions: sessionmaker[Session],
        *,
        crawlers: dict[str, Crawler[Any]] | None = None,
        engine: SentimentEngine | None = None,
        sender: Sender | None = None,
        pacer: Pacer | None = None,
    ):
        self.config = config
        self.sessions = sessions
        self._crawlers = crawlers
        self._engine = engine
        self._sender = sender
        # Lives as long as the pipeline: Telegram's rates (and a 429's pause) hold across deliveries.
        self.pacer = pacer or Pacer()
        self.matcher = BrandMatcher.from_config(config.brands, config.sense_model())
        self.own_accounts = OwnAccounts({brand.name: brand.own_accounts for brand in config.brands})
        self.places = BrandPlaces(
            {s.name: s.brand for s in config.sources if s.brand},
            {brand.name: brand.own_accounts for brand in config.brands},
        )
        self._brands = {brand.name: brand for brand in config.brands}
        self._spikes_checked = False
        # Posts updated after this moment are looked at again for grown complaints (None: not yet).
        self._grown_checked_at: datetime | None = None
        # "Baseline too short" is worth one log line per brand, not one per cycle.
        self._short_history_logged: set[str] = set()

    # Built on first use: a `match`-only run never loads a model or opens a socket.
    @property
    def crawlers(self) -> dict[str, Crawler[Any]]:
        if self._crawlers is None:
            from crawlers import registry

            self._crawlers = registry()
        return self._crawlers

    @property
    def engine(self) -> SentimentEngine:
        if self._engine is None:
            from sentiment import load_engine

            self._engine = load_engine(self.config.sentiment)
        return self._engine

    @property
    def sender(self) -> Sender:
        if self._sender is None:
            from alerts import make_sender

            self._sender = make_sender(self.config)
        return self._sender

    def register_sources(self) -> None:
        with self.sessions.begin() as session:
            for source in self.config.sources:
                store.ensure_source(session, source.name, source.type)

    def crawl(self, source: SourceConfig) -> CrawlReport:
        """Fetch what is new at one source and store it with its cursor in one transaction."""
        if isinstance(source, SiteSource) and source.distributed:
            return self.seed(source)
        report = CrawlReport(source.name)
        crawler = self.crawlers.get(source.type)
        if crawler is None:
            report.error = f"source type {source.type!r} has no crawler in this version"
            self._record_failure(source, report.error)
            return report
        try:
            with self.sessions() as session:
                cursor = store.get_cursor(session, source.name)
            batch = crawler.fetch(source, cursor, self.config.brands)
        except SourceError as exc:
            report.error = str(exc)
            report.error_kind = failure_kind(exc)
        except Exception as exc:  # a crawler bug must not stop the other sources
            log.exception("source %s: crawler crashed", source.name)
            report.error = f"{source.name}: unexpected {type(exc).__name__}: {exc}"
        if report.error:
            log.error("%s", report.error)
            self._record_failure(source, report.error, report.error_kind)
            return report
        for warning in batch.warnings:
            log.warning("%s", warning)
        try:
            with self.sessions.begin() as session:
                saved = store.save_batch(session, source.name, source.type, batch)
        except Exception as exc:  # the batch rolled back whole; the stored cursor still points before it
            log.exception("source %s: storing %d items failed", source.name, len(batch.items))
            report.error = f"{source.name}: storing the batch failed: {type(exc).__name__}: {exc}"
            self._record_failure(source, report.error)
            return report
        report.fetched = len(batch.items)
        report.new_items = len(saved.new_item_ids)
        report.updated = saved.updated
        report.grouped = saved.grouped
        report.warnings = list(batch.warnings)
        return report

    def seed(self, source: SiteSource) -> CrawlReport:
        """A distributed source is crawled by `brandpulse worker`s: here its round only starts, with
        its start pages queued in Redis. Its items, cursor and health come from the workers' saves."""
        from crawlers.sites.distributed import seed

        report = CrawlReport(source.name)
        try:
            result = seed(source, self.config.brands, self.config.distributed)
        except SourceError as exc:
            report.error = str(exc)
            report.error_kind = failure_kind(exc)
            log.error("%s", report.error)
            self._record_failure(source, report.error, report.error_kind)
            return report
        report.queued = result.queued
        if result.still_queued:
            # Not an error: a big round outlasting the interval. Persisting, it means no worker runs.
            report.warnings.append(
                f"{source.name}: the last round still has {result.still_queued} pages queued "
                "(are workers running?); no new round started"
            )
            log.warning("%s", report.warnings[-1])
        else:
            log.info("%s: queued %d start pages for the workers", source.name, result.queued)
        return report

    def _record_failure(self, source: SourceConfig, error: str, kind: str | None = None) -> None:
        with self.sessions.begin() as session:
            store.record_failure(session, source.name, source.type, error, kind=kind)

    def match_pending(
        self, batch_size: int = 500, progress: Callable[[int], None] | None = None
    ) -> tuple[int, int]:
        """Find brands in every item not matched yet. Returns (items looked at, mentions created)."""
        items_done = mentions_made = 0
        while True:
            with self.sessions.begin() as session:
                items = session.scalars(
                    select(Item).where(Item.matched_at.is_(None)).order_by(Item.id).limit(batch_size)
                ).all()
                if not items:
                    return items_done, mentions_made
                now = utcnow()
                source_names = self._source_names(session) if self.places else {}
                for item in items:
                    mentions_made += self._record_mentions(session, item, source_names.get(item.source_id))
                    item.matched_at = now
                items_done += len(items)
            if progress:
                progress(len(items))

    @staticmethod
    def _source_names(session: Session) -> dict[int, str]:
        return {row.id: row.name for row in session.execute(select(Source.id, Source.name))}

    def _record_mentions(self, session: Session, item: Item, source_name: str | None = None) -> int:
        try:
            matches = self.matcher.find(item.text)
        except Exception:  # one odd text must not stop the batch
            log.exception("item %s (%s): matching failed, skipped", item.id, item.url)
            return 0
        place_brand = self.places.brand_of(source_name or "", item.url, item.place) if self.places else None
        place_match = None
        if place_brand and all(match.brand != place_brand for match in matches):
            place_match = self._place_match(place_brand)
            matches = [*matches, place_match]
        # An item comes back unmatched when its text was edited: its mentions are brought up to date
        # and re-scored (a staff correction stays), so a review edited into a complaint still alerts.
        existing = {m.brand: m for m in item.mentions}
        made = 0
        for match in matches:
            mention = existing.get(match.brand)
            if mention is None:
                mention = Mention(brand=match.brand, is_competitor=match.competitor)
                mention.workflow = Workflow(status="new")
                item.mentions.append(mention)
                made += 1
            elif mention.sentiment is not None and mention.sentiment.override_label is None:
                mention.sentiment = None
            mention.span_start, mention.span_end = match.start, match.end
            mention.matched_text = match.text[:500]
            mention.by_place = match is place_match
            mention.own_post = self.own_accounts.is_own(match.brand, item.author, item.author_url)
        return made

    def _place_match(self, brand: str) -> Match:
        """A hit without a span: the item counts for the brand because of where it was published."""
        return Match(brand=brand, start=0, end=0, text="", competitor=self._brands[brand].competitor)

    def score_pending(
        self, batch_size: int = 256, progress: Callable[[int], None] | None = None
    ) -> tuple[int, int]:
        """Score mentions without sentiment; queue their alerts in the same transaction.

        Returns (mentions scored, alerts queued).
        """
        scored = queued = 0
        while True:
            with self.sessions.begin() as session:
                rows = session.execute(
                    select(Mention, Item, Source)
                    .join(Item, Mention.item_id == Item.id)
                    .join(Source, Item.source_id == Source.id)
                    .outerjoin(Sentiment, Sentiment.mention_id == Mention.id)
                    .where(Sentiment.mention_id.is_(None))
                    .order_by(Mention.id)
                    .limit(batch_size)
                ).all()
                if not rows:
                    return scored, queued
                for brand, group in _by_brand(rows).items():
                    # Long posts are read around the brand, reviews whole (sentiment/passages.py).
                    texts = [passage(item.text, item.kind, m.span_start, m.span_end) for m, item, _ in group]
                    labels = self.engine.predict(texts, brand=brand)
                    for (mention, item, source), (label, score) in zip(group, labels, strict=True):
                        verdict = decide_verdict(label, score, item.rating)
                        session.add(
                            Sentiment(
                                mention_id=mention.id,
                                label=verdict.label,
                                score=verdict.score,
                                model=self.engine.name,
                                decided_by=verdict.decided_by,
                                model_label=verdict.model_label,
                            )
                        )
                        queued += self._queue_alerts(
                            session, mention, item, source, verdict.label, verdict.score
                        )
                scored += len(rows)
            if progress:
                progress(len(rows))

    def _queue_alerts(
        self, session: Session, mention: Mention, item: Item, source: Source, label: str, score: float
    ) -> int:
        scored = scored_mention(mention, item, source, label, score)
        decisions = decide(scored, self.config, utcnow())
        if not decisions:
            return 0
        # A repost or copy of a post already alerted on (same dedup group) is not alerted again.
        return enqueue_negative(session, scored, decisions, group_id=item.group_id)

    def requeue_grown(self, now: datetime) -> int:
        """Alerts for open negative mentions whose posts grew since the last look (alerts/spreading.py)."""
        checked_at = utcnow()
        # Overlapping windows: a crawl that stamped its items before this look but committed after
        # it is still seen next time (looking twice queues nothing twice).
        last = self._grown_checked_at
        since = last - GROWN_OVERLAP if last else checked_at - GROWN_LOOKBACK
        try:
            with self.sessions.begin() as session:
                queued = requeue_grown(session, self.config, since, now, scored_mention)
        except Exception:
            log.exception("re-checking grown mentions failed; it runs again next cycle")
            return 0
        self._grown_checked_at = checked_at
        return queued

    def deliver_alerts(self) -> DeliveryReport:
        return send_pending(
            self.sessions, self.sender, telegram=self.config.alerts.telegram, pacer=self.pacer
        )

    def process(self, now: datetime | None = None) -> ProcessReport:
        """Everything after crawling: match, score, queue and deliver alerts."""
        report = ProcessReport()
        report.matched_items, report.mentions = self.match_pending()
        report.scored, report.alerts_queued = self.score_pending()
        now = now or utcnow()
        report.alerts_queued += self.requeue_grown(now)
        with self.sessions.begin() as session:
            report.alerts_queued += queue_health_alerts(session, self.config, now)
        # Volumes change only with new mentions: an idle cycle skips the spike check.
        if report.scored or not self._spikes_checked:
            report.alerts_queued += self.queue_spikes(now)
        report.alerts_queued += self.queue_digests(now)
        report.delivery = self.deliver_alerts()
        return report

    def queue_spikes(self, now: datetime) -> int:
        """Spike alerts (alerts/spike_alerts.py); a failure is logged and delivery goes on."""
        try:
            with self.sessions.begin() as session:
                spikes = queue_spike_alerts(session, self.config, now)
        except Exception:
            log.exception("spike check failed; it runs again with the next new mentions")
            return 0
        self._spikes_checked = True
        for brand, (days, need) in spikes.short_history.items():
            if brand not in self._short_history_logged:
                self._short_history_logged.add(brand)
                log.info("no spike alerts for %s yet: baseline too short (%d of %d days)", brand, days, need)
        for spike in spikes.spikes:
            log.info("spike: %s", spike)
        return spikes.queued

    def queue_digests(self, now: datetime) -> int:
        """Daily and weekly digests that are due (alerts/digests.py)."""
        try:
            with self.sessions.begin() as session:
                return queue_due_digests(session, self.config, now)
        except Exception:
            log.exception("queueing the digests failed; they are tried again next cycle")
            return 0

    def crawl_all(self, sources: Iterable[SourceConfig] | None = None) -> list[CrawlReport]:
        chosen = [s for s in (sources or self.config.sources) if s.enabled]
        return [self.crawl(source) for source in chosen]


def _by_brand(rows: Iterable[Any]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        groups[row[0].brand].append(tuple(row))
    return groups


def scored_mention(mention: Mention, item: Item, source: Source, label: str, score: float) -> ScoredMention:
    """What the alert rules and messages need of a scored mention, detached from the session."""
    return ScoredMention(
        mention_id=mention.id,
        brand=mention.brand,
        competitor=mention.is_competitor,
        source=source.name,
        source_type=source.type,
        url=item.url,
        author=item.author,
        text=item.text,
        span_start=mention.span_start,
        span_end=mention.span_end,
        published_at=item.published_at,
        label=label,
        score=score,
        reach=item.reach,
        engagement=item.engagement,
        own_post=mention.own_post,
        collected_at=item.collected_at,
    )
