"""The `brandpulse` command: thin typer verbs over the library; every error is one line on stderr."""

from __future__ import annotations

import csv
import json
import logging
import sys
import threading
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from monitor.cli_database import DatabaseOption, chosen_url, open_existing, require_mentions, where
from monitor.cli_match import match_eval, match_train
from monitor.cli_report import report_app
from monitor.cli_sentiment import sentiment_app
from monitor.cli_user import user_app
from monitor.config import Config, load_config
from monitor.errors import BrandpulseError
from monitor.unmatched import DEFAULT_DAYS as UNMATCHED_DAYS

app = typer.Typer(
    help="brandpulse: find what people write about your brand, score it, alert on complaints.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(report_app, name="report")
app.add_typer(sentiment_app, name="sentiment")
app.add_typer(user_app, name="user")
app.command("match-eval")(match_eval)
app.command("match-train")(match_train)
log = logging.getLogger("brandpulse")

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", envvar="BRANDPULSE_CONFIG", help="The spiders.yaml to use."),
]
DEFAULT_CONFIG = Path("spiders.yaml")


class Fmt(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


FormatOption = Annotated[Fmt, typer.Option("--format", "-f", help="Output format.")]


@app.callback()
def _setup(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "httpcore", "scrapy", "alembic", "urllib3", "filelock", "pymorphy3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _open(config_path: Path, migrate: bool = True) -> tuple[Config, Any]:
    from monitor.db.session import database_url, open_database, session_factory

    config = load_config(config_path)
    engine = open_database(database_url(config.storage.url), migrate=migrate)
    return config, session_factory(engine)


def _pipeline(config_path: Path) -> Any:
    from monitor.pipeline import Pipeline

    config, sessions = _open(config_path)
    pipeline = Pipeline(config, sessions)
    pipeline.register_sources()
    return pipeline


def emit(rows: list[dict[str, Any]], fmt: Fmt) -> None:
    """Print rows as an aligned table, JSON lines or CSV (stdout, so it pipes)."""
    if fmt is Fmt.json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False, default=str))
        return
    if not rows:
        return
    if fmt is Fmt.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        return
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    typer.echo("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        typer.echo("  ".join(str(row[c]).ljust(widths[c]) for c in columns))


@app.command()
def init(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Create the database (or migrate it to the latest schema) and register the sources.

    Example: brandpulse init --config spiders.yaml
    """
    from monitor.db.session import database_url
    from monitor.secrets import mask_url_password

    pipeline = _pipeline(config)
    url = mask_url_password(database_url(pipeline.config.storage.url))
    typer.echo(f"database ready: {url} ({len(pipeline.config.sources)} sources registered)")


@app.command()
def crawl(
    config: ConfigOption = DEFAULT_CONFIG,
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only this source (repeatable).")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Print the items as JSON lines; store nothing.")] = False,
    fmt: FormatOption = Fmt.table,
) -> None:
    """Fetch new items from the sources and store them (no matching or scoring; see `run`).

    Example: brandpulse crawl --source otzovik-reviews --dry-run
    """
    if dry_run:
        _dry_run(load_config(config), source or [])
        return
    pipeline = _pipeline(config)
    chosen = [pipeline.config.source(name) for name in source] if source else None
    reports = pipeline.crawl_all(chosen)
    emit([_crawl_row(r) for r in reports], fmt)
    if reports and all(r.error for r in reports):
        raise typer.Exit(1)


def _crawl_row(report: Any) -> dict[str, Any]:
    return {
        "source": report.source,
        "fetched": report.fetched,
        "new": report.new_items,
        "updated": report.updated,
        "grouped": report.grouped,
        "queued": report.queued,
        "warnings": len(report.warnings),
        "error": report.error or "",
    }


def _dry_run(config: Config, names: list[str]) -> None:
    from crawlers import registry

    crawlers = registry()
    for source in [config.source(n) for n in names] if names else config.sources:
        crawler = crawlers.get(source.type)
        if crawler is None:
            log.error("%s: source type %r has no crawler in this version", source.name, source.type)
            continue
        try:
            batch = crawler.fetch(source, None, config.brands)
        except BrandpulseError as exc:
            log.error("%s", exc)
            continue
        for warning in batch.warnings:
            log.warning("%s", warning)
        for item in batch.items:
            typer.echo(json.dumps(asdict(item), ensure_ascii=False, default=str))


@app.command()
def score(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Match brands in stored items not matched yet, score new mentions and queue their alerts.

    Example: brandpulse score --config spiders.yaml
    """
    from rich.progress import Progress

    pipeline = _pipeline(config)
    with Progress(transient=True, console=_stderr_console()) as progress:
        task = progress.add_task("matching", total=None)
        items, mentions = pipeline.match_pending(progress=lambda n: progress.advance(task, n))
        progress.update(task, description="scoring")
        scored, queued = pipeline.score_pending(progress=lambda n: progress.advance(task, n))
    typer.echo(f"matched {items} items → {mentions} mentions; scored {scored}; queued {queued} alerts")


@app.command()
def run(
    config: ConfigOption = DEFAULT_CONFIG,
    once: Annotated[bool, typer.Option(help="One pass over every source, then exit.")] = False,
) -> None:
    """The main job: crawl each source on its interval, match, score and alert. Ctrl-C stops cleanly.

    Example: brandpulse run --config spiders.yaml
    """
    from monitor.scheduler import run_forever, stop_on_signals

    pipeline = _pipeline(config)
    if once:
        for report in pipeline.crawl_all():
            log.info(
                "%s: %d new%s",
                report.source,
                report.new_items,
                f", error: {report.error}" if report.error else "",
            )
        result = pipeline.process()
        typer.echo(
            f"{result.mentions} new mentions, {result.scored} scored, {result.alerts_queued} alerts queued"
        )
        return
    # Load the model now: a missing or broken one is a one-line error at start, not a loop of them.
    log.info("sentiment engine: %s", pipeline.engine.name)
    stop = threading.Event()
    stop_on_signals(stop)
    log.info("running %d sources; Ctrl-C to stop", len(pipeline.config.sources))
    run_forever(pipeline, stop)
    log.info("stopped")


@app.command()
def worker(
    config: ConfigOption = DEFAULT_CONFIG,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="Only this source (repeatable); default: every distributed one."),
    ] = None,
    idle_timeout: Annotated[
        str | None,
        typer.Option(
            help="Exit after this long with nothing to fetch (90s, 5m; 0 = never). "
            "Default: distributed.idle_timeout."
        ),
    ] = None,
    fmt: FormatOption = Fmt.table,
) -> None:
    """Crawl the `distributed: true` site sources from the shared Redis queue and store what is found.

    Start one on each crawling machine, with the same REDIS_URL and DATABASE_URL on all of them.

    `brandpulse crawl` or `run` queue each round's start pages; Ctrl-C finishes the pages in flight.

    Example: REDIS_URL=redis://queue.internal:6379/0 brandpulse worker --idle-timeout 5m
    """
    from monitor.config import SiteSource, parse_timeout
    from monitor.worker import run_worker

    cfg, sessions = _open(config)
    if source:
        chosen = [cfg.source(name) for name in source]
    else:
        chosen = [s for s in cfg.sources if isinstance(s, SiteSource) and s.distributed and s.enabled]
    sites = [s for s in chosen if isinstance(s, SiteSource)]
    if len(sites) != len(chosen):
        raise typer.BadParameter("only site sources can be distributed", param_hint="--source")
    try:
        timeout = cfg.distributed.idle_timeout if idle_timeout is None else parse_timeout(idle_timeout)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--idle-timeout") from None
    reports = run_worker(cfg, sessions, sites, timeout)
    emit([_worker_row(r) for r in reports], fmt)
    if any(r.error for r in reports):
        raise typer.Exit(1)


