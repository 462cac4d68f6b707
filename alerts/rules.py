"""Which scored mentions deserve an alert, and to which chats. Pure: data in, decisions out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.clock import utcnow
from monitor.config import AlertRule, AlertsConfig, Config

# Engagement per hour counts at least this much age: a few likes in a post's first minutes are
# not yet a surge.
MIN_AGE_FOR_RATE = timedelta(minutes=30)


@dataclass(frozen=True)
class ScoredMention:
    """Everything a rule and an alert message need, detached from the database session."""

    mention_id: int
    brand: str
    competitor: bool
    source: str
    source_type: str
    url: str
    author: str | None
    text: str
    span_start: int
    span_end: int
    published_at: datetime | None
    label: str
    score: float
    reach: int
    engagement: int
    # The brand's own account wrote it (brands[].own_accounts): never alerted on.
    own_post: bool = False
    # When brandpulse first stored the post; None: now (it is being scored as it is found).
    collected_at: datetime | None = None


@dataclass(frozen=True)
class AlertDecision:
    rule: str
    chat_id: str
    urgent: bool


def decide(mention: ScoredMention, config: Config, now: datetime | None = None) -> list[AlertDecision]:
    """One decision per chat that some rule routes this mention to (a chat hears it once)."""
    now = now or utcnow()
    if mention.own_post or is_old_news(mention, config.alerts, now):
        return []
    urgent = is_urgent(mention, config.alerts, now)
    decisions: dict[str, AlertDecision] = {}
    for rule in config.alerts.rules:
        if not _rule_matches(rule, mention, config):
            continue
        for chat_id in rule.chat_ids or config.alerts.telegram.chat_ids:
            decisions.setdefault(str(chat_id), AlertDecision(rule.name, str(chat_id), urgent))
    return list(decisions.values())


def is_old_news(mention: ScoredMention, alerts: AlertsConfig, now: datetime) -> bool:
    """Published more than `alerts.max_post_age` before it was collected: a first crawl reaching
    weeks back brings history. Judged at collection, not now, so a fresh complaint that spreads days
    later still alerts; a post of unknown date is never old news."""
    if not alerts.max_post_age or mention.published_at is None:
        return False
    found_at = mention.collected_at or now
    return found_at - mention.published_at > timedelta(seconds=alerts.max_post_age)


def is_urgent(mention: ScoredMention, alerts: AlertsConfig, now: datetime) -> bool:
    """High reach, or engagement growing fast since publication: marked, and sent first."""
    if mention.reach >= alerts.urgent_reach:
        return True
    rate = engagement_per_hour(mention, now)
    return rate is not None and rate >= alerts.urgent_engagement_per_hour


def engagement_per_hour(mention: ScoredMention, now: datetime) -> float | None:
    """Likes + reposts + comments per hour since publication; None when the time is unknown."""
    if mention.published_at is None:
        return None
    age = max(now - mention.published_at, MIN_AGE_FOR_RATE)
    return mention.engagement / (age / timedelta(hours=1))


def _rule_matches(rule: AlertRule, mention: ScoredMention, config: Config) -> bool:
    if mention.label != "negative" or mention.score < rule.min_negative_score:
        return False
    if rule.brands:
        if mention.brand not in rule.brands:
            return False
    elif mention.competitor:
        # A rule without brands watches our own brands; rivals' complaints are not our support's job.
        return False
    if rule.sources and mention.source not in rule.sources:
        return False
    return mention.reach >= rule.min_reach and mention.engagement >= rule.min_engagement
