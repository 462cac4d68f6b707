"""RSS and Atom feeds (news sites, blogs, forum feeds, Google Alerts) read with feedparser.

Per feed URL the cursor keeps the ETag / Last-Modified for a conditional GET and the ids already
returned, so a run yields only new entries. One broken feed is a warning; all broken is an error.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, urljoin, urlsplit

import feedparser
import httpx

from crawlers.base import Batch, Cursor
from crawlers.http import FetchResult, combine_failures, fetch, html_to_text, tidy_text
from monitor.clock import utcnow
from monitor.config import BrandConfig, RssSource
from monitor.errors import SourceError, SourceFormatError
from monitor.items import RawItem

# Ids remembered per feed; a feed longer than this keeps all of its own ids instead.
SEEN_IDS_PER_FEED = 500

# bozo reasons that say nothing about broken content: a feed served as text/html, or a charset
# declared in the XML that the HTTP header overrides. Real feeds do both all the time.
_HARMLESS_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


class RssCrawler:
    kind: ClassVar[str] = "rss"

    def __init__(self, client: httpx.Client | None = None, sleep: Callable[[float], None] = time.sleep):
        self.client = client
        self.sleep = sleep

    def fetch(self, source: RssSource, cursor: Cursor | None, brands: list[BrandConfig]) -> Batch:
        """New entries of every feed in `source`; feeds that failed become warnings."""
        previous: dict[str, Any] = (cursor or {}).get("feeds", {})
        feeds_state: dict[str, Any] = {}
        items: dict[str, RawItem] = {}
        warnings: list[str] = []
        failures: list[SourceError] = []
        for url in source.urls:
            state = previous.get(url, {})
            feeds_state[url] = state
            try:
                feed_items, feed_warnings, feeds_state[url] = self._read_feed(source, url, state)
            except SourceError as exc:
                failures.append(exc)
                warnings.append(str(exc))
                continue
            warnings.extend(feed_warnings)
            for item in feed_items:
                # The same story in two feeds of one source is one item.
                items.setdefault(item.external_id, item)
        if failures and len(failures) == len(source.urls):
            raise combine_failures(source.name, "feeds", failures)
        return Batch(items=list(items.values()), cursor={"feeds": feeds_state}, warnings=warnings)

    def _read_feed(
        self, source: RssSource, url: str, state: dict[str, Any]
    ) -> tuple[list[RawItem], list[str], dict[str, Any]]:
        result = fetch(
            url,
            timeout=source.timeout,
            max_bytes=source.max_bytes,
            etag=state.get("etag"),
            last_modified=state.get("last_modified"),
            source=source.name,
            client=self.client,
            sleep=self.sleep,
        )
        if result.not_modified:
            return [], [], state
        parsed = parse_feed(result)
        if not parsed.get("version") and not parsed.entries:
            content_type = result.headers.get("content-type", "no Content-Type")
            raise SourceFormatError(
                source.name, f"{url}: not an RSS or Atom feed ({content_type}); check the URL"
            )
        warnings = []
        fetched_at = utcnow()
        seen = set(state.get("seen", []))
        items: list[RawItem] = []
        current_ids: list[str] = []
        for position, entry in enumerate(parsed.entries, start=1):
            try:
                item = entry_to_item(entry, source.name, result.url, fetched_at)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                warnings.append(f"{source.name}: {url}: entry {position} skipped: {_one_line(exc)}")
                continue
            if item is None:
                continue
            current_ids.append(item.external_id)
            if item.external_id not in seen:
                items.append(item)
        problem = parsed.get("bozo_exception")
        if parsed.get("bozo") and not isinstance(problem, _HARMLESS_BOZO):
            warnings.insert(
                0,
                f"{source.name}: {url}: malformed feed ({_one_line(problem)}); "
                f"kept the {len(current_ids)} entries that could be read",
            )
        remembered = list(dict.fromkeys([*current_ids, *state.get("seen", [])]))
        new_state = {
            "etag": result.etag,
            "last_modified": result.last_modified,
            "seen": remembered[: max(SEEN_IDS_PER_FEED, len(current_ids))],
        }
        return items, warnings, new_state


def parse_feed(result: FetchResult) -> feedparser.FeedParserDict:
    """feedparser over fetched bytes, with the Content-Type header so the charset is right."""
    # No Content-Location on purpose: with a base URL feedparser also "resolves" guids that are not
    # URLs ("news-123" -> "https://site/feeds/news-123"), and ids would change when a feed moves.
    # Links are resolved against the feed URL in entry_to_item instead.
    headers = {"content-type": result.headers.get("content-type", "application/xml")}
    # A BytesIO, never the bytes themselves: feedparser treats a str/bytes that looks like a URL
    # or a file name as something to open.
    return feedparser.parse(io.BytesIO(result.body), response_headers=headers)


def entry_to_item(entry: Any, source: str, feed_url: str, fetched_at: datetime) -> RawItem | None:
    """One feed entry as a RawItem; None when it has neither title nor text."""
    title = _detail_text(entry.get("title", ""), entry.get("title_detail"))
    body = _entry_body(entry)
    if not title and not body:
        return None
    link = entry.get("link") or ""
    link = unwrap_google_link(urljoin(feed_url, link)) if link else ""
    external_id = entry.get("id") or link or "sha1:" + hashlib.sha1(f"{title}\n{link}".encode()).hexdigest()
    if not body:
        text = title
    elif title and not body.startswith(title):
        text = f"{title}\n{body}"
    else:
        text = body
    author_detail = entry.get("author_detail") or {}
    author = tidy_text(author_detail.get("name") or entry.get("author") or "") or None
    return RawItem(
        source=source,
        external_id=external_id,
        url=link or feed_url,
        text=text,
        published_at=_entry_date(entry) or fetched_at,
        title=title or None,
        author=author,
        kind="article",
        extra={"feed": feed_url},
    )


def unwrap_google_link(url: str) -> str:
    """https://www.google.com/url?...&url=REAL (Google Alerts) -> REAL; other URLs unchanged."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.path != "/url" or not (host.startswith("google.") or ".google." in host):
        return url
    query = parse_qs(parts.query)
    real = (query.get("url") or query.get("q") or [""])[0]
    return real if real.startswith(("http://", "https://")) else url


def _entry_body(entry: Any) -> str:
    # Full content when the feed has it (Atom <content>, RSS content:encoded), else the summary.
    candidates = [(c.get("value", ""), c) for c in entry.get("content", [])]
    candidates.append((entry.get("summary", ""), entry.get("summary_detail")))
    texts = [_detail_text(value, detail) for value, detail in candidates]
    return max(texts, key=len, default="")


def _detail_text(value: str, detail: Any) -> str:
    content_type = (detail or {}).get("type", "text/html")
    if "html" in content_type:
        return html_to_text(value)
    return tidy_text(value)


def _entry_date(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed:
            # feedparser has already normalised these struct_times to UTC.
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return None


def _one_line(exc: BaseException | None) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
