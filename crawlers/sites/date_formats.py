"""Dates in a site's own format (`date_format` in spiders.yaml): strptime, except that %b and %B also
read Russian month names as forums print them ("10-Апр-26 12:55": "%d-%b-%y %H:%M"; "3 марта 2025").

strptime knows only the English names whatever the locale, and switching the process locale is
neither thread-safe nor available everywhere; so the Russian name is turned into its number first.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

from crawlers.sites.dates import RUSSIAN_MONTHS as _MONTHS

_RUSSIAN_WORD = re.compile(r"[а-яё]+", re.IGNORECASE)
_DIRECTIVE = re.compile(r"%(.)")
# What datetime.strptime understands.
_KNOWN = frozenset("aAwdbBmyYHIpMSfzZjUWcxXGuV%:")


def check_format(date_format: str) -> None:
    """ValueError saying what is wrong when `date_format` cannot be a strptime format."""
    directives = _DIRECTIVE.findall(date_format)
    if not directives:
        raise ValueError(f"{date_format!r} has no %-directives (a strptime format like '%d.%m.%Y %H:%M')")
    unknown = sorted({d for d in directives if d not in _KNOWN})
    if unknown:
        raise ValueError(
            f"{date_format!r}: unknown directive {', '.join('%' + d for d in unknown)} "
            "(strptime directives: %d %m %b %B %y %Y %H %M %S ...)"
        )


def parse_with_format(text: str | None, date_format: str, zone: tzinfo) -> datetime | None:
    """`text` read with `date_format`, in UTC (the site's `zone` when the text has no offset); None
    when it does not fit."""
    if not text:
        return None
    raw = " ".join(text.replace("\xa0", " ").split())
    pattern = date_format
    if "%b" in pattern or "%B" in pattern:
        raw, pattern = _month_as_number(raw, pattern)
    try:
        value = datetime.strptime(raw, pattern)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _month_as_number(raw: str, pattern: str) -> tuple[str, str]:
    """The first Russian month name in `raw` as its number, and %b / %B as %m; unchanged when the
    text names its month in English."""
    for match in _RUSSIAN_WORD.finditer(raw):
        month = _MONTHS.get(match.group().lower().replace("ё", "е")[:3])
        if month is not None:
            raw = f"{raw[: match.start()]}{month:02d}{raw[match.end() :]}"
            return raw, pattern.replace("%B", "%m").replace("%b", "%m")
    return raw, pattern
