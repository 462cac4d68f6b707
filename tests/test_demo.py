"""`brandpulse demo`: the whole flow on the local demo sources, re-runnable, with a real summary."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from monitor.db.models import Item, Mention, OutboxMessage, Sentiment, Source
from monitor.demo import run_demo


def run(data_dir) -> tuple[list[str], object]:
    lines: list[str] = []
    pipeline = run_demo(data_dir, echo=lines.append)
    return lines, pipeline


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One demo run shared by the tests that only read its results (a run takes ~30 s here)."""
    data_dir = tmp_path_factory.mktemp("demo")
    lines, pipeline = run(data_dir)
    return data_dir, lines, pipeline


def test_demo_crawls_every_source_type_without_errors(demo):
    _, lines, pipeline = demo
    output = "\n".join(lines)
    assert "error" not in output.lower(), output
    with pipeline.sessions() as session:
        per_type = dict(
            session.execute(
                select(Source.type, func.count(Item.id))
                .join(Item, Item.source_id == Source.id)
                .group_by(Source.type)
            ).all()
        )
    assert set(per_type) == {"rss", "telegram", "site", "vk"}
    assert all(n > 0 for n in per_type.values())


def test_demo_scores_every_mention_and_queues_alerts(demo):
    data_dir, _, pipeline = demo
    with pipeline.sessions() as session:
        mentions = session.scalar(select(func.count()).select_from(Mention))
        scored = session.scalar(select(func.count()).select_from(Sentiment))
        alerts = session.scalar(select(func.count()).select_from(OutboxMessage))
        printed = session.scalar(select(func.count()).where(OutboxMessage.status == "printed"))
        batched = session.scalar(select(func.count()).where(OutboxMessage.status == "batched"))
        brands = set(session.scalars(select(Mention.brand).distinct()))
    assert mentions > 20 and scored == mentions
    assert brands == {"ВкусМаркет", "Магнит", "Пятёрочка"}
    assert alerts > 0
    # A burst to one chat is folded into a digest: each row was printed or carried by a printed digest.
    assert printed + batched == alerts
    assert (data_dir / "demo-alerts.txt").read_text(encoding="utf-8").count("── alert for chat") == printed


def test_demo_summary_prints_counts_and_the_dashboard_command(demo):
    _, lines, _ = demo
    header = next(line for line in lines if line.startswith("brand "))
    assert "negative" in header and "positive" in header
    assert any(line.startswith("ВкусМаркет") and "ours" in line for line in lines)
    assert any("brandpulse dashboard --database sqlite:///" in line for line in lines)


def test_demo_can_be_rerun_on_a_fresh_database(demo):
    data_dir, first, _ = demo
    second, _ = run(data_dir)
    crawled_first = [line for line in first if "new items" in line]
    crawled_second = [line for line in second if "new items" in line]
    # A fresh database each time: the second run finds every item new again, not zero.
    assert crawled_second == crawled_first and crawled_first
