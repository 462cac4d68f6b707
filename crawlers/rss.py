"""RSS and Atom feeds (news sites, blogs, forum feeds, Google Alerts) read with feedparser.

Per feed URL the cursor keeps the ETag / Last-Modified for a conditional GET and the ids already
returned, so a run yields only new entries. One broken feed is a warning; all broken is an error.
"""

from __future__ import annotations

import calendar
import email.utils
import hashlib
import html
import io
import re
import time
import xml.sax
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar
from urllib.parse import parse_qs, urljoin, urlsplit

import feedparser
import httpx

from crawlers.antibot import raise_if_blocked
from crawlers.base import Batch, Cursor
from crawlers.feed_charset import with_right_charset, without_leading_space
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
# HTML entities (&nbsp; &laquo; &mdash;) outside CDATA are not XML, so the strict parser stops, but
# the loose one reads them exactly as a browser would: nothing is lost. Russian CMSs emit them a lot.
_HARMLESS_SAX_ERRORS = frozenset({"undefined entity"})

# <yandex:full-text> (Yandex.News feeds: RBC, Interfax, regional news), <rbc_news:full-text>,
# <rambler:full-text>, <turbo:content> (Yandex Turbo feeds): the whole article, where <description>
# is often only the lead. feedparser keeps unknown elements under "<prefix>_<name>".
_FULL_TEXT_SUFFIXES = ("_full-text", "_fulltext")
_FULL_TEXT_KEYS = frozenset({"turbo_content"})

# Zone names feedparser does not know: it reads "09:15:00 MSK" as 09:15 UTC, three hours off.
_ZONE_HOURS = {
    "msk": 3, "мск": 3, "msd": 4, "kalt": 2, "samt": 4, "yekt": 5, "omst": 6, "novt": 7,
    "krat": 7, "irkt": 8, "yakt": 9, "vlat": 10, "magt": 11, "sakt": 11, "pett": 12,
}  # fmt: skip
# "... MSK" or "... GMT+3" / "UTC+03:00" at the end of a date (feedparser drops or misreads both).
_TRAILING_ZONE = re.compile(
    r"\s(?:(?P<name>[^\W\d_]{3,4})|(?:GMT|UTC)(?P<sign>[+-])(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?)\s*$",
    re.IGNORECASE,
)
# Placeholder dates: date('r', 0) from an empty field (1 January 1970), "0001-01-01", a typo'd year.
# Nothing was published in RSS before 1995; a few hours ahead is a wrong zone, days ahead is junk.
_EARLIEST_PUBLICATION = datetime(1995, 1, 1, tzinfo=UTC)
_LATEST_AHEAD = timedelta(days=2)


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
            raise_if_blocked(result.text, result.headers, result.status, source.name, url)
            content_type = result.headers.get("content-type", "no Content-Type")
            raise SourceFormatError(
                source.name, f"{url}: not an RSS or Atom feed ({content_type}); check the URL"
            )
        warnings = []
        fetched_at = utcnow()
        seen = set(state.get("seen", []))
        entries: list[tuple[RawItem, str]] = []
        for position, entry in enumerate(parsed.entries, start=1):
            try:
                item = entry_to_item(entry, source.name, result.url, fetched_at)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                warnings.append(f"{source.name}: {url}: entry {position} skipped: {_one_line(exc)}")
                continue
            if item is not None:
                entries.append((item, content_id(entry, item.url, item.title or "", item.text)))
        read = _split_shared_ids(entries)
        current_ids = [item.external_id for item, _ in read]
        # An entry once told apart by its content keeps that identity when it is later alone on its link.
        items = [item for item, by_content in read if item.external_id not in seen and by_content not in seen]
        problem = parsed.get("bozo_exception")
        if parsed.get("bozo") and not _harmless(problem):
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
    body = without_leading_space(result.body)
    content_type = result.headers.get("content-type", "application/xml")
    body, charset = with_right_charset(body, content_type)
    if charset:
        content_type = f"{content_type.split(';')[0].strip() or 'application/xml'}; charset={charset}"
    # No Content-Location on purpose: with a base URL feedparser also "resolves" guids that are not
    # URLs ("news-123" -> "https://site/feeds/news-123"), and ids would change when a feed moves.
    # Links are resolved against the feed URL in entry_to_item instead.
    headers = {"content-type": content_type}
    # A BytesIO, never the bytes themselves: feedparser treats a str/bytes that looks like a URL
    # or a file name as something to open.
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    if _read_loosely(parsed):
        # The loose parser leaves elements it does not know one level escaped ("&lt;p&gt;",
        # "&amp;laquo;"), where the strict one gives "<p>" and "&laquo;".
        for entry in parsed.entries:
            for key in _full_text_keys(entry):
                entry[key] = html.unescape(entry[key])
    return parsed


def _read_loosely(parsed: feedparser.FeedParserDict) -> bool:
    """True when feedparser fell back to its loose parser (the strict one gave up on the XML)."""
    problem = parsed.get("bozo_exception")
    strict_failed = parsed.get("bozo") and not isinstance(problem, feedparser.ThingsNobodyCaresAboutButMe)
    return bool(strict_failed or not parsed.get("encoding"))


def _harmless(problem: BaseException | None) -> bool:
    if isinstance(problem, _HARMLESS_BOZO):
        return True
    return isinstance(problem, xml.sax.SAXParseException) and problem.getMessage() in _HARMLESS_SAX_ERRORS


