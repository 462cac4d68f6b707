"""Review sites and forums (type: site): one generic Scrapy spider driven by per-site rules in YAML.

Why a subprocess per crawl: Twisted's reactor, which Scrapy runs on, starts once per process and
cannot be restarted ("ReactorNotRestartable"), while our scheduler calls `fetch` again and again in
one long-running process. So `SiteCrawler.fetch` resolves the rules here (config errors surface
before any request), then runs `python -m crawlers.sites.runner` with the rules as JSON on stdin
and reads items as JSON lines from its stdout. The same boundary isolates a site that crashes,
hangs or eats memory: the parent enforces a wall-clock limit, keeps what was found before it, and
turns a failed run into a SourceError carrying the child's last error line.

    SiteSource ─resolve_rules─▶ SiteRules ─stdin─▶ runner (Scrapy, SiteSpider) ─stdout─▶ RawItems
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from crawlers.base import Batch, Cursor
from crawlers.sites.rules import SiteRules, resolve_rules
from monitor.clock import utcnow
from monitor.config import BrandConfig, SiteSource
from monitor.errors import (
    ConfigError,
    SourceAuthError,
    SourceBlocked,
    SourceError,
    SourceFormatError,
    SourceRateLimited,
    SourceUnavailable,
)
from monitor.items import RawItem

# External ids remembered in the cursor: enough to recognise several pages of already-seen items.
SEEN_LIMIT = 2000
# A wall-clock limit is a safety net, not a schedule: generous per page, capped per crawl.
LIMIT_BASE_SECONDS = 60.0
LIMIT_MAX_SECONDS = 1800.0
RUNNER_COMMAND = (sys.executable, "-m", "crawlers.sites.runner")
_PROJECT_ROOT = Path(__file__).resolve().parents[2]

_FAILURE_ERRORS: dict[str, type[SourceError]] = {
    "rate_limited": SourceRateLimited,
    "auth": SourceAuthError,
    "robots": SourceAuthError,
    "too_large": SourceFormatError,
    "format": SourceFormatError,
    "parse_error": SourceFormatError,
    "blocked": SourceBlocked,
}


@dataclass
class RunnerOutput:
    """What one runner process said, line by line."""

    items: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    done: dict[str, Any] | None = None
    stray_lines: int = 0


class SiteCrawler:
    kind: ClassVar[str] = "site"

    def __init__(
        self,
        time_limit: float | None = None,
        clock: Callable[[], datetime] = utcnow,
        runner: Sequence[str] = RUNNER_COMMAND,
    ):
        """`time_limit`: wall-clock seconds for one crawl (default: from pages, timeout and delay).
        `runner`: the command that runs one crawl and speaks the protocol in crawlers/sites/runner.py."""
        self.time_limit = time_limit
        self.clock = clock
        self.runner = list(runner)

    def fetch(self, source: SiteSource, cursor: Cursor | None, brands: list[BrandConfig]) -> Batch:
        try:
            rules = resolve_rules(source, brands)
        except ConfigError as exc:
            raise SourceError(source.name, str(exc).removeprefix(f"source {source.name!r}: ")) from exc
        seen = [str(value) for value in (cursor or {}).get("seen", [])][:SEEN_LIMIT]
        limit = self.time_limit or wall_clock_limit(rules)
        output = self._run(
            {"rules": rules.to_dict(), "seen": seen, "now": self.clock().isoformat()}, rules, limit
        )

        items = [to_raw_item(record, rules) for record in output.items]
        warnings = list(output.warnings)
        warnings += [f"{source.name}: {f['url']}: {f['reason']}" for f in output.failures]
        if output.stray_lines:
            warnings.append(f"{source.name}: the crawl printed {output.stray_lines} lines that are not JSON")
        pages_ok = (output.done or {}).get("pages_ok", 0)
        if pages_ok == 0 and output.failures and not items:
            raise _whole_source_error(source.name, output.failures)
        new_ids = [item.external_id for item in items]
        return Batch(
            items=items, cursor={"seen": list(dict.fromkeys(new_ids + seen))[:SEEN_LIMIT]}, warnings=warnings
        )

    def _run(self, request: dict[str, Any], rules: SiteRules, limit: float) -> RunnerOutput:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PROJECT_ROOT), env.get("PYTHONPATH")]))
        env["PYTHONIOENCODING"] = "utf-8"
        try:
            process = subprocess.Popen(
                self.runner,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                text=True,
                encoding="utf-8",
                errors="replace",
            )
        except OSError as exc:
            raise SourceError(
                rules.source, f"cannot start the site crawler {self.runner[0]!r}: {exc}"
            ) from exc
        timed_out = False
        try:
            stdout, stderr = process.communicate(json.dumps(request, ensure_ascii=False), timeout=limit)
        except subprocess.TimeoutExpired:
            timed_out = True
            process.kill()
            stdout, stderr = process.communicate()
        output = parse_runner_output(stdout)
        if timed_out:
            if not output.items:
                raise SourceUnavailable(
                    rules.source, f"crawl did not finish within {limit:.0f} s (wall-clock limit)"
                )
            output.warnings.append(
                f"{rules.source}: crawl stopped at the {limit:.0f} s wall-clock limit; "
                f"kept the {len(output.items)} items found before it"
            )
        elif process.returncode != 0:
            raise SourceError(
                rules.source,
                f"site crawler failed (exit status {process.returncode}): {last_error_line(stderr)}",
            )
        return output


def wall_clock_limit(rules: SiteRules) -> float:
    pages = len(rules.start_urls) * rules.max_pages
    return min(LIMIT_MAX_SECONDS, LIMIT_BASE_SECONDS + pages * (2 * rules.delay + rules.timeout))


def parse_runner_output(stdout: str) -> RunnerOutput:
    output = RunnerOutput()
    for line in stdout.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            output.stray_lines += 1
            continue
        if not isinstance(record, dict):
            output.stray_lines += 1
        elif "item" in record:
            output.items.append(record["item"])
        elif "warning" in record:
            output.warnings.append(str(record["warning"]))
        elif "page_failed" in record:
            output.failures.append(record["page_failed"])
        elif "done" in record:
            output.done = record["done"]
        else:
            output.stray_lines += 1
    return output


def last_error_line(stderr: str) -> str:
    """The line that says what went wrong: the exception line of a traceback, else the last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return "no error output"
    for line in reversed(lines):
        head = line.split(":", 1)[0]
        if head.endswith(("Error", "Exception", "Exit", "Interrupt")) and " " not in head:
            return line
    return lines[-1]


