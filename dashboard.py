"""The staff dashboard (Streamlit): an inbox to triage mentions and a summary per brand.

Thin on purpose: every number and row comes from monitor/queries.py; no SQL here.
Run with `brandpulse dashboard --database sqlite:///data/demo.db`.
"""

from __future__ import annotations

import html
import os
import re
from urllib.parse import quote, urlsplit

import streamlit as st

from monitor.config import load_config
from monitor.db.session import database_url, open_database, session_factory
from monitor.errors import BrandpulseError
from monitor.queries import STATUSES, InboxFilter, brand_sentiment_counts, inbox_page, set_status

PAGE_SIZE = 25
SENTIMENT_RU = {
    "negative": "🔴 негатив",
    "neutral": "⚪ нейтрально",
    "positive": "🟢 позитив",
    None: "— не оценено",
}
STATUS_RU = {"new": "новое", "in_progress": "в работе", "resolved": "решено", "ignored": "не релевантно"}
_URL_SAFE = ":/?#@!$&'*+,;=%-._~"
# "<", ">" and "&" are left to html.escape: a backslash before an entity would show the entity itself.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


@st.cache_resource
def _sessions(url: str):  # type: ignore[no-untyped-def]
    return session_factory(open_database(url))


def _database_url() -> str:
    configured = "sqlite:///data/brandpulse.db"
    config_path = os.environ.get("BRANDPULSE_CONFIG", "spiders.yaml")
    if not os.environ.get("DATABASE_URL") and os.path.exists(config_path):
        configured = load_config(config_path).storage.url
    return database_url(configured)


def safe_text(text: str) -> str:
    """User text shown as text: Markdown neutralised first, then HTML escaped (so an apostrophe
    never becomes a visible &#x27;)."""
    return html.escape(_MARKDOWN_SPECIALS.sub(r"\\\1", text), quote=False)


def safe_link(url: str) -> str:
    """A Markdown link to the original post, or nothing for a URL that is not plain http(s)."""
    if urlsplit(url).scheme not in ("http", "https"):
        return ""
    # Brackets, parentheses and spaces would end the Markdown link early: percent-encode them.
    return f"[Открыть оригинал]({quote(url, safe=_URL_SAFE)})"


def highlighted(text: str, start: int, end: int, width: int = 400) -> str:
    left = max(0, start - width // 2)
    right = min(len(text), end + width // 2)
    prefix = "…" if left else ""
    suffix = "…" if right < len(text) else ""
    return (
        f"{prefix}{safe_text(text[left:start])}<mark>{safe_text(text[start:end])}</mark>"
        f"{safe_text(text[end:right])}{suffix}"
    )


def inbox_view(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        counts = brand_sentiment_counts(session)
    brands = [c.brand for c in counts]
    with st.sidebar:
        chosen_brands = st.multiselect(
            "Бренды", brands, default=[c.brand for c in counts if not c.competitor]
        )
        chosen_sentiments = st.multiselect(
            "Тональность", ["negative", "neutral", "positive"], format_func=lambda s: SENTIMENT_RU[s]
        )
        chosen_statuses = st.multiselect(
            "Статус", list(STATUSES), default=["new", "in_progress"], format_func=lambda s: STATUS_RU[s]
        )
        search = st.text_input("Поиск по тексту")
        page = st.number_input("Страница", min_value=1, value=1, step=1)
    filters = InboxFilter(
        tuple(chosen_brands), tuple(chosen_sentiments), tuple(chosen_statuses), search=search
    )
    with sessions() as session:
        rows = inbox_page(session, filters, limit=PAGE_SIZE, offset=(int(page) - 1) * PAGE_SIZE)
    st.caption(f"Показано {len(rows)} упоминаний, новые сверху")
    for row in rows:
        with st.container(border=True):
            when = row.published_at.strftime("%d.%m.%Y %H:%M") if row.published_at else "—"
            score = f" {row.score:.2f}" if row.score is not None else ""
            copies = f" · копий: {row.copies}" if row.copies > 1 else ""
            author = safe_text(row.author or "автор неизвестен")
            sentiment = SENTIMENT_RU.get(row.sentiment, row.sentiment)
            st.markdown(
                f"**{safe_text(row.brand)}** · {safe_text(row.source)} · {author}"
                f" · охват {row.reach} · {when} · {sentiment}{score}{copies}"
            )
            st.markdown(highlighted(row.text, row.span_start, row.span_end), unsafe_allow_html=True)
            left, right = st.columns([3, 1])
            left.markdown(safe_link(row.url))
            status = right.selectbox(
                "Статус",
                list(STATUSES),
                index=STATUSES.index(row.status),
                format_func=lambda s: STATUS_RU[s],
                key=f"status-{row.mention_id}",
                label_visibility="collapsed",
            )
            if status != row.status:
                with sessions.begin() as session:
                    set_status(session, [row.mention_id], status, user=st.session_state.get("user", "staff"))
                st.rerun()


def summary_view(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        counts = brand_sentiment_counts(session)
    st.subheader("Упоминания по брендам")
    st.dataframe(
        [
            {
                "бренд": c.brand,
                "сторона": "конкурент" if c.competitor else "мы",
                "негатив": c.negative,
                "нейтрально": c.neutral,
                "позитив": c.positive,
                "всего": c.total,
            }
            for c in counts
        ],
        hide_index=True,
    )


def main() -> None:
    st.set_page_config(page_title="brandpulse", page_icon="📣", layout="wide")
    st.title("brandpulse")
    try:
        sessions = _sessions(_database_url())
    except BrandpulseError as exc:
        st.error(str(exc))
        return
    inbox, summary = st.tabs(["Входящие", "Сводка"])
    with inbox:
        inbox_view(sessions)
    with summary:
        summary_view(sessions)


if __name__ == "__main__":
    main()
