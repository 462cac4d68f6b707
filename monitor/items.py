"""The item a crawler yields: one post, comment, review or feed entry, before any matching."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class RawItem:
    """What every crawler produces. `external_id` is unique within its source."""

    source: str
    external_id: str
    url: str
    text: str
    published_at: datetime | None = None
    title: str | None = None
    author: str | None = None
    author_url: str | None = None
    # Audience of the author (followers / subscribers) when the source tells it.
    author_reach: int | None = None
    likes: int | None = None
    reposts: int | None = None
    comments: int | None = None
    views: int | None = None
    rating: float | None = None
    # post / comment / review / article / message
    kind: str = "post"
    parent_external_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def engagement(self) -> int:
        return sum(n or 0 for n in (self.likes, self.reposts, self.comments))
