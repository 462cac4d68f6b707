import os

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from monitor.db.models import Base
from monitor.db.session import alembic_config, open_database, upgrade


def _differences(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_migrations_create_exactly_the_tables_in_the_models(database_url):
    engine = open_database(database_url)
    try:
        assert _differences(engine) == []
        assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_leave_the_database_at_head(database_url):
    engine = open_database(database_url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        assert current == ScriptDirectory.from_config(alembic_config()).get_current_head()
    finally:
        engine.dispose()


def test_opening_a_migrated_database_again_changes_nothing(database_url):
    open_database(database_url).dispose()
    engine = open_database(database_url)
    try:
        upgrade(engine)
        assert _differences(engine) == []
    finally:
        engine.dispose()


def test_open_database_without_migrate_creates_no_tables(database_url):
    engine = open_database(database_url, migrate=False)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_migrations_downgrade_to_an_empty_database(database_url):
    engine = open_database(database_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
        assert inspect(engine).get_table_names() == ["alembic_version"]
    finally:
        engine.dispose()


def test_migrations_run_from_any_working_directory(tmp_path, monkeypatch):
    # The scripts are found inside the package, not next to wherever the user stands.
    monkeypatch.chdir(tmp_path)
    os.mkdir("elsewhere")
    monkeypatch.chdir("elsewhere")
    engine = open_database(f"sqlite:///{tmp_path / 'brandpulse.db'}")
    try:
        assert "items" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path):
    engine = open_database(f"sqlite:///{tmp_path / 'brandpulse.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    finally:
        engine.dispose()
