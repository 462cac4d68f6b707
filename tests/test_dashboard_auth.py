"""Who gets into the dashboard: the staff login, the read-only viewer, logout, lockout, demo mode."""

from __future__ import annotations

from monitor.auth import Actor
from tests.support.dashboard import log_in, new_app, shown_text


def test_with_users_the_login_form_comes_first_and_no_data_is_shown(dashboard_db, with_users):
    app = new_app().run()
    assert not app.exception
    assert [field.label for field in app.text_input] == ["Имя пользователя", "Пароль"]
    assert "обсчитал" not in shown_text(app) and not app.multiselect


def test_wrong_password_is_refused(dashboard_db, with_users):
    app = log_in(new_app(), "olga", "not-the-password")
    assert [e.value for e in app.error] == ["Неверное имя или пароль."]
    assert "обсчитал" not in shown_text(app)


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(dashboard_db, with_users):
    app = log_in(new_app(), "mallory", "olga-secret-1")
    assert [e.value for e in app.error] == ["Неверное имя или пароль."]


def test_staff_login_shows_the_inbox_with_actions(dashboard_db, with_users):
    _, ids = dashboard_db
    app = log_in(new_app(), "olga")
    assert not app.error
    assert "Вы вошли как **olga** (сотрудник)" in [c.value for c in app.sidebar.caption]
    assert "обсчитал" in shown_text(app)
    assert app.button(key=f"take-{ids[0]}") and app.selectbox(key=f"status-{ids[0]}-new")


def test_viewer_sees_the_inbox_without_any_action(dashboard_db, with_users):
    app = log_in(new_app(), "masha")
    assert "обсчитал" in shown_text(app)
    assert "новое" in shown_text(app)  # the status, as text
    keys = [w.key for w in [*app.selectbox, *app.button, *app.checkbox, *app.text_area]]
    actions = ("status-", "sentiment-", "take-", "replied-", "save-note-", "pick-", "bulk-")
    assert not [key for key in keys if key and key.startswith(actions)]


def test_logout_returns_to_the_login_form(dashboard_db, with_users):
    app = log_in(new_app(), "olga")
    app.button(key="logout").click().run()
    assert "обсчитал" not in shown_text(app)
    assert [field.label for field in app.text_input] == ["Имя пользователя", "Пароль"]


def test_five_wrong_passwords_lock_the_name_even_for_the_right_one(dashboard_db, with_users):
    app = new_app()
    for _ in range(5):
        log_in(app, "olga", "guess")
    log_in(app, "olga")
    assert "Слишком много неудачных попыток" in app.error[0].value
    assert "обсчитал" not in shown_text(app)


def test_a_user_removed_from_the_users_file_is_logged_out(dashboard_db, with_users):
    app = new_app()
    app.session_state["actor"] = Actor("ivan", "staff")  # logged in before ivan was removed
    app.run()
    assert "обсчитал" not in shown_text(app)
    assert [field.label for field in app.text_input] == ["Имя пользователя", "Пароль"]


def test_without_users_on_a_public_address_the_dashboard_refuses(dashboard_db, listening_on):
    listening_on("0.0.0.0")
    app = new_app().run()
    assert "Вход не настроен" in app.error[0].value
    assert "обсчитал" not in shown_text(app) and not app.text_input


def test_without_users_on_127_0_0_1_it_runs_as_a_labelled_demo(dashboard_db, listening_on):
    _, ids = dashboard_db
    listening_on("127.0.0.1")
    app = new_app().run()
    assert "Локальный демо-режим" in app.warning[0].value
    assert "обсчитал" in shown_text(app)
    app.button(key=f"take-{ids[0]}").click().run()
    assert "👤 demo" in shown_text(app)
