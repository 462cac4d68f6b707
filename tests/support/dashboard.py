"""Fixtures for the dashboard tests: a seeded SQLite database, a config, users, and an AppTest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit import config as streamlit_config
from streamlit.testing.v1 import AppTest

from monitor.auth import User, hash_password
from monitor.db.session import open_database, session_factory
from tests.support.seed import Post, seed

DASHBOARD = str(Path(__file__).resolve().parents[2] / "dashboard.py")
PASSWORDS = {"olga": "olga-secret-1", "masha": "masha-secret-2"}
ROLES = {"olga": "staff", "masha": "viewer"}
# What the seeded database holds, first post newest.
POSTS = [
    Post(
        'ВкусМаркет <script>alert("x")</script> **жирный** обсчитал',
        "ВкусМаркет",
        "negative",
        source="otzovik",
    ),
    Post("Во ВкусМаркете свежий хлеб", "ВкусМаркет", "positive", source="vk"),
    Post("Магнит открыл новый магазин", "Магнит", "neutral", competitor=True, source="vk"),
]
CONFIG = """\
brands:
  - name: ВкусМаркет
  - name: Магнит
    competitor: true
sources:
  - {name: otzovik, type: rss, urls: ["http://127.0.0.1:9/feed"], interval: 15m}
  - {name: vk, type: rss, urls: ["http://127.0.0.1:9/vk"], interval: 15m}
"""


def users_text() -> str:
    # log2 n = 10: the real format and check, cheaper than the production cost.
    return "\n".join(
        User(name, ROLES[name], hash_password(password, log2_n=10)).line()  # type: ignore[arg-type]
        for name, password in PASSWORDS.items()
    )


@pytest.fixture
def dashboard_db(tmp_path, monkeypatch):
    """Sessions on a seeded SQLite database the dashboard is pointed at; returns (sessions, ids)."""
    url = f"sqlite:///{tmp_path / 'dash.db'}"
    config = tmp_path / "spiders.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BRANDPULSE_CONFIG", str(config))
    sessions = session_factory(open_database(url))
    with sessions.begin() as session:
        ids = seed(session, POSTS)
    # Caches live for the process: a login throttle or engine from another test must not leak in.
    st.cache_resource.clear()
    st.cache_data.clear()
    return sessions, ids


@pytest.fixture
def with_users(monkeypatch):
    monkeypatch.setenv("BRANDPULSE_USERS", users_text())


@pytest.fixture
def listening_on() -> Iterator[object]:
    """Set the address the (test) server listens on; restored afterwards."""
    before = streamlit_config.get_option("server.address")

    def listen(address: str | None) -> None:
        streamlit_config.set_option("server.address", address)

    yield listen
    streamlit_config.set_option("server.address", before)


def new_app() -> AppTest:
    return AppTest.from_file(DASHBOARD, default_timeout=60)


def log_in(app: AppTest, name: str, password: str | None = None) -> AppTest:
    app.run()
    app.text_input(key="login_name").input(name)
    app.text_input(key="login_password").input(password if password is not None else PASSWORDS[name])
    return app.form_submit_button[0].click().run()


def shown_text(app: AppTest) -> str:
    return " ".join(m.value for m in app.markdown) + " " + " ".join(c.value for c in app.caption)
