"""Which scored mentions deserve an alert, and to which chats. Pure: data in, decisions out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.config import AlertRule, Config

# Reach (followers or views) from which a negative mention is marked urgent and sent first.
HIGH_REACH = 10_000


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


@dataclass(frozen=True)
class AlertDecision:
    rule: str
    chat_id: str
    urgent: bool


def decide(mention: ScoredMention, config: Config) -> list[AlertDecision]:
    """One decision per chat that some rule routes this mention to (a chat hears it once)."""
    decisions: dict[str, AlertDecision] = {}
    for rule in config.alerts.rules:
        if not _rule_matches(rule, mention, config):
            continue
        for chat_id in rule.chat_ids or config.alerts.telegram.chat_ids:
            decisions.setdefault(str(chat_id), AlertDecision(rule.name, str(chat_id), is_urgent(mention)))
    return list(decisions.values())


def is_urgent(mention: ScoredMention) -> bool:
    return mention.reach >= HIGH_REACH


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
    return mention.reach >= rule.min_reach
