"""The Streamlit dashboard, run headless with AppTest against a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from monitor.db.models import Workflow
from monitor.db.session import open_database, session_factory
from tests.support.seed import Post, seed

DASHBOARD = str(Path(__file__).resolve().parents[1] / "dashboard.py")


@pytest.fixture
def sqlite_sessions(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'dash.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    sessions = session_factory(open_database(url))
    with sessions.begin() as session:
        seed(
            session,
            [
                Post('ВкусМаркет <script>alert("x")</script> **жирный** обсчитал', "ВкусМаркет", "negative"),
                Post("Во ВкусМаркете свежий хлеб", "ВкусМаркет", "positive"),
                Post("Магнит открыл новый магазин", "Магнит", "neutral", competitor=True),
            ],
        )
    return sessions


def run_app() -> AppTest:
    app = AppTest.from_file(DASHBOARD, default_timeout=60)
    return app.run()


def test_inbox_lists_our_mentions_with_text_escaped(sqlite_sessions):
    app = run_app()
    assert not app.exception
    shown = " ".join(m.value for m in app.markdown)
    assert "&lt;script&gt;" in shown and "<script>" not in shown
    assert "свежий хлеб" in shown
    # Competitors are not in the default brand filter.
    assert "новый магазин" not in shown


def test_changing_status_in_inbox_is_stored(sqlite_sessions):
    app = run_app()
    first = app.selectbox[0]
    mention_id = int(first.key.removeprefix("status-"))
    first.select("in_progress").run()
    assert not app.exception
    with sqlite_sessions() as session:
        workflow = session.get(Workflow, mention_id)
        assert workflow.status == "in_progress" and workflow.first_response_at is not None


def test_summary_counts_brands(sqlite_sessions):
    app = run_app()
    table = app.dataframe[0].value
    assert set(table["бренд"]) == {"ВкусМаркет", "Магнит"}


def test_apostrophes_and_markdown_in_posts_show_as_typed():
    from dashboard import safe_text

    assert safe_text("It's <b>5*3</b> & #1") == "It's &lt;b&gt;5\\*3&lt;/b&gt; &amp; \\#1"


def test_link_to_the_original_cannot_break_out_of_markdown():
    from dashboard import safe_link

    link = safe_link("https://x.ru/a)![](https://attacker/pixel.png")
    assert link.startswith("[Открыть оригинал](https://x.ru/a%29") and "%28https" in link
    assert link.count(")") == 1 and link.endswith(")")
    assert safe_link("javascript:alert(1)") == ""
