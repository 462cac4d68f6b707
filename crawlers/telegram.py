"""Public Telegram channels read through the web preview t.me/s/<channel>: no account, no API key.

Pages go backwards with ?before=<smallest id on the page> until the last post seen (kept per
channel in the cursor) or max_pages. A Telethon user-session source (groups, closed channels) comes later.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
from parsel import Selector

from crawlers.antibot import raise_if_blocked
from crawlers.base import Batch, Cursor
from crawlers.http import combine_failures, fetch, html_to_text, tidy_text
from monitor.config import BrandConfig, TelegramSource
from monitor.errors import SourceError, SourceUnavailable
from monitor.items import RawItem

CANONICAL_BASE = "https://t.me"
# Between two pages of one channel: t.me answers 429 to clients that page quickly.
PAGE_DELAY_SECONDS = 1.0

# "1.2K" as t.me writes in English, "1,2 тыс." as Russian pages do.
_MULTIPLIERS = {
    "K": 1_000,
    "M": 1_000_000,
    "B": 1_000_000_000,
    "ТЫС": 1_000,
    "МЛН": 1_000_000,
    "МЛРД": 1_000_000_000,
}
_COUNT = re.compile(r"^(?P<number>\d[\d.,]*)(?P<suffix>[A-ZА-Я]*)\.?$")
# The audience counter: "subscribers" on channels, "members" on groups and some channels; in Russian
# "подписчиков" / "участников". Stems, to match every plural form.
_AUDIENCE_WORDS = ("subscriber", "member", "подписчик", "участник")
# A post's own media blocks by their class on t.me. The thumbnail in a reply quote or a link
# preview has classes of its own, so the quoted post's photo is not counted as this post's.
_MEDIA_KINDS = (
    ("photo", ".tgme_widget_message_photo_wrap"),
    ("video", ".tgme_widget_message_video_player, .tgme_widget_message_roundvideo_thumb"),
    ("sticker", ".tgme_widget_message_sticker_wrap, .tgme_widget_message_sticker"),
    ("voice", ".tgme_widget_message_voice"),
    ("document", ".tgme_widget_message_document_wrap"),
    ("poll", ".tgme_widget_message_poll"),
    ("location", ".tgme_widget_message_location_wrap"),
    # The stub t.me shows instead of media it cannot play in a browser ("VIEW IN TELEGRAM").
    ("unsupported", ".message_media_not_supported"),
)


@dataclass(frozen=True)
class Message:
    channel: str
    id: int
    text: str
    published_at: datetime | None
    views: int | None
    owner_name: str | None
    forwarded_from: str | None
    # Kinds of media the post carries ("photo", "poll"...): many posts are a photo and no text.
    media: tuple[str, ...]
    # "Channel created", "pinned «...»", "photo updated": Telegram's notices, nobody's words.
    service: bool


@dataclass(frozen=True)
class ChannelPage:
    title: str | None
    # The channel's audience, whether t.me counts it as subscribers or as members.
    subscribers: int | None
    # Every post on the page, oldest first, including service messages and posts without text.
    messages: list[Message]
    # The page has t.me's message history: it is a channel preview, even when no post is on it.
    preview: bool
    # t.me's "No posts found" notice, which it also shows instead of posts when it throttles.
    no_posts_notice: bool


class TelegramCrawler:
    kind: ClassVar[str] = "telegram"

    def __init__(self, client: httpx.Client | None = None, sleep: Callable[[float], None] = time.sleep):
        self.client = client
        self.sleep = sleep

    def fetch(self, source: TelegramSource, cursor: Cursor | None, brands: list[BrandConfig]) -> Batch:
        """Posts newer than the last one seen in each channel; a failed channel is a warning."""
        previous: dict[str, Any] = (cursor or {}).get("channels", {})
        channels_state: dict[str, Any] = {}
        items: list[RawItem] = []
        warnings: list[str] = []
        failures: list[SourceError] = []
        for configured in source.channels:
            channel = channel_name(configured)
            # Usernames are case-insensitive: @RetailNews and @retailnews share one cursor entry.
            key = channel.lower()
            last_id = int(previous.get(key, {}).get("last_id", 0))
            channels_state[key] = {"last_id": last_id}
            try:
                channel_items, channel_warnings, newest = self._read_channel(source, channel, last_id)
            except SourceError as exc:
                failures.append(exc)
                warnings.append(str(exc))
                continue
            items.extend(channel_items)
            warnings.extend(channel_warnings)
            channels_state[key] = {"last_id": max(last_id, newest)}
        if failures and len(failures) == len(source.channels):
            raise combine_failures(source.name, "channels", failures)
        return Batch(items=items, cursor={"channels": channels_state}, warnings=warnings)

    def _read_channel(
        self, source: TelegramSource, channel: str, last_id: int
    ) -> tuple[list[RawItem], list[str], int]:
        """Items newer than last_id, warnings, and the newest post id seen (with or without text)."""
        preview = f"{source.base_url.rstrip('/')}/s/{channel}"
        found: dict[int, RawItem] = {}
        warnings: list[str] = []
        newest = 0
        before: int | None = None
        for page_number in range(1, source.max_pages + 1):
            if before is not None:
                self.sleep(PAGE_DELAY_SECONDS)
            url = preview if before is None else f"{preview}?before={before}"
            try:
                result = fetch(
                    url,
                    timeout=source.timeout,
                    max_bytes=source.max_bytes,
                    source=source.name,
                    client=self.client,
                    sleep=self.sleep,
                )
                page = _preview_page(result.text, result.url, url, source.name)
            except SourceError as exc:
                if before is None:
                    raise
                return _kept_newer(found, warnings, str(exc))
            if not page.messages:
                if page_number == 1:
                    warnings.append(_empty_first_page(page, url, source.name))
                elif last_id:
                    # Posts between the cursor and this page were never read: t.me answers an
                    # older page with "No posts found" when it throttles, not with an error.
                    return _kept_newer(
                        found,
                        warnings,
                        f"{source.name}: {url}: no posts on an older page although those after "
                        f'#{last_id} are not read yet (t.me throttles with "No posts found")',
                    )
                # Without a cursor an empty older page is the start of the channel.
                break
            with_text = [m for m in page.messages if m.text]
            posts = [m for m in page.messages if not m.service]
            # A page of photos or stickers without captions is normal; posts that carry neither
            # text nor any media we know mean the markup changed under us.
            if posts and not with_text and not all(m.media for m in posts):
                warnings.append(
                    f"{source.name}: {url}: {len(page.messages)} posts but no text in any; "
                    "t.me may have changed its layout"
                )
            for message in with_text:
                if message.id > last_id:
                    found[message.id] = _to_item(message, page, source.name)
            newest = max(newest, page.messages[-1].id)
            oldest = page.messages[0].id
            # The last condition guards against a server that ignores ?before= and repeats the page.
            if oldest <= last_id + 1 or oldest <= 1 or (before is not None and oldest >= before):
                break
            before = oldest
        else:
            if last_id:
                warnings.append(
                    f"{source.name}: {preview}: more than {source.max_pages} pages of new posts; "
                    "older ones were skipped (raise max_pages or crawl more often)"
                )
        return [found[post_id] for post_id in sorted(found)], warnings, newest


def channel_name(configured: str) -> str:
    """'@name', 'name', 't.me/name', 'https://t.me/s/name' -> 'name'."""
    name = configured.strip()
    if "/" in name:
        segments = [s for s in urlsplit(name if "//" in name else "//" + name).path.split("/") if s]
        segments = segments[1:] if segments[:1] == ["s"] else segments
        name = segments[0] if segments else ""
    return name.lstrip("@")


def parse_channel_page(html: str) -> ChannelPage:
    """The posts and channel header of one t.me/s page."""
    page = Selector(text=html)
    title = tidy_text(" ".join(page.css(".tgme_channel_info_header_title ::text").getall())) or None
    messages = []
    for post in page.css("div.tgme_widget_message[data-post]"):
        channel, _, number = (post.attrib.get("data-post") or "").partition("/")
        if not channel or not number.isdigit():
            continue
        # Service messages ("channel created", "photo updated") keep their place in the id sequence,
        # which paging relies on, but carry no text of anyone's.
        service = "service_message" in (post.attrib.get("class") or "").split()
        text_node = None if service else _own_text_node(post)
        text = html_to_text(text_node.get()) if text_node is not None else ""
        if not text and not service:
            # A poll has no caption: its question and options are the words that name brands.
            text = _poll_text(post)
        owner = tidy_text(" ".join(post.css(".tgme_widget_message_owner_name ::text").getall()))
        forwarded = tidy_text(" ".join(post.css(".tgme_widget_message_forwarded_from_name ::text").getall()))
        messages.append(
            Message(
                channel=channel,
                id=int(number),
                text=text,
                published_at=_post_date(post),
                views=parse_count(" ".join(post.css(".tgme_widget_message_views::text").getall())),
                owner_name=owner or None,
                forwarded_from=forwarded or None,
                media=tuple(kind for kind, selector in _MEDIA_KINDS if post.css(selector)),
                service=service,
            )
        )
    messages.sort(key=lambda m: m.id)
    return ChannelPage(
        title=title,
        subscribers=_subscribers(page),
        messages=messages,
        preview=bool(page.css(".tgme_channel_history")),
        no_posts_notice=bool(page.css(".tme_no_messages_found")),
    )


def parse_count(text: str) -> int | None:
    """'987' -> 987, '1.2K' -> 1200, '3,4K' -> 3400, '12.5M' -> 12500000, '1 234' -> 1234,
    '1,2 тыс.' -> 1200."""
    match = _COUNT.match("".join(text.split()).upper())
    if not match:
        return None
    suffix = match.group("suffix")
    if suffix and suffix not in _MULTIPLIERS:
        return None
    multiplier = _MULTIPLIERS.get(suffix, 1)
    # A comma is a decimal point with a suffix (3,4K) and a thousands separator without (1,234).
    number = match.group("number").replace(",", "." if multiplier > 1 else "")
    try:
        return int(Decimal(number) * multiplier)
    except InvalidOperation:
        return None


def _own_text_node(post: Selector) -> Selector | None:
    # A reply quotes the original's text and a link preview carries the linked page's text, both
    # under the same class and before the post's own text in the document.
    for node in post.css(".tgme_widget_message_text"):
        if "js-message_reply_text" in (node.attrib.get("class") or ""):
            continue
        if node.xpath(
            "ancestor::*[contains(@class, 'tgme_widget_message_reply') or contains(@class, 'link_preview')]"
        ):
            continue
        return node
    return None


def _poll_text(post: Selector) -> str:
    """The poll's question and options, one a line; "" for a post without a poll."""
    nodes = post.css(".tgme_widget_message_poll_question, .tgme_widget_message_poll_option_text")
    return "\n".join(line for line in (html_to_text(node.get()) for node in nodes) if line)


