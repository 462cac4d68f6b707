"""An index on items.updated_at: every cycle looks at the posts a crawl updated since the last one
(alerts/spreading.py), a few rows among millions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

Frozen like 0001: plain names, no imports from monitor.db.models.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_items_updated_at", "items", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_items_updated_at", table_name="items")
