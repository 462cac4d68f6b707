"""VK's answers as RawItems: posts and comments with their authors, reach and counters."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

from monitor.items import RawItem

VK_WEB = "https://vk.com"
# VK's markup, of which people read only the part after "|": mentions "[id123|Анна]",
# "[club1|Сбер]" (public, event too) and links "[https://vk.com/sberbank|Сбера]", "[vk.com/sber|тут]".
_MARKUP = re.compile(
    r"\[(?:(?:id|club|public|event)\d+|(?:https?://|(?:m\.)?vk\.(?:com|ru)/)[^\s|\]]+)\|([^\]]*)\]"
)
# VK's old API sent texts as HTML ("<br>" for a new line, "&quot;"), its long poll still does: such a
# text reads as plain text. Only these few entities, so that a plain "&" never turns into another.
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:quot|amp|lt|gt|apos|#\d{1,6}|#x[0-9a-f]{1,6});", re.IGNORECASE)


class Authors:
    """Names and reach of the users and communities an extended=1 answer lists."""

    def __init__(self, answer: Any):
        self._people: dict[int, tuple[str, int | None]] = {}
        answer = answer if isinstance(answer, dict) else {}
        for profile in answer.get("profiles") or []:
            if isinstance(profile, dict) and isinstance(profile.get("id"), int):
                name = f"{profile.get('first_name', '')} {profile.get('last_name', '')}".strip()
                self._people[profile["id"]] = (name, _number(profile.get("followers_count")))
        for group in answer.get("groups") or []:
            if isinstance(group, dict) and isinstance(group.get("id"), int):
                self._people[-group["id"]] = (str(group.get("name", "")), _number(group.get("members_count")))

    def describe(self, author_id: int) -> tuple[str | None, str, int | None]:
        """(name, page URL, followers or members) of a user (id > 0) or community (id < 0)."""
        name, reach = self._people.get(author_id, (None, None))
        url = f"{VK_WEB}/id{author_id}" if author_id > 0 else f"{VK_WEB}/club{-author_id}"
        return name or None, url, reach


def post_item(
    source: str, post: dict[str, Any], authors: Authors, community: str | None = None
) -> RawItem | None:
    owner_id, post_id = int(post["owner_id"]), int(post["id"])
    text = _text(post.get("text"))
    # Read from a watched community's wall: which one, for the pipeline to credit a brand even when
    # the text never names it (the brand's own posts, complaints in comments under them).
    extra = _community_marks(community)
    copies = [copy for copy in post.get("copy_history") or [] if isinstance(copy, dict)]
    if copies:
        # A repost: copy_history holds the reposted post, then the one that post reposted, down to
        # the original. The reposter often adds only «Жесть 😡»: the brand is named in the copies,
        # so their words count too; the reach is the reposter's.
        text = "\n\n".join(part for part in (text, *(_text(copy.get("text")) for copy in copies)) if part)
        extra["repost_of"] = f"wall{copies[-1].get('owner_id')}_{copies[-1].get('id')}"
    if not text:
        return None
    author, author_url, reach = authors.describe(int(post.get("from_id") or owner_id))
    return RawItem(
        source=source,
        external_id=f"wall{owner_id}_{post_id}",
        url=f"{VK_WEB}/wall{owner_id}_{post_id}",
        text=text,
        published_at=_utc(post["date"]),
        author=author,
        author_url=author_url,
        author_reach=reach,
        likes=count_of(post, "likes"),
        reposts=count_of(post, "reposts"),
        comments=count_of(post, "comments"),
        views=count_of(post, "views"),
        kind="post",
        extra=extra,
    )


def search_item(source: str, found: dict[str, Any], authors: Authors) -> RawItem | None:
    """A newsfeed.search result: mostly posts, but a comment that names the brand comes too, as
    post_type "reply" with the id of the post it is under in `post_id` (its own `id` is no post's)."""
    post_id = found.get("post_id")
    if found.get("post_type") == "reply" and isinstance(post_id, int):
        return comment_item(source, int(found["owner_id"]), post_id, found, authors)
    return post_item(source, found, authors)


def comment_item(
    source: str,
    owner_id: int,
    post_id: int,
    comment: dict[str, Any],
    authors: Authors,
    community: str | None = None,
) -> RawItem | None:
    text = _text(comment.get("text"))
    if not text or comment.get("deleted"):
        return None
    comment_id = int(comment["id"])
    author, author_url, reach = authors.describe(int(comment["from_id"]))
    thread = comment.get("thread") or {}
    return RawItem(
        source=source,
        external_id=f"wall{owner_id}_{post_id}_r{comment_id}",
        url=f"{VK_WEB}/wall{owner_id}_{post_id}?reply={comment_id}",
        text=text,
        published_at=_utc(comment["date"]),
        author=author,
        author_url=author_url,
        author_reach=reach,
        likes=count_of(comment, "likes"),
        comments=_number(thread.get("count")),
        kind="comment",
        parent_external_id=f"wall{owner_id}_{post_id}",
        extra=_community_marks(community),
    )


def _community_marks(community: str | None) -> dict[str, str]:
    """The watched community an item was read from, as configured, and as the place it is stored
    under (monitor/brand_places.py ties a brand's own community to the brand)."""
    return {"community": community, "place": f"vk:{community}"} if community else {}


def _text(value: Any) -> str:
    """The text as people read it: "[id123|Анна], здравствуйте" is "Анна, здравствуйте"."""
    if not isinstance(value, str):
        return ""
    value = _ENTITY.sub(lambda entity: html.unescape(entity.group()), _BREAK.sub("\n", value))
    return _MARKUP.sub(r"\1", value).strip()


def count_of(obj: dict[str, Any], name: str) -> int | None:
    """likes / reposts / views / comments come as {"count": n, ...}."""
    counter = obj.get(name)
    return _number(counter.get("count")) if isinstance(counter, dict) else None


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def int_or_zero(value: Any) -> int:
    """An id, date or count from VK; 0 when it is missing or not a number."""
    return _number(value) or 0


def _utc(timestamp: Any) -> datetime:
    return datetime.fromtimestamp(int(timestamp), UTC)
