"""The inbox's publication-date filter: named periods (today, yesterday, 7 days, this week…) in the
reader's language, and two plain day fields for a period of one's own.

Streamlit's range picker shows its own English quick picks ("Past Week…") and a dd.mm.yyyy
placeholder, and squeezes two dates into one sidebar field; so the periods are ours, and a custom
period is two single-day fields, each the sidebar's full width.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

import streamlit as st

from monitor.clock import display_timezone, utcnow
from monitor.ui.i18n import t

# In the order the select box offers them; "all" sets no limit, "custom" shows the two fields.
PERIODS = ("all", "today", "yesterday", "last_7_days", "last_30_days", "this_week", "last_week", "custom")


def period_days(period: str, today: date) -> tuple[date, date] | None:
    """First and last day (both included) of a named period ending around `today`; None for "all"."""
    monday = today - timedelta(days=today.weekday())
    spans = {
        "today": (today, today),
        "yesterday": (today - timedelta(days=1), today - timedelta(days=1)),
        "last_7_days": (today - timedelta(days=6), today),
        "last_30_days": (today - timedelta(days=29), today),
        "this_week": (monday, today),
        "last_week": (monday - timedelta(days=7), monday - timedelta(days=1)),
    }
    if period == "all":
        return None
    if period not in spans:
        raise ValueError(f"unknown period {period!r}: use one of {', '.join(PERIODS[:-1])}")
    return spans[period]


def day_range(first: date, last: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """Whole days in `zone`: from the first day's midnight to the midnight after the last."""
    return datetime.combine(first, time(), zone), datetime.combine(last + timedelta(days=1), time(), zone)


def render(key: str = "f_period") -> tuple[datetime | None, datetime | None]:
    """The period picked in the sidebar as [since, until) in the display time zone (None: no limit).
    Call inside `with st.sidebar`."""
    zone = display_timezone()
    today = utcnow().astimezone(zone).date()
    period = st.selectbox(t("filter.dates"), PERIODS, format_func=lambda p: t(f"period.{p}"), key=key)
    if period != "custom":
        days = period_days(period, today)
        return day_range(*days, zone) if days else (None, None)
    # Both fields start on a real day: an empty field would show Streamlit's dd.mm.yyyy.
    first = st.date_input(
        t("filter.date_from"), value=today - timedelta(days=6), max_value=today, key=f"{key}-from",
        format="DD.MM.YYYY",
    )  # fmt: skip
    last = st.date_input(
        t("filter.date_to"), value=today, max_value=today, key=f"{key}-to", format="DD.MM.YYYY"
    )
    if not isinstance(first, date) or not isinstance(last, date):
        return None, None
    if last < first:
        # Said, not silently swapped: the reader may have mistyped either day.
        st.warning(t("filter.dates_reversed"))
        first, last = last, first
    return day_range(first, last, zone)
