"""Outbox delivery: claims for multi-process senders, digests of folded alerts, bot update offsets.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01

Frozen like 0001: plain types, no imports from monitor.db.models. SQLite cannot add a foreign
key to an existing table, so alert_outbox changes go through batch mode (a table copy there,
plain ALTER TABLE on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("alert_outbox") as batch:
        batch.add_column(sa.Column("brand", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("claimed_at", _utc(), nullable=True))
        batch.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("hold_reason", sa.String(length=20), nullable=True))
        batch.create_foreign_key(
            "fk_alert_outbox_batch_id_alert_outbox", "alert_outbox", ["batch_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_outbox_chat_claimed", ["chat_id", "claimed_at"])
        batch.create_index("ix_outbox_batch_id", ["batch_id"])

    op.create_table(
        "bot_offsets",
        sa.Column("bot_id", sa.String(length=50), nullable=False),
        sa.Column("next_update_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("bot_id", name="pk_bot_offsets"),
    )


def downgrade() -> None:
    op.drop_table("bot_offsets")
    with op.batch_alter_table("alert_outbox") as batch:
        batch.drop_index("ix_outbox_batch_id")
        batch.drop_index("ix_outbox_chat_claimed")
        batch.drop_constraint("fk_alert_outbox_batch_id_alert_outbox", type_="foreignkey")
        for column in ("hold_reason", "batch_id", "claimed_at", "claim_token", "brand"):
            batch.drop_column(column)
