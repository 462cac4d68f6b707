"""Spike alerts: count each watched brand's mentions this hour (and last hour, for late posts), judge
them with alerts.spikes against the same hour on earlier days, and queue one message per spike.

The outbox is the memory: a dedup key per (brand, rule, metric, hour) makes each spike one message
however often this runs, and the newest spike message of a (brand, rule) starts its cool-down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.dedup_keys import dedup_key
from alerts.messages import spike_alert
from alerts.spikes import SpikeSettings, SpikeVerdict, detect_spike
from monitor import volume
from monitor.config import AlertRule, Config
from monitor.db.models import OutboxMessage

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# Negative first: when both metrics spike at once, the cool-down lets only the more telling one out.
METRIC_ORDER = ("negative", "total")


@dataclass
class SpikeReport:
    queued: int = 0
    # Brands not judged yet: (days of history they have, days needed), per brand.
    short_history: dict[str, tuple[int, int]] = field(default_factory=dict)
    spikes: list[str] = field(default_factory=list)


def queue_spike_alerts(session: Session, config: Config, now: datetime) -> SpikeReport:
    """Judge the current and the previous hour of every brand a spike rule watches; queue the spikes."""
    report = SpikeReport()
    current = now.replace(minute=0, second=0, microsecond=0)
    # The previous hour too: posts published in it are often collected only after it ended.
    judged_hours = (current - HOUR, current)
    for rule in config.alerts.rules:
        chats = [str(chat) for chat in rule.chat_ids or config.alerts.telegram.chat_ids]
        if not rule.spikes or not chats:
            continue
        brands = rule.brands or [brand.name for brand in config.own_brands]
        needed = {hour - DAY * d for hour in judged_hours for d in range(rule.spike_baseline_days + 1)}
        counts = volume.hourly_mention_counts(session, brands, needed, sources=rule.sources)
        for brand in brands:
            since = volume.first_mention_at(session, brand)
            for metric in sorted(rule.spike_metrics, key=METRIC_ORDER.index):
                for hour in judged_hours:
                    verdict = judge_hour(counts, brand, metric, hour, since, rule)
                    if verdict.baseline_too_short:
                        report.short_history[brand] = (verdict.history_days, rule.spike_min_history_days)
                    elif verdict.spike:
                        hour_total = counts.get((brand, hour), volume.HourCount()).total
                        queued = _queue(session, rule, chats, brand, metric, hour, verdict, hour_total, now)
                        if queued:
                            report.queued += queued
                            report.spikes.append(f"{brand} {metric} {hour:%Y-%m-%d %H}h: {verdict.reason}")
    return report


def judge_hour(
    counts: dict[tuple[str, datetime], volume.HourCount],
    brand: str,
    metric: str,
    hour: datetime,
    since: datetime | None,
    rule: AlertRule,
) -> SpikeVerdict:
    """One brand's metric in one hour against the same hour on the rule's baseline days."""
    history = [
        counts.get((brand, hour - DAY * d), volume.HourCount()).of(metric)
        for d in range(1, rule.spike_baseline_days + 1)
        # Only hours fully watched: an hour before the first stored mention is unknown, not zero.
        if since is not None and hour - DAY * d >= since
    ]
    this_hour = counts.get((brand, hour), volume.HourCount()).of(metric)
    settings = SpikeSettings(min_count=rule.spike_min_count, min_history_days=rule.spike_min_history_days)
    return detect_spike(this_hour, history, settings)


def spike_key(brand: str, rule: str, metric: str, hour: datetime) -> str:
    return dedup_key("spike", brand, rule, metric, f"{hour:%Y-%m-%dT%H}")


def _queue(
    session: Session,
    rule: AlertRule,
    chats: list[str],
    brand: str,
    metric: str,
    hour: datetime,
    verdict: SpikeVerdict,
    hour_total: int,
    now: datetime,
) -> int:
    key = spike_key(brand, rule.name, metric, hour)
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedup_key == key).limit(1)) is not None:
        return 0
    if _in_cooldown(session, brand, rule, now):
        return 0
    posts = volume.notable_posts(
        session, brand, hour, hour + HOUR, negative_only=metric == "negative", sources=rule.sources
    )
    text = spike_alert(brand, metric, hour, verdict, hour_total, posts, rule.name)
    for chat in chats:
        session.add(
            OutboxMessage(
                kind="spike",
                dedup_key=key,
                chat_id=chat,
                rule=rule.name,
                mention_id=posts[0].mention_id if posts else None,
                text=text,
                priority=1,
                # The cool-down is measured from here, on the same clock as `now`.
                created_at=now,
            )
        )
    # The next metric or hour of this run must see this message to respect the cool-down.
    session.flush()
    return len(chats)


def _in_cooldown(session: Session, brand: str, rule: AlertRule, now: datetime) -> bool:
    prefix = dedup_key("spike", brand, rule.name) + ":"
    last = session.scalar(
        select(OutboxMessage.created_at)
        .where(OutboxMessage.kind == "spike", OutboxMessage.dedup_key.startswith(prefix, autoescape=True))
        .order_by(OutboxMessage.created_at.desc())
        .limit(1)
    )
    return last is not None and last > now - timedelta(seconds=rule.spike_cooldown)
