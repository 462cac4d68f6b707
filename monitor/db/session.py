"""Opening the database: which URL, engine settings per backend, migrations, one-line errors.

Sessions made here never commit on their own: whoever opens one owns the transaction
(`with sessions.begin() as session:` commits on success and rolls back on an exception).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from monitor.db.text_search import SQLITE_FOLD_FUNCTION, fold
from monitor.errors import StorageError
from monitor.secrets import mask_url_password

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# How long a SQLite writer waits for another one (a crawl and the dashboard) before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Any constant: the PostgreSQL advisory lock two processes take so they never migrate at once.
_MIGRATION_LOCK_ID = 0x62726E64  # "brnd"


def database_url(configured: str) -> str:
    """The URL to use: DATABASE_URL from the environment wins over the one in spiders.yaml.

    A relative SQLite path becomes absolute (relative to the current directory), so messages
    and later `chdir`s never leave doubt about which file is meant; `postgresql://` and
    `postgres://` get the psycopg 3 driver, the one brandpulse installs.
    """
    url = os.environ.get("DATABASE_URL", "").strip() or configured.strip()
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url  # open_database reports it in one line
    resolved = _with_driver(parsed)
    path = parsed.database
    if parsed.get_backend_name() == "sqlite" and path and path != ":memory:" and not path.startswith("file:"):
        absolute = Path(path).expanduser()
        if not absolute.is_absolute():
            absolute = Path.cwd() / absolute
        resolved = resolved.set(database=str(absolute))
    # Untouched URLs come back as written (rendering would percent-encode a Cyrillic path).
    return url if resolved == parsed else resolved.render_as_string(hide_password=False)


def open_database(url: str, migrate: bool = True) -> Engine:
    """An engine for `url`, checked to be reachable and writable, migrated to the newest schema.

    Raises StorageError with one line naming the file or server (never the password).
    """
    try:
        parsed = _with_driver(make_url(url))
    except ArgumentError:
        raise StorageError(f"not a database URL: {mask_url_password(url)!r}") from None
    where = describe(parsed)
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StorageError(
            f"cannot open database {where}: brandpulse works with sqlite:///path and postgresql:// URLs"
        )
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite_file(parsed)
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_on_connect)
    else:
        try:
            engine = create_engine(parsed, pool_pre_ping=True)
        except (ImportError, ArgumentError) as exc:
            raise StorageError(f"cannot open database {where}: {_one_line(exc, parsed)}") from None
    step = "open"
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        if migrate:
            step = "migrate"
            upgrade(engine)
    except CommandError as exc:
        engine.dispose()
        raise StorageError(
            f"cannot migrate database {where}: {_one_line(exc, parsed)} "
            "(was it created by a newer brandpulse?)"
        ) from None
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StorageError(f"cannot {step} database {where}: {_one_line(exc, parsed)}") from None
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: objects returned from a finished transaction stay readable.
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(connection: Connection | None = None, url: str | None = None) -> AlembicConfig:
    """Alembic settings built in code: the scripts inside the package, so any cwd or wheel works.

    To write a new migration from a source checkout:
        from alembic import command
        command.revision(alembic_config(url="sqlite:///dev.db"), message="...", autogenerate=True)
    """
    config = AlembicConfig()
    # ConfigParser interpolates '%': a path containing one must be escaped.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` in one transaction, one process at a time."""
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Take the write lock first: DDL runs inside this transaction and a second process
            # starting at the same moment waits (busy timeout) instead of creating tables twice.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})")
        command.upgrade(alembic_config(connection), revision)
        connection.commit()


def _with_driver(url: URL) -> URL:
    # postgres:// (Heroku style) is not a SQLAlchemy name at all; psycopg 3 is the driver we ship.
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    return url


def describe(url: URL) -> str:
    """The file path for SQLite, else the URL with its password masked."""
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return url.render_as_string(hide_password=True)


def _prepare_sqlite_file(url: URL) -> None:
    path_text = url.database
    if not path_text or path_text == ":memory:" or path_text.startswith("file:"):
        return
    path = Path(path_text)
    prefix = f"cannot open database {path}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise StorageError(f"{prefix}: {path.parent} is a file, not a directory") from None
    except NotADirectoryError:
        raise StorageError(f"{prefix}: a part of {path.parent} is a file, not a directory") from None
    except OSError as exc:
        raise StorageError(f"{prefix}: cannot create directory {path.parent}: {exc.strerror}") from None
    if not path.parent.is_dir():
        raise StorageError(f"{prefix}: {path.parent} is not a directory")
    if path.is_dir():
        raise StorageError(f"{prefix}: it is a directory")
    # SQLite creates the file, its -wal and -shm files next to it: the directory must be writable.
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise StorageError(f"{prefix}: directory is not writable")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StorageError(f"{prefix}: file is not readable and writable by this user")


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.create_function(SQLITE_FOLD_FUNCTION, 1, fold, deterministic=True)
    cursor = dbapi_connection.cursor()
    try:
        # WAL: the dashboard reads while a crawl writes. Foreign keys are off by default in SQLite.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _one_line(exc: BaseException, url: URL) -> str:
    original = getattr(exc, "orig", None) or exc
    text = " ".join(str(original).split()) or type(original).__name__
    if url.password:
        text = text.replace(str(url.password), "***")
    return text
