"""The staff dashboard (Streamlit): inbox, summary, health, trends and response-time pages behind a
staff login.

Thin on purpose: pages live in monitor/ui/, read through monitor/queries.py, monitor/analytics.py,
monitor/response_times.py, monitor/source_health.py and monitor/unmatched.py, and write only
through monitor/actions.py; no SQL here. Run with `brandpulse dashboard --database sqlite:///data/demo.db`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from monitor.auth import load_users
from monitor.config import Config, load_config
from monitor.db.session import database_url, open_database, session_factory
from monitor.errors import BrandpulseError
from monitor.ui import auth, health_page, inbox_page, response_page, summary_page, trends_page
from monitor.ui.i18n import language_switch, t


@st.cache_resource
def _sessions(url: str) -> sessionmaker[Session]:
    return session_factory(open_database(url))


@st.cache_resource
def _config(path: str, modified: float) -> Config:
    return load_config(path)


def _load_config() -> Config | None:
    path = Path(os.environ.get("BRANDPULSE_CONFIG", "spiders.yaml"))
    return _config(str(path), path.stat().st_mtime) if path.exists() else None


def _database_url(config: Config | None) -> str:
    configured = config.storage.url if config else "sqlite:///data/brandpulse.db"
    return database_url(configured)


def _brand_terms(config: Config | None) -> tuple[str, ...]:
    """Brand names and aliases, left out of the trends page's words of negative mentions."""
    return tuple(term for brand in config.brands for term in brand.terms) if config else ()


def main() -> None:
    st.set_page_config(page_title="brandpulse", page_icon="📣", layout="wide")
    try:
        config = _load_config()
    except BrandpulseError as exc:
        st.error(t("app.config_error", error=exc))
        return
    settings = config.dashboard if config else None
    language_switch(settings.language if settings else "ru")
    st.title("brandpulse")
    session_hours = settings.session_hours if settings else 12
    try:
        users = load_users(settings.users_file if settings else None)
        actor = auth.logged_in_actor(users, session_hours)
    except BrandpulseError as exc:
        st.error(t("app.config_error", error=exc))
        return
    if actor is None:
        return
    auth.account_box(actor, session_hours)
    try:
        sessions = _sessions(_database_url(config))
    except BrandpulseError as exc:
        st.error(t("app.database_error", error=exc))
        return
    page_size = settings.page_size if settings else 25
    names = config.source_display_names() if config else {}
    pages: dict[str, Callable[[], None]] = {
        "inbox": lambda: inbox_page.render(sessions, actor, page_size, names),
        "summary": lambda: summary_page.render(sessions),
        "health": lambda: health_page.render(sessions, config),
        "trends": lambda: trends_page.render(sessions, brand_terms=_brand_terms(config), source_names=names),
        "response": lambda: response_page.render(sessions, source_names=names),
    }
    # Only the chosen page runs, so a click in the inbox never waits for another page's queries.
    page = st.segmented_control(
        t("app.page"),
        list(pages),
        default="inbox",
        required=True,
        format_func=lambda name: t(f"page.{name}"),
        key="page",
        bind="query-params",
        label_visibility="collapsed",
    )
    pages[page or "inbox"]()


if __name__ == "__main__":
    main()
