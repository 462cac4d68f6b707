"""The one protocol every source type implements: given its config and cursor, return a batch.

A crawler is pure I/O: it fetches, parses and returns items plus the cursor to resume from.
It never touches the database; the pipeline stores the batch and the cursor together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from monitor.config import BrandConfig, SourceBase
from monitor.items import RawItem

# JSON-serialisable state a crawler needs to resume (ETags, last seen ids, next_from...).
Cursor = dict[str, Any]

C = TypeVar("C", bound=SourceBase, contravariant=True)


@dataclass
class Batch:
    items: list[RawItem]
    cursor: Cursor
    # Problems that did not stop the crawl (one feed of three broken, a page with no items):
    # one human-readable line each, logged and recorded on the source's health.
    warnings: list[str] = field(default_factory=list)


class Crawler(Protocol[C]):
    kind: ClassVar[str]

    def fetch(self, source: C, cursor: Cursor | None, brands: list[BrandConfig]) -> Batch:
        """Fetch what is new since `cursor`. Raise a SourceError when the whole source failed."""
        ...
