"""A stand-in for the VK API on 127.0.0.1, for `brandpulse demo` and the tests of crawlers/vk/.

`vk_routes(data)` gives LocalServer routes that answer /method/<name> (GET, or POST with a form body
as vk_api sends it) the way api.vk.com does: `{"response": ...}` envelopes, error objects with
error_code / error_msg / request_params, newsfeed.search paged by next_from, wall.get by offset,
wall.getComments with reply threads (or one thread, by comment_id), groups.getById, and execute
with the one form of VKScript the crawler sends (`return [API.method({...}), ...];`). The data are
API-shaped objects; the demo's live in demo_site/vk/*.json (November 2026 posts about ВкусМаркет,
Магнит and Пятёрочка).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from monitor.local_server import Response, Route

DEMO_VK_DATA = Path(__file__).parent / "demo_site" / "vk"

# What api.vk.com answers most often for each code; a scripted error can bring its own text.
ERROR_MESSAGES = {
    1: "Unknown error occurred",
    3: "Unknown method passed",
    5: "User authorization failed: invalid access_token (4).",
    6: "Too many requests per second",
    8: "Invalid request: v is required",
    9: "Flood control",
    10: "Internal server error",
    12: "Unable to compile code",
    13: "Runtime error occurred during code invocation",
    14: "Captcha needed",
    15: "Access denied",
    18: "User was deleted or banned",
    29: "Rate limit reached",
    30: "This profile is private",
    100: "One of the parameters specified was missing or invalid",
    203: "Access to group denied: access to the group is denied",
    212: "Access to post comments denied",
}
# The most items one call returns, as on api.vk.com; a test may lower them to force paging.
MAX_COUNT = {"newsfeed.search": 200, "wall.get": 100, "wall.getComments": 100}
DEFAULT_COUNT = {"newsfeed.search": 30, "wall.get": 20, "wall.getComments": 10}
# Author fields VK returns only when `fields` asks for them; the rest come always.
_ON_REQUEST = {"followers_count", "members_count", "verified", "city", "activity", "description"}
# execute runs at most this many API calls.
MAX_EXECUTE_CALLS = 25
# groups.getById answers {"groups": [...], "profiles": [...]} from this version on, a bare list before.
_GROUPS_AS_OBJECT_SINCE = (5, 194)

# Called with (method, params, inside_execute) before each answer, including each call inside an
# execute: return an error object to answer with instead.
Interceptor = Callable[[str, dict[str, str], bool], dict[str, Any] | None]


@dataclass
class VkData:
    """API-shaped objects: users, communities, wall posts (of both) and comments under the posts."""

    profiles: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    posts: list[dict[str, Any]]
    comments: list[dict[str, Any]]


def load_vk_data(folder: Path = DEMO_VK_DATA) -> VkData:
    def read(name: str) -> list[dict[str, Any]]:
        return list(json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))["items"])

    return VkData(read("profiles"), read("groups"), read("posts"), read("comments"))


def vk_error(code: int, message: str | None = None, **details: Any) -> dict[str, Any]:
    """An error object as VK sends it (request_params are added when it is answered)."""
    error: dict[str, Any] = {
        "error_code": code,
        "error_msg": message or ERROR_MESSAGES.get(code, "Unknown error"),
    }
    if code == 14:
        details.setdefault("captcha_sid", "548972031647")
        details.setdefault("captcha_img", "https://api.vk.com/captcha.php?sid=548972031647&s=1")
    return {**error, **details}


def vk_routes(
    data: VkData,
    *,
    token: str | None = None,
    intercept: Interceptor | None = None,
    max_count: dict[str, int] | None = None,
) -> dict[str, Route]:
    """Routes for LocalServer(routes=...). `token`: the only one accepted (None: any non-empty one)."""
    return {"/method/": VkApiEmulator(data, token=token, intercept=intercept, max_count=max_count).route}


class _Refused(Exception):
    def __init__(self, code: int, message: str | None = None):
        super().__init__(code)
        self.error = vk_error(code, message)


class VkApiEmulator:
    """Answers VK API calls from a VkData. Call `answer(method, params)` directly or serve `route`."""

    def __init__(
        self,
        data: VkData,
        *,
        token: str | None = None,
        intercept: Interceptor | None = None,
        max_count: dict[str, int] | None = None,
    ):
        self.data = data
        self.token = token
        self.intercept = intercept
        self.max_count = {**MAX_COUNT, **(max_count or {})}
        self._methods: dict[str, Callable[[dict[str, str]], Any]] = {
            "newsfeed.search": self._newsfeed_search,
            "wall.get": self._wall_get,
            "wall.getComments": self._wall_get_comments,
            "groups.getById": self._groups_get_by_id,
        }

    def route(self, request: BaseHTTPRequestHandler) -> Response:
        split = urlsplit(request.path)
        method = split.path.removeprefix("/method/").strip("/")
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        length = int(request.headers.get("Content-Length") or 0)
        if length:
            params.update(parse_qsl(request.rfile.read(length).decode("utf-8"), keep_blank_values=True))
        body = json.dumps(self.answer(method, params), ensure_ascii=False).encode("utf-8")
        # api.vk.com answers errors with HTTP 200 too: the envelope says what happened.
        return Response(200, body, {"Content-Type": "application/json; charset=utf-8"})

    def answer(self, method: str, params: dict[str, str]) -> dict[str, Any]:
        scripted = self.intercept(method, params, False) if self.intercept else None
        try:
            if scripted is not None:
                return self._error_envelope(scripted, method, params)
            self._check_access(params)
            if method == "execute":
                return self._execute(params)
            handler = self._methods.get(method)
            if handler is None:
                raise _Refused(3)
            return {"response": handler(params)}
        except _Refused as refused:
            return self._error_envelope(refused.error, method, params)

    def _check_access(self, params: dict[str, str]) -> None:
        given = params.get("access_token", "")
        if not given:
            raise _Refused(5, "User authorization failed: no access_token passed.")
        if self.token is not None and given != self.token:
            raise _Refused(5)
        if not params.get("v"):
            raise _Refused(8)

    @staticmethod
    def _error_envelope(error: dict[str, Any], method: str, params: dict[str, str]) -> dict[str, Any]:
        # Like VK: every parameter but the token, plus the method and whether a token came.
        echoed = [{"key": "method", "value": method}, {"key": "oauth", "value": "1"}]
        echoed += [{"key": k, "value": v} for k, v in params.items() if k != "access_token"]
        return {"error": {**error, "request_params": echoed}}

    # --- methods -------------------------------------------------------------------------------

    def _execute(self, params: dict[str, str]) -> dict[str, Any]:
        """Like VK: a list with each call's result, `false` for a failed one, whose error goes to
        `execute_errors` (with the method's name) while the other calls still answer."""
        calls = parse_execute_code(params.get("code", ""))
        if len(calls) > MAX_EXECUTE_CALLS:
            raise _Refused(13, "Runtime error occurred during code invocation: Too many API calls")
        results: list[Any] = []
        errors: list[dict[str, Any]] = []
        for method, arguments in calls:
            # Inner calls run with the execute's token and version.
            inner = {**{key: _param_text(value) for key, value in arguments.items()}, "v": params["v"]}
            error = self.intercept(method, inner, True) if self.intercept else None
            if error is None:
                handler = self._methods.get(method)
                try:
                    if handler is None:
                        raise _Refused(3)
                    results.append(handler(inner))
                    continue
                except _Refused as refused:
                    error = refused.error
            results.append(False)
            errors.append({"method": method, **error})
        answer: dict[str, Any] = {"response": results}
        if errors:
            answer["execute_errors"] = errors
        return answer

    def _newsfeed_search(self, params: dict[str, str]) -> dict[str, Any]:
        query = params.get("q", "").strip()
        if not query:
            raise _Refused(100, "One of the parameters specified was missing or invalid: q is undefined")
        # VK's default is the last 24 hours; this stand-in has no clock, so no lower bound.
        start_time = _int(params, "start_time", 0)
        end_time = _int(params, "end_time", 2**63)
        found = [
            post
            for post in self.data.posts
            if start_time <= post["date"] <= end_time
            and _matches(query, post.get("text", ""))
            and self._wall_is_open(post["owner_id"])
        ]
        found.sort(key=lambda post: (post["date"], post["id"]), reverse=True)
        offset = int(params["start_from"].split("/")[0]) if params.get("start_from") else 0
        count = self._count("newsfeed.search", params)
        page = found[offset : offset + count]
        answer: dict[str, Any] = {
            "items": [self._post_out(post, on_wall=False) for post in page],
            "count": len(found),
            "total_count": len(found),
        }
        if offset + count < len(found) and page:
            last = page[-1]
            answer["next_from"] = f"{offset + count}/{last['owner_id']}_{last['id']}"
        return self._extend(answer, page, params)

    def _wall_get(self, params: dict[str, str]) -> dict[str, Any]:
        owner_id = self._owner(params)
        posts = [post for post in self.data.posts if post["owner_id"] == owner_id]
        posts.sort(key=lambda post: (bool(post.get("is_pinned")), post["id"]), reverse=True)
        offset = _int(params, "offset", 0)
        page = posts[offset : offset + self._count("wall.get", params)]
        answer = {"count": len(posts), "items": [self._post_out(post, on_wall=True) for post in page]}
        return self._extend(answer, page, params)

    def _wall_get_comments(self, params: dict[str, str]) -> dict[str, Any]:
        owner_id = self._owner(params)
        post_id = _int(params, "post_id", 0)
        if not any(p["owner_id"] == owner_id and p["id"] == post_id for p in self.data.posts):
            raise _Refused(
                100, "One of the parameters specified was missing or invalid: post_id is undefined"
            )
        under_post = [c for c in self.data.comments if c["owner_id"] == owner_id and c["post_id"] == post_id]
        # With comment_id: the thread of replies to that comment, paged like the comments themselves.
        thread_of = _int(params, "comment_id", 0)
        level = sorted((c for c in under_post if _parent(c) == thread_of), key=lambda c: c["id"])
        if params.get("sort") == "desc":
            level.reverse()
        offset = _int(params, "offset", 0)
        page = level[offset : offset + self._count("wall.getComments", params)]
        thread_size = min(_int(params, "thread_items_count", 0), 10)
        with_likes = params.get("need_likes") == "1"
        items, authors = [], []
        for comment in page:
            item = _comment_out(comment, with_likes)
            authors.append(comment)
            if thread_of:  # replies have no threads of their own
                items.append(item)
                continue
            replies = sorted((c for c in under_post if _parent(c) == comment["id"]), key=lambda c: c["id"])
            shown = replies[:thread_size]
            item["thread"] = {
                "count": len(replies),
                "items": [_comment_out(reply, with_likes) for reply in shown],
                "can_post": True,
                "show_reply_button": True,
                "groups_can_post": True,
            }
            items.append(item)
            authors += shown
        answer = {
            "count": len(level) if thread_of else len(under_post),
            "current_level_count": len(level),
            "can_post": 1,
            "show_reply_button": 1,
            "groups_can_post": True,
            "items": items,
        }
        return self._extend(answer, authors, params)

    def _groups_get_by_id(self, params: dict[str, str]) -> Any:
        wanted = [
            n for n in re.split(r"\s*,\s*", params.get("group_ids") or params.get("group_id") or "") if n
        ]
        found = [group for name in wanted if (group := self._find_group(name)) is not None]
        if not found:
            raise _Refused(
                100, "One of the parameters specified was missing or invalid: group_ids is undefined"
            )
        fields = _fields(params)
        groups = [_author_out(group, fields) for group in found]
        if _version(params) >= _GROUPS_AS_OBJECT_SINCE:
            return {"groups": groups, "profiles": []}
        return groups

    # --- helpers ---------------------------------------------------------------------------------

    def _owner(self, params: dict[str, str]) -> int:
        owner_id = (
            self._owner_by_name(params["domain"]) if params.get("domain") else _int(params, "owner_id", 0)
        )
        refusal = self._wall_refusal(owner_id)
        if refusal is not None:
            raise refusal
        return owner_id

    def _owner_by_name(self, domain: str) -> int:
        group = self._find_group(domain)
        if group is not None:
            return -int(group["id"])
        for profile in self.data.profiles:
            if profile.get("screen_name") == domain:
                return int(profile["id"])
        raise _Refused(100, "One of the parameters specified was missing or invalid: domain is invalid")

    def _wall_refusal(self, owner_id: int) -> _Refused | None:
        if owner_id < 0:
            group = next((g for g in self.data.groups if g["id"] == -owner_id), None)
            if group is None:
                return _Refused(
                    100, "One of the parameters specified was missing or invalid: owner_id is incorrect"
                )
            if group.get("is_closed"):
                return _Refused(15, "Access denied: this wall available only for community members")
            return None
        profile = next((p for p in self.data.profiles if p["id"] == owner_id), None)
        if profile is None:
            return _Refused(18)
        if profile.get("is_closed") and not profile.get("can_access_closed"):
            return _Refused(30)
        return None

    def _wall_is_open(self, owner_id: int) -> bool:
        return self._wall_refusal(owner_id) is None

    def _find_group(self, name: str) -> dict[str, Any] | None:
        name = name.strip().lower()
        number = re.fullmatch(r"(?:club|public|event)?-?(\d+)", name)
        for group in self.data.groups:
            if group.get("screen_name", "").lower() == name or (
                number and group["id"] == int(number.group(1))
            ):
                return group
        return None

    def _count(self, method: str, params: dict[str, str]) -> int:
        return max(0, min(_int(params, "count", DEFAULT_COUNT[method]), self.max_count[method]))

    def _post_out(self, post: dict[str, Any], *, on_wall: bool) -> dict[str, Any]:
        out = {key: value for key, value in post.items() if on_wall or key != "is_pinned"}
        under = sum(
            1 for c in self.data.comments if c["owner_id"] == post["owner_id"] and c["post_id"] == post["id"]
        )
        out["comments"] = {"count": under, "can_post": 1, "groups_can_post": True}
        return out

    def _extend(
        self, answer: dict[str, Any], objects: list[dict[str, Any]], params: dict[str, str]
    ) -> dict[str, Any]:
        """Add `profiles` and `groups` for the authors and owners of `objects` when extended=1."""
        if params.get("extended") != "1":
            return answer
        ids = {obj.get(key) for obj in objects for key in ("from_id", "owner_id")}
        ids |= {obj["reply_to_user"] for obj in objects if obj.get("reply_to_user")}
        fields = _fields(params)
        answer["profiles"] = [_author_out(p, fields) for p in self.data.profiles if p["id"] in ids]
        answer["groups"] = [_author_out(g, fields) for g in self.data.groups if -g["id"] in ids]
        return answer


_EXECUTE_CALL = re.compile(r"\s*API\.(\w+\.\w+)\(")
_CALL_END = re.compile(r"\s*\)\s*(,|$)")


def parse_execute_code(code: str) -> list[tuple[str, dict[str, Any]]]:
    """(method, params) of each call in `return [API.a.b({json}), ...];`, the only VKScript this
    stand-in runs; anything else is VK's error 12, as code that does not compile."""
    body = code.strip()
    if not (body.startswith("return [") and body.endswith("];")):
        raise _Refused(12, "Unable to compile code: expected return [API.method({...}), ...];")
    body = body[len("return [") : -len("];")].strip()
    calls: list[tuple[str, dict[str, Any]]] = []
    position, decoder = 0, json.JSONDecoder()
    while position < len(body):
        call = _EXECUTE_CALL.match(body, position)
        if call is None:
            raise _Refused(12, f"Unable to compile code: expected API.method( at {position}")
        try:
            arguments, end = decoder.raw_decode(body, call.end())
        except json.JSONDecodeError:
            raise _Refused(12, f"Unable to compile code: bad parameters of {call.group(1)}") from None
        closing = _CALL_END.match(body, end)
        if not isinstance(arguments, dict) or closing is None:
            raise _Refused(12, f"Unable to compile code: bad call of {call.group(1)}")
        calls.append((call.group(1), arguments))
        position = closing.end()
    return calls


def _param_text(value: Any) -> str:
    """A VKScript value as it would arrive in a form: numbers as digits, booleans as 1/0."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return value if isinstance(value, str) else json.dumps(value)


def _parent(comment: dict[str, Any]) -> int:
    """The comment a reply answers (the last of its parents_stack); 0 for a comment on the post."""
    stack = comment.get("parents_stack") or []
    return int(stack[-1]) if stack else 0


def _comment_out(comment: dict[str, Any], with_likes: bool) -> dict[str, Any]:
    return {key: value for key, value in comment.items() if with_likes or key != "likes"}


def _author_out(author: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    return {key: value for key, value in author.items() if key not in _ON_REQUEST or key in fields}


def _fields(params: dict[str, str]) -> set[str]:
    return {field.strip() for field in params.get("fields", "").split(",") if field.strip()}


def _int(params: dict[str, str], name: str, default: int) -> int:
    try:
        return int(params[name]) if params.get(name, "") != "" else default
    except ValueError:
        raise _Refused(
            100, f"One of the parameters specified was missing or invalid: {name} not integer"
        ) from None


def _version(params: dict[str, str]) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", params.get("v", "0"))[:2])


_WORD = re.compile(r"\w+")


def _stem(word: str) -> str:
    word = word.lower().replace("ё", "е")
    return word[: max(4, len(word) - 2)]


def _matches(query: str, text: str) -> bool:
    """Every query word starts some word of the text, endings aside: a crude stand-in for VK's
    morphological search («Пятёрочка» finds «в Пятёрочке», «ВкусМаркет» finds «во ВкусМаркете»)."""
    words = [w.lower().replace("ё", "е") for w in _WORD.findall(text)]
    return all(any(w.startswith(_stem(q)) for w in words) for q in _WORD.findall(query))
