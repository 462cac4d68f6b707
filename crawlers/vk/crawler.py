"""VkCrawler: brand searches and community walls, each resumed from its part of the cursor."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar
from urllib.parse import urlsplit

from pydantic import SecretStr

from crawlers.base import Batch, Cursor
from crawlers.http import combine_failures
from crawlers.vk.client import MAX_EXECUTE_CALLS, MIN_CALL_INTERVAL, InnerCall, RateLimiter, VkCalls
from crawlers.vk.parse import Authors, comment_item, count_of, int_or_zero, post_item, search_item
from monitor.config import BrandConfig, VkSource
from monitor.errors import SourceAuthError, SourceError, SourceFormatError
from monitor.items import RawItem
from monitor.secrets import VK_TOKEN, secret

SEARCH_PAGE_SIZE = 200
WALL_PAGE_SIZE = 50
COMMENT_PAGE_SIZE = 100
REPLIES_PER_THREAD = 10
# Comments are re-read under the pinned posts and this many newest ones, whenever their count moves.
COMMENTED_POSTS = 10
# Search indexes posts with a delay: each run looks back this far before the newest date it saw.
SEARCH_OVERLAP_SECONDS = 600
# Asks for the authors (profiles, groups) with the numbers that make their reach.
_EXTENDED = {"extended": 1, "fields": "followers_count,members_count,screen_name"}
_COMMENT_PARAMS = {
    "count": COMMENT_PAGE_SIZE,
    "sort": "desc",
    "need_likes": 1,
    "preview_length": 0,
    "thread_items_count": REPLIES_PER_THREAD,
    **_EXTENDED,
}


class VkCrawler:
    kind: ClassVar[str] = "vk"

    def __init__(
        self,
        token: SecretStr | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        """`token` overrides VK_TOKEN from the environment (the demo passes its fake server's)."""
        self.token = token
        self.sleep = sleep
        # One limiter per crawler: VK counts calls per token, across all vk sources.
        self.limiter = RateLimiter(MIN_CALL_INTERVAL, clock, sleep)

    def fetch(self, source: VkSource, cursor: Cursor | None, brands: list[BrandConfig]) -> Batch:
        """New posts and comments of each community, and search results newer than the cursor."""
        token = self.token or secret(VK_TOKEN)
        if token is None:
            raise SourceAuthError(
                source.name, f"{VK_TOKEN} is not set: put a VK user access token in the environment"
            )
        calls = VkCalls(source, token, self.limiter, self.sleep)
        try:
            return self._fetch(_Run(source, calls), cursor or {}, brands)
        finally:
            calls.close()

    def _fetch(self, run: _Run, previous: Cursor, brands: list[BrandConfig]) -> Batch:
        # Walls first: a post found both on a watched wall and by search keeps its "community" mark.
        groups: dict[str, Any] = {}
        for configured in run.source.groups:
            key, owner_id = community_ref(configured)
            state = dict(previous.get("groups", {}).get(key, {}))
            if owner_id is not None:
                state["owner_id"] = owner_id
            groups[key] = run.unit(state, run.community, key, state)
        queries: dict[str, Any] = {}
        for term in search_terms(run.source, brands):
            key = term.casefold()
            state = dict(previous.get("queries", {}).get(key, {}))
            queries[key] = run.unit(state, run.search, term, state)
        if run.failures and len(run.failures) == len(queries) + len(groups):
            raise combine_failures(run.source.name, "queries and communities", run.failures)
        return Batch(list(run.items.values()), {"queries": queries, "groups": groups}, run.warnings)


def search_terms(source: VkSource, brands: list[BrandConfig]) -> list[str]:
    """Names and aliases of the source's brands (all brands when it lists none), each once."""
    terms: dict[str, str] = {}
    for brand in brands:
        if not source.brands or brand.name in source.brands:
            for term in brand.terms:
                terms.setdefault(term.casefold(), term)
    return list(terms.values())


def community_ref(configured: str) -> tuple[str, int | None]:
    """'vkusmarket', '@vkusmarket', 'vk.com/vkusmarket' -> ('vkusmarket', None);
    '-123', 'club123', 'public123' -> ('-123', -123): the cursor key, and the owner id when known."""
    name = configured.strip()
    if "/" in name:
        name = urlsplit(name if "//" in name else "//" + name).path.strip("/").split("/")[0]
    name = name.lstrip("@").lower()
    number = re.fullmatch(r"(?:club|public|event|-)?(\d+)", name)
    if number:
        return f"-{number.group(1)}", -int(number.group(1))
    return name, None


class _Run:
    """The state of one fetch: items found so far (by external id), warnings and failed units."""

    def __init__(self, source: VkSource, call: VkCalls):
        self.source = source
        self.call = call
        self.items: dict[str, RawItem] = {}
        self.warnings: list[str] = []
        self.failures: list[SourceError] = []

    def unit(self, old: dict[str, Any], read: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        """Read one query or community; when it fails, note why and keep its cursor state as it was."""
        try:
            return read(*args)
        except SourceError as exc:
            self.failures.append(exc)
            self.warnings.append(str(exc))
            return old

    def search(self, term: str, state: dict[str, Any]) -> dict[str, Any]:
        label = f"search «{term}»"
        last_date = int_or_zero(state.get("last_date"))
        params: dict[str, Any] = {"q": term, "count": SEARCH_PAGE_SIZE, **_EXTENDED}
        if last_date:
            params["start_time"] = last_date - SEARCH_OVERLAP_SECONDS
        newest = last_date
        for _ in range(self.source.max_pages):
            answer = self.call(label, "newsfeed.search", **params)
            posts, authors = self._page(answer, label, "newsfeed.search")
            for post in posts:
                self._add(label, partial(search_item, self.source.name, post, authors))
                newest = max(newest, int_or_zero(post.get("date")))
            params["start_from"] = answer.get("next_from")
            if not posts or not params["start_from"]:
                break
        else:
            self._warn_truncated(label, "results")
        return {"last_date": newest} if newest else {}

    def community(self, key: str, state: dict[str, Any]) -> dict[str, Any]:
        label = f"community {key}"
        if not state.get("owner_id"):
            # Resolved once: the id stays in the cursor even when the rest of this run fails.
            state["owner_id"] = self._resolve(label, key)
        owner_id = state["owner_id"]
        last_post_id = int_or_zero(state.get("last_post_id"))
        newest, offset = last_post_id, 0
        newest_posts: list[dict[str, Any]] = []
        for _ in range(self.source.max_pages):
            answer = self.call(
                label, "wall.get", owner_id=owner_id, offset=offset, count=WALL_PAGE_SIZE, **_EXTENDED
            )
            posts, authors = self._page(answer, label, "wall.get")
            for post in posts:
                if int_or_zero(post.get("id")) > last_post_id:
                    self._add(label, partial(post_item, self.source.name, post, authors, key))
                newest = max(newest, int_or_zero(post.get("id")))
            newest_posts = newest_posts or posts
            offset += len(posts)
            # A pinned post may be old: only the ordinary ones say where the news ends.
            if any(int_or_zero(p.get("id")) <= last_post_id for p in posts if not p.get("is_pinned")):
                break
            if not posts or offset >= int_or_zero(answer.get("count")):
                break
        else:
            if last_post_id:
                self._warn_truncated(label, "new posts")
        comments: dict[str, Any] = {}
        if self.source.with_comments:
            pinned = [p for p in newest_posts if p.get("is_pinned")]
            recent = [p for p in newest_posts if not p.get("is_pinned")][:COMMENTED_POSTS]
            posts = [p for p in pinned + recent if isinstance(p.get("id"), int)]
            comments = self._comments_of(label, key, owner_id, posts, state.get("comments", {}))
        return {"owner_id": owner_id, "last_post_id": newest, "comments": comments}

    def _comments_of(
        self, label: str, community: str, owner_id: int, posts: list[dict[str, Any]], seen: dict[str, Any]
    ) -> dict[str, Any]:
        """The comments cursor of each post. First pages of the posts whose comment count moved come
        MAX_EXECUTE_CALLS to a request through VK's execute; further pages one call each."""
        states = {str(post["id"]): seen.get(str(post["id"]), {}) for post in posts}
        due = [
            p for p in posts if (count_of(p, "comments") or 0) not in (0, states[str(p["id"])].get("count"))
        ]
        for start in range(0, len(due), MAX_EXECUTE_CALLS):
            chunk = due[start : start + MAX_EXECUTE_CALLS]
            labels = [f"{label}: comments of wall{owner_id}_{post['id']}" for post in chunk]
            first_pages: list[Any] = [None] * len(chunk)
            if len(chunk) > 1:  # one call gains nothing from execute
                calls = [
                    InnerCall(each, "wall.getComments", self._comment_params(owner_id, post["id"], 0))
                    for each, post in zip(labels, chunk, strict=True)
                ]
                try:
                    first_pages = self.call.execute(f"{label}: comments of {len(chunk)} posts", calls)
                except SourceError as exc:
                    # The request as a whole failed: one warning; every post is asked again next run.
                    self.warnings.append(str(exc))
                    continue
            for each, post, first in zip(labels, chunk, first_pages, strict=True):
                key = str(post["id"])
                states[key] = self._comments(each, community, owner_id, post, states[key], first)
        return states

    @staticmethod
    def _comment_params(owner_id: int, post_id: int, offset: int) -> dict[str, Any]:
        return {"owner_id": owner_id, "post_id": post_id, "offset": offset, **_COMMENT_PARAMS}

    def _resolve(self, label: str, screen_name: str) -> int:
        answer = self.call(label, "groups.getById", group_id=screen_name)
        # API 5.194 wrapped the list in {"groups": [...], "profiles": [...]}.
        groups = answer.get("groups") if isinstance(answer, dict) else answer
        if not isinstance(groups, list) or not groups or not isinstance(groups[0].get("id"), int):
            raise SourceFormatError(self.source.name, f"{label}: groups.getById answered without a community")
        return -int(groups[0]["id"])

    def _comments(
        self,
        label: str,
        community: str,
        owner_id: int,
        post: dict[str, Any],
        seen: dict[str, Any],
        first_page: Any = None,
    ) -> dict[str, Any]:
        """New comments and replies under one post whose count moved, starting from `first_page`
        when an execute brought it (or its SourceError). A failure here is a warning: the
        community's posts still count."""
        count = count_of(post, "comments") or 0
        last_id = int_or_zero(seen.get("last_id"))
        # Reply counts of the threads longer than VK shows under their comment, by comment id.
        threads: dict[str, Any] = dict(seen.get("threads") or {})
        newest, offset = last_id, 0
        try:
            for _ in range(self.source.max_pages):
                if offset == 0 and first_page is not None:
                    answer = first_page
                    if isinstance(answer, SourceError):
                        raise answer
                else:
                    answer = self.call(
                        label, "wall.getComments", **self._comment_params(owner_id, post["id"], offset)
                    )
                top_level, authors = self._page(answer, label, "wall.getComments")
                for comment in top_level:
                    thread = comment.get("thread") or {}
                    shown = [reply for reply in thread.get("items") or [] if isinstance(reply, dict)]
                    found = self._add_comments(
                        label, community, owner_id, post["id"], [comment, *shown], authors, last_id
                    )
                    newest = max(newest, found)
                    # VK shows at most REPLIES_PER_THREAD replies with their comment: a longer
                    # thread (where an argument with the brand goes on) is read on its own, newest
                    # replies first, whenever its count moved.
                    replies, comment_id = int_or_zero(thread.get("count")), int_or_zero(comment.get("id"))
                    if replies > len(shown) and comment_id and replies != threads.get(str(comment_id)):
                        found = self._thread(label, community, owner_id, post["id"], comment_id, last_id)
                        newest = max(newest, found)
                        threads[str(comment_id)] = replies
                offset += len(top_level)
                if not top_level or offset >= int_or_zero(
                    answer.get("current_level_count", answer.get("count"))
                ):
                    break
                if any(int_or_zero(c.get("id")) <= last_id for c in top_level):
                    break
        except SourceError as exc:
            self.warnings.append(str(exc))
            return seen
        return {"count": count, "last_id": newest, **({"threads": threads} if threads else {})}

    def _thread(
        self, label: str, community: str, owner_id: int, post_id: int, comment_id: int, last_id: int
    ) -> int:
        """The replies to one comment, newest first down to `last_id`; returns the newest id."""
        label = f"{label}, replies to comment {comment_id}"
        newest, offset = last_id, 0
        for _ in range(self.source.max_pages):
            params = {**self._comment_params(owner_id, post_id, offset), "comment_id": comment_id}
            del params["thread_items_count"]  # replies have no threads of their own
            answer = self.call(label, "wall.getComments", **params)
            replies, authors = self._page(answer, label, "wall.getComments")
            newest = max(
                newest, self._add_comments(label, community, owner_id, post_id, replies, authors, last_id)
            )
            offset += len(replies)
            if not replies or offset >= int_or_zero(answer.get("count")):
                break
            if any(int_or_zero(reply.get("id")) <= last_id for reply in replies):
                break
        return newest

    def _add_comments(
        self,
        label: str,
        community: str,
        owner_id: int,
        post_id: int,
        comments: list[dict[str, Any]],
        authors: Authors,
        last_id: int,
    ) -> int:
        """Keep the comments newer than `last_id`; returns the newest id of them (or `last_id`)."""
        newest = last_id
        for comment in comments:
            if int_or_zero(comment.get("id")) > last_id:
                args = (self.source.name, owner_id, post_id, comment, authors, community)
                self._add(label, partial(comment_item, *args))
                newest = max(newest, int_or_zero(comment.get("id")))
        return newest

    def _page(self, answer: Any, label: str, method: str) -> tuple[list[dict[str, Any]], Authors]:
        items = answer.get("items") if isinstance(answer, dict) else None
        if not isinstance(items, list):
            raise SourceFormatError(self.source.name, f"{label}: {method} answered without a list of items")
        return [item for item in items if isinstance(item, dict)], Authors(answer)

    def _add(self, label: str, make: Callable[[], RawItem | None]) -> None:
        """Keep the item `make` builds; one VK object of an odd shape is a warning, not a failed unit."""
        try:
            item = make()
        except (KeyError, TypeError, ValueError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
            self.warnings.append(
                f"{self.source.name}: {label}: skipped an object of unexpected shape ({problem})"
            )
            return
        if item is not None:
            self.items.setdefault(item.external_id, item)

    def _warn_truncated(self, label: str, what: str) -> None:
        self.warnings.append(
            f"{self.source.name}: {label}: more than {self.source.max_pages} pages of {what}; "
            "older ones were skipped (raise max_pages or crawl more often)"
        )
