"""Login tokens that let a dashboard reload keep its user: what they accept and what they refuse."""

from __future__ import annotations

import pytest

from monitor.auth import Actor, User, hash_password
from monitor.errors import ConfigError
from monitor.login_cookie import (
    COOKIE_NAME,
    SECRET_ENV,
    LoginCookies,
    clear_cookie_script,
    session_secret,
    set_cookie_script,
)

SECRET = b"s" * 32
HOUR = 3600


class Clock:
    def __init__(self, now: float = 1_700_000_000):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def users() -> dict[str, User]:
    # The cheapest scrypt cost the verifier accepts: these tests never check a password.
    return {
        "olga": User("olga", "staff", hash_password("olga-secret-1", log2_n=10)),
        "masha": User("masha", "viewer", hash_password("masha-secret-1", log2_n=10)),
    }


def test_a_fresh_token_stands_for_its_user_and_role(users):
    cookies = LoginCookies(SECRET, 12 * HOUR)
    assert cookies.actor_for(cookies.issue(users["olga"]), users) == Actor("olga", "staff")
    assert cookies.actor_for(cookies.issue(users["masha"]), users) == Actor("masha", "viewer")


def test_a_token_is_refused_once_it_expires(users):
    clock = Clock()
    cookies = LoginCookies(SECRET, 12 * HOUR, clock=clock)
    token = cookies.issue(users["olga"])
    clock.now += 12 * HOUR - 1
    assert cookies.actor_for(token, users) == Actor("olga", "staff")
    clock.now += 1
    assert cookies.actor_for(token, users) is None


def test_a_later_expiry_written_into_the_token_breaks_its_signature(users):
    cookies = LoginCookies(SECRET, HOUR)
    name, expires, mac = cookies.issue(users["olga"]).split(".")
    assert cookies.actor_for(f"{name}.{int(expires) + 10 * HOUR}.{mac}", users) is None


def test_another_users_name_in_the_token_breaks_its_signature(users):
    cookies = LoginCookies(SECRET, HOUR)
    masha_name = cookies.issue(users["masha"]).split(".")[0]
    _, expires, mac = cookies.issue(users["olga"]).split(".")
    assert cookies.actor_for(f"{masha_name}.{expires}.{mac}", users) is None


def test_a_token_signed_with_another_secret_is_refused(users):
    token = LoginCookies(b"t" * 32, HOUR).issue(users["olga"])
    assert LoginCookies(SECRET, HOUR).actor_for(token, users) is None


def test_a_new_password_or_role_or_removal_ends_every_login_of_that_user(users):
    cookies = LoginCookies(SECRET, HOUR)
    token = cookies.issue(users["olga"])
    new_password = {**users, "olga": User("olga", "staff", hash_password("another-one", log2_n=10))}
    new_role = {**users, "olga": User("olga", "viewer", users["olga"].password_hash)}
    removed = {"masha": users["masha"]}
    assert cookies.actor_for(token, new_password) is None
    assert cookies.actor_for(token, new_role) is None
    assert cookies.actor_for(token, removed) is None


def test_a_revoked_token_is_refused_and_others_of_the_user_are_not(users):
    clock = Clock()
    cookies = LoginCookies(SECRET, HOUR, clock=clock)
    logged_out = cookies.issue(users["olga"])
    clock.now += 1  # another login a second later: another token
    other_tab = cookies.issue(users["olga"])
    cookies.revoke(logged_out)
    assert cookies.actor_for(logged_out, users) is None
    assert cookies.actor_for(other_tab, users) == Actor("olga", "staff")


@pytest.mark.parametrize(
    "token",
    [None, "", "garbage", "a.b.c", "b2xnYQ.1.x", "b2xnYQ.99999999999.", "../../etc/passwd"]
    + ["ö" * 50, "x" * 10_000],
)
def test_malformed_tokens_are_refused_without_raising(users, token):
    assert LoginCookies(SECRET, HOUR).actor_for(token, users) is None


def test_the_secret_comes_from_the_environment_and_must_be_long(monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "k" * 40)
    assert session_secret() == b"k" * 40
    monkeypatch.setenv(SECRET_ENV, "short")
    with pytest.raises(ConfigError, match=f"{SECRET_ENV} is 5 characters"):
        session_secret()


def test_without_a_configured_secret_each_process_draws_its_own(monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    first, second = session_secret(), session_secret()
    assert len(first) == 32 and first != second


def test_the_cookie_scripts_set_and_clear_only_our_cookie(users):
    token = LoginCookies(SECRET, HOUR).issue(users["olga"])
    script = set_cookie_script(token, HOUR)
    assert f"{COOKIE_NAME}={token}; Max-Age=3600; Path=/; SameSite=Strict" in script
    assert f"{COOKIE_NAME}=; Max-Age=0; Path=/" in clear_cookie_script()
    # Nothing but a token we issued is ever written into a script.
    with pytest.raises(ValueError):
        set_cookie_script('x"; alert(1); "', HOUR)


def test_a_revoked_token_respelled_is_still_refused(users):
    cookies = LoginCookies(SECRET, HOUR)
    token = cookies.issue(users["olga"])
    cookies.revoke(token)
    name, expires, mac = token.split(".")
    # Another spelling of the same expiry, and of the same name (base64's spare bits).
    assert cookies.actor_for(f"{name}.0{expires}.{mac}", users) is None
    respelled = name[:-1] + chr(ord(name[-1]) + 1)
    assert cookies.actor_for(f"{respelled}.{expires}.{mac}", users) is None


def test_a_long_cyrillic_name_gets_a_working_cookie():
    name = "ё" * 100
    user = User(name, "staff", hash_password("x-secret-1", log2_n=10))
    cookies = LoginCookies(SECRET, HOUR)
    token = cookies.issue(user)
    assert cookies.actor_for(token, {name: user}) == Actor(name, "staff")
    assert COOKIE_NAME in set_cookie_script(token, HOUR)


def test_a_shorter_lifetime_configured_later_ends_longer_tokens(users):
    token = LoginCookies(SECRET, 24 * HOUR).issue(users["olga"])
    assert LoginCookies(SECRET, 12 * HOUR).actor_for(token, users) is None
    assert LoginCookies(SECRET, 24 * HOUR).actor_for(token, users) == Actor("olga", "staff")


def test_seconds_left_counts_down_to_the_expiry(users):
    clock = Clock()
    cookies = LoginCookies(SECRET, HOUR, clock=clock)
    token = cookies.issue(users["olga"])
    clock.now += 600
    assert cookies.seconds_left(token) == HOUR - 600
    clock.now += HOUR
    assert cookies.seconds_left(token) == 0
    assert cookies.seconds_left("garbage") == 0
