"""The dashboard's "Тренды" and "Время ответа" pages, run headless with AppTest on a seeded SQLite
database, with the clock fixed at Sunday 2026-11-22 15:00 Moscow time (2026-W47)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from monitor.db.session import open_database, session_factory
from tests.support.seed import Post, seed
from tests.test_response_times import RESPONSE_POSTS
from tests.test_trends import TREND_POSTS

DASHBOARD = str(Path(__file__).resolve().parents[1] / "dashboard.py")


@pytest.fixture(scope="module")
def database_file(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('dash') / 'analytics.db'}"
    engine = open_database(url)
    with session_factory(engine).begin() as session:
        responses = [replace(p, group=p.group + 100) if p.group else p for p in RESPONSE_POSTS]
        seed(session, [*TREND_POSTS, *responses])
    engine.dispose()
    return url


@pytest.fixture
def database(database_file, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_file)
    monkeypatch.setenv("BRANDPULSE_TIMEZONE", "Europe/Moscow")
    return database_file


def trends_script() -> None:
    import os
    from datetime import UTC, datetime

    from monitor.db.session import open_database, session_factory
    from monitor.ui import trends_page

    sessions = session_factory(open_database(os.environ["DATABASE_URL"]))
    trends_page.render(sessions, now=datetime(2026, 11, 22, 12, tzinfo=UTC))


def trends_script_two_weeks_later() -> None:
    import os
    from datetime import UTC, datetime

    from monitor.db.session import open_database, session_factory
    from monitor.ui import trends_page

    sessions = session_factory(open_database(os.environ["DATABASE_URL"]))
    trends_page.render(sessions, now=datetime(2026, 12, 2, 12, tzinfo=UTC))  # 2026-W49, nothing in it


def response_script() -> None:
    import os
    from datetime import UTC, datetime

    from monitor.db.session import open_database, session_factory
    from monitor.ui import response_page

    sessions = session_factory(open_database(os.environ["DATABASE_URL"]))
    response_page.render(sessions, now=datetime(2026, 11, 22, 12, tzinfo=UTC))


def table(app: AppTest, first_column: str):
    return next(frame.value for frame in app.dataframe if frame.value.columns[0] == first_column)


def test_trends_page_shows_the_current_week(database):
    app = AppTest.from_function(trends_script, default_timeout=60).run()
    assert not app.exception
    assert app.selectbox[0].value.number == 47
    change = table(app, "бренд")
    ours = change[change["бренд"] == "ВкусМаркет"].iloc[0]
    assert ours["эта неделя"] > ours["прошлая неделя"]
    words = table(app, "слово")
    assert "обсчитать" in set(words["слово"])
    assert len(app.get("vega_lite_chart")) == 3  # volume, sentiment, share of voice


def test_trends_page_opens_on_the_newest_week_with_mentions_not_an_empty_one(database):
    app = AppTest.from_function(trends_script_two_weeks_later, default_timeout=60).run()
    assert not app.exception
    assert app.selectbox[0].value.number == 47
    # Weeks read as dates.
    assert app.selectbox[0].format_func(app.selectbox[0].value) == "16.11–22.11.2026 (неделя 47)"
    assert [label for label in app.selectbox[0].options][:1] == ["30.11–06.12.2026 (неделя 49)"]


def test_trends_page_follows_the_chosen_week(database):
    app = AppTest.from_function(trends_script, default_timeout=60).run()
    app.selectbox[0].select_index(1).run()  # one week back: 2026-W46
    assert not app.exception
    sources = table(app, "источник")
    assert dict(zip(sources["источник"], sources["упоминаний"], strict=True)) == {"otzovik": 2, "vk": 1}


def test_response_page_highlights_unanswered_negative_first(database):
    app = AppTest.from_function(response_script, default_timeout=60).run()
    assert not app.exception
    assert app.error[0].value.startswith("Ждут ответа:")
    shown = " ".join(m.value for m in app.markdown)
    assert "F: &lt;b&gt;никто не ответил&lt;/b&gt;" in shown and "<b>никто" not in shown
    assert app.metric[0].value == "2,0 ч"  # median to first response in 2026-W47, decimal comma


def test_response_page_without_negative_mentions_does_not_call_them_all_answered(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'calm.db'}"
    engine = open_database(url)
    with session_factory(engine).begin() as session:
        seed(session, [Post("ВкусМаркет молодцы", "ВкусМаркет", "positive")])
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    app = AppTest.from_function(response_script, default_timeout=60).run()
    assert not app.exception
    assert "Негативных упоминаний за 30 дней нет." in [box.value for box in app.info]
    assert not app.success


def test_response_page_tables_per_week_source_and_manager(database):
    app = AppTest.from_function(response_script, default_timeout=60).run()
    by_manager = table(app, "ответственный").set_index("ответственный")
    assert by_manager.loc["olga", "до ответа от публикации, медиана, ч"] == 2
    assert by_manager.loc["ivan", "упоминаний"] == 3
    weeks = table(app, "неделя")
    assert list(weeks["неделя"])[-2:] == ["2026-W46", "2026-W47"]


@pytest.fixture
def local_only():
    """Listening on 127.0.0.1 with no users configured: the dashboard's local demo mode."""
    from streamlit import config

    before = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    yield
    config.set_option("server.address", before)


@pytest.mark.parametrize(("page", "control"), [("trends", "Неделя"), ("response", "Период, недель")])
def test_dashboard_opens_the_new_pages(database, local_only, page, control):
    app = AppTest.from_file(DASHBOARD, default_timeout=60)
    app.session_state["page"] = page
    app.run()
    assert not app.exception
    assert control in [box.label for box in app.selectbox]


def test_inbox_offers_its_filtered_view_as_csv_and_xlsx(database, local_only):
    app = AppTest.from_file(DASHBOARD, default_timeout=60).run()
    assert not app.exception
    keys = {button.key for button in app.get("download_button")}
    assert {"inbox-csv", "inbox-xlsx"} <= keys
