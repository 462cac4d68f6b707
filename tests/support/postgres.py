"""A throwaway PostgreSQL schema per test (or per module): created empty, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url


def conninfo(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_postgres_schema(server_url: str) -> Iterator[str]:
    """A URL whose connections live in a new, empty schema; the schema is dropped afterwards."""
    schema = f"bp_{uuid.uuid4().hex}"
    admin = conninfo(server_url)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    # The schema name doubles as application_name, so teardown can find this test's connections.
    yield f"{server_url}?options=-csearch_path%3D{schema}&application_name={schema}"
    with psycopg.connect(admin, autocommit=True) as connection:
        # Engines a test forgot to dispose (or worker processes) would keep connections and locks.
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s AND pid <> pg_backend_pid()",
            (schema,),
        )
        connection.execute("SET lock_timeout = '10s'")
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
