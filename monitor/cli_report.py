"""`brandpulse report ...`: reports as files. Thin over monitor/report.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from monitor.cli_database import DatabaseOption, chosen_url, open_existing, require_mentions
from monitor.config import load_config

report_app = typer.Typer(help="Write reports to files (trends and response times).", no_args_is_help=True)


@report_app.command("weekly")
def weekly(
    week: Annotated[
        str | None,
        typer.Option(help="ISO week, e.g. 2026-W47. Default: the last complete week."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="HTML file to write. Default: brandpulse-report-<week>.html."),
    ] = None,
    config: Annotated[
        Path,
        typer.Option("--config", "-c", envvar="BRANDPULSE_CONFIG", help="The spiders.yaml to use."),
    ] = Path("spiders.yaml"),
    timezone: Annotated[
        str | None,
        typer.Option(
            envvar="BRANDPULSE_TIMEZONE", help="Time zone weeks start in (IANA name). Default: Europe/Moscow."
        ),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Write the weekly report: mentions and sentiment per brand, share of voice, week-over-week
    change, top sources and authors, words of negative mentions, response times and the negative
    mentions still waiting for an answer. One self-contained HTML file that opens offline.

    A database with no mentions is an error, not a report of nothing.

    Example: brandpulse report weekly --week 2026-W47 --database sqlite:///data/demo.db -o report.html
    """
    from monitor import analytics
    from monitor.clock import utcnow
    from monitor.db.session import session_factory
    from monitor.report import build_weekly_report, render_html

    tz = analytics.timezone(timezone)
    now = utcnow()
    try:
        chosen = analytics.Week.parse(week) if week else analytics.Week.containing(now, tz).shift(-1)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--week") from None
    cfg = load_config(config)
    url = chosen_url(database, cfg.storage.url)
    engine = open_existing(url)
    try:
        with session_factory(engine)() as session:
            require_mentions(session, url)
            terms = [term for brand in cfg.brands for term in brand.terms]
            names = cfg.source_display_names()
            report = build_weekly_report(session, chosen, tz, now, brand_terms=terms, source_names=names)
    finally:
        engine.dispose()
    path = output or Path(f"brandpulse-report-{chosen}.html")
    try:
        path.write_text(render_html(report), encoding="utf-8")
    except OSError as exc:
        raise typer.BadParameter(f"cannot write {path}: {exc.strerror}", param_hint="--output") from None
    typer.echo(f"weekly report for {chosen} → {path}", err=True)
