"""Source warnings: the last crawl warning of each source and how many crawls in a row had warnings.

Revision ID: 0004
Revises: 0003
Create Date: 2025-02-20

Frozen like 0001: plain types, no imports from monitor.db.models. Plain ADD COLUMN works on both
SQLite and PostgreSQL; the counter gets a server default so existing rows start at 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("sources", sa.Column("last_warning", sa.Text(), nullable=True))
    op.add_column("sources", sa.Column("last_warning_at", _utc(), nullable=True))
    op.add_column(
        "sources",
        sa.Column("consecutive_warning_runs", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column("sources", sa.Column("warnings_since", _utc(), nullable=True))


def downgrade() -> None:
    # Batch mode: SQLite before 3.35 cannot DROP COLUMN; elsewhere it is a plain ALTER TABLE.
    with op.batch_alter_table("sources") as batch:
        for column in ("warnings_since", "consecutive_warning_runs", "last_warning_at", "last_warning"):
            batch.drop_column(column)
