"""The dashboard in Debian's headless Chromium, driven by playwright: how the docs screenshots
(scripts/screenshot.py) and the browser test start it and log in. Playwright is a dev dependency,
so the caller brings it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from monitor.ui.i18n import translate

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Playwright

# Debian's package (scripts/browser.sh installs it): playwright never downloads a browser of its own.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch_chromium(playwright: Playwright, profile: Path, width: int, height: int) -> BrowserContext:
    """Chromium with a Russian locale and a window of `width` x `height`; `profile` should be a fresh
    directory (playwright passes it as --user-data-dir)."""
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_FLAGS,
        viewport={"width": width, "height": height},
        locale="ru-RU",
    )


def log_in(page: Page, name: str, password: str, language: str = "ru") -> None:
    """Fill in and submit the dashboard's login form, as it reads in `language`."""
    page.get_by_label(translate("auth.name", language)).fill(name)
    page.get_by_label(translate("auth.password", language)).fill(password)
    page.get_by_role("button", name=translate("auth.submit", language)).click()
