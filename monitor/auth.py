"""Dashboard users: who may log in, with which role, and the checks that keep the inbox read-only
for viewers. No Streamlit here: the CLI writes users, the dashboard reads them, tests use both.

A user is one line `name:role:hash`, in the file named by BRANDPULSE_USERS_FILE (or the config's
`dashboard.users_file`) and/or in BRANDPULSE_USERS (lines or spaces between entries). The hash is
scrypt (a salted, memory-hard KDF) with its parameters in the string, so they can be raised later
without breaking old entries: `scrypt$<log2 n>$<r>$<p>$<salt b64>$<key b64>`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from monitor.errors import ConfigError, PermissionDenied

Role = Literal["staff", "viewer"]
ROLES: tuple[Role, ...] = get_args(Role)
USERS_ENV = "BRANDPULSE_USERS"
USERS_FILE_ENV = "BRANDPULSE_USERS_FILE"

# n = 2**15, r = 8: 32 MiB and ~0.1 s per check, the cost OWASP suggests for scrypt.
SCRYPT_LOG2_N = 15
SCRYPT_R = 8
SCRYPT_P = 1
_NAME = re.compile(r"^[\w.@\-]{1,100}$")


@dataclass(frozen=True)
class Actor:
    """Whoever asks for an inbox action: a logged-in user, or the local demo user."""

    name: str
    role: Role

    @property
    def can_act(self) -> bool:
        return self.role == "staff"


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    password_hash: str = ""

    def line(self) -> str:
        return f"{self.name}:{self.role}:{self.password_hash}"


def require_staff(actor: Actor) -> None:
    """Refuse a change to a viewer (marketing): checked in every write, whatever the UI shows."""
    if not actor.can_act:
        raise PermissionDenied(f"{actor.name}: the {actor.role} role is read-only; ask a staff user")


def hash_password(password: str, log2_n: int = SCRYPT_LOG2_N) -> str:
    if not password:
        raise ValueError("empty password")
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, log2_n, SCRYPT_R, SCRYPT_P)
    return f"scrypt${log2_n}${SCRYPT_R}${SCRYPT_P}${b64url(salt)}${b64url(key)}"


def verify_password(password: str, password_hash: str) -> bool:
    """True when the password matches; a malformed hash never matches (and never raises)."""
    parts = password_hash.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        log2_n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, expected = unb64url(parts[4]), unb64url(parts[5])
    except ValueError:
        return False
    if not (10 <= log2_n <= 20 and 1 <= r <= 32 and 1 <= p <= 16) or not expected:
        return False
    return hmac.compare_digest(_scrypt(password, salt, log2_n, r, p, len(expected)), expected)


def _scrypt(password: str, salt: bytes, log2_n: int, r: int, p: int, length: int = 32) -> bytes:
    n = 1 << log2_n
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r + (1 << 20), dklen=length
    )


def b64url(data: bytes) -> str:
    """URL-safe base64 without padding (scrypt hashes here, login cookies in monitor/login_cookie.py)."""
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError(str(exc)) from exc


def parse_users(text: str, where: str) -> dict[str, User]:
    """Entries `name:role:hash`, one per line or separated by spaces; `#` starts a comment."""
    users: dict[str, User] = {}
    for number, raw_line in enumerate(text.splitlines(), start=1):
        for entry in raw_line.split("#", 1)[0].split():
            name, role, password_hash = (entry.split(":", 2) + ["", ""])[:3]
            place = f"{where}:{number}"
            if not _NAME.match(name):
                raise ConfigError(f"{place}: bad user name {name!r}; letters, digits, . _ - @ only")
            if role not in ROLES:
                raise ConfigError(f"{place}: user {name!r} has role {role!r}; expected staff or viewer")
            if not password_hash.startswith("scrypt$"):
                raise ConfigError(
                    f"{place}: user {name!r} has no scrypt hash; make the line with `brandpulse user add`"
                )
            if name in users:
                raise ConfigError(f"{place}: user {name!r} is defined twice")
            users[name] = User(name, role, password_hash)
    return users


def users_file(configured: str | None) -> Path | None:
    """The users file in force: BRANDPULSE_USERS_FILE wins over the config's dashboard.users_file."""
    path = os.environ.get(USERS_FILE_ENV, "").strip() or configured
    return Path(path) if path else None


