"""A source's `display_name` from spiders.yaml is what people read (inbox, filters, health page,
exports, reports); its key stays what commands take, and a source without one shows its key
(issue 17, broken point 8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor import store
from monitor.analytics import Ranked, Week
from monitor.config import parse_config
from monitor.db.session import session_factory
from monitor.errors import ConfigError
from monitor.queries import InboxRow
from monitor.report import build_weekly_report, render_html
from monitor.response_times import ResponseReport, summarize
from monitor.ui.tables import inbox_table, response_tables, sources_table
from tests.support.dashboard import CONFIG, log_in, new_app, shown_text
from tests.test_report import MOSCOW, database  # noqa: F401 - a fixture
from tests.test_response_times import NOW

VK = "ВКонтакте: сообщество ВкусМаркета"
NAMES = {"vk": VK}
NAMED_CONFIG = CONFIG.replace("{name: vk, type: rss,", f'{{name: vk, display_name: "{VK}", type: rss,')


def test_display_name_is_read_per_source_and_optional():
    config = parse_config(NAMED_CONFIG)
    assert config.source_display_names() == NAMES
    assert config.source("otzovik").display_name is None


def test_an_empty_display_name_is_refused():
    with pytest.raises(ConfigError, match="display_name"):
        parse_config(CONFIG.replace("{name: vk,", '{name: vk, display_name: "",'))


def test_tables_show_display_names_and_fall_back_to_the_key():
    row = InboxRow(
        mention_id=1, brand="ВкусМаркет", competitor=False, source="vk", author="Анна", reach=0,
        published_at=NOW, text="…", span_start=0, span_end=1, url="https://vk.com/wall1_2",
        sentiment="negative", score=0.9, status="new", assignee=None, copies=1,
    )  # fmt: skip
    inbox = inbox_table([row], "ru", NAMES)
    assert dict(zip(inbox.columns, inbox.rows[0], strict=True))["источник"] == VK
    ranked = sources_table([Ranked("vk", 3, 1), Ranked("forum-topic", 1, 0)], "ru", NAMES)
    assert [r[0] for r in ranked.rows] == [VK, "forum-topic"]
    stats = [summarize("vk", [], NOW), summarize("otzovik", [], NOW)]
    report = ResponseReport([], [], stats, [], summarize("", [], NOW))
    by_source = response_tables(report, "ru", NAMES)[1]
    assert [r[0] for r in by_source.rows] == [VK, "otzovik"]


def test_the_weekly_report_names_sources_by_display_name(database):  # noqa: F811
    with session_factory(database[1])() as session:
        report = build_weekly_report(session, Week(2026, 47), MOSCOW, NOW, source_names=NAMES)
    page = render_html(report)
    assert f"<td>{VK}</td>" in page and "<td>vk</td>" not in page


@pytest.fixture
def named_sources(dashboard_db):
    config = Path(Path(dashboard_db[0].kw["bind"].url.database).parent / "spiders.yaml")
    config.write_text(NAMED_CONFIG, encoding="utf-8")
    return dashboard_db


def test_the_inbox_and_its_source_filter_show_display_names(named_sources, with_users):
    app = log_in(new_app(), "olga")
    shown = shown_text(app)
    assert f"· {VK} ·" in shown and "· vk ·" not in shown
    assert "· otzovik ·" in shown  # no display_name: the key
    sources = app.multiselect(key="f_sources")
    assert sources.options == ["otzovik", VK]
    sources.select("vk").run()
    assert "свежий хлеб" in shown_text(app) and "обсчитал" not in shown_text(app)


def test_the_health_page_shows_the_display_name_with_the_key(named_sources, with_users):
    sessions, _ = named_sources
    with sessions.begin() as session:
        for _ in range(3):
            store.record_failure(session, "vk", "rss", "HTTP 503 from http://127.0.0.1:9/vk")
    app = log_in(new_app(), "masha")
    app.segmented_control(key="page").set_value("health").run()
    assert not app.exception
    assert set(app.dataframe[0].value["источник"]) == {f"{VK} (vk)", "otzovik"}
    assert VK in app.error[0].value  # Markdown-escaped: the parentheses come with backslashes
