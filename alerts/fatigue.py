"""Alert fatigue control, pure: which due alerts of one chat go out now, wait, or fold into a digest.

Three rules, in this order, for negative alerts (other kinds always go out):
- quiet hours: the alert waits until they end, then comes in one digest (urgent ones may bypass);
- cool-down: after an alert about a brand, more about it wait out the cool-down, then one digest;
- batching: more than `batch_over` alerts in `batch_window` and the rest fold into one digest, at
  most one such digest per window (later ones wait for the next window).
Nothing is ever dropped: every alert is either sent, waiting, or carried by a digest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitor.config import QuietHours, TelegramConfig

# Alerts about single mentions: the ones that arrive in bursts, that a digest can list and that
# carry the «Беру в работу» / «Не релевантно» buttons. "spreading": alerts/spreading.py.
FOLDABLE_KINDS = ("negative", "spreading")
QUIET, COOLDOWN, BURST = "quiet", "cooldown", "burst"


@dataclass(frozen=True)
class ChatPolicy:
    batch_over: int
    batch_window: timedelta
    batch_max_messages: int
    cooldown: timedelta | None
    quiet_hours: QuietHours | None


def chat_policy(telegram: TelegramConfig, chat_id: str) -> ChatPolicy:
    """The settings of `alerts.telegram` with this chat's `per_chat` overrides applied."""
    override = next((s for key, s in telegram.per_chat.items() if str(key) == chat_id), None)

    def pick(name: str) -> int:
        value = getattr(override, name, None) if override else None
        return int(getattr(telegram, name) if value is None else value)

    quiet = telegram.quiet_hours
    if override is not None:
        quiet = None if override.quiet_hours_off else (override.quiet_hours or quiet)
    cooldown = pick("cooldown")
    return ChatPolicy(
        batch_over=pick("batch_over"),
        batch_window=timedelta(seconds=pick("batch_window")),
        batch_max_messages=pick("batch_max_messages"),
        cooldown=timedelta(seconds=cooldown) if cooldown else None,
        quiet_hours=quiet,
    )


def quiet_until(quiet: QuietHours | None, now: datetime) -> datetime | None:
    """When the quiet hours `now` falls in end (UTC), or None outside them."""
    if quiet is None:
        return None
    zone = ZoneInfo(quiet.timezone)
    local = now.astimezone(zone)
    start, end = _clock(quiet.start), _clock(quiet.end)
    clock = local.time().replace(tzinfo=None)
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone).astimezone(now.tzinfo)


def _clock(hh_mm: str) -> time:
    hours, minutes = hh_mm.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class DueAlert:
    """An outbox row that is due: what planning needs to know about it."""

    id: int
    kind: str
    brand: str | None
    urgent: bool
    # Set when it waited (quiet / cooldown / burst): now that it is due, it goes into a digest.
    hold_reason: str | None = None


@dataclass(frozen=True)
class ChatHistory:
    """What the chat got lately, from the outbox."""

    # Negative alerts sent on their own (or being sent) within the batch window.
    sent_in_window: int = 0
    # When the last burst digest was queued, if within the batch window.
    last_burst_digest_at: datetime | None = None
    # Per brand: the last negative alert sent on its own, within the cool-down.
    last_alert_by_brand: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class Hold:
    alert_id: int
    until: datetime
    reason: str


@dataclass
class ChatPlan:
    send: list[int] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    # reason -> alert ids, in order, to fold into one digest (possibly split into several messages)
    folds: dict[str, list[int]] = field(default_factory=dict)

    def fold(self, reason: str, alert_id: int) -> None:
        self.folds.setdefault(reason, []).append(alert_id)


def plan_chat(due: Sequence[DueAlert], history: ChatHistory, policy: ChatPolicy, now: datetime) -> ChatPlan:
    """Decide for each due alert of one chat (given most urgent first): send, hold, or fold."""
    plan = ChatPlan()
    quiet_end = quiet_until(policy.quiet_hours, now)
    bypass = policy.quiet_hours is not None and policy.quiet_hours.urgent_bypass
    room = max(0, policy.batch_over - history.sent_in_window)
    last_by_brand = dict(history.last_alert_by_brand)
    overflow: list[int] = []
    for alert in due:
        if alert.kind not in FOLDABLE_KINDS:
            plan.send.append(alert.id)
        elif quiet_end is not None and not (alert.urgent and bypass):
            plan.holds.append(Hold(alert.id, quiet_end, QUIET))
        elif alert.hold_reason is not None:
            plan.fold(alert.hold_reason, alert.id)
        elif (cooling := _cooling_until(alert, last_by_brand, policy.cooldown, now)) is not None:
            plan.holds.append(Hold(alert.id, cooling, COOLDOWN))
        elif room > 0:
            room -= 1
            plan.send.append(alert.id)
            if alert.brand is not None:
                last_by_brand[alert.brand] = now
        else:
            overflow.append(alert.id)
    if overflow:
        last_digest = history.last_burst_digest_at
        if last_digest is not None and now < last_digest + policy.batch_window:
            # One burst digest per window: the rest waits for the next one.
            plan.holds.extend(Hold(i, last_digest + policy.batch_window, BURST) for i in overflow)
        else:
            for alert_id in overflow:
                plan.fold(BURST, alert_id)
    return plan


def _cooling_until(
    alert: DueAlert, last_by_brand: dict[str, datetime], cooldown: timedelta | None, now: datetime
) -> datetime | None:
    if cooldown is None or alert.brand is None or alert.brand not in last_by_brand:
        return None
    until = last_by_brand[alert.brand] + cooldown
    return until if now < until else None
