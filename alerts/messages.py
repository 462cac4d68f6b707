"""Alert texts in Russian, Telegram HTML parse mode: every piece of user text is escaped."""

from __future__ import annotations

from html import escape

from alerts.rules import ScoredMention

TELEGRAM_LIMIT = 4096
SNIPPET_CHARS = 600
_LABELS_RU = {"negative": "негатив", "neutral": "нейтрально", "positive": "позитив"}


def negative_alert(mention: ScoredMention, urgent: bool) -> str:
    head = "🔴 <b>Срочно: негатив с большим охватом</b>" if urgent else "⚠️ <b>Негативное упоминание</b>"
    when = mention.published_at.strftime("%d.%m.%Y %H:%M UTC") if mention.published_at else "время неизвестно"
    reach = f"{mention.reach:,}".replace(",", " ")
    header = "\n".join(
        [
            head,
            f"Бренд: <b>{_short(mention.brand)}</b>",
            f"Источник: {_short(mention.source)}",
            f"Автор: {_short(mention.author or 'неизвестен')} · охват {reach}",
            f"Время: {when}",
            f"Тональность: {_LABELS_RU.get(mention.label, mention.label)} ({mention.score:.2f})",
        ]
    )
    link = f'<a href="{escape(mention.url[:1000], quote=True)}">Открыть пост</a>'
    # The snippet is the only part of unbounded size: shrink it until the message fits.
    width = SNIPPET_CHARS
    while True:
        snippet = highlighted_snippet(mention.text, mention.span_start, mention.span_end, width)
        message = f"{header}\n\n{snippet}\n\n{link}"
        if len(message) <= TELEGRAM_LIMIT or width <= 0:
            return message
        width //= 2


def highlighted_snippet(text: str, start: int, end: int, width: int = SNIPPET_CHARS) -> str:
    """A window of about `width` characters around the brand, escaped, with the brand in bold."""
    end = min(end, start + max(width, 1))
    left = max(0, start - width // 2)
    right = min(len(text), max(end, left + width))
    before, brand, after = text[left:start], text[start:end], text[end:right]
    prefix = "…" if left > 0 else ""
    suffix = "…" if right < len(text) else ""
    return f"{prefix}{escape(before)}<b>{escape(brand)}</b>{escape(after)}{suffix}"


def _short(value: str, limit: int = 200) -> str:
    return escape(value if len(value) <= limit else value[: limit - 1] + "…")
