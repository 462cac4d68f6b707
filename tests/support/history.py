"""Mentions with controlled times, reach and sentiment, for spike and digest tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from monitor.db.models import Item, ItemGroup, Mention, Sentiment, Source, Workflow


@dataclass
class History:
    """Adds mentions to one session; each gets its own item (and dedup group unless `copy_of`)."""

    session: Session
    sources: dict[str, Source] = field(default_factory=dict)
    count: int = 0

    def source(self, name: str, created_at: datetime | None = None) -> Source:
        if name not in self.sources:
            source = Source(name=name, type="rss")
            if created_at is not None:
                source.created_at = created_at
            self.session.add(source)
            self.sources[name] = source
        return self.sources[name]

    def mention(
        self,
        brand: str,
        at: datetime,
        label: str | None = "neutral",
        *,
        score: float = 0.9,
        reach: int = 0,
        text: str | None = None,
        source: str = "forum",
        competitor: bool = False,
        copy_of: Mention | None = None,
        stored_after: timedelta = timedelta(minutes=2),
        first_response_at: datetime | None = None,
        status: str = "new",
    ) -> Mention:
        """A mention of `brand` published at `at` and stored `stored_after` later."""
        self.count += 1
        n = self.count
        text = text or f"Пост {n} про {brand}"
        group = copy_of.item.group if copy_of is not None else ItemGroup(first_seen_at=at)
        item = Item(
            source=self.source(source),
            external_id=f"post-{n}",
            url=f"https://forum.example.ru/t/{n}",
            canonical_url=f"https://forum.example.ru/t/{n}",
            text=text,
            author=f"Автор {n}",
            author_reach=reach,
            published_at=at,
            collected_at=at + stored_after,
            matched_at=at + stored_after,
            group=group,
        )
        mention = Mention(
            brand=brand,
            is_competitor=competitor,
            span_start=0,
            span_end=len(brand),
            matched_text=brand,
            created_at=at + stored_after,
        )
        if status != "new" or first_response_at is not None:
            mention.workflow = Workflow(status=status, first_response_at=first_response_at)
        if label is not None:
            mention.sentiment = Sentiment(label=label, score=score, model="test")
        item.mentions.append(mention)
        self.session.add(item)
        return mention

    def hourly(
        self, brand: str, start: datetime, end: datetime, per_hour: int = 1, label: str = "neutral"
    ) -> None:
        """`per_hour` mentions at the start of every hour in [start, end)."""
        at = start
        while at < end:
            for k in range(per_hour):
                self.mention(brand, at + timedelta(minutes=k), label)
            at += timedelta(hours=1)
