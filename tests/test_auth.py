"""Dashboard users: scrypt hashes, the users file and BRANDPULSE_USERS, login throttling."""

from __future__ import annotations

import pytest

from monitor.auth import (
    Actor,
    LoginThrottle,
    User,
    add_user,
    authenticate,
    hash_password,
    is_local_address,
    load_users,
    parse_users,
    verify_password,
)
from monitor.errors import ConfigError

FAST = 10  # log2 n for tests: the format and the check are the same, only cheaper


def entry(name: str, role: str, password: str) -> str:
    return User(name, role, hash_password(password, log2_n=FAST)).line()  # type: ignore[arg-type]


def test_password_hash_verifies_and_is_salted():
    first, second = hash_password("correct horse", log2_n=FAST), hash_password("correct horse", log2_n=FAST)
    assert first != second and first.startswith("scrypt$10$8$1$")
    assert verify_password("correct horse", first) and verify_password("correct horse", second)
    assert not verify_password("correct hors", first)


def test_default_hash_cost_is_scrypt_n_2_15():
    assert hash_password("x").startswith("scrypt$15$8$1$")


@pytest.mark.parametrize(
    "broken",
    [
        "",
        "plain",
        "scrypt$10$8$1$abc",
        "scrypt$99$8$1$c2FsdA$a2V5",
        "scrypt$x$8$1$c2FsdA$a2V5",
        "md5$1$2$3$4$5",
    ],
)
def test_malformed_hash_never_matches(broken):
    assert not verify_password("anything", broken)


def test_users_parse_from_lines_or_spaces_with_comments():
    text = f"# staff\n{entry('olga', 'staff', 'pw1')}  {entry('masha', 'viewer', 'pw2')}\n"
    users = parse_users(text, "users.txt")
    assert {(u.name, u.role) for u in users.values()} == {("olga", "staff"), ("masha", "viewer")}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("olga:admin:scrypt$1", "role 'admin'"),
        ("olga:staff:secret", "no scrypt hash"),
        ("ol/ga:staff:scrypt$1", "bad user name"),
    ],
)
def test_bad_user_lines_are_refused_with_file_and_line(line, problem):
    with pytest.raises(ConfigError, match=rf"users.txt:2: .*{problem}"):
        parse_users("\n" + line, "users.txt")


def test_a_user_defined_twice_is_refused():
    with pytest.raises(ConfigError, match="defined twice"):
        parse_users(f"{entry('olga', 'staff', 'a')}\n{entry('olga', 'viewer', 'b')}", "users.txt")


def test_users_come_from_the_file_and_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "users.txt"
    path.write_text(entry("olga", "staff", "pw") + "\n", encoding="utf-8")
    monkeypatch.setenv("BRANDPULSE_USERS", entry("masha", "viewer", "pw"))
    assert set(load_users(str(path))) == {"olga", "masha"}
    monkeypatch.setenv("BRANDPULSE_USERS_FILE", str(tmp_path / "other.txt"))
    with pytest.raises(ConfigError, match="other.txt: users file not found"):
        load_users(str(path))


def test_no_users_configured_is_an_empty_dict(monkeypatch):
    assert load_users(None) == {}


def test_add_user_creates_a_private_file_and_refuses_a_duplicate(tmp_path):
    path = tmp_path / "conf" / "users.txt"
    add_user(path, User("olga", "staff", hash_password("pw", log2_n=FAST)))
    add_user(path, User("masha", "viewer", hash_password("pw", log2_n=FAST)))
    assert path.stat().st_mode & 0o777 == 0o600
    assert list(parse_users(path.read_text(encoding="utf-8"), "x")) == ["olga", "masha"]
    with pytest.raises(ConfigError, match="exists; pass --replace"):
        add_user(path, User("olga", "viewer", hash_password("pw", log2_n=FAST)))
    add_user(path, User("olga", "viewer", hash_password("new", log2_n=FAST)), replace=True)
    users = parse_users(path.read_text(encoding="utf-8"), "x")
    assert users["olga"].role == "viewer" and verify_password("new", users["olga"].password_hash)


def test_authenticate_gives_the_users_role():
    users = parse_users(entry("olga", "staff", "pw") + " " + entry("masha", "viewer", "pw2"), "x")
    throttle = LoginThrottle()
    assert authenticate(users, " olga ", "pw", throttle) == Actor("olga", "staff")
    assert authenticate(users, "masha", "pw2", throttle) == Actor("masha", "viewer")
    assert authenticate(users, "olga", "wrong", throttle) is None
    assert authenticate(users, "nobody", "pw", throttle) is None


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_repeated_wrong_passwords_lock_the_name_for_a_while():
    users = parse_users(entry("olga", "staff", "pw"), "x")
    clock = FakeClock()
    throttle = LoginThrottle(max_failures=3, window=60, lockout=300, clock=clock)
    for _ in range(3):
        assert authenticate(users, "olga", "guess", throttle) is None
    assert throttle.seconds_locked("olga") == 300
    assert authenticate(users, "olga", "pw", throttle) is None  # even the right password
    clock.now += 301
    assert authenticate(users, "olga", "pw", throttle) == Actor("olga", "staff")


def test_failures_spread_beyond_the_window_do_not_lock():
    users = parse_users(entry("olga", "staff", "pw"), "x")
    clock = FakeClock()
    throttle = LoginThrottle(max_failures=3, window=60, lockout=300, clock=clock)
    for _ in range(5):
        authenticate(users, "olga", "guess", throttle)
        clock.now += 31
    assert throttle.seconds_locked("olga") == 0


@pytest.mark.parametrize(
    ("address", "local"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True), ("0.0.0.0", False),
     ("192.168.1.5", False), ("", False), (None, False), ("example.org", False)],
)  # fmt: skip
def test_only_loopback_addresses_are_local(address, local):
    assert is_local_address(address) is local


def test_add_user_refuses_a_name_the_file_could_not_read_back(tmp_path):
    with pytest.raises(ConfigError, match="bad user name 'ev il'"):
        add_user(tmp_path / "users.txt", User("ev il", "staff", hash_password("pw", log2_n=FAST)))
    assert not (tmp_path / "users.txt").exists()


def test_replacing_a_user_keeps_the_others_on_a_shared_line(tmp_path):
    path = tmp_path / "users.txt"
    path.write_text(
        f"{entry('alice', 'staff', 'a')} {entry('bob', 'viewer', 'b')}  # team\n", encoding="utf-8"
    )
    add_user(path, User("bob", "staff", hash_password("new", log2_n=FAST)), replace=True)
    add_user(path, User("alice", "viewer", hash_password("new", log2_n=FAST)), replace=True)
    users = parse_users(path.read_text(encoding="utf-8"), "x")
    assert {name: user.role for name, user in users.items()} == {"alice": "viewer", "bob": "staff"}
    assert "# team" in path.read_text(encoding="utf-8")
