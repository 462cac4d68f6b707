"""Showing user text safely: posts are data, never Markdown or HTML the page would run."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from urllib.parse import quote, urlsplit

from monitor.clock import display_timezone
from monitor.invisible import shown

_URL_SAFE = ":/?#@!$&'*+,;=%-._~"
# "<", ">" and "&" are left to html.escape: a backslash before an entity would show the entity itself.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def safe_text(text: str) -> str:
    """User text shown as text: Markdown neutralised first, then HTML escaped (so an apostrophe
    never becomes a visible &#x27;)."""
    return html.escape(_MARKDOWN_SPECIALS.sub(r"\\\1", shown(text)), quote=False)


def safe_link(url: str, label: str = "Открыть оригинал") -> str:
    """A Markdown link to the original post, or nothing for a URL that is not plain http(s)."""
    if urlsplit(url).scheme not in ("http", "https"):
        return ""
    # Brackets, parentheses and spaces would end the Markdown link early: percent-encode them.
    return f"[{safe_text(label)}]({quote(url, safe=_URL_SAFE)})"


def highlighted(text: str, start: int, end: int, width: int = 400) -> str:
    """The text around the brand, the brand marked; everything escaped."""
    left = max(0, start - width // 2)
    right = min(len(text), end + width // 2)
    prefix = "…" if left else ""
    suffix = "…" if right < len(text) else ""
    return (
        f"{prefix}{safe_text(text[left:start])}<mark>{safe_text(text[start:end])}</mark>"
        f"{safe_text(text[end:right])}{suffix}"
    )


def local_time(moment: datetime | None) -> str:
    """A time as staff read it (BRANDPULSE_TIMEZONE, else Moscow), as the downloads write it."""
    return moment.astimezone(display_timezone()).strftime("%d.%m.%Y %H:%M") if moment else "—"


def duration(delta: timedelta) -> tuple[int, int, int]:
    """(days, hours, minutes) of a non-negative duration, for a translated 'in 2 h 5 min'."""
    minutes = max(0, int(delta.total_seconds() // 60))
    return minutes // 1440, minutes % 1440 // 60, minutes % 60
