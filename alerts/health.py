"""Source-health alerts: one message when a source goes silent or keeps failing, one when it recovers.

An outage is identified by the source's last success, so the outbox's dedup key makes each message
go out once however often the pipeline asks.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor import store
from monitor.clock import utcnow
from monitor.config import Config
from monitor.db.models import OutboxMessage


def queue_health_alerts(session: Session, config: Config, now: datetime | None = None) -> int:
    """Queue 'down' and 'recovered' messages for the sources whose state changed. Returns how many."""
    chats = [str(chat) for chat in config.alerts.telegram.chat_ids]
    if not chats:
        return 0
    queued = 0
    for health in store.source_health(session, config.sources, now or utcnow()):
        if not health.enabled:
            continue
        outage = health.last_success_at.isoformat() if health.last_success_at else "never"
        down = health.silent or health.failing
        if down:
            key, text = f"health:{health.name}:down:{outage}", _down_message(health)
        else:
            last = _last_health_message(session, health.name)
            if last is None or ":down:" not in last:
                continue
            key, text = last.replace(":down:", ":up:"), _recovered_message(health.name)
        for chat in chats:
            if _already_queued(session, key, chat):
                continue
            session.add(OutboxMessage(kind="health", dedup_key=key, chat_id=chat, text=text, priority=1))
            queued += 1
    session.flush()
    return queued


def _down_message(health: store.SourceHealth) -> str:
    if health.failing:
        why = f"{health.consecutive_failures} неудачных запусков подряд"
    else:
        why = "нет успешных запусков дольше трёх интервалов"
    since = health.last_success_at.strftime("%d.%m.%Y %H:%M UTC") if health.last_success_at else "ни разу"
    lines = [
        f"🛠 <b>Источник не работает: {escape(health.name)}</b>",
        f"Причина: {why}",
        f"Последний успех: {since}",
    ]
    if health.last_error:
        lines.append(f"Последняя ошибка: {escape(health.last_error[:500])}")
    return "\n".join(lines)


def _recovered_message(name: str) -> str:
    return f"✅ <b>Источник снова работает: {escape(name)}</b>"


def _last_health_message(session: Session, source_name: str) -> str | None:
    prefix = f"health:{source_name}:"
    return session.scalar(
        select(OutboxMessage.dedup_key)
        .where(OutboxMessage.kind == "health", OutboxMessage.dedup_key.startswith(prefix, autoescape=True))
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )


def _already_queued(session: Session, key: str, chat: str) -> bool:
    found = select(OutboxMessage.id).where(OutboxMessage.dedup_key == key, OutboxMessage.chat_id == chat)
    return session.scalar(found) is not None
