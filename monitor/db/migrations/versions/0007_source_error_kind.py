"""Source error kind: what kind of failure a source's last error was ("blocked" by an anti-bot check...).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24

Frozen like 0001: plain types, no imports from monitor.db.models. Plain ADD COLUMN works on both
SQLite and PostgreSQL; existing rows get NULL (an error of unknown kind).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("sources", sa.Column("last_error_kind", sa.String(20), nullable=True))


def downgrade() -> None:
    # Batch mode: SQLite before 3.35 cannot DROP COLUMN; elsewhere it is a plain ALTER TABLE.
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("last_error_kind")
