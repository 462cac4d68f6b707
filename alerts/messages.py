"""Alert texts in Russian, Telegram HTML parse mode: every piece of user text is escaped."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timedelta

from alerts.rules import ScoredMention
from alerts.spikes import SpikeVerdict
from monitor.clock import display_timezone
from monitor.invisible import shown
from monitor.volume import NotablePost

TELEGRAM_LIMIT = 4096
SNIPPET_CHARS = 600
_LABELS_RU = {"negative": "негатив", "neutral": "нейтрально", "positive": "позитив"}


def escape(value: str, quote: bool = False) -> str:
    """User text for Telegram HTML: escaped, and without direction overrides or control characters
    that would reverse or hide what the support lead reads (monitor.invisible.shown)."""
    return html.escape(shown(value), quote=quote)


SPREADING_HEAD = "📣 <b>Жалоба набирает обороты</b> (уже была в алертах, ответа нет)"


def negative_alert(mention: ScoredMention, urgent: bool, head: str | None = None) -> str:
    # Urgent: wide reach, or engagement growing fast (alerts/rules.py is_urgent).
    if head is None:
        head = "🔴 <b>Срочно: заметный негатив</b>" if urgent else "⚠️ <b>Негативное упоминание</b>"
    when = local_time(mention.published_at) if mention.published_at else "время неизвестно"
    # 0 is what a source without the number gives: say nothing rather than «охват 0».
    numbers = "".join(
        f" · {name} {thousands(value)}"
        for name, value in (("охват", mention.reach), ("реакций", mention.engagement))
        if value
    )
    header = "\n".join(
        [
            head,
            f"Бренд: <b>{_short(mention.brand)}</b>",
            f"Источник: {_short(mention.source)}",
            f"Автор: {_short(mention.author or 'неизвестен')}{numbers}",
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


def spreading_alert(mention: ScoredMention) -> str:
    """A negative mention alerted before, now with wide reach or fast-growing engagement."""
    return negative_alert(mention, urgent=True, head=SPREADING_HEAD)


def highlighted_snippet(text: str, start: int, end: int, width: int = SNIPPET_CHARS) -> str:
    """A window of about `width` characters around the brand, escaped, with the brand in bold."""
    end = min(end, start + max(width, 1))
    left = max(0, start - width // 2)
    right = min(len(text), max(end, left + width))
    before, brand, after = text[left:start], text[start:end], text[end:right]
    prefix = "…" if left > 0 else ""
    suffix = "…" if right < len(text) else ""
    return f"{prefix}{escape(before)}<b>{escape(brand)}</b>{escape(after)}{suffix}"


def local_time(moment: datetime, form: str = "%d.%m.%Y %H:%M") -> str:
    """A time as staff read it (BRANDPULSE_TIMEZONE, else Moscow), with its zone: «20.11.2026 12:15 МСК»."""
    zone = display_timezone()
    label = "МСК" if str(zone) == "Europe/Moscow" else str(zone)
    return f"{moment.astimezone(zone):{form}} {label}"


def thousands(number: int) -> str:
    """27 400, as Russian writes it."""
    return f"{number:,}".replace(",", " ")


def _short(value: str, limit: int = 200) -> str:
    return escape(value if len(value) <= limit else value[: limit - 1] + "…")


POST_SNIPPET_CHARS = 200
_SPIKE_HEADS = {"negative": "📈 <b>Всплеск негатива: {}</b>", "total": "📈 <b>Всплеск упоминаний: {}</b>"}
_SPIKE_COUNTS = {"negative": "Негативных упоминаний", "total": "Упоминаний"}


def spike_alert(
    brand: str,
    metric: str,
    hour_start: datetime,
    verdict: SpikeVerdict,
    hour_total: int,
    posts: Sequence[NotablePost],
    rule: str,
) -> str:
    """One spike: the hour, its count against the baseline, and the posts that carried it."""
    baseline = verdict.baseline
    hour_end = hour_start + timedelta(hours=1)
    lines = [
        _SPIKE_HEADS[metric].format(_short(brand)),
        f"Час: {hour_start.astimezone(display_timezone()):%d.%m.%Y %H:%M}–{local_time(hour_end, '%H:%M')}",
        f"{_SPIKE_COUNTS[metric]}: <b>{verdict.count}</b>"
        + (f" (всего за час: {hour_total})" if metric == "negative" else ""),
    ]
    if baseline is not None:
        usual = f"{baseline.mean:.1f} (среднее за {baseline.days} дн.)"
        lines.append(f"Обычно в этот час: {usual}, порог: {baseline.threshold}")
    lines.append(f"Правило: {_short(rule)}")
    header = "\n".join(lines)
    width = POST_SNIPPET_CHARS
    while True:
        body = post_list(posts, width)
        message = f"{header}\n\n<b>Самые заметные:</b>\n{body}" if posts else header
        if len(message) <= TELEGRAM_LIMIT or width <= 0:
            return message
        width //= 2


def post_list(posts: Sequence[NotablePost], width: int = POST_SNIPPET_CHARS) -> str:
    """Numbered posts: a link named by source and author, reach, sentiment and a short snippet."""
    entries = []
    for n, post in enumerate(posts, 1):
        reach = f" · охват {thousands(post.reach)}" if post.reach else ""
        named = f"{post.source} · {post.author or 'автор неизвестен'}"
        link = f'<a href="{escape(post.url[:1000], quote=True)}">{_short(named)}</a>'
        tone = f" · {_LABELS_RU.get(post.label, post.label)}" if post.label else ""
        if post.label and post.score is not None:
            tone += f" {post.score:.2f}"
        text = " ".join(post.text.split())
        snippet = text if len(text) <= width else text[: max(width - 1, 0)] + "…"
        entry = f"{n}. {link}{reach}{tone}"
        if snippet:
            entry += f"\n«{escape(snippet)}»"
        entries.append(entry)
    return "\n".join(entries)
