"""Source types. Each module registers one crawler under the `type` used in spiders.yaml."""

from __future__ import annotations

from typing import Any

from crawlers.base import Batch, Crawler, Cursor


def registry() -> dict[str, Crawler[Any]]:
    """type name -> crawler. Imported lazily so a CLI command that crawls nothing stays fast."""
    from crawlers.rss import RssCrawler
    from crawlers.sites import SiteCrawler
    from crawlers.telegram import TelegramCrawler
    from crawlers.vk import VkCrawler

    crawlers: list[Crawler[Any]] = [RssCrawler(), SiteCrawler(), TelegramCrawler(), VkCrawler()]
    return {crawler.kind: crawler for crawler in crawlers}


__all__ = ["Batch", "Crawler", "Cursor", "registry"]