def _worker_row(report: Any) -> dict[str, Any]:
    return {
        "source": report.source,
        "pages": report.pages_ok,
        "failed": report.pages_failed,
        "items": report.items,
        "new": report.new_items,
        "updated": report.updated,
        "warnings": report.warnings,
        "error": report.error or "",
    }


@app.command()
def match(
    input: Annotated[Path, typer.Option("--input", "-i", help="CSV with a 'text' column.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV to write: row, brand, span, ...")],
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Find the configured brands in a CSV of texts (no database needed).

    Example: brandpulse match --config spiders.yaml --input texts.csv --output matches.csv
    """
    from monitor.batch_match import match_csv
    from monitor.matching import BrandMatcher

    loaded = load_config(config)
    matcher = BrandMatcher.from_config(loaded.brands, loaded.sense_model())
    result = match_csv(matcher, input, output)
    typer.echo(
        f"{result.rows_read} rows read, {result.rows_matched} with a brand, {result.matches} matches"
        f"{f', {result.skipped} skipped' if result.skipped else ''} → {output}",
        err=True,
    )


@app.command()
def health(
    config: ConfigOption = DEFAULT_CONFIG, fmt: FormatOption = Fmt.table, database: DatabaseOption = None
) -> None:
    """Show each source of the database (and each configured one): its state, last success, last
    error, whether it is silent or failing. A database where no source has run says so on stderr.

    Example: brandpulse health --database sqlite:///data/demo.db --format json
    """
    from monitor.db.session import session_factory
    from monitor.source_health import database_source_health

    cfg = load_config(config)
    url = chosen_url(database, cfg.storage.url)
    with session_factory(open_existing(url))() as session:
        report = database_source_health(session, cfg.sources)
    if not any(h.last_run_at for h in report):
        typer.echo(f"database {where(url)} is empty: no source has run there yet", err=True)
    emit([{**asdict(h), "state": h.state} for h in report], fmt)


@app.command()
def unmatched(
    config: ConfigOption = DEFAULT_CONFIG,
    fmt: FormatOption = Fmt.table,
    database: DatabaseOption = None,
    source: Annotated[str | None, typer.Option("--source", "-s", help="Only this source.")] = None,
    days: Annotated[int, typer.Option(min=1, help="Collected in the last N days.")] = UNMATCHED_DAYS,
    limit: Annotated[int, typer.Option(min=1, help="At most this many items (newest first).")] = 50,
) -> None:
    """Show collected items that matched no brand, newest first, and how many each source had: a
    missing alias, a too strict `context` or an untied brand community shows up here.

    Example: brandpulse unmatched --source vk-main --days 1
    """
    from monitor.db.session import session_factory
    from monitor.unmatched import unmatched_counts, unmatched_items

    cfg = load_config(config)
    url = chosen_url(database, cfg.storage.url)
    with session_factory(open_existing(url))() as session:
        counts = unmatched_counts(session, days=days)
        items = unmatched_items(session, source=source, days=days, limit=limit)
    shown = {source: counts.get(source, 0)} if source else counts
    summary = ", ".join(f"{name} {count}" for name, count in sorted(shown.items())) or "none"
    typer.echo(f"items that matched no brand in the last {days} days: {summary}", err=True)
    emit(
        [
            {
                "source": i.source,
                "published_at": i.published_at or i.collected_at,
                "author": i.author or "",
                "text": " ".join(i.text.split())[:120] if fmt is Fmt.table else i.text,
                "url": i.url,
            }
            for i in items
        ],
        fmt,
    )


class DigestKind(StrEnum):
    daily = "daily"
    weekly = "weekly"


@app.command()
def bot(
    config: ConfigOption = DEFAULT_CONFIG,
    once: Annotated[bool, typer.Option(help="Handle what is waiting, then exit.")] = False,
) -> None:
    """Answer the alert buttons («Беру в работу», «Не релевантно») by long polling Telegram.

    A press sets the mention's status (in_progress / ignored), as the dashboard would. Needs
    TELEGRAM_BOT_TOKEN; only chats named in spiders.yaml are obeyed. Ctrl-C stops it.

    Example: brandpulse bot --config spiders.yaml
    """
    import os

    from alerts.bot import BotApi, BotApiError, allowed_chat_ids, poll_once, run_bot
    from monitor.errors import ConfigError
    from monitor.scheduler import stop_on_signals
    from monitor.secrets import TELEGRAM_API_BASE, TELEGRAM_BOT_TOKEN, secret

    token = secret(TELEGRAM_BOT_TOKEN)
    if token is None:
        raise ConfigError(f"{TELEGRAM_BOT_TOKEN} is not set: the bot needs the alert bot's token")
    cfg, sessions = _open(config)
    api = BotApi(token, os.environ.get(TELEGRAM_API_BASE) or cfg.alerts.telegram.api_base)
    allowed = allowed_chat_ids(cfg)
    if once:
        try:
            handled = poll_once(sessions, api, allowed, poll_timeout=0)
        except BotApiError as exc:
            raise ConfigError(f"bot: {exc}") from None
        typer.echo(f"{handled} updates handled")
        return
    stop = threading.Event()
    stop_on_signals(stop)
    log.info("bot: answering alert buttons for %d chats; Ctrl-C to stop", len(allowed))
    run_bot(sessions, api, allowed, stop)
    log.info("stopped")


@app.command()
def digest(
    config: ConfigOption = DEFAULT_CONFIG,
    kind: Annotated[
        DigestKind,
        typer.Option(help="daily: yesterday; weekly: the seven days before the digest's weekday."),
    ] = DigestKind.daily,
    dry_run: Annotated[bool, typer.Option(help="Print the digest; queue and send nothing.")] = False,
    database: DatabaseOption = None,
) -> None:
    """Build the latest daily or weekly digest now and send it to its chats (once per period).
    A database with no mentions is an error, not a digest of nothing.

    Example: brandpulse digest --kind weekly --dry-run --database sqlite:///data/demo.db
    """
    from alerts.digests import digest_command
    from monitor.db.session import session_factory

    cfg = load_config(config)
    url = chosen_url(database, cfg.storage.url)
    sessions = session_factory(open_existing(url))
    with sessions() as session:
        require_mentions(session, url)
    for line in digest_command(cfg, sessions, kind.value, dry_run):
        typer.echo(line)


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option(help="Where the demo database goes (recreated each run).")] = Path(
        "data"
    ),
    serve: Annotated[bool, typer.Option(help="Keep the demo sites running after the summary.")] = False,
) -> None:
    """Run the whole flow on local demo sources: no network, no secrets, a fresh SQLite database.

    Example: brandpulse demo
    """
    from monitor.demo import run_demo

    run_demo(data_dir, serve=serve)


@app.command()
def dashboard(
    database: Annotated[
        str | None, typer.Option(help="Database URL (default: DATABASE_URL or the config's storage.url).")
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
    port: Annotated[int, typer.Option(help="Port for the dashboard.")] = 8501,
    address: Annotated[
        str,
        typer.Option(
            help="Address to listen on. Without users (`brandpulse user add`) only 127.0.0.1 is allowed, "
            "in a labelled demo mode with no login."
        ),
    ] = "127.0.0.1",
) -> None:
    """Open the Streamlit dashboard (inbox, trends, health) behind the staff login.

    Example: brandpulse dashboard --database sqlite:///data/demo.db
    """
    import os
    from importlib.util import find_spec

    from monitor.auth import is_local_address, load_users

    configured = load_config(config).dashboard.users_file if config.exists() else None
    if not load_users(configured) and not is_local_address(address):
        raise BrandpulseError(
            f"no dashboard users, so it may listen on 127.0.0.1 only, not {address}: "
            "add one with `brandpulse user add NAME --file users.txt` and set BRANDPULSE_USERS_FILE"
        )

    env = dict(os.environ)
    if database:
        env["DATABASE_URL"] = database
    env["BRANDPULSE_CONFIG"] = str(config)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        # Found, not imported: Streamlit runs it in its own process.
        str(getattr(find_spec("dashboard"), "origin", "dashboard.py")),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        # A server, not a development session: no source watching, no Deploy button.
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
    ]
    from monitor.supervise import run_child

    # Not subprocess.call: a SIGTERM to us must stop Streamlit too, not leave it serving the port.
    raise typer.Exit(run_child(command, env=env))


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def main() -> None:
    """Console entry point: library errors become one line on stderr and exit code 1."""
    try:
        app()
    except BrandpulseError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise SystemExit(1) from None
