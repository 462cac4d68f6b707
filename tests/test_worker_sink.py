"""The distributed worker's item sink on SQLite: items are saved in small batches, while the run's
item count and warnings are noted on the source once, when the run ends."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crawlers.sites.rules import resolve_rules
from monitor.config import SiteSource
from monitor.db.models import Source
from monitor.worker import BATCH_ITEMS, ItemSink, WorkerReport

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

SOURCE = SiteSource(
    type="site", name="otzovik", preset="otzovik", start_urls=["http://127.0.0.1/otzovik/reviews/vkusmarket/"]
)


def review(n: int) -> dict[str, str]:
    return {
        "external_id": str(n),
        "url": f"http://127.0.0.1/otzovik/review_{n}.html",
        "text": f"Отзыв номер {n} про ВкусМаркет: доставка опоздала на час, молоко привезли тёплым.",
    }


def sink_for(sessions) -> ItemSink:
    return ItemSink(sessions, SOURCE, resolve_rules(SOURCE, []), WorkerReport(SOURCE.name))


def source_row(sessions) -> Source:
    with sessions() as session:
        row = session.scalar(select(Source).where(Source.name == SOURCE.name))
        assert row is not None
        return row


def end_runs(sessions, count: int, warning: str | None) -> ItemSink:
    """`count` runs of BATCH_ITEMS + 1 items each (two batches), each with `warning`, if any."""
    sink = sink_for(sessions)
    for run in range(count):
        for n in range(BATCH_ITEMS + 1):
            sink.add(review(run * 1000 + n))
        if warning:
            sink.warn(warning)
        assert sink.end_run()
    return sink


def test_warnings_of_three_runs_saved_in_batches_make_the_source_degraded(sessions):
    end_runs(sessions, 3, "страница 2: ни одного отзыва, разметка сайта изменилась?").close()
    row = source_row(sessions)
    assert row.consecutive_warning_runs == 3 and "разметка" in (row.last_warning or "")


def test_item_count_of_a_run_is_all_its_batches(sessions):
    end_runs(sessions, 1, None).close()
    assert source_row(sessions).last_items_count == BATCH_ITEMS + 1


def test_idle_signal_with_nothing_new_does_not_end_the_run_of_warned_crawls(sessions):
    sink = end_runs(sessions, 1, "страница 2: ни одного отзыва")
    assert sink.end_run() and sink.close()
    assert source_row(sessions).consecutive_warning_runs == 1