def _post_date(post: Selector) -> datetime | None:
    value = post.css(".tgme_widget_message_date time::attr(datetime)").get()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    # The preview writes UTC; a time without a zone is read as UTC, never as the host's zone.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _subscribers(page: Selector) -> int | None:
    """The audience from the channel card's counters, else from the header ("1.2K members")."""
    for counter in page.css(".tgme_channel_info_counter"):
        kind = " ".join(counter.css(".counter_type::text").getall()).lower()
        if any(word in kind for word in _AUDIENCE_WORDS):
            return parse_count(" ".join(counter.css(".counter_value::text").getall()))
    header = " ".join(" ".join(page.css(".tgme_header_counter ::text").getall()).split()).lower()
    for word in _AUDIENCE_WORDS:
        if word in header:
            return parse_count(header.partition(word)[0])
    return None


def _preview_page(html: str, final_url: str, url: str, source: str) -> ChannelPage:
    """The channel page t.me answered; SourceUnavailable when the answer is not a channel preview."""
    # A channel without a public preview (private, a group, a user or bot, no such name) is
    # redirected from /s/<name> to its card at /<name>, which has no posts to read.
    if "/s/" not in urlsplit(final_url).path:
        raise SourceUnavailable(
            source,
            f"{url}: the channel has no public web preview (redirected to {final_url}); "
            "check the channel name",
        )
    page = parse_channel_page(html)
    # The same card served without a redirect: no message history at all, not an empty channel.
    if not page.messages and not page.preview:
        raise_if_blocked(html, None, 200, source, url)
        raise SourceUnavailable(
            source,
            f"{url}: not a channel preview (no message history on the page): the channel is private, "
            "is a group, a user or a bot, or does not exist; check the channel name",
        )
    return page


