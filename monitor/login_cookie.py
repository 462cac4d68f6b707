"""Signed login cookies, so a reload of the dashboard keeps its user logged in. No Streamlit here.

A token is `<name b64>.<expires unix>.<mac b64>`, the mac an HMAC-SHA256 over the name, the role,
the expiry and the user's password hash. So a token dies when it expires, when the user is removed,
given another role or a new password (`brandpulse user add --replace`), when it is revoked by a
logout (remembered by this server process only), or when the secret changes. The secret comes from
BRANDPULSE_SESSION_SECRET; without it each server process draws its own, and a restart logs
everyone out.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import threading
import time
from collections.abc import Callable

from monitor.auth import Actor, User, b64url, unb64url
from monitor.errors import ConfigError

COOKIE_NAME = "brandpulse_session"
SECRET_ENV = "BRANDPULSE_SESSION_SECRET"
MIN_SECRET_LENGTH = 32
# Only these characters ever reach the browser: the token is safe inside a cookie and a script.
# A name of 100 Cyrillic letters is 200 bytes, 267 characters of base64.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,300}\.[1-9][0-9]{0,11}\.[A-Za-z0-9_-]{43}$")


def session_secret() -> bytes:
    """BRANDPULSE_SESSION_SECRET (shared by every dashboard process behind one address), else a
    random secret of this process."""
    configured = os.environ.get(SECRET_ENV, "").strip()
    if not configured:
        return secrets.token_bytes(32)
    if len(configured) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"{SECRET_ENV} is {len(configured)} characters; use at least {MIN_SECRET_LENGTH} "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    return configured.encode("utf-8")


class LoginCookies:
    """Issues and checks login tokens; remembers the ones revoked by a logout until they expire."""

    def __init__(self, secret: bytes, lifetime_seconds: int, clock: Callable[[], float] = time.time):
        self._secret, self.lifetime_seconds, self._clock = secret, lifetime_seconds, clock
        self._revoked: dict[str, int] = {}
        self._lock = threading.Lock()

    def issue(self, user: User) -> str:
        expires = int(self._clock()) + self.lifetime_seconds
        name = b64url(user.name.encode("utf-8"))
        return f"{name}.{expires}.{b64url(self._mac(user, expires))}"

    def actor_for(self, token: str | None, users: dict[str, User]) -> Actor | None:
        """The actor a token stands for; None for a missing, malformed, forged, expired or revoked
        token, or one whose user has since been removed, re-roled or given a new password."""
        if not token or not _TOKEN.match(token):
            return None
        encoded_name, expires_text, encoded_mac = token.split(".")
        expires, now = int(expires_text), self._clock()
        # A token longer-lived than the lifetime now configured was issued under a longer one.
        if not now < expires <= now + self.lifetime_seconds or self._is_revoked(encoded_mac):
            return None
        try:
            name = unb64url(encoded_name).decode("utf-8")
        except ValueError:  # UnicodeDecodeError is one
            return None
        user = users.get(name)
        # Only the one spelling we issue: base64 has spare bits, and another spelling of the same
        # name would slip past the revoked list.
        if user is None or b64url(name.encode("utf-8")) != encoded_name:
            return None
        if not hmac.compare_digest(b64url(self._mac(user, expires)), encoded_mac):
            return None
        return Actor(user.name, user.role)

    def seconds_left(self, token: str) -> int:
        """How long the token has before it expires (0 for a malformed one)."""
        if not _TOKEN.match(token):
            return 0
        return max(0, int(token.split(".")[1]) - int(self._clock()))

    def revoke(self, token: str) -> None:
        """Refuse the token from now on (a logout); forgotten once it would have expired anyway.
        Kept by its signature, the one part that has a single valid spelling."""
        if not _TOKEN.match(token):
            return
        _, expires, mac = token.split(".")
        now = self._clock()
        with self._lock:
            self._revoked = {m: e for m, e in self._revoked.items() if e > now}
            self._revoked[mac] = int(expires)

    def _is_revoked(self, mac: str) -> bool:
        with self._lock:
            return mac in self._revoked

    def _mac(self, user: User, expires: int) -> bytes:
        message = "\n".join((user.name, user.role, str(expires), user.password_hash))
        return hmac.new(self._secret, message.encode("utf-8"), hashlib.sha256).digest()


def set_cookie_script(token: str, max_age_seconds: int) -> str:
    """JavaScript that stores the token in the browser (Secure when the page came over HTTPS)."""
    if not _TOKEN.match(token):
        raise ValueError("not a login token")
    return _cookie_script(f"{COOKIE_NAME}={token}; Max-Age={int(max_age_seconds)}")


def clear_cookie_script() -> str:
    return _cookie_script(f"{COOKIE_NAME}=; Max-Age=0")


def _cookie_script(assignment: str) -> str:
    # SameSite=Strict: another site can never make the browser send it along.
    return (
        f'<script>document.cookie = "{assignment}; Path=/; SameSite=Strict" + '
        '(location.protocol === "https:" ? "; Secure" : "");</script>'
    )
