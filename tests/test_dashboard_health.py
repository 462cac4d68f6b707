"""The health page: failing and silent sources, the undelivered alerts, the model in use."""

from __future__ import annotations

from datetime import timedelta

from crawlers.base import Batch
from monitor import store
from monitor.clock import utcnow
from monitor.db.models import OutboxMessage
from tests.support.dashboard import log_in, new_app


def open_health(app):
    app.segmented_control(key="page").set_value("health").run()
    assert not app.exception
    return app


def test_health_flags_a_failing_source_with_its_last_error(dashboard_db, with_users):
    sessions, _ = dashboard_db
    with sessions.begin() as session:
        for _ in range(3):
            store.record_failure(session, "otzovik", "rss", "HTTP 503 from http://127.0.0.1:9/feed")
    app = open_health(log_in(new_app(), "masha"))
    sources = app.dataframe[0].value
    failing = sources[sources["источник"] == "otzovik"].iloc[0]
    assert failing["состояние"] == "🔴 ошибки" and failing["ошибок подряд"] == 3
    assert failing["текст ошибки"] == "HTTP 503 from http://127.0.0.1:9/feed"
    assert "otzovik" in app.error[0].value


def test_health_shows_a_blocked_source_apart_from_failing_ones(dashboard_db, with_users):
    sessions, _ = dashboard_db
    reason = "otzovik: blocked by the site's anti-bot check (Yandex SmartCaptcha, HTTP 200, «Вы не робот?»)"
    with sessions.begin() as session:
        store.record_failure(session, "otzovik", "site", reason, kind="blocked")
    app = open_health(log_in(new_app(), "masha"))
    sources = app.dataframe[0].value
    row = sources[sources["источник"] == "otzovik"].iloc[0]
    assert row["состояние"] == "⛔ заблокирован анти-бот проверкой сайта"
    assert row["текст ошибки"] == reason
    assert "otzovik" in app.error[0].value


def test_health_shows_the_alert_backlog_per_chat(dashboard_db, with_users):
    sessions, _ = dashboard_db
    with sessions.begin() as session:
        session.add(
            OutboxMessage(
                kind="negative",
                dedup_key="negative:1",
                chat_id="-1001",
                text="…",
                status="failed",
                last_error="Forbidden: bot was blocked by the user",
                next_attempt_at=utcnow() - timedelta(minutes=5),
            )
        )
    app = open_health(log_in(new_app(), "olga"))
    backlog = app.dataframe[1].value
    assert backlog.iloc[0].to_dict() | {"самое старое": None} == {
        "чат": "-1001",
        "ждут отправки": 0,
        "не доставлены": 1,
        "самое старое": None,
        "текст ошибки": "Forbidden: bot was blocked by the user",
    }


def test_health_names_the_configured_and_the_scoring_model(dashboard_db, with_users):
    app = open_health(log_in(new_app(), "olga"))
    assert "движок `e5`, модель встроенная" in " ".join(m.value for m in app.markdown)
    models = app.dataframe[-1].value
    assert list(models["модель"]) == ["test"] and list(models["оценено упоминаний"]) == [3]


def test_health_with_every_alert_delivered_says_so(dashboard_db, with_users):
    app = open_health(log_in(new_app(), "olga"))
    assert "Все оповещения доставлены." in [s.value for s in app.success]


def test_health_lists_the_sources_of_the_database_it_shows(dashboard_db, with_users, tmp_path, monkeypatch):
    sessions, _ = dashboard_db
    # The config at hand switches vk off and knows nothing of demo-vk: the database ran both.
    config = tmp_path / "other.yaml"
    config.write_text(
        "brands:\n  - name: ВкусМаркет\nsources:\n"
        '  - {name: vk, type: rss, urls: ["http://127.0.0.1:9/vk"], enabled: false}\n'
        '  - {name: lenta, type: rss, urls: ["http://127.0.0.1:9/lenta"]}\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("BRANDPULSE_CONFIG", str(config))
    with sessions.begin() as session:
        for name in ("vk", "demo-vk"):
            store.save_batch(session, name, "vk", Batch(items=[], cursor={}))
            store.note_run(session, name, "vk", 17, [])
    app = open_health(log_in(new_app(), "masha"))
    sources = app.dataframe[0].value.set_index("источник")
    assert sources.loc["vk", "состояние"] == "🟢 работает" and sources.loc["vk", "элементов за запуск"] == 17
    assert sources.loc["vk", "в настройках"] == "выключен"
    assert sources.loc["demo-vk", "состояние"] == "🟢 работает"
    assert sources.loc["demo-vk", "в настройках"] == "нет"
    # Configured here, never run against this database.
    assert sources.loc["lenta", "состояние"] == "⚪ ещё не запускался"
    assert not app.error


def test_health_counts_and_shows_what_matched_no_brand(dashboard_db, with_users):
    from monitor.db.models import Item
    from monitor.items import RawItem

    sessions, _ = dashboard_db
    with sessions.begin() as session:
        raw = RawItem("city-news", "k1", "https://news.example/k1", "В парке открыли новый каток")
        store.save_batch(session, "city-news", "rss", Batch([raw], {}))
        session.query(Item).filter(Item.external_id == "k1").update({"matched_at": utcnow()})
    app = open_health(log_in(new_app(), "olga"))
    sources = app.dataframe[0].value
    assert sources[sources["источник"] == "city-news"].iloc[0]["без бренда за 7 дн."] == 1
    shown = [frame.value for frame in app.dataframe if "текст" in frame.value.columns]
    assert shown and "В парке открыли новый каток" in list(shown[0]["текст"])
