"""The database a reading command (`report weekly`, `digest`, `health`) looks at: `--database`, else
DATABASE_URL, else the config's storage.url. Reading never creates one: a SQLite file that is not
there is one clear line, not an empty database and a report that reads as an all-clear."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from monitor.db.models import Mention
from monitor.db.session import database_url, describe, open_database
from monitor.errors import StorageError

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Database URL, e.g. sqlite:///data/demo.db (default: DATABASE_URL or the config's storage.url).",
    ),
]


def chosen_url(database: str | None, configured: str) -> str:
    """`--database` as given wins; else DATABASE_URL, else the config's storage.url."""
    if database and database.strip():
        return database.strip()
    return database_url(configured)


def where(url: str) -> str:
    """The file for SQLite, else the URL with its password masked: for messages."""
    try:
        return describe(make_url(url))
    except ArgumentError:
        return url


def open_existing(url: str) -> Engine:
    """An engine for a database that is already there (migrated to the newest schema if older).

    Raises StorageError for a SQLite file that does not exist, instead of creating an empty one.
    """
    missing = _missing_sqlite_file(url)
    if missing is not None:
        raise StorageError(
            f"no database at {missing}: nothing has been collected there "
            "(check --database, DATABASE_URL or storage.url; `brandpulse demo` writes data/demo.db)"
        )
    return open_database(url)


def require_mentions(session: Session, url: str) -> None:
    """Raise StorageError when the database holds no mention at all: there is nothing to report, and
    a report of nothing would read as "nothing is wrong"."""
    if session.scalar(select(Mention.id).limit(1)) is None:
        raise StorageError(
            f"database {where(url)} is empty: no mentions collected yet, so there is nothing to report "
            "(run `brandpulse run` first, or pass --database)"
        )


def _missing_sqlite_file(url: str) -> Path | None:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # open_database reports it in one line
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:" or path.startswith("file:"):
        return None
    return None if Path(path).expanduser().exists() else Path(path)
