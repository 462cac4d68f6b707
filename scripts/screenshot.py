"""Take docs/ screenshots of a running dashboard with Debian's Chromium (no browser download).

Usage: python scripts/screenshot.py http://127.0.0.1:8501 docs/inbox.png [--tab Сводка]
"""

from __future__ import annotations

import argparse
import tempfile

from playwright.sync_api import sync_playwright

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("output")
    parser.add_argument("--tab", help="click this tab before the shot")
    args = parser.parse_args()
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        browser = p.chromium.launch_persistent_context(
            profile,
            executable_path="/usr/bin/chromium",
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1440, "height": 900},
        )
        page = browser.new_page()
        page.goto(args.url)
        page.get_by_text("brandpulse").first.wait_for(timeout=60_000)
        page.locator("[data-testid=stMultiSelect]").first.wait_for(timeout=60_000)
        if args.tab:
            page.get_by_role("tab", name=args.tab).click()
        page.wait_for_timeout(3000)
        page.screenshot(path=args.output)
        browser.close()


if __name__ == "__main__":
    main()
