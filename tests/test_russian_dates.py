"""Dates as Russian review sites and forums print them, parsed against a fixed `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from parsel import Selector

from crawlers.sites.dates import parse_date
from crawlers.sites.extract import text_value

SITES = Path(__file__).parent / "fixtures" / "sites"

# Monday 23 November 2026, 12:00 in Moscow.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # relative days, in Moscow time
        ("вчера в 14:05", utc(2026, 11, 22, 11, 5)),
        ("сегодня в 9:30", utc(2026, 11, 23, 6, 30)),
        ("Сегодня, 09:30", utc(2026, 11, 23, 6, 30)),
        ("позавчера в 23:59", utc(2026, 11, 21, 20, 59)),
        ("вчера", utc(2026, 11, 21, 21, 0)),
        ("вчера, 14:05", utc(2026, 11, 22, 11, 5)),
        # a weekday of the last week, as XenForo prints it (now is a Monday)
        ("Суббота в 18:40", utc(2026, 11, 21, 15, 40)),
        ("в среду в 9:15", utc(2026, 11, 18, 6, 15)),
        ("Понедельник в 10:00", utc(2026, 11, 16, 7, 0)),
        ("среда", None),
        # "... назад"
        ("2 часа назад", utc(2026, 11, 23, 7, 0)),
        ("5 минут назад", utc(2026, 11, 23, 8, 55)),
        ("минуту назад", utc(2026, 11, 23, 8, 59)),
        ("час назад", utc(2026, 11, 23, 8, 0)),
        ("3 дня назад", utc(2026, 11, 20, 9, 0)),
        ("2 недели назад", utc(2026, 11, 9, 9, 0)),
        ("полчаса назад", utc(2026, 11, 23, 8, 30)),
        ("только что", NOW),
        # day, month name, year
        ("3 марта 2025", utc(2025, 3, 2, 21, 0)),
        ("3 марта 2025 г., 14:05", utc(2025, 3, 3, 11, 5)),
        ("3 мая 2025 года в 9:07", utc(2025, 5, 3, 6, 7)),
        ("1 мар 2025", utc(2025, 2, 28, 21, 0)),
        ("1 мар. 2025", utc(2025, 2, 28, 21, 0)),
        ("03 ноя 2026, 14:05", utc(2026, 11, 3, 11, 5)),
        ("21 Сентября 2026", utc(2026, 9, 20, 21, 0)),
        ("28 окт. 2025", utc(2025, 10, 27, 21, 0)),
        ("5 ёлки 2025", None),
        # Drupal (irecommend): a comma before the year, a dash before the time
        ("12 марта, 2024 - 10:15", utc(2024, 3, 12, 7, 15)),
        ("Опубликовано 12 марта, 2024 - 10:15", utc(2024, 3, 12, 7, 15)),
        ("3 марта, 2025", utc(2025, 3, 2, 21, 0)),
        # no year: this year, or last year when that would be in the future
        ("3 марта", utc(2026, 3, 2, 21, 0)),
        ("20 декабря в 10:00", utc(2025, 12, 20, 7, 0)),
        # numeric
        ("03.03.2025", utc(2025, 3, 2, 21, 0)),
        ("03.03.2025 14:05", utc(2025, 3, 3, 11, 5)),
        ("03.03.2025 в 14:05", utc(2025, 3, 3, 11, 5)),
        ("3.3.25", utc(2025, 3, 2, 21, 0)),
        ("31.02.2025", None),
        # phpBB's English-order default with Russian names
        ("Пн мар 03, 2025 14:05", utc(2025, 3, 3, 11, 5)),
        # ISO 8601: an explicit offset wins over the site's zone
        ("2025-03-03T14:05:00+03:00", utc(2025, 3, 3, 11, 5)),
        ("2025-03-03T14:05:00+0300", utc(2025, 3, 3, 11, 5)),
        ("2025-03-03T11:05:00Z", utc(2025, 3, 3, 11, 5)),
        ("2025-03-03 14:05", utc(2025, 3, 3, 11, 5)),
        ("2025-03-03", utc(2025, 3, 2, 21, 0)),
        # unix time, as forums keep it in data-time / data-timestamp: seconds or milliseconds
        ("1795361400", utc(2026, 11, 22, 15, 30)),
        ("1795361400000", utc(2026, 11, 22, 15, 30)),
        # a date among other words (labels, author names)
        ("автор Иван » Пн мар 03, 2025 14:05", utc(2025, 3, 3, 11, 5)),
        ("Опубликовано: 3 марта 2025 г.", utc(2025, 3, 2, 21, 0)),
        # a separator and a link after the date: the time stays (issue 18)
        ("Сегодня, 13:24 | Ответить", utc(2026, 11, 23, 10, 24)),
        ("13.12.21, 14:42 |", utc(2021, 12, 13, 11, 42)),
        ("Вчера, 23:29 |", utc(2026, 11, 22, 20, 29)),
        ("Вчера, 23:29|Ответить", utc(2026, 11, 22, 20, 29)),
        ("20.11.2026, 08:05 • #4", utc(2026, 11, 20, 5, 5)),
        ("21.11.2026 18:40 · изменено", utc(2026, 11, 21, 15, 40)),
        ("Вчера в 07:15 — Цитировать", utc(2026, 11, 22, 4, 15)),
        ("Вчера, 23:29.", utc(2026, 11, 22, 20, 29)),
        ("Вчера, 23:29\u200b", utc(2026, 11, 22, 20, 29)),
        ("2026-04-10 12:55 |", utc(2026, 4, 10, 9, 55)),
        ("10/04/2026 12:55 | Ответить", utc(2026, 4, 10, 9, 55)),
        # rutracker (TorrentPier): day-month abbreviation-two-digit year
        ("10-Апр-26 12:55", utc(2026, 4, 10, 9, 55)),
        ("04-Авг-22 17:54", utc(2022, 8, 4, 14, 54)),
        ("10-апр-2026 12:55", utc(2026, 4, 10, 9, 55)),
        ("(10-Апр-26 12:55)", utc(2026, 4, 10, 9, 55)),
        ("31-Фев-26 10:00", None),
        ("10-Xyz-26 10:00", None),
        # rutor: a two-digit year after the month name
        ("01 Май 18", utc(2018, 4, 30, 21, 0)),
        # day-first with slashes or dashes, "г." glued to the year
        ("10/04/2026 12:55", utc(2026, 4, 10, 9, 55)),
        ("10-04-2026", utc(2026, 4, 9, 21, 0)),
        ("10.04.2026г. 12:55", utc(2026, 4, 10, 9, 55)),
        # the time before the date
        ("12:55 10.04.2026", utc(2026, 4, 10, 9, 55)),
        ("в 12:55, 10 апреля", utc(2026, 4, 10, 9, 55)),
        ("12:55 / 10.04.2026", utc(2026, 4, 10, 9, 55)),
        ("12:55 12:55", None),
        # a weekday before the date (LiveInternet)
        ("Пятница, 10 Апреля 2026 г. 12:55", utc(2026, 4, 10, 9, 55)),
        # phpBB's English defaults: month names, a 12-hour clock, "ago"
        ("Fri Apr 10, 2026 12:55 pm", utc(2026, 4, 10, 9, 55)),
        ("Apr 10, 2026 12:05 am", utc(2026, 4, 9, 21, 5)),
        ("April 10th, 2026, 1:05 pm", utc(2026, 4, 10, 10, 5)),
        ("10 Apr 2026 12:55", utc(2026, 4, 10, 9, 55)),
        ("Пт апр 10, 2026 1:05 pm", utc(2026, 4, 10, 10, 5)),
        ("Yesterday, 13:24", utc(2026, 11, 22, 10, 24)),
        ("Today at 9:05 am", utc(2026, 11, 23, 6, 5)),
        ("5 minutes ago", utc(2026, 11, 23, 8, 55)),
        ("an hour ago", utc(2026, 11, 23, 8, 0)),
        ("less than a minute ago", NOW),
        ("13:05 pm", None),
        ("3 decisions 2025", None),
        # not dates
        ("", None),
        ("   ", None),
        ("давно", None),
        ("25:61", None),
        ("32.13.2025", None),
        ("отзыв номер 2025", None),
        ("12345", None),
        ("179536140", None),
    ],
)
def test_parse_date_reads_russian_formats(text: str, expected: datetime | None) -> None:
    assert parse_date(text, now=NOW) == expected


def test_parse_date_returns_utc_aware_datetimes() -> None:
    parsed = parse_date("03.03.2025 14:05", now=NOW)
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


def test_parse_date_uses_the_site_timezone_for_local_times() -> None:
    assert parse_date("03.03.2025 14:05", now=NOW, timezone="Asia/Yekaterinburg") == utc(2025, 3, 3, 9, 5)


def test_relative_day_is_the_day_in_the_site_timezone() -> None:
    # 22:30 UTC on the 22nd is already the 23rd in Moscow: "сегодня" means the 23rd there.
    late_evening = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)
    assert parse_date("сегодня в 01:00", now=late_evening) == utc(2026, 11, 22, 22, 0)


def test_naive_now_is_taken_as_utc() -> None:
    assert parse_date("5 минут назад", now=datetime(2026, 11, 23, 9, 0)) == utc(2026, 11, 23, 8, 55)


def test_explicit_strptime_format_is_used_first() -> None:
    # Day-first would read 03/04 as 3 April; the configured format says month first.
    assert parse_date("03/04/2025 10:00", now=NOW, date_format="%m/%d/%Y %H:%M") == utc(2025, 3, 4, 7, 0)


def test_explicit_format_with_offset_keeps_its_offset() -> None:
    parsed = parse_date("2025-03-03 14:05 +0500", now=NOW, date_format="%Y-%m-%d %H:%M %z")
    assert parsed == datetime(2025, 3, 3, 14, 5, tzinfo=timezone(timedelta(hours=5)))


def test_text_not_matching_the_format_falls_back_to_free_form() -> None:
    assert parse_date("вчера в 14:05", now=NOW, date_format="%d/%m/%Y") == utc(2026, 11, 22, 11, 5)


def test_unknown_timezone_is_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        parse_date("03.03.2025", now=NOW, timezone="Mars/Olympus")


def post_dates(page: Selector, post: str, date: str) -> list[datetime | None]:
    return [parse_date(text_value(node, date), now=NOW) for node in page.css(post)]


def test_forum_dates_keep_their_time_whatever_follows():
    # Each post footer reads like "Вчера, 23:29 | Ответить": the day alone would be up to 24 h off.
    page = Selector(text=(SITES / "smallforum" / "topic-8812.html").read_text(encoding="utf-8"))
    assert post_dates(page, "div.post", ".post-date ::text") == [
        utc(2026, 11, 23, 10, 24),
        utc(2026, 11, 22, 20, 29),
        utc(2021, 12, 13, 11, 42),
        utc(2026, 11, 20, 5, 5),
        utc(2026, 11, 21, 15, 40),
        utc(2026, 11, 22, 20, 58),
        None,  # "дата скрыта | Ответить"
    ]


def test_rutracker_post_dates_are_read():
    page = Selector(
        text=(SITES / "rutracker" / "viewtopic-t6512034.cp1251.html").read_text(encoding="cp1251")
    )
    expected = [utc(2026, 4, 10, 9, 55), utc(2026, 4, 10, 14, 2), utc(2026, 11, 2, 6, 7), None]
    assert post_dates(page, "tbody[id^=post_]", "a.p-link ::text") == expected
    # The whole header: the author's name before the date, "(спустя 4 часа, ред. ...)" after it.
    assert post_dates(page, "tbody[id^=post_]", "p.post-time ::text") == expected
