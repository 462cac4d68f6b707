"""The Streamlit inbox and summary, run headless with AppTest against a real database."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.auth import Actor
from monitor.db.models import Mention, Sentiment, Workflow
from monitor.ui.render import safe_link, safe_text
from tests.support.dashboard import log_in, new_app, shown_text
from tests.support.seed import Post, seed

OLGA = Actor("olga", "staff")


def test_inbox_lists_our_mentions_with_text_escaped(dashboard_db, with_users):
    app = log_in(new_app(), "olga")
    assert not app.exception
    shown = shown_text(app)
    assert "&lt;script&gt;" in shown and "<script>" not in shown
    assert "свежий хлеб" in shown
    # Competitors are not in the default brand filter.
    assert "новый магазин" not in shown


def test_inbox_speaks_russian_numbers_and_hides_unknown_reach(dashboard_db, with_users):
    sessions, ids = dashboard_db
    with sessions.begin() as session:
        session.get(Mention, ids[1]).item.author_reach = 27_400
    app = log_in(new_app(), "olga")
    shown = shown_text(app)
    assert "Показано 2 упоминания, новые сверху" in shown
    assert "охват 27 400" in shown and "охват 0" not in shown
    app.text_input(key="f_search").input("хлеб").run()
    assert "Показано 1 упоминание, новые сверху" in shown_text(app)


def test_filtering_by_search_text_narrows_the_inbox(dashboard_db, with_users):
    app = log_in(new_app(), "olga")
    app.text_input(key="f_search").input("хлеб").run()
    shown = shown_text(app)
    assert "свежий хлеб" in shown and "обсчитал" not in shown


def test_changing_status_in_inbox_is_stored(dashboard_db, with_users):
    sessions, ids = dashboard_db
    app = log_in(new_app(), "olga")
    app.selectbox(key=f"status-{ids[0]}-new").select("in_progress").run()
    assert not app.exception
    with sessions() as session:
        workflow = session.get(Workflow, ids[0])
        assert workflow.status == "in_progress" and workflow.first_response_at is not None
        assert workflow.assignee == "olga"


def test_take_assigns_the_mention_to_the_logged_in_user(dashboard_db, with_users):
    sessions, ids = dashboard_db
    app = log_in(new_app(), "olga")
    app.button(key=f"take-{ids[1]}").click().run()
    with sessions() as session:
        assert session.get(Workflow, ids[1]).assignee == "olga"
    assert "👤 olga" in shown_text(app)


def test_replied_records_the_first_response(dashboard_db, with_users):
    sessions, ids = dashboard_db
    app = log_in(new_app(), "olga")
    app.button(key=f"replied-{ids[0]}").click().run()
    with sessions() as session:
        assert session.get(Workflow, ids[0]).first_response_at is not None
    assert "первый ответ через" in shown_text(app)


def test_note_is_saved_and_shown_escaped(dashboard_db, with_users):
    sessions, ids = dashboard_db
    app = log_in(new_app(), "olga")
    note = next(area for area in app.text_area if area.key.startswith(f"note-{ids[0]}-"))
    note.input("перезвонить <b>завтра</b>")
    app.button(key=f"save-note-{ids[0]}").click().run()
    with sessions() as session:
        assert session.get(Workflow, ids[0]).note == "перезвонить <b>завтра</b>"
    assert "перезвонить &lt;b&gt;завтра&lt;/b&gt;" in shown_text(app)


def test_note_is_saved_when_its_box_is_applied_without_the_button(dashboard_db, with_users):
    # Ctrl+Enter in the box, or leaving it by closing the popover: the text must not be lost.
    sessions, ids = dashboard_db
    app = log_in(new_app(), "olga")
    note = next(area for area in app.text_area if area.key.startswith(f"note-{ids[0]}-"))
    note.input("клиент ждёт звонка").run()
    with sessions() as session:
        assert session.get(Workflow, ids[0]).note == "клиент ждёт звонка"


def test_sentiment_correction_is_stored_as_a_staff_override(dashboard_db, with_users):
    sessions, ids = dashboard_db
    app = log_in(new_app(), "olga")
    app.selectbox(key=f"sentiment-{ids[0]}-negative").select("neutral").run()
    with sessions() as session:
        sentiment = session.get(Sentiment, ids[0])
        assert (sentiment.label, sentiment.override_label, sentiment.override_by) == (
            "negative",
            "neutral",
            "olga",
        )
    assert "исправлено, модель: 🔴 негатив" in shown_text(app)


def test_bulk_status_applies_to_every_ticked_row(dashboard_db, with_users):
    sessions, ids = dashboard_db
    app = log_in(new_app(), "olga")
    app.checkbox(key=f"pick-{ids[0]}").check()
    app.checkbox(key=f"pick-{ids[1]}").check().run()
    assert "Выбрано упоминаний: 2" in shown_text(app)
    app.selectbox(key="bulk-status").select("resolved")
    app.button(key="bulk-apply-status").click().run()
    assert not app.exception
    with sessions() as session:
        assert {session.get(Workflow, i).status for i in ids[:2]} == {"resolved"}
    # Resolved mentions leave the default view (new and in progress).
    assert "свежий хлеб" not in shown_text(app)


def test_bulk_take_and_replied_apply_to_every_ticked_row(dashboard_db, with_users):
    sessions, ids = dashboard_db
    app = log_in(new_app(), "olga")
    app.checkbox(key=f"pick-{ids[0]}").check()
    app.checkbox(key=f"pick-{ids[1]}").check().run()
    app.button(key="bulk-take").click().run()
    app.checkbox(key=f"pick-{ids[0]}").check()
    app.checkbox(key=f"pick-{ids[1]}").check().run()
    app.button(key="bulk-replied").click().run()
    with sessions() as session:
        rows = [session.get(Workflow, i) for i in ids[:2]]
        assert [(w.assignee, w.first_response_at is not None) for w in rows] == [("olga", True)] * 2


def _two_pages(dashboard_db, tmp_path, label: str = "negative") -> None:
    """Five mentions a page, and six of ours older than the seeded ones: eight in two pages."""
    sessions, _ = dashboard_db
    config = tmp_path / "spiders.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "dashboard:\n  page_size: 5\n", encoding="utf-8")
    older = [
        Post(f"ВкусМаркет старый пост {n}", "ВкусМаркет", label, "rss", datetime(2026, 11, 1, n, tzinfo=UTC))
        for n in range(6)
    ]
    with sessions.begin() as session:
        seed(session, older)


def test_older_and_newer_buttons_page_through_the_inbox(dashboard_db, with_users, tmp_path):
    _two_pages(dashboard_db, tmp_path)
    app = log_in(new_app(), "olga")
    assert app.button(key="inbox-newer").disabled and "под фильтры подходит 8" in shown_text(app)
    app.button(key="inbox-older").click().run()
    shown = shown_text(app)
    assert "страница 2" in shown and "старый пост 0" in shown and "свежий хлеб" not in shown
    assert app.button(key="inbox-older").disabled
    app.button(key="inbox-newer").click().run()
    assert "страница 1" in shown_text(app) and "свежий хлеб" in shown_text(app)


def test_changing_a_filter_goes_back_to_the_newest_page(dashboard_db, with_users, tmp_path):
    _two_pages(dashboard_db, tmp_path, "positive")
    app = log_in(new_app(), "olga")
    app.button(key="inbox-older").click().run()
    app.multiselect(key="f_sentiments").select("positive").run()
    shown = shown_text(app)
    assert "страница 1" in shown and "свежий хлеб" in shown and "под фильтры подходит 7" in shown


def test_summary_counts_brands(dashboard_db, with_users):
    app = log_in(new_app(), "olga")
    app.segmented_control(key="page").set_value("summary").run()
    table = app.dataframe[0].value
    assert set(table["бренд"]) == {"ВкусМаркет", "Магнит"}


def test_apostrophes_and_markdown_in_posts_show_as_typed():
    assert safe_text("It's <b>5*3</b> & #1") == "It's &lt;b&gt;5\\*3&lt;/b&gt; &amp; \\#1"


def test_link_to_the_original_cannot_break_out_of_markdown():
    link = safe_link("https://x.ru/a)![](https://attacker/pixel.png")
    assert link.startswith("[Открыть оригинал](https://x.ru/a%29") and "%28https" in link
    assert link.count(")") == 1 and link.endswith(")")
    assert safe_link("javascript:alert(1)") == ""
