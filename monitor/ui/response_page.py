"""The response-time page: how fast staff answer our mentions, per week, source and manager, and
the negative mentions waiting for an answer for over an hour (shown first, in red)."""

from __future__ import annotations

from datetime import datetime, tzinfo

import altair as alt
import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from monitor.analytics import Week, weeks_ending
from monitor.clock import display_timezone, utcnow
from monitor.response_times import (
    WAITING_DAYS,
    ResponseReport,
    Waiting,
    response_report,
    waiting_for_answer,
)
from monitor.ui.downloads import table_with_csv, xlsx_button
from monitor.ui.i18n import current_language, decimal_text, duration_text, t
from monitor.ui.render import duration, safe_link, safe_text
from monitor.ui.tables import NO_NAMES, SourceNames, response_tables, source_name, waiting_table

Sessions = sessionmaker[Session]
WEEK_CHOICES = (4, 8, 12, 26)
SHOWN_WAITING = 20


def render(
    sessions: Sessions,
    now: datetime | None = None,
    tz: tzinfo | None = None,
    source_names: SourceNames = NO_NAMES,
) -> None:
    now = now or utcnow()
    tz = tz or display_timezone()
    count = st.selectbox(t("response.weeks"), WEEK_CHOICES, index=1, key="response_weeks")
    weeks = weeks_ending(Week.containing(now, tz), int(count))
    with sessions() as session:
        report = response_report(session, weeks, tz, now)
        waiting = waiting_for_answer(session, now)
    _waiting(waiting, now, tz, source_names)
    _headline(report)
    _chart(report)
    language = current_language()
    tables = [
        *response_tables(report, language, source_names),
        waiting_table(waiting.unanswered, now, language, source_names),
    ]
    stem = f"response-times-{weeks[0]}-{weeks[-1]}"
    xlsx_button(tables, stem, "response-all", tz)
    for table, key in zip(tables[:3], ("week", "source", "manager"), strict=True):
        st.subheader(table.title)
        table_with_csv(table, f"{stem}-{key}", f"response-{key}", tz)
    st.caption(t("response.caption"))


def _hours(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 1:
        return t("unit.minutes", n=f"{value * 60:.0f}")
    return t("unit.hours", n=decimal_text(value, 1, current_language()))


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _waiting(found: Waiting, now: datetime, tz: tzinfo, source_names: SourceNames) -> None:
    st.subheader(t("response.unanswered"))
    waiting = found.unanswered
    if not found.negative:
        st.info(t("response.no_negative", days=WAITING_DAYS))
        return
    if not waiting:
        st.success(t("response.all_answered", days=WAITING_DAYS, count=found.negative))
        return
    st.error(t("response.waiting", count=len(waiting)))
    for conv in waiting[:SHOWN_WAITING]:
        # In days and hours, as the inbox says it, not a decimal count of hours.
        waited = duration_text(*duration(now - conv.published_at), current_language())
        when = conv.published_at.astimezone(tz).strftime("%d.%m.%Y %H:%M")
        source = source_name(conv.source, source_names)
        with st.container(border=True):
            st.markdown(
                f":red[**{t('response.waited', duration=waited)}**] · **{safe_text(conv.brand)}**"
                f" · {safe_text(source)} · {safe_text(conv.author or t('inbox.no_author'))} · {when}"
            )
            excerpt = conv.text if len(conv.text) <= 300 else conv.text[:300] + "…"
            st.markdown(safe_text(excerpt), unsafe_allow_html=True)
            st.markdown(safe_link(conv.url, t("inbox.open_original")))
    if len(waiting) > SHOWN_WAITING:
        st.caption(t("response.more", count=len(waiting) - SHOWN_WAITING))


def _headline(report: ResponseReport) -> None:
    this, last = report.by_week[-1], report.by_week[-2] if len(report.by_week) > 1 else None
    st.subheader(t("response.week", week=this.key))
    cells = st.columns(4)
    first = this.response_from_publication
    cells[0].metric(t("response.median"), _hours(first.median_hours), help=t("response.median_help"))
    cells[1].metric(t("response.p90"), _hours(first.p90_hours), help=t("response.p90_help"))
    cells[2].metric(
        t("response.within_hour"),
        _percent(this.within_hour),
        _delta(this.within_hour, last.within_hour if last else None),
    )
    cells[3].metric(
        t("response.within_day"),
        _percent(this.within_day),
        _delta(this.within_day, last.within_day if last else None),
    )


def _delta(now: float | None, before: float | None) -> str | None:
    if now is None or before is None:
        return None
    return t("response.points", delta=f"{100 * (now - before):+.0f}")


def _chart(report: ResponseReport) -> None:
    # Fixed English field names; the reader sees them only through titles in their language.
    values = [
        {"week": s.key, "measure": t(name), "hours": value}
        for s in report.by_week
        for name, value in (
            ("response.median_response", s.response_from_publication.median_hours),
            ("response.p90_response", s.response_from_publication.p90_hours),
            ("response.median_resolution", s.resolution_from_publication.median_hours),
        )
        if value is not None
    ]
    if not values:
        st.info(t("response.no_answers"))
        return
    week, measure, hours = t("table.week"), t("response.measure"), t("response.hours")
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_line(point=True)
        .encode(
            x=alt.X("week:O", title=week),
            y=alt.Y("hours:Q", title=t("response.hours_axis")),
            color=alt.Color("measure:N", title=None),
            tooltip=[
                alt.Tooltip("week:O", title=week),
                alt.Tooltip("measure:N", title=measure),
                alt.Tooltip("hours:Q", format=".1f", title=hours),
            ],
        )
    )
    st.altair_chart(chart, width="stretch")
