"""The tables: sources and cursors, items and their dedup groups, mentions, sentiment, alerts, workflow.

Schema changes go through Alembic (monitor/db/migrations); never `create_all` in production code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from monitor.clock import utcnow


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on SQLite and PostgreSQL alike (SQLite drops the tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: brandpulse stores UTC-aware datetimes only")
        from datetime import UTC

        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        from datetime import UTC

        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    # Every constraint gets a predictable name, so later migrations can drop or alter it by name
    # (Alembic's batch mode on SQLite cannot touch an unnamed constraint).
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Source(Base):
    """A configured source, its crawl cursor and its health."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(20))
    cursor: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # What kind of failure last_error is (monitor.errors.failure_kind): "blocked" (an anti-bot
    # check answered), "auth", "rate_limited", "format", "unavailable" or "error".
    last_error_kind: Mapped[str | None] = mapped_column(String(20), nullable=True)
    last_items_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # Warnings of the last successful crawl that had any (a changed layout, a closed community...),
    # and how many successful crawls in a row had warnings, since when: a crawl that "works" yet
    # keeps warning is degraded, not healthy.
    last_warning: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_warning_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    consecutive_warning_runs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    warnings_since: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ItemGroup(Base):
    """Copies of one post (same canonical URL, reposts, copy-pastes) counted once in analytics."""

    __tablename__ = "item_groups"
    __table_args__ = (
        # The fingerprint cut into four 16-bit bands (monitor.dedup.fingerprint_bands): two texts
        # within 3 bits of each other share at least one band, so finding near duplicates is four
        # indexed equality lookups within the recent window instead of a scan.
        Index("ix_item_groups_band0_seen", "fingerprint_band0", "first_seen_at"),
        Index("ix_item_groups_band1_seen", "fingerprint_band1", "first_seen_at"),
        Index("ix_item_groups_band2_seen", "fingerprint_band2", "first_seen_at"),
        Index("ix_item_groups_band3_seen", "fingerprint_band3", "first_seen_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    canonical_url: Mapped[str | None] = mapped_column(String(2000), nullable=True, index=True)
    # 64-bit SimHash of the normalised text, stored signed to fit BIGINT.
    fingerprint: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    fingerprint_band0: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fingerprint_band1: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fingerprint_band2: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fingerprint_band3: Mapped[int | None] = mapped_column(Integer, nullable=True)
    size: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Item(Base):
    """One post, comment, review or feed entry as a source gave it."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id", name="uq_items_source_external_id"),
        UniqueConstraint("source_id", "canonical_url", name="uq_items_source_canonical_url"),
        Index("ix_items_published_at", "published_at"),
        # The inbox order (monitor.queries.NEWEST): pages seek here instead of sorting the table.
        Index("ix_items_newest", text("coalesce(published_at, collected_at)")),
        # Copies of one page from different sources join one group: lookup by URL alone.
        Index("ix_items_canonical_url", "canonical_url"),
        # Posts a crawl updated since the last look, for complaints that spread (alerts/spreading.py).
        Index("ix_items_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(500))
    url: Mapped[str] = mapped_column(String(2000))
    canonical_url: Mapped[str] = mapped_column(String(2000))
    kind: Mapped[str] = mapped_column(String(20), default="post")
    parent_external_id: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Where the crawler read it, when the URL does not say: a VK community as configured ("vk:name").
    place: Mapped[str | None] = mapped_column(String(200), nullable=True)
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(500), nullable=True)
    author_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    author_reach: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    likes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reposts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    comments: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    views: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    rating: Mapped[float | None] = mapped_column(Float, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    collected_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    group_id: Mapped[int] = mapped_column(ForeignKey("item_groups.id"), index=True)
    # Set once brand matching has looked at this item (with or without a hit).
    matched_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)

    source: Mapped[Source] = relationship()
    group: Mapped[ItemGroup] = relationship()
    mentions: Mapped[list[Mention]] = relationship(back_populates="item", cascade="all, delete-orphan")

    # One definition of audience and engagement, shared by alert rules and the inbox.
    @property
    def reach(self) -> int:
        """Followers of the author or views of the post, whichever the source tells and is larger."""
        return max(self.author_reach or 0, self.views or 0)

    @property
    def engagement(self) -> int:
        return sum(n or 0 for n in (self.likes, self.reposts, self.comments))


class Mention(Base):
    """An item that names a brand; the unit the inbox, sentiment and alerts work on."""

    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("item_id", "brand", name="uq_mentions_item_brand"),
        Index("ix_mentions_brand_created", "brand", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    brand: Mapped[str] = mapped_column(String(200))
    is_competitor: Mapped[bool] = mapped_column(Boolean, default=False)
    # First matched span in the item text: [span_start, span_end) and the words found there.
    span_start: Mapped[int] = mapped_column(Integer)
    span_end: Mapped[int] = mapped_column(Integer)
    matched_text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Written by one of the brand's own accounts (brands[].own_accounts): shown, never alerted on.
    own_post: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The text names no brand: it counts for where it was published (monitor/brand_places.py).
    by_place: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    item: Mapped[Item] = relationship(back_populates="mentions")
    sentiment: Mapped[Sentiment | None] = relationship(
        back_populates="mention", uselist=False, cascade="all, delete-orphan"
    )
    workflow: Mapped[Workflow | None] = relationship(
        back_populates="mention", uselist=False, cascade="all, delete-orphan"
    )


class Sentiment(Base):
    """The model's verdict on a mention, and a staff correction that wins over it (and trains it)."""

    __tablename__ = "sentiments"

    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True)
    label: Mapped[str] = mapped_column(String(10))
    score: Mapped[float] = mapped_column(Float)
    model: Mapped[str] = mapped_column(String(200))
    scored_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    override_label: Mapped[str | None] = mapped_column(String(10), nullable=True)
    override_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    override_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # "model", or "rating" when the review's own stars decided (sentiment/verdict.py); the model's
    # label is kept beside it either way.
    decided_by: Mapped[str] = mapped_column(String(10), default="model", server_default="model")
    model_label: Mapped[str | None] = mapped_column(String(10), nullable=True)

    mention: Mapped[Mention] = relationship(back_populates="sentiment")

    @property
    def effective_label(self) -> str:
        return self.override_label or self.label


class Workflow(Base):
    """Where staff stand with a mention: status, who has it, first response and resolution."""

    __tablename__ = "workflow"
    __table_args__ = (
        Index("ix_workflow_status", "status"),
        # The inbox's "mine only": a few rows among a million, found without walking the inbox order.
        Index("ix_workflow_assignee", "assignee"),
    )

    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True)
    # new / in_progress / resolved / ignored
    status: Mapped[str] = mapped_column(String(20), default="new")
    assignee: Mapped[str | None] = mapped_column(String(200), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    mention: Mapped[Mention] = relationship(back_populates="workflow")


class OutboxMessage(Base):
    """An alert waiting to be sent, or sent. Written in the same transaction as what caused it."""

    __tablename__ = "alert_outbox"
    __table_args__ = (
        # One alert per (cause, chat): re-running a pipeline step never queues it twice.
        UniqueConstraint("dedup_key", "chat_id", name="uq_outbox_dedup_chat"),
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        # Alert-fatigue look-backs: what this chat got lately (alerts/claims.py).
        Index("ix_outbox_chat_claimed", "chat_id", "claimed_at"),
        Index("ix_outbox_batch_id", "batch_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # negative / spike / health / digest
    kind: Mapped[str] = mapped_column(String(20))
    dedup_key: Mapped[str] = mapped_column(String(300))
    chat_id: Mapped[str] = mapped_column(String(100))
    rule: Mapped[str | None] = mapped_column(String(200), nullable=True)
    mention_id: Mapped[int | None] = mapped_column(
        ForeignKey("mentions.id", ondelete="SET NULL"), nullable=True
    )
    text: Mapped[str] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    # pending / sending / sent / printed / failed, or batched: folded into the digest `batch_id`
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The brand a negative alert is about: cool-downs are per (chat, brand).
    brand: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Set by the sender that claimed the row (status "sending") and when; a claim older than the
    # lease belongs to a sender that died, and another one retries the row.
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The digest message that carried this alert (status "batched").
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_outbox.id", ondelete="SET NULL"), nullable=True
    )
    # Why a pending alert waits (quiet / cooldown / burst): when it is due it goes out in a digest.
    hold_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)


class BotOffset(Base):
    """Where `brandpulse bot` stopped reading Telegram updates, per bot: each update is handled once."""

    __tablename__ = "bot_offsets"

    # The numeric part of the token before the colon: it names the bot and is not secret.
    bot_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    next_update_id: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
