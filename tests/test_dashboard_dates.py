"""The inbox's date filter: named periods in the reader's language, in the display time zone, and two
plain day fields for a period of one's own (issue 17, broken point 8)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.ui import date_filter
from monitor.ui.date_filter import day_range, period_days
from tests.support.dashboard import log_in, new_app, shown_text

MOSCOW = ZoneInfo("Europe/Moscow")
WEDNESDAY = date(2026, 11, 18)
# The seeded posts are published on Friday 20 November, 15:00 Moscow time; this is Saturday morning.
SATURDAY_MORNING = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [
        ("today", date(2026, 11, 18), date(2026, 11, 18)),
        ("yesterday", date(2026, 11, 17), date(2026, 11, 17)),
        ("last_7_days", date(2026, 11, 12), date(2026, 11, 18)),
        ("last_30_days", date(2026, 10, 20), date(2026, 11, 18)),
        ("this_week", date(2026, 11, 16), date(2026, 11, 18)),
        ("last_week", date(2026, 11, 9), date(2026, 11, 15)),
    ],
)
def test_a_named_period_is_whole_days_up_to_today(period, first, last):
    assert period_days(period, WEDNESDAY) == (first, last)


def test_any_time_sets_no_limit_and_an_unknown_period_is_an_error():
    assert period_days("all", WEDNESDAY) is None
    with pytest.raises(ValueError, match="unknown period 'fortnight'"):
        period_days("fortnight", WEDNESDAY)


def test_days_start_at_midnight_in_the_display_time_zone():
    since, until = day_range(date(2026, 11, 20), date(2026, 11, 20), MOSCOW)
    assert since == datetime(2026, 11, 19, 21, 0, tzinfo=UTC)
    assert until == datetime(2026, 11, 20, 21, 0, tzinfo=UTC)


@pytest.fixture
def saturday(monkeypatch):
    monkeypatch.setattr(date_filter, "utcnow", lambda: SATURDAY_MORNING)


def test_the_periods_are_russian_in_the_russian_inbox(dashboard_db, with_users):
    app = log_in(new_app(), "olga")
    periods = app.selectbox(key="f_period")
    assert periods.label == "Опубликовано"
    assert periods.options[:7] == [
        "За всё время", "Сегодня", "Вчера", "7 дней", "30 дней", "Эта неделя", "Прошлая неделя",
    ]  # fmt: skip
    # No widget of Streamlit's own English: no range picker with "Past Week…", no "Select all".
    assert not app.date_input
    assert all(box.proto.select_all == 0 for box in app.sidebar.multiselect)


def test_the_periods_are_english_in_the_english_inbox(dashboard_db, with_users):
    app = log_in(new_app(), "olga")
    app.selectbox(key="lang").select("en").run()
    assert app.selectbox(key="f_period").options[:3] == ["Any time", "Today", "Yesterday"]


def test_yesterday_and_today_are_moscow_days(dashboard_db, with_users, saturday):
    app = log_in(new_app(), "olga")
    app.selectbox(key="f_period").select("yesterday").run()
    assert "свежий хлеб" in shown_text(app)
    app.selectbox(key="f_period").select("today").run()
    assert "свежий хлеб" not in shown_text(app) and "Показано 0 упоминаний" in shown_text(app)


def test_custom_dates_are_two_full_fields_that_filter(dashboard_db, with_users, saturday):
    app = log_in(new_app(), "olga")
    app.selectbox(key="f_period").select("custom").run()
    first, last = app.date_input(key="f_period-from"), app.date_input(key="f_period-to")
    assert (first.label, last.label) == ("С", "По")
    assert last.value == date(2026, 11, 21)  # today, in Moscow: never an empty dd.mm.yyyy field
    first.set_value(date(2026, 11, 20))
    last.set_value(date(2026, 11, 20))
    app.run()
    assert "свежий хлеб" in shown_text(app)
    app.date_input(key="f_period-from").set_value(date(2026, 11, 21))
    app.date_input(key="f_period-to").set_value(date(2026, 11, 21)).run()
    assert "свежий хлеб" not in shown_text(app) and not app.warning


def test_custom_dates_in_the_wrong_order_are_said_and_still_filter(dashboard_db, with_users, saturday):
    app = log_in(new_app(), "olga")
    app.selectbox(key="f_period").select("custom").run()
    app.date_input(key="f_period-from").set_value(date(2026, 11, 21))
    app.date_input(key="f_period-to").set_value(date(2026, 11, 19))
    app.run()
    assert app.warning[0].value.startswith("Дата «по» раньше даты «с»")
    assert "свежий хлеб" in shown_text(app)