def load_users(configured_file: str | None = None) -> dict[str, User]:
    """Every configured user: the users file plus BRANDPULSE_USERS; a name in both is an error."""
    path = users_file(configured_file)
    users = read_users_file(path) if path is not None else {}
    for name, user in parse_users(os.environ.get(USERS_ENV, ""), USERS_ENV).items():
        if name in users:
            raise ConfigError(f"{USERS_ENV}: user {name!r} is also in {path}")
        users[name] = user
    return users


def read_users_file(path: Path) -> dict[str, User]:
    """The users of one file; a missing or unreadable file is a one-line ConfigError."""
    try:
        return parse_users(path.read_text(encoding="utf-8"), str(path))
    except FileNotFoundError:
        raise ConfigError(f"{path}: users file not found (create it with `brandpulse user add`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the users file: {exc}") from exc


def check_user_name(name: str) -> None:
    if not _NAME.match(name):
        raise ConfigError(f"bad user name {name!r}; letters, digits, . _ - @ only")


def add_user(path: Path, user: User, replace: bool = False) -> None:
    """Append the user to the users file (created readable by its owner only)."""
    check_user_name(user.name)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    existing = parse_users(text, str(path))
    if user.name in existing and not replace:
        raise ConfigError(f"{path}: user {user.name!r} exists; pass --replace to set a new password or role")
    if user.name in existing:
        text = "".join(_without_entry(line, user.name) for line in text.splitlines(keepends=True))
    if text and not text.endswith("\n"):
        text += "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text + user.line() + "\n")


def _without_entry(line: str, name: str) -> str:
    """The line minus the user's entry; other entries and the comment stay (a line may hold several)."""
    body, hash_mark, comment = line.rstrip("\n").partition("#")
    entries = body.split()
    kept = [entry for entry in entries if entry.split(":", 1)[0] != name]
    if len(kept) == len(entries):
        return line
    if not kept and not hash_mark:
        return ""
    return " ".join(kept) + (f" #{comment}" if hash_mark else "") + "\n"


@functools.cache
def _dummy_hash() -> str:
    # Checked against when the name is unknown, so a wrong name costs as long as a wrong password.
    return hash_password(secrets.token_urlsafe(16))


class LoginThrottle:
    """Slows guessing: after `max_failures` wrong passwords for a name within `window` seconds,
    that name is locked for `lockout` seconds. Shared by every browser session of one server."""

    def __init__(
        self,
        max_failures: int = 5,
        window: float = 900,
        lockout: float = 300,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.max_failures, self.window, self.lockout, self._clock = max_failures, window, lockout, clock
        self._failures: dict[str, list[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def seconds_locked(self, name: str) -> int:
        with self._lock:
            left = self._locked_until.get(name.casefold(), 0) - self._clock()
        return max(0, int(left + 0.999))

    def failed(self, name: str) -> None:
        key, now = name.casefold(), self._clock()
        with self._lock:
            recent = [t for t in self._failures.get(key, []) if now - t < self.window] + [now]
            if len(recent) >= self.max_failures:
                self._locked_until[key] = now + self.lockout
                recent = []
            self._failures[key] = recent

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name.casefold(), None)


def authenticate(users: dict[str, User], name: str, password: str, throttle: LoginThrottle) -> Actor | None:
    """The actor for a right name and password; None otherwise (and the failure is counted).
    A locked name is refused without checking the password."""
    name = name.strip()
    if throttle.seconds_locked(name):
        return None
    user = users.get(name)
    ok = verify_password(password, user.password_hash if user else _dummy_hash())
    if user is None or not ok:
        throttle.failed(name)
        return None
    throttle.succeeded(name)
    return Actor(user.name, user.role)


def is_local_address(address: str | None) -> bool:
    """127.0.0.0/8, ::1 or localhost: reachable from this machine only."""
    if not address:
        return False  # Streamlit's default listens on every interface
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
