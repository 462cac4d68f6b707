"""Is each source working: its last run, success, error and warnings as the database records them,
judged blocked, failing, silent or degraded against its configured interval.

Two views: `source_health` for the configured sources (what the health alerts watch), and
`database_source_health` for a page about one database (the dashboard's health page, `brandpulse
health`): every source that database has seen, plus the configured ones it has not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.clock import utcnow
from monitor.config import SourceConfig
from monitor.db.models import Source

# A source is silent after this many of its intervals without a successful crawl...
SILENT_AFTER_INTERVALS = 3
# ...and failing after this many failed crawls in a row...
FAILING_AFTER_FAILURES = 3
# ...and degraded after this many successful crawls in a row with warnings (a changed layout that
# finds no items, communities refusing access): the crawl "works" but brings less than it should.
DEGRADED_AFTER_WARNING_RUNS = 3


@dataclass(frozen=True)
class SourceHealth:
    name: str
    type: str
    enabled: bool
    # None: the source is in the database but not in this config, so its interval is unknown.
    interval: int | None
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    last_items_count: int | None
    consecutive_failures: int
    # No successful crawl for SILENT_AFTER_INTERVALS intervals (or ever, since added).
    silent: bool
    # At least FAILING_AFTER_FAILURES failed crawls in a row.
    failing: bool
    # The last crawl failed because the site answered with its anti-bot check (a captcha, a JS
    # challenge): the source is refused, not broken; alerted like failing once it keeps on.
    blocked: bool = False
    # What kind of failure last_error is (monitor.errors.failure_kind), None when unknown.
    last_error_kind: str | None = None
    # The warnings of the last successful crawl that had any, one per line, and when.
    last_warning: str | None = None
    last_warning_at: datetime | None = None
    # Successful crawls in a row with warnings, and when the first of them ran (None: last was clean).
    consecutive_warning_runs: int = 0
    warnings_since: datetime | None = None
    # At least DEGRADED_AFTER_WARNING_RUNS successful crawls in a row with warnings.
    degraded: bool = False
    # In the config the page was opened with (False: only the database knows it).
    configured: bool = True

    @property
    def state(self) -> str:
        """off, blocked, failing, silent, never_ran, degraded or ok: one word for the page and the CLI.

        What the database records wins over the config's `enabled`: a source that has crawled is
        judged by its crawls, whatever the config at hand says (it may not be the one that ran it).
        """
        if self.last_run_at is None and not self.enabled:
            return "off"
        if self.blocked:
            return "blocked"
        if self.failing:
            return "failing"
        if self.silent:
            return "silent"
        if self.last_run_at is None:
            return "never_ran"
        return "degraded" if self.degraded else "ok"

    @property
    def needs_attention(self) -> bool:
        """Blocked, failing, silent or degraded, and meant to run (an unconfigured source counts as
        meant to)."""
        return (self.enabled or not self.configured) and self.state in (
            "blocked",
            "failing",
            "silent",
            "degraded",
        )


def source_health(
    session: Session, sources_config: Iterable[SourceConfig], now: datetime | None = None
) -> list[SourceHealth]:
    """Health of each configured source, in config order. A disabled source is never silent."""
    now = now or utcnow()
    configs = list(sources_config)
    rows = _rows(session, [c.name for c in configs])
    return [_health(c.name, c.type, c.enabled, c.interval, rows.get(c.name), now) for c in configs]


def database_source_health(
    session: Session, sources_config: Iterable[SourceConfig], now: datetime | None = None
) -> list[SourceHealth]:
    """Every source the database has seen, then the configured ones it has not (config order first).

    A source disabled in the config that has crawled here is judged by its crawls (silence
    included): the database is what the page shows, and the config may not be the one that ran it.
    """
    now = now or utcnow()
    configs = {c.name: c for c in sources_config}
    rows = {row.name: row for row in session.scalars(select(Source).order_by(Source.name))}
    report = []
    for name, config in configs.items():
        row = rows.get(name)
        ran = row is not None and row.last_run_at is not None
        report.append(
            _health(name, config.type, config.enabled, config.interval, row, now, judge_silence=ran)
        )
    for name, row in rows.items():
        if name not in configs:
            report.append(_health(name, row.type, True, None, row, now, configured=False))
    return report


def _rows(session: Session, names: list[str]) -> dict[str, Source]:
    return {row.name: row for row in session.scalars(select(Source).where(Source.name.in_(names)))}


def _health(
    name: str,
    type: str,
    enabled: bool,
    interval: int | None,
    row: Source | None,
    now: datetime,
    configured: bool = True,
    judge_silence: bool = False,
) -> SourceHealth:
    failures = (row.consecutive_failures or 0) if row else 0
    warning_runs = (row.consecutive_warning_runs or 0) if row else 0
    silent = False
    if row is not None and interval is not None and (enabled or judge_silence):
        quiet_since = row.last_success_at or row.created_at
        silent = now - quiet_since > timedelta(seconds=SILENT_AFTER_INTERVALS * interval)
    return SourceHealth(
        name=name,
        type=type,
        enabled=enabled,
        interval=interval,
        last_run_at=row.last_run_at if row else None,
        last_success_at=row.last_success_at if row else None,
        last_error=row.last_error if row else None,
        last_error_at=row.last_error_at if row else None,
        last_items_count=row.last_items_count if row else None,
        consecutive_failures=failures,
        silent=silent,
        failing=failures >= FAILING_AFTER_FAILURES,
        blocked=failures > 0 and row is not None and row.last_error_kind == "blocked",
        last_error_kind=row.last_error_kind if row else None,
        last_warning=row.last_warning if row else None,
        last_warning_at=row.last_warning_at if row else None,
        consecutive_warning_runs=warning_runs,
        warnings_since=row.warnings_since if row else None,
        degraded=warning_runs >= DEGRADED_AFTER_WARNING_RUNS,
        configured=configured,
    )
