"""Russian by default, English on request, and no string missing from either."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from monitor.analytics import NegativeTopics
from monitor.export import Table, to_xlsx
from monitor.queries import InboxRow
from monitor.response_times import ResponseReport, summarize
from monitor.ui.i18n import MESSAGES, counted, decimal_text, duration_text, number_text, translate
from monitor.ui.tables import (
    authors_table,
    change_table,
    inbox_table,
    response_tables,
    sources_table,
    topics_tables,
    voice_table,
    volume_table,
    waiting_table,
)
from tests import test_dashboard_analytics as analytics
from tests.support.dashboard import log_in, new_app, shown_text

UI = Path(__file__).resolve().parents[1] / "monitor" / "ui"
MINE = [
    "auth.py",
    "inbox_page.py",
    "health_page.py",
    "summary_page.py",
    "trends_page.py",
    "response_page.py",
    "tables.py",
    "downloads.py",
    "date_filter.py",
]
# Pages whose every word comes from i18n.py: no Russian of their own, not even in a docstring.
WORDLESS = ["trends_page.py", "response_page.py", "tables.py", "downloads.py", "date_filter.py"]
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
# The seeded database of the trends and response pages' own tests (tests/test_dashboard_analytics.py).
database_file, database = analytics.database_file, analytics.database


def test_both_languages_have_the_same_keys():
    assert set(MESSAGES["ru"]) == set(MESSAGES["en"])


@pytest.mark.parametrize("module", MINE)
def test_every_literal_key_a_page_asks_for_exists(module):
    source = (UI / module).read_text(encoding="utf-8")
    keys = set(re.findall(r"""\b(?:t|translate)\(\s*["']([a-z_]+\.[a-z0-9_]+)["']""", source))
    assert keys and not keys - set(MESSAGES["ru"])


@pytest.mark.parametrize("module", WORDLESS)
def test_a_page_has_no_russian_text_of_its_own(module):
    source = (UI / module).read_text(encoding="utf-8")
    assert not CYRILLIC.search(source)


def test_an_unknown_key_shows_as_itself_and_placeholders_are_filled():
    assert translate("no.such_key", "en") == "no.such_key"
    assert translate("inbox.copies", "en", count=3) == "copies: 3"


def test_counted_nouns_agree_with_their_number():
    said = [counted(n, "mention", "ru") for n in (1, 3, 5, 11, 21, 22, 112, 1001)]
    assert said == [
        "1 упоминание",
        "3 упоминания",
        "5 упоминаний",
        "11 упоминаний",
        "21 упоминание",
        "22 упоминания",
        "112 упоминаний",
        "1 001 упоминание",
    ]
    assert [counted(n, "mention", "en") for n in (1, 2)] == ["1 mention", "2 mentions"]


def test_numbers_are_written_the_russian_way_in_russian():
    assert (number_text(27_400, "ru"), number_text(27_400, "en")) == ("27 400", "27,400")
    assert (decimal_text(683.84, 1, "ru"), decimal_text(683.84, 1, "en")) == ("683,8", "683.8")


def test_durations_show_the_two_largest_units():
    assert duration_text(1, 2, 5, "ru") == "1 д 2 ч"
    assert duration_text(0, 0, 7, "en") == "7 min"
    assert duration_text(0, 0, 0, "en") == "0 min"


def test_the_dashboard_is_russian_by_default(dashboard_db, with_users):
    app = log_in(new_app(), "olga")
    assert app.sidebar.multiselect[0].label == "Бренды"
    assert "Открыть оригинал" in shown_text(app)


def test_switching_to_english_translates_the_inbox(dashboard_db, with_users):
    app = log_in(new_app(), "olga")
    app.selectbox(key="lang").select("en").run()
    assert not app.exception
    assert app.sidebar.multiselect[0].label == "Brands"
    shown = shown_text(app)
    assert "Open the original" in shown and "negative" in shown and "негатив" not in shown


def test_the_login_form_follows_the_configured_language(dashboard_db, with_users, tmp_path, monkeypatch):
    config = Path(tmp_path / "spiders.yaml")
    config.write_text(config.read_text(encoding="utf-8") + "dashboard:\n  language: en\n", encoding="utf-8")
    app = new_app().run()
    assert [field.label for field in app.text_input] == ["User name", "Password"]


def all_tables(language: str) -> list[Table]:
    """Every table the trends and response pages show or export, empty: titles and headers only."""
    nothing = ResponseReport([], [], [], [], summarize("", [], NOW))
    return [
        inbox_table([], language),
        volume_table([], language),
        voice_table([], language),
        change_table([], language),
        sources_table([], language),
        authors_table([], language),
        *topics_tables(NegativeTopics([], [], 0, 0), language),
        *response_tables(nothing, language),
        waiting_table([], NOW, language),
    ]


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_table_title_and_column_is_translated(language):
    for table in all_tables(language):
        for text in [table.title, *table.columns]:
            assert text not in MESSAGES["ru"], f"{text} has no {language} translation"


def test_english_tables_and_their_sheets_have_no_russian():
    tables = all_tables("en")
    assert not [text for table in tables for text in [table.title, *table.columns] if CYRILLIC.search(text)]
    book = load_workbook(io.BytesIO(to_xlsx(tables)))
    assert book.sheetnames[:3] == ["Inbox", "Mentions per week", "Share of voice"]


def test_the_inbox_export_speaks_english_except_for_user_data():
    row = InboxRow(
        mention_id=7, brand="ВкусМаркет", competitor=False, source="vk", author="Анна", reach=10,
        published_at=NOW, text="ВкусМаркет обсчитал", span_start=0, span_end=10, url="https://vk.com/wall1_2",
        sentiment="negative", score=0.91, status="in_progress", assignee="olga", copies=2,
    )  # fmt: skip
    table = inbox_table([row], "en")
    record = dict(zip(table.columns, table.rows[0], strict=True))
    assert (record["side"], record["sentiment"], record["status"]) == ("us", "negative", "in progress")
    assert (record["brand"], record["author"]) == ("ВкусМаркет", "Анна")


def english(script) -> AppTest:
    app = AppTest.from_function(script, default_timeout=60)
    app.session_state["lang"] = "en"
    return app.run()


def our_words(app: AppTest) -> list[str]:
    """What the page itself says, leaving out user data (posts, brand and author names in cells):
    titles, captions, notices, labels, column headers and the charts' titles and legends."""
    texts = [e.value for e in (*app.subheader, *app.caption, *app.info, *app.error, *app.success)]
    texts += [e.label for e in (*app.selectbox, *app.expander, *app.metric)]
    texts += [button.label for button in app.get("download_button")]
    texts += [str(column) for frame in app.dataframe for column in frame.value.columns]
    texts += [chart.proto.spec for chart in app.get("vega_lite_chart")]  # the data travels apart
    return texts


def test_the_trends_page_in_english(database):
    app = english(analytics.trends_script)
    assert not app.exception
    assert app.selectbox[0].label == "Week"
    assert {"Week over week", "Share of voice", "Sources", "Authors"} <= {s.value for s in app.subheader}
    change = analytics.table(app, "brand")
    ours = change[change["brand"] == "ВкусМаркет"].iloc[0]  # user data stays as it is
    assert ours["this week"] > ours["last week"]
    assert "обсчитать" in set(analytics.table(app, "word")["word"])
    assert "⬇ XLSX (all tables)" in [button.label for button in app.get("download_button")]
    assert len(app.get("vega_lite_chart")) == 3
    assert not [text for text in our_words(app) if CYRILLIC.search(text)]


def test_the_response_page_in_english(database):
    app = english(analytics.response_script)
    assert not app.exception
    assert app.selectbox[0].label == "Period, weeks"
    assert app.error[0].value.startswith("Waiting for an answer:")
    assert app.metric[0].label == "Median to response" and app.metric[0].value == "2.0 h"
    shown = " ".join(m.value for m in app.markdown)
    assert "waiting" in shown and "Open the original" in shown and "Открыть" not in shown
    by_manager = analytics.table(app, "assignee").set_index("assignee")
    assert by_manager.loc["olga", "to response from publication, median, h"] == 2
    assert not [text for text in our_words(app) if CYRILLIC.search(text)]