def _empty_first_page(page: ChannelPage, url: str, source: str) -> str:
    if page.no_posts_notice:
        return (
            f'{source}: {url}: t.me answered "No posts found", as it does when it throttles; '
            "the channel is read again at the next run"
        )
    return f"{source}: {url}: no messages found on the page; the channel is empty, or t.me changed its layout"


def _kept_newer(
    found: dict[int, RawItem], warnings: list[str], reason: str
) -> tuple[list[RawItem], list[str], int]:
    """An older page failed. Keep the newer posts but not the cursor: the next run starts again
    from the top and fills the gap (the store drops the posts it already has)."""
    warnings.append(f"{reason}; kept {len(found)} newer posts, the rest on the next run")
    return [found[post_id] for post_id in sorted(found)], warnings, 0


def _to_item(message: Message, page: ChannelPage, source: str) -> RawItem:
    extra = {"forwarded_from": message.forwarded_from} if message.forwarded_from else {}
    return RawItem(
        source=source,
        external_id=f"{message.channel}/{message.id}",
        url=f"{CANONICAL_BASE}/{message.channel}/{message.id}",
        text=message.text,
        published_at=message.published_at,
        author=page.title or message.owner_name or message.channel,
        author_url=f"{CANONICAL_BASE}/{message.channel}",
        author_reach=page.subscribers,
        views=message.views,
        kind="message",
        extra=extra,
    )
