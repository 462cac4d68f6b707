"""Is the monitor working: each source of the database on screen (and each configured one) with its
last success and error, undelivered alerts per chat, and the sentiment model in use."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import Config
from monitor.queries import outbox_backlog, sentiment_models
from monitor.source_health import SourceHealth, database_source_health
from monitor.ui.i18n import t
from monitor.ui.render import local_time, safe_text
from monitor.unmatched import DEFAULT_DAYS, unmatched_counts, unmatched_items


def render(sessions: sessionmaker[Session], config: Config | None) -> None:
    _sources(sessions, config)
    _outbox(sessions)
    _model(sessions, config)


def _sources(sessions: sessionmaker[Session], config: Config | None) -> None:
    st.subheader(t("health.sources"))
    if config is None:
        st.info(t("health.no_config"))
    with sessions() as session:
        report = database_source_health(session, config.sources if config else [])
        unmatched = unmatched_counts(session)
    if not report:
        st.info(t("health.no_sources"))
        return
    names = config.source_display_names() if config else {}
    troubled = [_named(h.name, names) for h in report if h.needs_attention]
    if troubled:
        st.error(t("health.troubled", names=safe_text(", ".join(troubled))))
    st.dataframe(
        [
            {
                t("health.state"): t(f"health.{h.state}"),
                t("health.source"): _named(h.name, names),
                t("health.type"): h.type,
                t("health.in_config"): _in_config(h),
                t("health.last_success"): local_time(h.last_success_at),
                t("health.last_items"): h.last_items_count,
                t("health.unmatched", days=DEFAULT_DAYS): unmatched.get(h.name, 0),
                t("health.failures"): h.consecutive_failures,
                t("health.last_error_at"): local_time(h.last_error_at),
                t("health.last_error"): h.last_error or "",
                t("health.last_warning"): h.last_warning or "",
            }
            for h in report
        ],
        hide_index=True,
    )
    if unmatched:
        _unmatched(sessions, sorted(unmatched), names)


def _named(key: str, names: dict[str, str]) -> str:
    # The key stays in view: it is what `--source` and alert rules take.
    name = names.get(key)
    return f"{name} ({key})" if name else key


def _unmatched(sessions: sessionmaker[Session], sources: list[str], names: dict[str, str]) -> None:
    """The newest items no brand matched, to read: nothing collected is dropped unseen."""
    with st.expander(t("health.unmatched_items", days=DEFAULT_DAYS)):
        chosen = st.selectbox(
            t("health.source"),
            sources,
            format_func=lambda key: _named(key, names),
            key="health_unmatched_source",
        )
        with sessions() as session:
            items = unmatched_items(session, source=chosen, limit=50)
        st.dataframe(
            [
                {
                    t("health.published"): local_time(i.published_at or i.collected_at),
                    t("health.author"): i.author or "",
                    t("health.text"): i.text,
                    t("health.link"): i.url,
                }
                for i in items
            ],
            hide_index=True,
            column_config={t("health.link"): st.column_config.LinkColumn()},
        )


def _in_config(health: SourceHealth) -> str:
    if not health.configured:
        return t("health.not_in_config")
    return t("health.config_on") if health.enabled else t("health.config_off")


def _outbox(sessions: sessionmaker[Session]) -> None:
    st.subheader(t("health.outbox"))
    with sessions() as session:
        backlog = outbox_backlog(session)
    if not backlog:
        st.success(t("health.outbox_empty"))
        return
    st.dataframe(
        [
            {
                t("health.chat"): b.chat_id,
                t("health.pending"): b.pending,
                t("health.failed"): b.failed,
                t("health.oldest"): local_time(b.oldest_pending_at),
                t("health.last_error"): b.last_error or "",
            }
            for b in backlog
        ],
        hide_index=True,
    )


def _model(sessions: sessionmaker[Session], config: Config | None) -> None:
    st.subheader(t("health.model"))
    if config is not None:
        engine = config.sentiment.engine
        model = config.sentiment.model or t("health.shipped_model")
        st.markdown(t("health.configured_model", engine=engine, model=safe_text(model)))
    with sessions() as session:
        models = sentiment_models(session)
    if not models:
        st.info(t("health.nothing_scored"))
        return
    st.dataframe(
        [
            {
                t("health.model_name"): m.model,
                t("health.scored"): m.mentions,
                t("health.last_scored"): local_time(m.last_scored_at),
            }
            for m in models
        ],
        hide_index=True,
    )
