"""Inbox indexes: the inbox order for keyset paging, and "mine only".

Revision ID: 0003
Revises: 0002
Create Date: 2025-02-15

Frozen like 0001: plain names and SQL, no imports from monitor.db.models. ix_items_newest is an
expression index on the inbox's sort key, coalesce(published_at, collected_at); the query must
spell the expression the same way for the database to use it. Alembic compares it on PostgreSQL;
SQLite cannot reflect expression indexes, so autogenerate skips it there with a warning.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_items_newest", "items", [sa.text("coalesce(published_at, collected_at)")])
    op.create_index("ix_workflow_assignee", "workflow", ["assignee"])


def downgrade() -> None:
    op.drop_index("ix_workflow_assignee", table_name="workflow")
    op.drop_index("ix_items_newest", table_name="items")
