"""The login form, logout, and the local demo mode when no users are configured."""

from __future__ import annotations

import streamlit as st

from monitor.auth import Actor, LoginThrottle, User, authenticate, is_local_address
from monitor.ui.i18n import t

DEMO_ACTOR = Actor("demo", "staff")


@st.cache_resource
def _throttle() -> LoginThrottle:
    # One per server process: wrong passwords count across every browser session.
    return LoginThrottle()


def logged_in_actor(users: dict[str, User]) -> Actor | None:
    """The actor for this browser session, or None after showing the login form (or a refusal).

    With no users configured the dashboard runs as a labelled demo, only when it listens on this
    machine alone; on any other address it refuses to show anything."""
    if not users:
        if is_local_address(st.get_option("server.address")):
            st.warning(t("auth.demo_mode"))
            return DEMO_ACTOR
        st.error(t("auth.no_users"))
        return None
    actor: Actor | None = st.session_state.get("actor")
    if actor is not None:
        user = users.get(actor.name)
        # A user removed from the file, or given another role, is logged out on the next click.
        if user is not None and user.role == actor.role:
            return actor
        del st.session_state["actor"]
    _login_form(users)
    return None


def _login_form(users: dict[str, User]) -> None:
    # Cleared in the browser on submit: a wrong password is not left in the field.
    with st.form("login", clear_on_submit=True):
        st.subheader(t("auth.title"))
        name = st.text_input(t("auth.name"), key="login_name")
        password = st.text_input(t("auth.password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("auth.submit"))
    if not submitted:
        return
    throttle = _throttle()
    locked = throttle.seconds_locked(name.strip())
    if locked:
        st.error(t("auth.locked", seconds=locked))
        return
    actor = authenticate(users, name, password, throttle)
    if actor is None:
        st.error(t("auth.wrong"))
        return
    st.session_state["actor"] = actor
    st.rerun()


def account_box(actor: Actor) -> None:
    """Who is logged in, with which role, and the logout button (sidebar)."""
    role = t(f"role.{actor.role}")
    st.sidebar.caption(t("auth.signed_in", name=actor.name, role=role))
    if actor != DEMO_ACTOR and st.sidebar.button(t("auth.logout"), key="logout"):
        st.session_state.pop("actor", None)
        st.rerun()
