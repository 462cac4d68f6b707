"""Brand places: items.place (where a crawler read the item: a VK community as configured, e.g.
"vk:vkusmarket") and mentions.by_place (the item names no brand; it counts for the brand because
it was published in the brand's community, channel or a source tied to the brand).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

Frozen like 0001: plain types, no imports from monitor.db.models. Existing rows read as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("items", sa.Column("place", sa.String(200), nullable=True))
    op.add_column(
        "mentions", sa.Column("by_place", sa.Boolean(), nullable=False, server_default=sa.text("false"))
    )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): batch mode would rebuild `items` and lose its expression
    # index ix_items_newest, which migration 0003's downgrade then cannot drop.
    op.drop_column("mentions", "by_place")
    op.drop_column("items", "place")
