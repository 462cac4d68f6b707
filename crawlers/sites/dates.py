"""Dates as Russian sites print them ("вчера в 14:05", "3 марта 2025 г.", "2 часа назад") -> UTC datetimes.

Also unix timestamps, as forums keep them in attributes (XenForo's data-time="1732345678").

Pure functions: the caller passes `now` and the site's timezone, so the same text always gives the
same answer. Anything not understood gives None; the pipeline then falls back to the collection time.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Europe/Moscow"

# The first three letters are enough for every spelling: "марта", "март", "мар.", "мар".
_MONTHS = {
    "янв": 1,
    "фев": 2,
    "мар": 3,
    "апр": 4,
    "май": 5,
    "мая": 5,
    "мае": 5,
    "июн": 6,
    "июл": 7,
    "авг": 8,
    "сен": 9,
    "окт": 10,
    "ноя": 11,
    "дек": 12,
}

# Seconds in one unit, keyed by the stem every inflection starts with.
_UNITS = (
    ("сек", 1),
    ("мин", 60),
    ("час", 3600),
    ("ден", 86400),
    ("дн", 86400),
    ("сут", 86400),
    ("нед", 7 * 86400),
    ("мес", 30 * 86400),
    ("год", 365 * 86400),
    ("лет", 365 * 86400),
)
_WORD_NUMBERS = {"одну": 1, "один": 1, "одна": 1, "полчаса": 30, "пару": 2, "две": 2, "два": 2, "три": 3}

# Weekday names as XenForo prints posts of the last week ("Суббота в 18:40"), Monday = 0.
_WEEKDAYS = {
    "понедельник": 0,
    "вторник": 1,
    "среда": 2,
    "среду": 2,
    "четверг": 3,
    "пятница": 4,
    "пятницу": 4,
    "суббота": 5,
    "субботу": 5,
    "воскресенье": 6,
}

_TIME = r"(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?::(?P<second>\d{2}))?"
# Drupal (irecommend) separates the time with a dash: "12 марта, 2024 - 10:15".
_TIME_TAIL = rf"(?:\s*(?:,|в|at|-|–|—)?\s*{_TIME})?"
_RELATIVE_DAY = re.compile(rf"^(?P<day>сегодня|вчера|позавчера)\s*(?:,|в)?\s*(?:{_TIME})?$")
# A weekday needs its time: "среда" alone is as likely a word ("среда" is also "environment").
_WEEKDAY = re.compile(rf"^(?:в\s+)?(?P<weekday>[а-я]+)\s*(?:,|в)?\s*{_TIME}$")
_NUMERIC = re.compile(rf"^(?P<d>\d{{1,2}})\.(?P<m>\d{{1,2}})\.(?P<y>\d{{4}}|\d{{2}}){_TIME_TAIL}$")
_DAY_MONTH_YEAR = re.compile(
    rf"^(?P<d>\d{{1,2}})\s+(?P<month>[а-я]+)\.?(?:,?\s+(?P<y>\d{{4}}))?(?:\s*(?:г\.?|года?))?{_TIME_TAIL}$"
)
# phpBB's default English-order format with Russian names: "пн мар 03, 2025 14:05".
_MONTH_DAY_YEAR = re.compile(
    rf"^(?:[а-я]{{2}}\s+)?(?P<month>[а-я]+)\.?\s+(?P<d>\d{{1,2}}),?\s+(?P<y>\d{{4}}){_TIME_TAIL}$"
)
_AGO = re.compile(r"^(?:(?P<count>\d+|[а-я]+)\s+)?(?P<unit>[а-я]+)\s+назад$")
_ISO_HINT = re.compile(r"^\d{4}-\d{2}-\d{2}")
# Seconds (10 digits: 2001..2286) or milliseconds (13 digits) since 1970; shorter numbers are not dates.
_EPOCH = re.compile(r"^(?P<seconds>\d{10})(?P<millis>\d{3})?$")


def timezone_named(name: str | None) -> tzinfo:
    """ZoneInfo for an IANA name; ValueError with the name when it is unknown."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown timezone {name!r} (expected an IANA name like Europe/Moscow)") from exc


def parse_date(
    text: str | None,
    *,
    now: datetime,
    timezone: str | tzinfo = DEFAULT_TIMEZONE,
    date_format: str | None = None,
) -> datetime | None:
    """Parse a date as a Russian site prints it; a UTC-aware datetime, or None when not understood.

    `now` anchors "сегодня", "вчера" and "5 минут назад" (a naive `now` is taken as UTC); `timezone`
    is the site's zone, used for every date that carries no offset of its own. `date_format`
    (strptime) is tried first when given; free-form parsing is the fallback.
    """
    if not text:
        return None
    zone = timezone if isinstance(timezone, tzinfo) else timezone_named(timezone)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    raw = " ".join(text.replace("\xa0", " ").split())
    if not raw:
        return None
    if date_format:
        try:
            return _to_utc(datetime.strptime(raw, date_format), zone)
        except ValueError:
            pass
    cleaned = raw.lower().replace("ё", "е")
    found = _parse_whole(cleaned, now, zone)
    if found is None and " " in cleaned:
        found = _scan(cleaned, now, zone)
    return found


def _parse_whole(text: str, now: datetime, zone: tzinfo) -> datetime | None:
    for parser in _PARSERS:
        found = parser(text, now, zone)
        if found is not None:
            return found
    return None


