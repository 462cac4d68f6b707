"""Dates as Russian sites print them ("вчера в 14:05", "3 марта 2025 г.", "2 часа назад") -> UTC datetimes.

Also unix timestamps, as forums keep them in attributes (XenForo's data-time="1732345678"), rutracker's
"04-Авг-22 17:54", and phpBB's English defaults ("Fri Apr 10, 2026 12:55 pm", "5 minutes ago").

Pure functions: the caller passes `now` and the site's timezone, so the same text always gives the
same answer. Anything not understood gives None; the pipeline then falls back to the collection time.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Europe/Moscow"

# The first three letters are enough for every spelling: "марта", "март", "мар.", "мар".
RUSSIAN_MONTHS = {
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
# English names are matched whole, not by stem: "3 decisions" must not read as 3 December.
_ENGLISH_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
            ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
            ("oct", "october"), ("nov", "november"), ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}  # fmt: skip

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
    ("sec", 1),
    ("min", 60),
    ("hour", 3600),
    ("hr", 3600),
    ("day", 86400),
    ("week", 7 * 86400),
    ("month", 30 * 86400),
    ("year", 365 * 86400),
)
_WORD_NUMBERS = {
    "одну": 1, "один": 1, "одна": 1, "полчаса": 30, "пару": 2, "две": 2, "два": 2, "три": 3,
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3,
}  # fmt: skip
_JUST_NOW = frozenset(
    {"только что", "сейчас", "только сейчас", "менее минуты назад", "меньше минуты назад", "just now",
     "less than a minute ago", "a few seconds ago"}
)  # fmt: skip
_RELATIVE_DAYS = {"сегодня": 0, "вчера": 1, "позавчера": 2, "today": 0, "yesterday": 1}

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

# phpBB's English default writes a 12-hour clock: "12:55 pm".
_TIME = r"(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?::(?P<second>\d{2}))?(?:\s*(?P<half>[ap])\.?m\.?)?"
# Drupal (irecommend) separates the time with a dash: "12 марта, 2024 - 10:15".
_TIME_TAIL = rf"(?:\s*(?:,|в|at|-|–|—)?\s*{_TIME})?"
_MONTH_WORD = r"(?P<month>[а-яa-z]+)\.?"
# A two-digit year never runs on into more digits: "2025" is not "20" followed by "25".
_YEAR = r"(?P<y>\d{4}|\d{2})(?!\d)"
_RELATIVE_DAY = re.compile(
    rf"^(?P<day>сегодня|вчера|позавчера|today|yesterday)\s*(?:,|в|at)?\s*(?:{_TIME})?$"
)
# A weekday needs its time: "среда" alone is as likely a word ("среда" is also "environment").
_WEEKDAY = re.compile(rf"^(?:в\s+)?(?P<weekday>[а-я]+)\s*(?:,|в)?\s*{_TIME}$")
# "03.03.2025", "3.3.25", and the same with slashes or dashes ("10/04/2026", "10-04-2026"): day first.
_NUMERIC = re.compile(
    rf"^(?P<d>\d{{1,2}})(?P<sep>[./-])(?P<m>\d{{1,2}})(?P=sep){_YEAR}(?:\s*г\.?)?{_TIME_TAIL}$"
)
_DAY_MONTH_YEAR = re.compile(
    rf"^(?P<d>\d{{1,2}})\s+{_MONTH_WORD}(?:,?\s+{_YEAR})?(?:\s*(?:г\.?|года?))?{_TIME_TAIL}$"
)
# rutracker and other TorrentPier forums: "04-Авг-22 17:54", also with a four-digit year.
_DASHED = re.compile(rf"^(?P<d>\d{{1,2}})-{_MONTH_WORD}-{_YEAR}{_TIME_TAIL}$")
# phpBB's default English-order format, Russian or English: "пн мар 03, 2025 14:05", "Fri Apr 10, 2026".
_MONTH_DAY_YEAR = re.compile(
    rf"^(?:[а-яa-z]{{2,11}}\.?,?\s+)?{_MONTH_WORD}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}}){_TIME_TAIL}$"
)
_AGO = re.compile(r"^(?:(?P<count>\d+|[а-яa-z]+)\s+)?(?P<unit>[а-яa-z]+)\s+(?:назад|ago)$")
# The time before the date: "12:55 10.04.2026", "в 12:55, 10 апреля". Colon times only: "12.05 10.04"
# is as likely two dates. The rest must not start with a time, so the rewrite cannot loop.
_TIME_FIRST = re.compile(
    r"^(?:в\s+|at\s+)?(?P<clock>\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?)\s*[,/]?\s+(?P<rest>(?!\d{1,2}:\d{2}).+)$"
)
_ISO_HINT = re.compile(r"^\d{4}-\d{2}-\d{2}")
# Seconds (10 digits: 2001..2286) or milliseconds (13 digits) since 1970; shorter numbers are not dates.
_EPOCH = re.compile(r"^(?P<seconds>\d{10})(?P<millis>\d{3})?$")
# What forums print around a date: separators ("13.12.21, 14:42 | Ответить", "Вчера, 23:29 • #5"; not
# "/", which is part of "10/04/2026"), and invisible characters that would glue junk to the time.
_SEPARATORS = re.compile(r"[|»«•·¦‖∙●◦▪►▸]")
_INVISIBLE = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad]")
# Punctuation around a run of words that never belongs to the date ("23:29.", "(10-Апр-26 12:55)").
_EDGE_JUNK = " ,:;-—–.()[]!?*#"


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
    raw = " ".join(_INVISIBLE.sub("", text).replace("\xa0", " ").split())
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
    """A date inside other words: "автор Иван » Пн мар 03, 2025 14:05", "Вчера, 23:29 | Ответить".

    The longest run of words that parses wins, the earliest among equals; short labels only. The
    longest run comes first so that the day alone ("вчера") never wins over the day with its time.
    """
    words = _SEPARATORS.sub(" ", text).split()
    if len(words) > 30:
        return None
    for length in range(len(words), 0, -1):
        for start in range(0, len(words) - length + 1):
            found = _parse_whole(" ".join(words[start : start + length]).strip(_EDGE_JUNK), now, zone)
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
    if not hour:
        return _to_utc(datetime.combine(day, time()), zone)
    try:
        at = time(
            _hour_of_day(hour, match.group("half")),
            int(match.group("minute")),
            int(match.group("second") or 0),
        )
    except ValueError:
        return None
    return _to_utc(datetime.combine(day, at), zone)


def _hour_of_day(hour: str, half: str | None) -> int:
    """ "12" + "a" (12:55 am) -> 0, "1" + "p" -> 13; ValueError for "13" + "p" (no such 12-hour time)."""
    number = int(hour)
    if half is None:
        return number
    if not 1 <= number <= 12:
        raise ValueError(f"{hour} is not a 12-hour clock hour")
    return number % 12 + (12 if half == "p" else 0)


def _month_number(word: str) -> int | None:
    return _ENGLISH_MONTHS.get(word) if word.isascii() else RUSSIAN_MONTHS.get(word[:3])


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
    days_back = _RELATIVE_DAYS[match.group("day")]
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
    if text in _JUST_NOW:
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
    return _dated(_full_year(match.group("y")), int(match.group("m")), int(match.group("d")), match, zone)


def _parse_day_month(text: str, now: datetime, zone: tzinfo) -> datetime | None:
    match = _DAY_MONTH_YEAR.match(text)
    if not match:
        return None
    month = _month_number(match.group("month"))
    if month is None:
        return None
    day = int(match.group("d"))
    if match.group("y"):
        return _dated(_full_year(match.group("y")), month, day, match, zone)
    # "3 марта" without a year: this year, or last year if that would be in the future.
    local_now = now.astimezone(zone)
    found = _dated(local_now.year, month, day, match, zone)
    if found is not None and found > now + timedelta(days=1):
        found = _dated(local_now.year - 1, month, day, match, zone)
    return found


def _parse_dashed(text: str, now: datetime, zone: tzinfo) -> datetime | None:
    match = _DASHED.match(text)
    if not match:
        return None
    month = _month_number(match.group("month"))
    if month is None:
        return None
    return _dated(_full_year(match.group("y")), month, int(match.group("d")), match, zone)


def _parse_month_day(text: str, now: datetime, zone: tzinfo) -> datetime | None:
    match = _MONTH_DAY_YEAR.match(text)
    if not match:
        return None
    month = _month_number(match.group("month"))
    if month is None:
        return None
    return _dated(int(match.group("y")), month, int(match.group("d")), match, zone)


def _parse_time_first(text: str, now: datetime, zone: tzinfo) -> datetime | None:
    """ "12:55 10.04.2026" is read as "10.04.2026 12:55"."""
    match = _TIME_FIRST.match(text)
    if not match:
        return None
    return _parse_whole(f"{match.group('rest')} {match.group('clock')}", now, zone)


def _full_year(digits: str) -> int:
    # Two-digit years on Russian forums are this century: "13.12.21", "04-Авг-22".
    return int(digits) + 2000 if len(digits) <= 2 else int(digits)


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
    _parse_dashed,
    _parse_month_day,
    _parse_time_first,
)
