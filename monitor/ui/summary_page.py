"""Mentions per brand and sentiment: ours and the competitors', copies of one post counted once."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from monitor.queries import brand_sentiment_counts
from monitor.ui.i18n import t


def render(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        counts = brand_sentiment_counts(session)
    st.subheader(t("summary.title"))
    st.dataframe(
        [
            {
                t("summary.brand"): c.brand,
                t("summary.side"): t("summary.competitor") if c.competitor else t("summary.us"),
                t("sentiment.negative"): c.negative,
                t("sentiment.neutral"): c.neutral,
                t("sentiment.positive"): c.positive,
                t("sentiment.none"): c.unscored,
                t("summary.total"): c.total,
            }
            for c in counts
        ],
        hide_index=True,
    )