def _scan(text: str, now: datetime, zone: tzinfo) -> datetime | None:
    """A date inside other words: "автор Иван » Пн мар 03, 2025 14:05", "Опубликовано: 3 марта 2025".

    The longest run of words that parses wins, the earliest among equals; short labels only.
    """
    words = text.replace("»", " ").replace("|", " ").split()
    if len(words) > 30:
        return None
    for length in range(len(words) - 1, 0, -1):
        for start in range(0, len(words) - length + 1):
            found = _parse_whole(" ".join(words[start : start + length]).strip(" ,:;-—"), now, zone)
            if found is not None:
                return found
    return None


def _to_utc(value: datetime, zone: tzinfo) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _local(day: date, match: re.Match[str], zone: tzinfo) -> datetime | None:
    """The local date plus the optional hh:mm(:ss) groups of `match`, in UTC; None for a bad time."""
    hour = match.group("hour")
    try:
        at = time(int(hour), int(match.group("minute")), int(match.group("second") or 0)) if hour else time()
    except ValueError:
        return None
    return _to_utc(datetime.combine(day, at), zone)


def _parse_iso(text: str, now: datetime, zone: tzinfo) -> datetime | None:
    if not _ISO_HINT.match(text):
        return None
    candidate = text.upper().replace(" ", "T", 1) if "t" not in text else text.upper()
    try:
        return _to_utc(datetime.fromisoformat(candidate), zone)
    except ValueError:
        return None


def _parse_epoch(text: str, now: datetime, zone: tzinfo) -> datetime | None:
    match = _EPOCH.match(text)
    if not match:
        return None
    return datetime.fromtimestamp(int(match.group("seconds")), UTC)


def _parse_relative_day(text: str, now: datetime, zone: tzinfo) -> datetime | None:
    match = _RELATIVE_DAY.match(text)
    if not match:
        return None
    days_back = {"сегодня": 0, "вчера": 1, "позавчера": 2}[match.group("day")]
    today = now.astimezone(zone).date()
    return _local(today - timedelta(days=days_back), match, zone)


def _parse_weekday(text: str, now: datetime, zone: tzinfo) -> datetime | None:
    """«Суббота в 18:40»: the last such day before today (today and yesterday have their own words)."""
    match = _WEEKDAY.match(text)
    if not match or match.group("weekday") not in _WEEKDAYS:
        return None
    today = now.astimezone(zone).date()
    days_back = (today.weekday() - _WEEKDAYS[match.group("weekday")]) % 7 or 7
    return _local(today - timedelta(days=days_back), match, zone)


def _parse_ago(text: str, now: datetime, zone: tzinfo) -> datetime | None:
    if text in ("только что", "сейчас", "только сейчас"):
        return now.astimezone(UTC)
    match = _AGO.match(text)
    if not match:
        return None
    unit = match.group("unit")
    count_word = match.group("count")
    if unit == "полчаса":
        return (now - timedelta(minutes=30)).astimezone(UTC)
    seconds = next((size for stem, size in _UNITS if unit.startswith(stem)), None)
    if seconds is None:
        return None
    if count_word is None:
        count = 1  # "минуту назад", "час назад"
    elif count_word.isdigit():
        count = int(count_word)
    elif count_word in _WORD_NUMBERS:
        count = _WORD_NUMBERS[count_word]
    else:
        return None
    return (now - timedelta(seconds=count * seconds)).astimezone(UTC)


def _parse_numeric(text: str, now: datetime, zone: tzinfo) -> datetime | None:
    match = _NUMERIC.match(text)
    if not match:
        return None
    year = int(match.group("y"))
    if year < 100:
        year += 2000
    return _dated(year, int(match.group("m")), int(match.group("d")), match, zone)


def _parse_day_month(text: str, now: datetime, zone: tzinfo) -> datetime | None:
    match = _DAY_MONTH_YEAR.match(text)
    if not match:
        return None
    month = _MONTHS.get(match.group("month")[:3])
    if month is None:
        return None
    day = int(match.group("d"))
    if match.group("y"):
        return _dated(int(match.group("y")), month, day, match, zone)
    # "3 марта" without a year: this year, or last year if that would be in the future.
    local_now = now.astimezone(zone)
    found = _dated(local_now.year, month, day, match, zone)
    if found is not None and found > now + timedelta(days=1):
        found = _dated(local_now.year - 1, month, day, match, zone)
    return found


def _parse_month_day(text: str, now: datetime, zone: tzinfo) -> datetime | None:
    match = _MONTH_DAY_YEAR.match(text)
    if not match:
        return None
    month = _MONTHS.get(match.group("month")[:3])
    if month is None:
        return None
    return _dated(int(match.group("y")), month, int(match.group("d")), match, zone)


def _dated(year: int, month: int, day: int, match: re.Match[str], zone: tzinfo) -> datetime | None:
    try:
        return _local(date(year, month, day), match, zone)
    except ValueError:
        return None


# Tried in this order on the whole text, then on runs of its words (_scan).
_PARSERS = (
    _parse_iso,
    _parse_epoch,
    _parse_relative_day,
    _parse_weekday,
    _parse_ago,
    _parse_numeric,
    _parse_day_month,
    _parse_month_day,
)
