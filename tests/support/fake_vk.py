"""A fake VK API on 127.0.0.1 for the tests: the demo's emulator (monitor/demo_vk.py) plus scripted
errors and a log of every request.

    with FakeVk() as vk:                         # the demo's posts about ВкусМаркет, Магнит, Пятёрочка
        vk.fail("newsfeed.search", 6, times=2)   # the next two searches answer error 6
        vk.fail("wall.get", 15, times=None, owner_id="-220051937")   # every call for that wall
        source = VkSource(..., api_base=vk.api_base)
        ...
        vk.calls("newsfeed.search")              # the params of each search, token included
        vk.raw_control_characters = True         # answer "\x0b" in a text unescaped, as VK does
        vk.requests                              # the HTTP requests: one per execute, however many
                                                 # calls it holds (calls() lists those too)

As a pytest plugin (tests/conftest.py lists it): `vk_server`, one FakeVk per test module; `clock`, a
FakeClock for the crawler; `vk_token`, TOKEN set as VK_TOKEN.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from monitor.demo_vk import MAX_COUNT, VkApiEmulator, VkData, load_vk_data, vk_error
from monitor.local_server import LocalServer, Response

TOKEN = "vk1.a.TEST-user-token-never-print-me"
# How json.dumps writes a control character other than \t, \n and \r (not after a backslash, which
# would make it the text "\u0001" rather than the character).
_ESCAPED_CONTROL = re.compile(rb"(?<!\\)\\u00(0[0-8bcef]|1[0-9a-f])")


@dataclass(frozen=True)
class VkRequest:
    method: str
    params: dict[str, str]
    # The test clock's reading when the request arrived (None without a clock).
    at: float | None


@dataclass
class _Failure:
    method: str
    code: int
    times: int | None  # None: for ever
    when: dict[str, str]
    message: str | None


class FakeVk:
    """`data`: the demo's by default. `token`: the only token accepted. `max_count`: per-method page
    caps lower than VK's (e.g. {"newsfeed.search": 2}) to make paging happen with little data."""

    def __init__(
        self,
        data: VkData | None = None,
        *,
        token: str = TOKEN,
        clock: Callable[[], float] | None = None,
        max_count: dict[str, int] | None = None,
    ):
        self.data = data or load_vk_data()
        self.token = token
        self.clock = clock
        # HTTP requests as they came; every method call, those inside an execute included.
        self.requests: list[VkRequest] = []
        self._calls: list[VkRequest] = []
        self._failures: list[_Failure] = []
        self._lock = threading.Lock()
        # VK's own JSON leaves control characters such as "\x01" or "\x0b" raw inside strings, which
        # strict JSON decoders refuse (python273/vk_api#473); True answers them that way too.
        self.raw_control_characters = False
        self.api = VkApiEmulator(self.data, token=token, intercept=self._intercept, max_count=max_count)
        self.server = LocalServer(routes={"/method/": self._route})

    def __enter__(self) -> FakeVk:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    @property
    def api_base(self) -> str:
        """What goes into VkSource.api_base (like https://api.vk.com/method)."""
        return self.server.url("/method")

    def fail(
        self,
        method: str,
        code: int,
        *,
        times: int | None = 1,
        message: str | None = None,
        **when: Any,
    ) -> None:
        """Answer `method` with VK error `code` the next `times` calls (None: always) whose params
        include `when` (e.g. q="Магнит", owner_id=-218734561)."""
        with self._lock:
            self._failures.append(
                _Failure(method, code, times, {k: str(v) for k, v in when.items()}, message)
            )

    def reset(
        self,
        data: VkData | None = None,
        *,
        clock: Callable[[], float] | None = None,
        max_count: dict[str, int] | None = None,
    ) -> None:
        """Fresh data (the demo's by default), no scripted errors, an empty log: one server can then
        serve a whole test module (a LocalServer takes half a second to stop)."""
        fresh = data or load_vk_data()
        with self._lock:
            # In place: the emulator holds this very VkData.
            self.data.profiles[:], self.data.groups[:] = fresh.profiles, fresh.groups
            self.data.posts[:], self.data.comments[:] = fresh.posts, fresh.comments
            self.api.max_count = {**MAX_COUNT, **(max_count or {})}
            self.clock = clock
            self.requests.clear()
            self._calls.clear()
            self._failures.clear()
            self.raw_control_characters = False

    def calls(self, method: str) -> list[dict[str, str]]:
        """The params of every call of `method`, on its own or inside an execute, in order."""
        return [call.params for call in self._calls if call.method == method]

    def _route(self, request: BaseHTTPRequestHandler) -> Response:
        response = self.api.route(request)
        if not self.raw_control_characters:
            return response
        body = _ESCAPED_CONTROL.sub(lambda escape: bytes([int(escape.group(1), 16)]), response.body)
        return Response(response.status, body, response.headers)

    def _intercept(self, method: str, params: dict[str, str], inside_execute: bool) -> dict[str, Any] | None:
        with self._lock:
            call = VkRequest(method, dict(params), self.clock() if self.clock else None)
            self._calls.append(call)
            if not inside_execute:
                self.requests.append(call)
            for failure in self._failures:
                if failure.method != method or failure.times == 0:
                    continue
                if any(params.get(key) != value for key, value in failure.when.items()):
                    continue
                if failure.times is not None:
                    failure.times -= 1
                return vk_error(failure.code, failure.message)
        return None


class FakeClock:
    """Monotonic seconds that move only when the crawler sleeps: no test waits for real."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def vk_token(clean_environ: None, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("VK_TOKEN", TOKEN)
    return TOKEN


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def vk_server() -> Iterator[FakeVk]:
    with FakeVk() as fake:
        yield fake
