"""Take the docs/ screenshots: start `brandpulse dashboard` on the demo database with a throwaway
staff user, log in with Debian's headless Chromium (no browser download) and capture pages.

Usage (after `make demo`): python scripts/screenshot.py --database sqlite:///data/demo.db --out docs
Writes inbox.png and trends.png (health.png too with --pages inbox,trends,health).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import expect, sync_playwright

from monitor.auth import User, hash_password
from monitor.demo import demo_config_text
from monitor.ui.chromium import launch_chromium, log_in
from monitor.ui.i18n import translate

# A laptop screen: what a support lead sees without scrolling.
VIEWPORT_WIDTH, VIEWPORT_HEIGHT = 1440, 900
TIMEOUT_MS = 60_000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="sqlite:///data/demo.db")
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--pages", default="inbox,trends", help="comma-separated: inbox, trends, health, ...")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        shoot(args.database, args.out, args.pages.split(","), Path(scratch))


def shoot(database: str, out: Path, pages: list[str], scratch: Path) -> None:
    password = secrets.token_urlsafe(16)
    (scratch / "users.txt").write_text(User("smm", "staff", hash_password(password)).line() + "\n")
    config = scratch / "spiders.yaml"
    config.write_text(demo_config_text("http://127.0.0.1:9", database), encoding="utf-8")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "BRANDPULSE_USERS_FILE": str(scratch / "users.txt")}
    command = [str(Path(sys.executable).with_name("brandpulse")), "dashboard", "--database", database]
    command += ["--config", str(config), "--port", str(port)]
    server = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        url = wait_ready(f"http://127.0.0.1:{port}", server)
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright, scratch / "profile", VIEWPORT_WIDTH, VIEWPORT_HEIGHT)
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            expect.set_options(timeout=TIMEOUT_MS)
            page.goto(url)
            log_in(page, "smm", password)
            main_area = page.get_by_test_id("stMain")
            expect(main_area.get_by_text(translate("inbox.open_original", "ru")).first).to_be_visible()
            for name in pages:
                label = translate(f"page.{name}", "ru")
                main_area.get_by_role("radio", name=label, exact=True).click()
                settle(page)
                page.screenshot(path=str(out / f"{name}.png"))
                print(f"{out / f'{name}.png'}: {label}", file=sys.stderr)
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)


def wait_ready(url: str, server: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                return url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the dashboard at {url} did not start")


def settle(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until Streamlit has finished the rerun (no running indicator, no faded stale elements)
    for a whole second, then let the charts draw."""
    busy = "[data-testid=stStatusWidget], [data-stale=true]"
    page.wait_for_timeout(500)  # the click's rerun starts
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        if page.locator(busy).count():
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 1:
            break
        page.wait_for_timeout(100)
    page.wait_for_timeout(1000)  # charts animate in after the data arrives


if __name__ == "__main__":
    main()
