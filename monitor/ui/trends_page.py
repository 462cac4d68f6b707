"""The trends page, marketing's weekly view: mention volume and sentiment per brand over the
weeks, share of voice against competitors, week-over-week change, top sources and authors, and
what this week's negative mentions talk about compared with last week's."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

import altair as alt
import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from monitor.analytics import Trends, Week, latest_week_with_mentions, trends, weeks_ending
from monitor.clock import display_timezone, utcnow
from monitor.export import Table
from monitor.ui.downloads import table_with_csv, xlsx_button
from monitor.ui.i18n import current_language, t
from monitor.ui.tables import (
    NO_NAMES,
    SourceNames,
    authors_table,
    change_table,
    sentiment_name,
    side,
    sources_table,
    topics_tables,
    voice_table,
    volume_table,
)

Sessions = sessionmaker[Session]
WEEKS_TO_PICK = 12
WEEKS_CHARTED = 8
SENTIMENT_COLORS = {
    "negative": "#d62728",
    "neutral": "#9e9e9e",
    "positive": "#2ca02c",
    None: "#dddddd",
}


def week_label(week: Week) -> str:
    monday = week.monday
    sunday = monday + timedelta(days=6)
    return t("trends.week_label", first=f"{monday:%d.%m}", last=f"{sunday:%d.%m.%Y}", number=week.number)


def trends_tables(data: Trends, language: str, source_names: SourceNames = NO_NAMES) -> list[Table]:
    return [
        change_table(data.changes, language),
        voice_table(data.share_of_voice, language),
        sources_table(data.top_sources, language, source_names),
        authors_table(data.top_authors, language),
        *topics_tables(data.negative_topics, language),
        volume_table(data.volume, language),
    ]


def render(
    sessions: Sessions,
    now: datetime | None = None,
    tz: tzinfo | None = None,
    brand_terms: tuple[str, ...] = (),
    source_names: SourceNames = NO_NAMES,
) -> None:
    now = now or utcnow()
    tz = tz or display_timezone()
    choices = weeks_ending(Week.containing(now, tz), WEEKS_TO_PICK)[::-1]
    with sessions() as session:
        latest = latest_week_with_mentions(session, tz, choices[0])
    # Open on the newest week with mentions: the current one may have none yet.
    opening = choices.index(latest) if latest in choices else 0
    week = st.selectbox(t("trends.week"), choices, index=opening, format_func=week_label, key="trends_week")
    with sessions() as session:
        data = trends(session, week, tz, weeks=WEEKS_CHARTED, brand_terms=brand_terms)
    tables = trends_tables(data, current_language(), source_names)
    change, voice, sources, authors, words, phrases, volume = tables
    xlsx_button(tables, f"trends-{week}", "trends-all", tz)

    st.subheader(t("trends.volume"))
    _volume_chart(data)
    _sentiment_chart(data)
    st.subheader(change.title)
    table_with_csv(change, f"trends-{week}-change", "trends-change", tz)
    st.subheader(voice.title)
    _voice_chart(data)
    table_with_csv(voice, f"trends-{week}-share-of-voice", "trends-voice", tz)
    left, right = st.columns(2)
    with left:
        st.subheader(sources.title)
        table_with_csv(sources, f"trends-{week}-sources", "trends-sources", tz)
    with right:
        st.subheader(authors.title)
        table_with_csv(authors, f"trends-{week}-authors", "trends-authors", tz)
    topics = data.negative_topics
    st.subheader(t("trends.topics"))
    st.caption(t("trends.topics_caption", this_week=topics.this_week_texts, last_week=topics.last_week_texts))
    left, right = st.columns(2)
    with left:
        table_with_csv(words, f"trends-{week}-negative-words", "trends-words", tz)
    with right:
        table_with_csv(phrases, f"trends-{week}-negative-phrases", "trends-phrases", tz)
    with st.expander(t("trends.all_weeks")):
        table_with_csv(volume, f"trends-{week}-volume", "trends-volume", tz)


# The charts' fields have fixed English names; what a reader sees of them (axes, legends,
# tooltips) is given as titles in the reader's language.


def _volume_chart(data: Trends) -> None:
    values = [
        {"week": str(row.week), "brand": row.brand, "mentions": row.total, "negative": row.negative}
        for row in data.volume
    ]
    if not any(v["mentions"] for v in values):
        st.info(t("trends.no_mentions"))
        return
    week, brand, mentions = t("table.week"), t("table.brand"), t("table.mentions")
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_line(point=True)
        .encode(
            x=alt.X("week:O", title=week),
            y=alt.Y("mentions:Q", title=mentions),
            color=alt.Color("brand:N", title=brand),
            tooltip=[
                alt.Tooltip("week:O", title=week),
                alt.Tooltip("brand:N", title=brand),
                alt.Tooltip("mentions:Q", title=mentions),
                alt.Tooltip("negative:Q", title=t("table.negative")),
            ],
        )
    )
    st.altair_chart(chart, width="stretch")


def _sentiment_chart(data: Trends) -> None:
    language = current_language()
    values = [
        {
            "week": str(row.week),
            "brand": row.brand,
            "sentiment": sentiment_name(label, language),
            "mentions": n,
        }
        for row in data.volume
        if not row.competitor
        for label, n in (
            ("negative", row.negative),
            ("neutral", row.neutral),
            ("positive", row.positive),
            (None, row.unscored),
        )
        if n
    ]
    if not values:
        return
    colors = alt.Scale(
        domain=[sentiment_name(label, language) for label in SENTIMENT_COLORS],
        range=list(SENTIMENT_COLORS.values()),
    )
    week, mentions = t("table.week"), t("table.mentions")
    chart = (
        alt.Chart(alt.Data(values=values), title=t("trends.sentiment_chart"))
        .mark_bar()
        .encode(
            x=alt.X("week:O", title=week),
            y=alt.Y("sum(mentions):Q", title=mentions),
            color=alt.Color("sentiment:N", scale=colors, title=None),
            tooltip=[
                alt.Tooltip("week:O", title=week),
                alt.Tooltip("brand:N", title=t("table.brand")),
                alt.Tooltip("sentiment:N", title=t("table.sentiment")),
                alt.Tooltip("mentions:Q", title=mentions),
            ],
        )
    )
    st.altair_chart(chart, width="stretch")


def _voice_chart(data: Trends) -> None:
    language = current_language()
    values = [
        {"brand": s.brand, "share": s.share, "side": side(s.competitor, language)}
        for s in data.share_of_voice
        if s.mentions
    ]
    if not values:
        return
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar()
        .encode(
            x=alt.X("share:Q", axis=alt.Axis(format="%"), title=t("trends.share_axis")),
            y=alt.Y("brand:N", sort="-x", title=None),
            color=alt.Color("side:N", title=None),
            tooltip=[
                alt.Tooltip("brand:N", title=t("table.brand")),
                alt.Tooltip("share:Q", format=".1%", title=t("trends.share")),
            ],
        )
    )
    st.altair_chart(chart, width="stretch")
