"""One site crawl in its own process: `python -m crawlers.sites.runner`.

stdin: one JSON object {"rules": SiteRules.to_dict(), "seen": [external ids], "now": ISO datetime}.
stdout: JSON lines, flushed one by one so a killed crawl still leaves what it found:
    {"item": {...}}                 one parsed item (see extract.extract_item)
    {"warning": "..."}              a problem that did not stop the crawl
    {"page_failed": {"url", "kind", "reason"}}
    {"done": {"reason", "pages_ok", "pages_failed", "items"}}
stderr: Scrapy's log (WARNING and up) and, on a crash, the traceback. Exit status 0 = finished.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from typing import Any, TextIO

from crawlers.sites.rules import SiteRules


def main() -> int:
    out = _claim_stdout()
    request = json.load(sys.stdin)
    rules = SiteRules.from_dict(request["rules"])
    now = datetime.fromisoformat(request["now"]) if request.get("now") else None

    finished = False

    def emit(record: dict[str, Any]) -> None:
        nonlocal finished
        finished = finished or "done" in record
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()

    crawl(rules, request.get("seen") or [], now, emit)
    if not finished:
        # Scrapy logs a spider that failed to start and returns normally: that must not look like a
        # quiet site. The traceback above this line holds the reason.
        print("brandpulse runner: the crawl did not run to its end (see the log above)", file=sys.stderr)
        return 1
    return 0


def crawl(rules: SiteRules, seen: list[str], now: datetime | None, emit: Any) -> None:
    """Run the spider to the end in this process (Twisted's reactor starts once per process)."""
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from crawlers.sites.middlewares import crawl_settings
    from crawlers.sites.spider import SiteSpider

    process = CrawlerProcess(settings=crawl_settings(rules))
    crawler = process.create_crawler(SiteSpider)

    def on_item(item: Any, response: Any, spider: Any) -> None:
        emit({"item": dict(item)})

    def on_error(failure: Any, response: Any, spider: Any) -> None:
        # A bug in parsing one page: report it with the URL and go on with the other pages.
        emit(
            {
                "page_failed": {
                    "url": response.url,
                    "kind": "parse_error",
                    "reason": f"{failure.type.__name__} while parsing: {failure.value}",
                }
            }
        )

    crawler.signals.connect(on_item, signal=signals.item_scraped)
    crawler.signals.connect(on_error, signal=signals.spider_error)
    process.crawl(crawler, rules=rules, seen=seen, now=now, report=emit)
    process.start()


def _claim_stdout() -> TextIO:
    """Keep the real stdout for our JSON lines and send anything else that prints to stderr."""
    ours = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return ours


if __name__ == "__main__":
    raise SystemExit(main())
