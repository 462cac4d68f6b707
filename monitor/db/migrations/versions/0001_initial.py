"""The initial schema: sources, item groups, items, mentions, sentiments, workflow, alert outbox.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Frozen on purpose: it spells out plain types instead of importing monitor.db.models, so later
changes to the models never rewrite history. Datetimes are DateTime(timezone=True), which is
what models.UtcDateTime stores.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("cursor", sa.JSON(), nullable=True),
        sa.Column("last_run_at", _utc(), nullable=True),
        sa.Column("last_success_at", _utc(), nullable=True),
        sa.Column("last_error_at", _utc(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_items_count", sa.Integer(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sources"),
        sa.UniqueConstraint("name", name="uq_sources_name"),
    )

    op.create_table(
        "item_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("canonical_url", sa.String(length=2000), nullable=True),
        sa.Column("fingerprint", sa.BigInteger(), nullable=True),
        sa.Column("fingerprint_band0", sa.Integer(), nullable=True),
        sa.Column("fingerprint_band1", sa.Integer(), nullable=True),
        sa.Column("fingerprint_band2", sa.Integer(), nullable=True),
        sa.Column("fingerprint_band3", sa.Integer(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_item_groups"),
    )
    op.create_index("ix_item_groups_canonical_url", "item_groups", ["canonical_url"])
    op.create_index("ix_item_groups_fingerprint", "item_groups", ["fingerprint"])
    for band in range(4):
        op.create_index(
            f"ix_item_groups_band{band}_seen", "item_groups", [f"fingerprint_band{band}", "first_seen_at"]
        )

    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=500), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("canonical_url", sa.String(length=2000), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("parent_external_id", sa.String(length=500), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=500), nullable=True),
        sa.Column("author_url", sa.String(length=2000), nullable=True),
        sa.Column("author_reach", sa.BigInteger(), nullable=True),
        sa.Column("likes", sa.BigInteger(), nullable=True),
        sa.Column("reposts", sa.BigInteger(), nullable=True),
        sa.Column("comments", sa.BigInteger(), nullable=True),
        sa.Column("views", sa.BigInteger(), nullable=True),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("published_at", _utc(), nullable=True),
        sa.Column("collected_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("matched_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name="fk_items_source_id_sources", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["group_id"], ["item_groups.id"], name="fk_items_group_id_item_groups"),
        sa.PrimaryKeyConstraint("id", name="pk_items"),
        sa.UniqueConstraint("source_id", "external_id", name="uq_items_source_external_id"),
        sa.UniqueConstraint("source_id", "canonical_url", name="uq_items_source_canonical_url"),
    )
    op.create_index("ix_items_published_at", "items", ["published_at"])
    op.create_index("ix_items_canonical_url", "items", ["canonical_url"])
    op.create_index("ix_items_group_id", "items", ["group_id"])
    op.create_index("ix_items_matched_at", "items", ["matched_at"])

    op.create_table(
        "mentions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("is_competitor", sa.Boolean(), nullable=False),
        sa.Column("span_start", sa.Integer(), nullable=False),
        sa.Column("span_end", sa.Integer(), nullable=False),
        sa.Column("matched_text", sa.String(length=500), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name="fk_mentions_item_id_items", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_mentions"),
        sa.UniqueConstraint("item_id", "brand", name="uq_mentions_item_brand"),
    )
    op.create_index("ix_mentions_brand_created", "mentions", ["brand", "created_at"])

    op.create_table(
        "sentiments",
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=10), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("scored_at", _utc(), nullable=False),
        sa.Column("override_label", sa.String(length=10), nullable=True),
        sa.Column("override_by", sa.String(length=200), nullable=True),
        sa.Column("override_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(
            ["mention_id"], ["mentions.id"], name="fk_sentiments_mention_id_mentions", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("mention_id", name="pk_sentiments"),
    )

    op.create_table(
        "workflow",
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assignee", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("first_response_at", _utc(), nullable=True),
        sa.Column("resolved_at", _utc(), nullable=True),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mention_id"], ["mentions.id"], name="fk_workflow_mention_id_mentions", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("mention_id", name="pk_workflow"),
    )
    op.create_index("ix_workflow_status", "workflow", ["status"])

    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("dedup_key", sa.String(length=300), nullable=False),
        sa.Column("chat_id", sa.String(length=100), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=True),
        sa.Column("mention_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _utc(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("sent_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(
            ["mention_id"], ["mentions.id"], name="fk_alert_outbox_mention_id_mentions", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alert_outbox"),
        sa.UniqueConstraint("dedup_key", "chat_id", name="uq_outbox_dedup_chat"),
    )
    op.create_index("ix_outbox_status_next", "alert_outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    # Dropping a table drops its indexes; children before parents.
    for table in ("alert_outbox", "workflow", "sentiments", "mentions", "items", "item_groups", "sources"):
        op.drop_table(table)
