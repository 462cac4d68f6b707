"""Own posts and rating verdicts: mentions.own_post (the brand's own account wrote it: never
alerted on), sentiments.decided_by and sentiments.model_label (a review's stars decide its label;
the model's label is kept beside it).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

Frozen like 0001: plain types, no imports from monitor.db.models. Server defaults so existing rows
read as before (not own posts, decided by the model).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "mentions", sa.Column("own_post", sa.Boolean(), nullable=False, server_default=sa.text("false"))
    )
    op.add_column(
        "sentiments", sa.Column("decided_by", sa.String(10), nullable=False, server_default="model")
    )
    op.add_column("sentiments", sa.Column("model_label", sa.String(10), nullable=True))


def downgrade() -> None:
    # Batch mode: SQLite before 3.35 cannot DROP COLUMN; elsewhere it is a plain ALTER TABLE.
    with op.batch_alter_table("sentiments") as batch:
        batch.drop_column("model_label")
        batch.drop_column("decided_by")
    with op.batch_alter_table("mentions") as batch:
        batch.drop_column("own_post")
