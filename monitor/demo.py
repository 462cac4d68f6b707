"""`brandpulse demo`: the real flow end to end on local copies of real-looking sources.

Serves monitor/demo_site/ on 127.0.0.1 (feeds, a t.me/s channel preview, review and forum pages),
crawls it through the real crawlers, matches, scores with the offline model, queues alerts (printed,
since the demo never sends), and prints a summary. A fresh SQLite database each run.
"""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import SecretStr

from alerts.senders import ConsoleSender
from crawlers import registry
from crawlers.vk import VkCrawler
from monitor.config import parse_config
from monitor.db.session import open_database, session_factory
from monitor.demo_vk import load_vk_data, vk_routes
from monitor.local_server import LocalServer
from monitor.pipeline import Pipeline
from monitor.queries import brand_sentiment_counts, outbox_counts

HERE = Path(__file__).parent
DEMO_SITE = HERE / "demo_site"
DEMO_CONFIG = HERE / "demo_spiders.yaml"
# The fake VK API checks this token; the demo never reads VK_TOKEN from the environment.
DEMO_VK_TOKEN = "demo-vk-token"


def demo_config_text(base_url: str, database_url: str) -> str:
    return (
        DEMO_CONFIG.read_text(encoding="utf-8")
        .replace("{demo}", base_url)
        .replace("{database}", database_url)
    )


def run_demo(data_dir: Path, serve: bool = False, echo=print) -> Pipeline:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    data_dir.mkdir(parents=True, exist_ok=True)
    database = (data_dir / "demo.db").resolve()
    for stale in (database, database.with_name("demo.db-wal"), database.with_name("demo.db-shm")):
        stale.unlink(missing_ok=True)
    database_url = f"sqlite:///{database}"

    with LocalServer(DEMO_SITE, routes=vk_routes(load_vk_data(), token=DEMO_VK_TOKEN)) as server:
        config = parse_config(demo_config_text(server.base_url, database_url), str(DEMO_CONFIG))
        # The demo's database is always its own fresh file: DATABASE_URL is deliberately ignored.
        sessions = session_factory(open_database(database_url))
        alerts_log = data_dir / "demo-alerts.txt"
        with alerts_log.open("w", encoding="utf-8") as alert_stream:
            crawlers = registry()
            crawlers["vk"] = VkCrawler(token=SecretStr(DEMO_VK_TOKEN))
            pipeline = Pipeline(config, sessions, sender=ConsoleSender(alert_stream), crawlers=crawlers)
            pipeline.register_sources()
            echo(f"brandpulse demo: crawling {len(config.sources)} local sources at {server.base_url}")
            for report in pipeline.crawl_all():
                status = f"error: {report.error}" if report.error else f"{report.new_items} new items"
                warnings = f" ({len(report.warnings)} warnings)" if report.warnings else ""
                echo(f"  {report.source:<22} {status}{warnings}")
            result = pipeline.process()
        echo(
            f"matched {result.matched_items} items → {result.mentions} mentions; "
            f"scored {result.scored} with {pipeline.engine.name}; {result.alerts_queued} alerts queued"
        )
        with sessions() as session:
            counts = brand_sentiment_counts(session)
            outbox = outbox_counts(session)
        echo("")
        echo(f"{'brand':<14} {'side':<11} {'negative':>8} {'neutral':>8} {'positive':>8} {'total':>6}")
        for row in counts:
            side = "competitor" if row.competitor else "ours"
            numbers = f"{row.negative:>8} {row.neutral:>8} {row.positive:>8} {row.total:>6}"
            echo(f"{row.brand:<14} {side:<11} {numbers}")
        echo("")
        echo(
            f"alerts: {outbox.get('printed', 0)} printed to {alerts_log} (no Telegram in the demo), "
            f"{outbox.get('pending', 0)} pending"
        )
        echo(f"done in {time.monotonic() - started:.1f} s. Open the dashboard on this database with:")
        echo(f"  .venv/bin/brandpulse dashboard --database {database_url}")
        if serve:
            echo(f"demo sites stay up at {server.base_url} — Ctrl-C to stop")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    return pipeline
