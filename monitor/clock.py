"""The one place that reads the wall clock, so tests can reason about time, and the time zone people
read times in."""

from __future__ import annotations

import os
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.errors import ConfigError

DEFAULT_TIMEZONE = "Europe/Moscow"
# Names the zone pages, exports and reports show times in (and weeks start in).
TIMEZONE_VARIABLE = "BRANDPULSE_TIMEZONE"


def utcnow() -> datetime:
    return datetime.now(UTC)


def timezone_named(name: str | None) -> tzinfo:
    """The IANA zone `name`, or Europe/Moscow for none; an unknown name is a ConfigError."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"unknown time zone {name!r}: use an IANA name such as Europe/Moscow") from None


def display_timezone() -> tzinfo:
    """Where staff read times: BRANDPULSE_TIMEZONE, else Europe/Moscow. The pages, their CSV/XLSX
    downloads and the reports all use it, so a time in a file is the time seen on screen."""
    return timezone_named(os.environ.get(TIMEZONE_VARIABLE))
