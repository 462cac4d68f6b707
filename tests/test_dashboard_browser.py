"""End to end in a real browser: `brandpulse dashboard` on 127.0.0.1, Debian's headless Chromium
driven by playwright. Logs in, checks a hostile post renders as text, filters the inbox, changes a
status and finds the change in the database.

Chromium comes from `scripts/browser.sh` (run by `make test`); when it is missing this test fails,
so CI can never pass without it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from monitor.db.models import Workflow
from monitor.db.session import open_database, session_factory
from monitor.login_cookie import COOKIE_NAME
from monitor.ui.chromium import CHROMIUM, launch_chromium, log_in
from tests.support.dashboard import CONFIG, users_text
from tests.support.seed import Post, seed

pytestmark = pytest.mark.slow

HOSTILE = "<script>alert(1)</script><b>x</b>"
POSTS = [
    Post(f"ВкусМаркет обсчитал на кассе {HOSTILE}", "ВкусМаркет", "negative"),
    Post("Во ВкусМаркете свежий хлеб", "ВкусМаркет", "positive"),
]
TIMEOUT_MS = 20_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def database(tmp_path) -> tuple[str, list[int]]:
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    engine = open_database(url)
    with session_factory(engine).begin() as session:
        ids = seed(session, POSTS)
    engine.dispose()
    return url, ids


class Dashboard:
    """`brandpulse dashboard` as a user starts it, with a users file."""

    def __init__(self, tmp_path: Path, database_url: str):
        config = tmp_path / "spiders.yaml"
        config.write_text(CONFIG, encoding="utf-8")
        users = tmp_path / "users.txt"
        users.write_text(users_text() + "\n", encoding="utf-8")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = tmp_path / "dashboard.log"
        env = {**os.environ, "BRANDPULSE_USERS_FILE": str(users), "HOME": str(tmp_path)}
        command = [str(Path(sys.executable).with_name("brandpulse")), "dashboard", "--database", database_url]
        command += ["--config", str(config), "--port", str(port), "--address", "127.0.0.1"]
        with self.log_path.open("wb") as log:
            # A session of its own: the CLI starts Streamlit as a child, and both are stopped together.
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_ready(self, seconds: float = 30) -> str:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if httpx.get(f"{self.url}/_stcore/health", timeout=1).status_code == 200:
                    return self.url
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                output = self.log_path.read_text(encoding="utf-8", errors="replace")
                pytest.fail(f"the dashboard did not start:\n{output[-3000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def dashboard(tmp_path, database) -> Iterator[Dashboard]:
    """Started, not waited for: Chromium starts meanwhile (see the test's fixture order)."""
    server = Dashboard(tmp_path, database[0])
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def page(tmp_path) -> Iterator[object]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/browser.sh` (make test does)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # A fresh profile per run.
        browser = launch_chromium(playwright, tmp_path / "chromium-profile", 1366, 768)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def stored_status(url: str, mention_id: int) -> str | None:
    engine = open_database(url, migrate=False)
    try:
        with session_factory(engine)() as session:
            workflow = session.get(Workflow, mention_id)
            return workflow.status if workflow else None
    finally:
        engine.dispose()


def logged_in_inbox(page, dashboard: Dashboard):
    """The dashboard opened and logged into as staff; the main area, once the inbox shows."""
    from playwright.sync_api import expect

    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page.goto(dashboard.wait_ready())
    log_in(page, "olga", "olga-secret-1")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("свежий хлеб")).to_be_visible()
    return main


def test_staff_logs_in_filters_the_inbox_and_resolves_a_mention(dashboard, page, database, tmp_path):
    from playwright.sync_api import expect

    url, ids = database
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    main = logged_in_inbox(page, dashboard)

    # The hostile post is shown as the characters it contains, and nothing of it ran.
    expect(main.get_by_text(HOSTILE, exact=False)).to_be_visible()
    assert page.locator("script", has_text="alert(1)").count() == 0
    assert main.locator("b", has_text="x").count() == 0

    page.get_by_label("Поиск по тексту").fill("обсчитал")
    page.get_by_label("Поиск по тексту").press("Enter")
    expect(main.get_by_text("свежий хлеб")).to_have_count(0)
    expect(main.get_by_text("обсчитал", exact=False)).to_have_count(1)

    main.get_by_role("combobox", name="Статус").click()
    page.get_by_role("option", name="решено").click()
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while stored_status(url, ids[0]) != "resolved" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert stored_status(url, ids[0]) == "resolved"
    assert stored_status(url, ids[1]) == "new"
    # Resolved leaves the default view of new and in-progress mentions.
    expect(main.get_by_text("обсчитал", exact=False)).to_have_count(0)

    shot = tmp_path / "inbox-after-resolve.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert dialogs == []


def login_cookie(page, present: bool = True) -> dict | None:
    """The login cookie once the page's script has set it (`present`) or cleared it: the script
    runs just after the page shows."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        found = [dict(c) for c in page.context.cookies() if c["name"] == COOKIE_NAME]
        if bool(found) == present:
            return found[0] if found else None
        what = "never set" if present else "not cleared"
        assert time.monotonic() < deadline, f"{COOKIE_NAME} cookie {what}"
        time.sleep(0.1)


def test_a_login_survives_a_reload_until_logout(dashboard, page):
    from playwright.sync_api import expect

    main = logged_in_inbox(page, dashboard)
    cookie = login_cookie(page)
    assert cookie is not None and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert cookie["expires"] > time.time() + 11 * 3600  # the default 12 hours

    page.reload()
    expect(main.get_by_text("свежий хлеб")).to_be_visible()
    expect(page.get_by_label("Пароль")).to_have_count(0)

    page.get_by_test_id("stSidebar").get_by_role("button", name="Выйти").click()
    expect(page.get_by_label("Пароль")).to_be_visible()
    expect(main.get_by_text("свежий хлеб")).to_have_count(0)
    assert login_cookie(page, present=False) is None
    page.reload()
    expect(page.get_by_label("Пароль")).to_be_visible()
    expect(main.get_by_text("свежий хлеб")).to_have_count(0)
