"""Source-health alerts: one message when a source goes silent or keeps failing, one when it recovers;
one when its crawls keep succeeding with warnings (degraded), one when they are clean again.

An outage is identified by the source's last success, a degradation by its first warned crawl, so
the outbox's dedup key makes each message go out once however often the pipeline asks.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from alerts.dedup_keys import dedup_key
from alerts.messages import local_time
from monitor.clock import utcnow
from monitor.config import Config
from monitor.db.models import OutboxMessage
from monitor.source_health import SourceHealth, source_health


def queue_health_alerts(session: Session, config: Config, now: datetime | None = None) -> int:
    """Queue 'down', 'degraded' and their 'recovered' messages for the sources whose state changed.
    Returns how many."""
    chats = [str(chat) for chat in config.alerts.telegram.chat_ids]
    if not chats:
        return 0
    queued = 0
    for health in source_health(session, config.sources, now or utcnow()):
        if not health.enabled:
            continue
        for key, text in _due_messages(session, health):
            for chat in chats:
                if _already_queued(session, key, chat):
                    continue
                session.add(OutboxMessage(kind="health", dedup_key=key, chat_id=chat, text=text, priority=1))
                queued += 1
    session.flush()
    return queued


def _due_messages(session: Session, health: SourceHealth) -> list[tuple[str, str]]:
    """(dedup key, text) of the messages this source's state calls for. Outages (down/up) and
    degradation (degraded/recovered) are two separate conversations: each opens with one message and
    closes with one. While a source is down its degradation is left as it was: a failing crawl says
    nothing about its warnings."""
    prefix = dedup_key("health", health.name) + ":"
    outage = health.last_success_at.isoformat() if health.last_success_at else "never"
    if health.silent or health.failing:
        return [(f"{prefix}down:{outage}", _down_message(health))]
    due = []
    last_outage = _last_health_message(session, health.name, ("down", "up"))
    if last_outage is not None and last_outage.startswith(f"{prefix}down:"):
        due.append((last_outage.replace(":down:", ":up:", 1), _recovered_message(health.name)))
    last_degradation = _last_health_message(session, health.name, ("degraded", "recovered"))
    if health.degraded:
        since = health.warnings_since.isoformat() if health.warnings_since else "unknown"
        due.append((f"{prefix}degraded:{since}", _degraded_message(health)))
    elif last_degradation is not None and last_degradation.startswith(f"{prefix}degraded:"):
        due.append(
            (last_degradation.replace(":degraded:", ":recovered:", 1), _clean_again_message(health.name))
        )
    return due


def _down_message(health: SourceHealth) -> str:
    if health.failing and health.blocked:
        why = (
            f"сайт отвечает анти-бот проверкой (капча) вместо страниц, "
            f"{health.consecutive_failures} запусков подряд"
        )
    elif health.failing:
        why = f"{health.consecutive_failures} неудачных запусков подряд"
    else:
        why = "нет успешных запусков дольше трёх интервалов"
    since = local_time(health.last_success_at) if health.last_success_at else "ни разу"
    lines = [
        f"🛠 <b>Источник не работает: {escape(health.name)}</b>",
        f"Причина: {why}",
        f"Последний успех: {since}",
    ]
    if health.last_error:
        lines.append(f"Последняя ошибка: {escape(health.last_error[:500])}")
    return "\n".join(lines)


def _degraded_message(health: SourceHealth) -> str:
    since = local_time(health.warnings_since) if health.warnings_since else "—"
    lines = [
        f"⚠️ <b>Источник работает с предупреждениями: {escape(health.name)}</b>",
        f"Причина: {health.consecutive_warning_runs} запусков подряд с предупреждениями "
        f"(собрано в последний раз: {health.last_items_count or 0})",
        f"С: {since}",
    ]
    if health.last_warning:
        lines.append(f"Последнее предупреждение: {escape(health.last_warning[:500])}")
    return "\n".join(lines)


def _recovered_message(name: str) -> str:
    return f"✅ <b>Источник снова работает: {escape(name)}</b>"


def _clean_again_message(name: str) -> str:
    return f"✅ <b>Источник снова работает без предупреждений: {escape(name)}</b>"


def _last_health_message(session: Session, source_name: str, kinds: tuple[str, ...]) -> str | None:
    """The key of the newest health message about the source of one of `kinds` (down, up...)."""
    prefixes = [dedup_key("health", source_name, kind) + ":" for kind in kinds]
    return session.scalar(
        select(OutboxMessage.dedup_key)
        .where(
            OutboxMessage.kind == "health",
            or_(*(OutboxMessage.dedup_key.startswith(p, autoescape=True) for p in prefixes)),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )


def _already_queued(session: Session, key: str, chat: str) -> bool:
    found = select(OutboxMessage.id).where(OutboxMessage.dedup_key == key, OutboxMessage.chat_id == chat)
    return session.scalar(found) is not None
