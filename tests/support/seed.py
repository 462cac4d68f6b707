"""Hand-built stored mentions for query and dashboard tests (no crawling, no model)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from monitor.db.models import Item, ItemGroup, Mention, Sentiment, Source, Workflow


@dataclass
class Post:
    text: str
    brand: str
    label: str | None = "negative"
    source: str = "otzovik"
    published_at: datetime = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    competitor: bool = False
    group: int | None = None  # posts with the same number share a dedup group
    status: str = "new"
    # Workflow and timing details, for response-time and trends tests.
    collected_at: datetime | None = None  # default: now, as when crawled
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    assignee: str | None = None
    author: str | None = None  # default: "Автор <n>"


def seed(session: Session, posts: list[Post]) -> list[int]:
    """Store the posts; return their mention ids in order."""
    sources: dict[str, Source] = {}
    groups: dict[int, ItemGroup] = {}
    ids = []
    for n, post in enumerate(posts):
        source = sources.get(post.source)
        if source is None:
            source = sources[post.source] = Source(name=post.source, type="site")
            session.add(source)
        if post.group is not None and post.group in groups:
            group = groups[post.group]
            group.size += 1
        else:
            group = ItemGroup(size=1)
            if post.group is not None:
                groups[post.group] = group
        start = post.text.lower().find(post.brand.lower()[:5])
        item = Item(
            source=source,
            external_id=f"post-{n}",
            url=f"https://example.ru/{n}",
            canonical_url=f"https://example.ru/{n}",
            text=post.text,
            author=post.author or f"Автор {n}",
            published_at=post.published_at,
            group=group,
        )
        if post.collected_at is not None:
            item.collected_at = post.collected_at
        mention = Mention(
            brand=post.brand,
            is_competitor=post.competitor,
            span_start=max(start, 0),
            span_end=max(start, 0) + len(post.brand),
            matched_text=post.brand,
        )
        mention.workflow = Workflow(
            status=post.status,
            assignee=post.assignee,
            first_response_at=post.first_response_at,
            resolved_at=post.resolved_at,
        )
        if post.label:
            mention.sentiment = Sentiment(label=post.label, score=0.9, model="test")
        item.mentions.append(mention)
        session.add(item)
        session.flush()
        ids.append(mention.id)
    return ids