def to_raw_item(record: dict[str, Any], rules: SiteRules) -> RawItem:
    published = record.get("published_at")
    extra = {"page_url": record["page_url"]} if record.get("page_url") else {}
    if record.get("date_text") and not published:
        # Kept so a wrong date_format shows in the data instead of vanishing.
        extra["date_text"] = record["date_text"]
    return RawItem(
        source=rules.source,
        external_id=str(record["external_id"]),
        url=record["url"],
        text=record["text"],
        published_at=datetime.fromisoformat(published) if published else None,
        title=record.get("title"),
        author=record.get("author"),
        rating=record.get("rating"),
        kind=rules.kind,
        extra=extra,
    )


def _whole_source_error(source: str, failures: list[dict[str, str]]) -> SourceError:
    blocked = [failure for failure in failures if failure.get("kind") == "blocked"]
    first = (blocked or failures)[0]
    kinds = {failure.get("kind", "unavailable") for failure in failures}
    if blocked:
        # One captcha among the failures says why the others failed too: the site refuses us.
        error: type[SourceError] = SourceBlocked
    elif len(kinds) == 1:
        error = _FAILURE_ERRORS.get(first.get("kind", ""), SourceUnavailable)
    else:
        error = SourceUnavailable
    more = f" (and {len(failures) - 1} more pages)" if len(failures) > 1 else ""
    return error(source, f"no page could be fetched: {first['url']}: {first['reason']}{more}")


__all__ = ["SiteCrawler", "parse_runner_output", "last_error_line", "wall_clock_limit"]
