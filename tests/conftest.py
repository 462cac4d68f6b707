"""Shared fixtures: a clean environment for every test, and a database on each backend.

`database_url` runs a test twice: on a SQLite file in tmp_path and on the local PostgreSQL
(127.0.0.1:5432, database `test`) in a schema of its own that is dropped afterwards. When the
server is down the PostgreSQL runs fail, so CI can never pass without them; set
BRANDPULSE_SKIP_POSTGRES=1 to skip them on a machine without PostgreSQL.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from monitor.db.session import open_database, session_factory
from tests.support.postgres import conninfo, fresh_postgres_schema

pytest_plugins = [
    "tests.support.servers",
    "tests.support.dashboard",
    "tests.support.fake_vk",
    "tests.support.fake_telegram",
]

# Override with BRANDPULSE_TEST_POSTGRES_URL; otherwise user postgres, then the OS user.
POSTGRES_URLS = (
    [os.environ["BRANDPULSE_TEST_POSTGRES_URL"]]
    if os.environ.get("BRANDPULSE_TEST_POSTGRES_URL")
    else [
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        f"postgresql+psycopg://{getpass.getuser()}@127.0.0.1:5432/test",
    ]
)
SECRETS_AND_OVERRIDES = (
    "DATABASE_URL",
    "VK_TOKEN",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE",
    "REDIS_URL",
    "BRANDPULSE_USERS",
    "BRANDPULSE_USERS_FILE",
)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's DATABASE_URL or tokens must never leak into a test."""
    for name in SECRETS_AND_OVERRIDES:
        monkeypatch.delenv(name, raising=False)


def _one_torch_thread() -> None:
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread_from_the_start() -> None:
    """Tests' models are tiny: one torch thread each. On a busy 2-core machine two threads wait on
    each other at every step (a distillation test went from 19 s to over 300 s that way). Session
    scope, so module fixtures that train a model run after it."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return
    _one_torch_thread()


@pytest.fixture(autouse=True)
def one_torch_thread() -> None:
    """Again before each test: an engine built with `threads` unset takes every core."""
    _one_torch_thread()


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The SQLAlchemy URL of the test PostgreSQL server; fails (or skips, if asked) when it is down."""
    problems = []
    for url in POSTGRES_URLS:
        try:
            with psycopg.connect(conninfo(url), connect_timeout=5) as connection:
                connection.execute("SELECT 1")
            return url
        except psycopg.Error as exc:
            problems.append(
                f"{make_url(url).render_as_string(hide_password=True)}: {' '.join(str(exc).split())}"
            )
    message = (
        "PostgreSQL is unreachable (" + "; ".join(problems) + "). Start it with "
        "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, "
        "or set BRANDPULSE_SKIP_POSTGRES=1 to skip the PostgreSQL runs."
    )
    if os.environ.get("BRANDPULSE_SKIP_POSTGRES") == "1":
        pytest.skip(message)
    pytest.fail(message, pytrace=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A URL for an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'brandpulse.db'}"
        return
    with fresh_postgres_schema(request.getfixturevalue("postgres_server_url")) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The migrated database behind `database_url`."""
    engine = open_database(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)
