"""VK: the walls (and comments) of watched communities, and brand searches with newsfeed.search.

Built on the vk_api package. Calls are throttled to VK's 3 per second per token; errors 6 and 9 are
retried with backoff. A query or community that VK refuses (captcha, bad token, closed wall...) is
one warning; the source fails only when every query and community failed.

crawler.py walks the searches and walls with their cursor, client.py makes the calls (throttling,
retries, VK's errors as SourceErrors), parse.py turns VK's posts and comments into RawItems.
"""

from crawlers.vk.client import MIN_CALL_INTERVAL, RETRY_DELAYS, RateLimiter
from crawlers.vk.crawler import (
    COMMENT_PAGE_SIZE,
    COMMENTED_POSTS,
    REPLIES_PER_THREAD,
    SEARCH_OVERLAP_SECONDS,
    SEARCH_PAGE_SIZE,
    WALL_PAGE_SIZE,
    VkCrawler,
    community_ref,
    search_terms,
)
from crawlers.vk.parse import VK_WEB

__all__ = [
    "COMMENTED_POSTS",
    "COMMENT_PAGE_SIZE",
    "MIN_CALL_INTERVAL",
    "REPLIES_PER_THREAD",
    "RETRY_DELAYS",
    "SEARCH_OVERLAP_SECONDS",
    "SEARCH_PAGE_SIZE",
    "VK_WEB",
    "WALL_PAGE_SIZE",
    "RateLimiter",
    "VkCrawler",
    "community_ref",
    "search_terms",
]
