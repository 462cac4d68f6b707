"""The text of a digest that carries folded alerts: one line per mention, split to fit Telegram.

Telegram HTML parse mode; every piece of user text is escaped. A digest is at most `max_messages`
messages of at most 4,096 characters; mentions that do not fit are counted in an "и ещё N" line
(each of them is still recorded as carried by the last message, see alerts/claims.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alerts.fatigue import BURST, COOLDOWN, QUIET
from alerts.messages import TELEGRAM_LIMIT, escape

LINE_SNIPPET_CHARS = 100
# Room kept in every message for the "часть 2 из 3" label and the "и ещё N" line.
_RESERVED = 120


@dataclass(frozen=True)
class DigestEntry:
    """One folded alert as a digest lists it; `fallback` (plain text) when its mention is gone."""

    brand: str | None = None
    source: str | None = None
    url: str | None = None
    text: str | None = None
    span_start: int = 0
    span_end: int = 0
    fallback: str | None = None


@dataclass(frozen=True)
class DigestPart:
    text: str
    # How many entries this message lists by name (the first ones of the digest, in order).
    listed: int


def digest_parts(
    reason: str, entries: Sequence[DigestEntry], total: int, max_messages: int
) -> list[DigestPart]:
    """The messages of one digest of `total` alerts; `entries` are the first ones (maybe not all)."""
    head = _head(reason, total)
    room = TELEGRAM_LIMIT - len(head) - _RESERVED
    parts: list[list[str]] = [[]]
    used = 0
    for entry in entries[:total]:
        line = entry_line(entry)
        if used + len(line) + 1 > room:
            if len(parts) == max_messages:
                break
            parts.append([])
            used = 0
        parts[-1].append(line)
        used += len(line) + 1
    rest = total - sum(len(lines) for lines in parts)
    out = []
    for n, lines in enumerate(parts, 1):
        label = f" (часть {n} из {len(parts)})" if len(parts) > 1 else ""
        footer = f"\n\n…и ещё {_count(rest)} — см. дашборд" if n == len(parts) and rest else ""
        body = "\n".join(lines)
        out.append(DigestPart(f"{head}{label}\n\n{body}{footer}".replace("\n\n\n\n", "\n\n"), len(lines)))
    return out


def entry_line(entry: DigestEntry) -> str:
    if entry.text is None:
        plain = " ".join((entry.fallback or "упоминание удалено").split())
        return f"• {escape(_cut(plain, LINE_SNIPPET_CHARS * 2))}"
    brand = f"<b>{escape(_cut(entry.brand or '', 100))}</b>"
    source = escape(_cut(entry.source or "", 100))
    link = f' <a href="{escape((entry.url or "")[:500], quote=True)}">открыть</a>' if entry.url else ""
    return f"• {brand} · {source}: «{_snippet(entry)}»{link}"


def _snippet(entry: DigestEntry) -> str:
    text = entry.text or ""
    left = max(0, entry.span_start - LINE_SNIPPET_CHARS // 3)
    right = min(len(text), left + LINE_SNIPPET_CHARS)
    window = " ".join(text[left:right].split())
    return ("…" if left > 0 else "") + escape(window) + ("…" if right < len(text) else "")


_HEADS = {
    BURST: "📋 <b>Сводка: {} подряд</b>\nСлишком много для отдельных сообщений — собраны здесь.",
    QUIET: "🌙 <b>Сводка за тихие часы: {}</b>",
    COOLDOWN: "🔁 <b>Сводка: ещё {} о тех же брендах</b>",
}


def _head(reason: str, total: int) -> str:
    template = _HEADS.get(reason, "📋 <b>Сводка: {}</b>")
    return template.format(f"{_count(total)} {_plural(total)}")


def _count(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _plural(n: int) -> str:
    """негативное упоминание / негативных упоминания / ... in the right Russian form."""
    if n % 10 == 1 and n % 100 != 11:
        return "негативное упоминание"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return "негативных упоминания"
    return "негативных упоминаний"


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