def entry_to_item(entry: Any, source: str, feed_url: str, fetched_at: datetime) -> RawItem | None:
    """One feed entry as a RawItem; None when it has neither title nor text."""
    title = _detail_text(entry.get("title", ""), entry.get("title_detail"))
    body = _entry_body(entry)
    if not title and not body:
        return None
    link = entry.get("link") or ""
    link = unwrap_google_link(urljoin(feed_url, link)) if link else ""
    if not body:
        text = title
    elif title and not body.startswith(title):
        text = f"{title}\n{body}"
    else:
        text = body
    if entry.get("id"):
        external_id = entry["id"]
    elif link and not _is_site_root(link):
        external_id = link
    elif link:
        # Every entry links to the site's home page: the link names no entry.
        external_id = content_id(entry, link, title, text)
    else:
        # Neither guid nor link (some forum and bridge feeds): what the entry says is all that
        # identifies it, and the same entry hashes the same on every run.
        external_id = "sha1:" + hashlib.sha1(f"{title}\n{body}".encode()).hexdigest()
    author_detail = entry.get("author_detail") or {}
    author = tidy_text(author_detail.get("name") or entry.get("author") or "") or None
    return RawItem(
        source=source,
        external_id=external_id,
        url=link or feed_url,
        text=text,
        published_at=_plausible(_entry_date(entry), fetched_at) or fetched_at,
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


def content_id(entry: Any, link: str, title: str, text: str) -> str:
    """An entry's identity from what it says: its link, title, date as written and text."""
    written_date = entry.get("published") or entry.get("updated") or ""
    return "sha1:" + hashlib.sha1(f"{link}\n{title}\n{written_date}\n{text}".encode()).hexdigest()


def _is_site_root(link: str) -> bool:
    parts = urlsplit(link)
    return parts.path in ("", "/") and not parts.query


def _split_shared_ids(entries: list[tuple[RawItem, str]]) -> list[tuple[RawItem, str]]:
    """Entries of one fetch that share an id are told apart by their links, else by their content.

    Some CMSs give every item the same guid (the site's URL, "0"), or no guid and the same link
    (a category page); keyed by that alone, all but the first would be dropped as already seen.
    Entries that say exactly the same thing stay one. Only entries in the same fetch are compared:
    a guid reused for a new article in a later fetch, when the old one has left the feed, still
    reads as seen. Pairs are (item, its content id).
    """
    links_by_id: dict[str, set[str]] = {}
    for item, _ in entries:
        links_by_id.setdefault(item.external_id, set()).add(item.url)
    by_link = [
        (replace(item, external_id=item.url) if len(links_by_id[item.external_id]) > 1 else item, by_content)
        for item, by_content in entries
    ]
    contents_by_id: dict[str, set[str]] = {}
    for item, by_content in by_link:
        contents_by_id.setdefault(item.external_id, set()).add(by_content)
    return [
        (
            replace(item, external_id=by_content) if len(contents_by_id[item.external_id]) > 1 else item,
            by_content,
        )
        for item, by_content in by_link
    ]


def _entry_body(entry: Any) -> str:
    # The fullest text the feed has: Atom <content>, RSS content:encoded, the Yandex / RBC
    # full-text extensions or the summary, whichever is longest.
    candidates = [(c.get("value", ""), c) for c in entry.get("content", [])]
    candidates.append((entry.get("summary", ""), entry.get("summary_detail")))
    # These are HTML or plain text with entities; html_to_text reads both.
    candidates.extend((entry[key], None) for key in _full_text_keys(entry))
    texts = [_detail_text(value, detail) for value, detail in candidates]
    return max(texts, key=len, default="")


def _full_text_keys(entry: Any) -> list[str]:
    return [
        key
        for key, value in entry.items()
        if isinstance(value, str) and (key in _FULL_TEXT_KEYS or key.endswith(_FULL_TEXT_SUFFIXES))
    ]


def _detail_text(value: str, detail: Any) -> str:
    content_type = (detail or {}).get("type", "text/html")
    if "html" in content_type:
        return html_to_text(value)
    return tidy_text(value)


def _plausible(published: datetime | None, fetched_at: datetime) -> datetime | None:
    """The date, or None when it is a placeholder (1970, year 1) or far in the future."""
    if published is None or published < _EARLIEST_PUBLICATION or published > fetched_at + _LATEST_AHEAD:
        return None
    return published


def _entry_date(entry: Any) -> datetime | None:
    for key in ("published", "updated"):
        zoned = _date_with_zone_name(entry.get(key) or "")
        if zoned:
            return zoned
        parsed = entry.get(f"{key}_parsed")
        if parsed:
            # feedparser has already normalised these struct_times to UTC.
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return None


def _date_with_zone_name(raw: str) -> datetime | None:
    """ "Mon, 03 Mar 2025 09:15:00 MSK" or "... GMT+3" in UTC; None for any other date."""
    match = _TRAILING_ZONE.search(raw)
    if not match:
        return None
    if match.group("name"):
        hours = _ZONE_HOURS.get(match.group("name").lower())
        if hours is None:
            return None
        offset = timedelta(hours=hours)
    else:
        offset = timedelta(hours=int(match.group("hours")), minutes=int(match.group("minutes") or 0))
        offset = -offset if match.group("sign") == "-" else offset
        if abs(offset) >= timedelta(hours=24):
            return None  # "GMT+30": no zone; feedparser's reading, or none, is as good as any
    rest = raw[: match.start()].strip()
    fields = email.utils.parsedate_tz(rest)
    try:
        local = datetime(*fields[:6]) if fields else datetime.fromisoformat(rest)
    except ValueError:
        return None
    if local.tzinfo is not None:
        return None
    return local.replace(tzinfo=timezone(offset)).astimezone(UTC)


def _one_line(exc: BaseException | None) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
