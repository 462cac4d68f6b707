"""The login form, logout, the login cookie that survives reloads, and the local demo mode when no
users are configured."""

from __future__ import annotations

import streamlit as st

from monitor.auth import Actor, LoginThrottle, User, authenticate, is_local_address
from monitor.login_cookie import (
    COOKIE_NAME,
    LoginCookies,
    clear_cookie_script,
    session_secret,
    set_cookie_script,
)
from monitor.ui.i18n import t

DEMO_ACTOR = Actor("demo", "staff")
# Session-state keys: the login token this tab holds; set after a logout in this tab.
_TOKEN_KEY = "login_token"
_LOGGED_OUT_KEY = "logged_out"


@st.cache_resource
def _throttle() -> LoginThrottle:
    # One per server process: wrong passwords count across every browser session.
    return LoginThrottle()


@st.cache_resource
def _secret() -> bytes:
    return session_secret()


@st.cache_resource
def _cookies(lifetime_seconds: int) -> LoginCookies:
    # One per server process, so a logout's revocation is seen by every browser session.
    return LoginCookies(_secret(), lifetime_seconds)


def logged_in_actor(users: dict[str, User], session_hours: int = 12) -> Actor | None:
    """The actor for this browser session, or None after showing the login form (or a refusal).

    With no users configured the dashboard runs as a labelled demo, only when it listens on this
    machine alone; on any other address it refuses to show anything."""
    if not users:
        if is_local_address(st.get_option("server.address")):
            st.warning(t("auth.demo_mode"))
            return DEMO_ACTOR
        st.error(t("auth.no_users"))
        return None
    cookies = _cookies(session_hours * 3600)
    actor = _session_actor(users, cookies, session_hours)
    _keep_browser_cookie(cookies)
    if actor is None:
        _login_form(users, cookies)
    return actor


def _session_actor(users: dict[str, User], cookies: LoginCookies, session_hours: int) -> Actor | None:
    """Who this browser session is logged in as: from its state, else from the login cookie."""
    actor: Actor | None = st.session_state.get("actor")
    token = st.session_state.get(_TOKEN_KEY)
    if actor is not None:
        user = users.get(actor.name)
        # A user removed from the file, given another role or a new password, or logged out in
        # another tab (the token revoked), is logged out here on the next click.
        still_valid = token is None or cookies.actor_for(token, users) == actor
        if user is not None and user.role == actor.role and still_valid:
            return actor
        del st.session_state["actor"]
        st.session_state.pop(_TOKEN_KEY, None)
    elif session_hours and not st.session_state.get(_LOGGED_OUT_KEY):
        # A reload: the browser sent the cookie of an earlier login with the page request.
        token = _browser_cookie()
        actor = cookies.actor_for(token, users)
        if actor is not None:
            st.session_state["actor"], st.session_state[_TOKEN_KEY] = actor, token
            return actor
    return None


def _keep_browser_cookie(cookies: LoginCookies) -> None:
    """Set (logged in) or clear (logged out here) the browser's login cookie. On every run, not
    once: a run cut short by a rerun may never reach the browser, and repeating it is harmless."""
    token = st.session_state.get(_TOKEN_KEY)
    if token and st.session_state.get("actor") is not None:
        seconds_left = cookies.seconds_left(token)
        if seconds_left > 0:
            st.html(set_cookie_script(token, seconds_left), unsafe_allow_javascript=True)
    elif st.session_state.get(_LOGGED_OUT_KEY):
        st.html(clear_cookie_script(), unsafe_allow_javascript=True)


def _browser_cookie() -> str | None:
    value = st.context.cookies.get(COOKIE_NAME)
    # Streamlit's test harness has no browser behind it: no cookie there is a string.
    return value if isinstance(value, str) else None


def _login_form(users: dict[str, User], cookies: LoginCookies) -> None:
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
    st.session_state.pop(_LOGGED_OUT_KEY, None)
    if cookies.lifetime_seconds:
        token = cookies.issue(users[actor.name])
        st.session_state[_TOKEN_KEY] = token
    st.rerun()


def account_box(actor: Actor, session_hours: int = 12) -> None:
    """Who is logged in, with which role, and the logout button (sidebar)."""
    role = t(f"role.{actor.role}")
    st.sidebar.caption(t("auth.signed_in", name=actor.name, role=role))
    if actor != DEMO_ACTOR and st.sidebar.button(t("auth.logout"), key="logout"):
        token = st.session_state.pop(_TOKEN_KEY, None)
        if token:
            # Revoked here too: a copy of the cookie left in another tab or device is refused.
            _cookies(session_hours * 3600).revoke(token)
        st.session_state.pop("actor", None)
        # This tab's page request still carries the old cookie: never read it again.
        st.session_state[_LOGGED_OUT_KEY] = True
        st.rerun()
