"""Calls to the VK API through vk_api: throttled, retried when worth it, VK's errors as SourceErrors
that say what to do; and a transport that sends the calls to `api_base`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jconfig
import requests
import vk_api
from pydantic import SecretStr
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

from crawlers.http import USER_AGENT
from monitor.config import VkSource
from monitor.errors import (
    SourceAuthError,
    SourceError,
    SourceFormatError,
    SourceRateLimited,
    SourceUnavailable,
)

# VK allows 3 calls per second per user token; a hair over 1/3 s apart keeps four out of any second.
MIN_CALL_INTERVAL = 0.34
# Waits before the 2nd, 3rd and 4th try of a call that met error 6 or 9 (rate), 10 (VK failed), HTTP 5xx
# or no answer at all.
RETRY_DELAYS = (1.0, 3.0, 9.0)
# VK's execute runs at most this many API calls per request.
MAX_EXECUTE_CALLS = 25

# vk_api posts every call to one of these (the domain moved from .com to .ru over its versions).
_VK_API_PREFIXES = ("https://api.vk.ru/method/", "https://api.vk.com/method/")
_RETRIED_CODES = {6, 9, 10}
# Bytes that JSON allows nowhere, not even as whitespace, yet VK leaves unescaped inside strings (a
# "\x01" nickname, a "\x0b" line break pasted from Word), which makes the whole answer undecodable.
_RAW_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# error code -> (the error it becomes, what the user should know or do)
_REFUSALS: dict[int, tuple[type[SourceError], str]] = {
    5: (
        SourceAuthError,
        "the token was rejected (expired, revoked, or not a user token, which "
        "newsfeed.search needs): put a fresh user token in VK_TOKEN",
    ),
    6: (SourceRateLimited, "still too many requests per second after retries; try again later"),
    9: (SourceRateLimited, "VK flood control is still on after retries; crawl less often"),
    10: (SourceUnavailable, "VK's servers failed, still after retries; try again later"),
    14: (SourceRateLimited, "VK wants a captcha: this token made too many searches; it passes after a while"),
    15: (
        SourceAuthError,
        "access denied: the community is closed or private, or its wall is for members only",
    ),
    17: (
        SourceAuthError,
        "VK wants the token's owner to confirm the account: log in on vk.com, get a new token",
    ),
    18: (SourceAuthError, "the page was deleted or banned: remove it from `groups`"),
    29: (SourceRateLimited, "the daily limit of this method is spent for this token; it resets tomorrow"),
    30: (SourceAuthError, "the profile is private"),
    100: (SourceError, "VK rejected a parameter: check the name in spiders.yaml"),
    203: (SourceAuthError, "the community is closed to this token's account"),
    212: (SourceAuthError, "comments under this post are closed"),
}


class RateLimiter:
    """Spaces calls at least `interval` seconds apart, on an injectable clock; shared by threads."""

    def __init__(self, interval: float, clock: Callable[[], float], sleep: Callable[[float], None]):
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._next_allowed = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            delay = self._next_allowed - self.clock()
            if delay > 0:
                self.sleep(delay)
            self._next_allowed = self.clock() + self.interval


class _ApiBaseAdapter(HTTPAdapter):
    """A requests transport that sends vk_api's calls to `api_base` (a fake on 127.0.0.1 in the tests
    and the demo) and gives them a timeout: vk_api hard-codes the URL and sets none. It also blanks
    raw control characters in the answers, which vk_api's strict JSON decoding refuses."""

    def __init__(self, api_base: str, timeout: float):
        super().__init__(max_retries=0)
        self.api_base = api_base.rstrip("/") + "/"
        self.timeout = timeout

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        url = request.url or ""
        for prefix in _VK_API_PREFIXES:
            if url.startswith(prefix):
                request.url = self.api_base + url[len(prefix) :]
                # Proxies were chosen for api.vk.ru; choose again for where the call really goes.
                kwargs["proxies"] = get_environ_proxies(request.url)
                break
        kwargs["timeout"] = kwargs.get("timeout") or self.timeout
        response = super().send(request, *args, **kwargs)
        if _RAW_CONTROL.search(response.content):
            # One such character would otherwise cost the whole page: "the answer is not JSON".
            response._content = _RAW_CONTROL.sub(b" ", response.content)
        return response


class _VkApi(vk_api.VkApi):  # type: ignore[misc]  # vk_api has no type information: Any
    # Throttling and the retries of error 6 are ours (RateLimiter, VkCalls): vk_api's own sleep on
    # the wall clock, and retry error 6 without a bound.
    RPS_DELAY = 0.0

    def too_many_rps_handler(self, error: vk_api.ApiError) -> Any:
        raise error


@dataclass(frozen=True)
class InnerCall:
    """One call inside an execute: what it is for (for its error), the method and its parameters."""

    label: str
    method: str
    params: dict[str, Any]


@dataclass
class _Problem:
    detail: str
    retry: bool
    code: int | None = None  # VK's error code; None for trouble below the API (HTTP, network, JSON)
    kind: type[SourceError] = SourceUnavailable


class VkCalls:
    """One VK method call at a time: throttled, retried when worth it, failures as SourceErrors."""

    def __init__(
        self, source: VkSource, token: SecretStr, limiter: RateLimiter, sleep: Callable[[float], None]
    ):
        self.source = source
        self._secret = token.get_secret_value()
        self.limiter = limiter
        self.sleep = sleep
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        adapter = _ApiBaseAdapter(source.api_base, source.timeout)
        for prefix in _VK_API_PREFIXES:
            session.mount(prefix, adapter)
        self.api = _VkApi(
            token=self._secret, api_version=source.api_version, session=session, config=jconfig.MemoryConfig
        )

    def close(self) -> None:
        self.api.http.close()

    def __call__(self, label: str, method: str, **params: Any) -> Any:
        """`label` says what the call was for ("search «X»") in the error it may raise."""
        return self._call(label, method, params, raw=False)

    def execute(self, label: str, calls: Sequence[InnerCall]) -> list[Any]:
        """Up to MAX_EXECUTE_CALLS calls in one request (one step of the rate limit): the result of
        each, in order, or the SourceError of that call alone. VK answers a failed inner call with
        `false` and lists its error in `execute_errors`; one refused for a passing reason (6, 9, 10)
        is made again on its own, with the usual retries. Raises when the execute itself failed."""
        if len(calls) > MAX_EXECUTE_CALLS:
            raise ValueError(f"execute takes at most {MAX_EXECUTE_CALLS} calls, not {len(calls)}")
        code = ",".join(f"API.{call.method}({json.dumps(call.params, ensure_ascii=False)})" for call in calls)
        answer = self._call(label, "execute", {"code": f"return [{code}];"}, raw=True)
        results = answer.get("response") if isinstance(answer, dict) else None
        if not isinstance(results, list) or len(results) != len(calls):
            raise SourceFormatError(
                self.source.name, f"{label}: execute: the answer is not a list of {len(calls)} results"
            )
        errors = iter(answer.get("execute_errors") or [])
        out: list[Any] = []
        for call, result in zip(calls, results, strict=True):
            if result is not False:
                out.append(result)
                continue
            error = next(errors, None)
            error = error if isinstance(error, dict) else {}
            code_number = error.get("error_code")
            if code_number in _RETRIED_CODES:
                try:
                    out.append(self(call.label, call.method, **call.params))
                except SourceError as exc:
                    out.append(exc)
                continue
            detail = str(error.get("error_msg") or "failed without an error in execute_errors")
            code_number = code_number if isinstance(code_number, int) else None
            out.append(self._error(call.label, call.method, _Problem(detail, retry=False, code=code_number)))
        return out

    def _call(self, label: str, method: str, params: dict[str, Any], raw: bool) -> Any:
        attempt = 0
        while True:
            self.limiter.wait()
            try:
                return self.api.method(method, params, raw=raw)
            except vk_api.Captcha:
                problem = _Problem("Captcha needed", retry=False, code=14)
            except vk_api.ApiError as exc:
                detail = str(exc.error.get("error_msg", ""))
                problem = _Problem(detail, retry=exc.code in _RETRIED_CODES, code=exc.code)
            except vk_api.ApiHttpError as exc:
                status = exc.response.status_code
                problem = _Problem(
                    f"HTTP {status} from {self.source.api_base}", retry=status == 429 or status >= 500
                )
            except requests.JSONDecodeError:
                problem = _Problem(
                    "the answer is not JSON; check api_base", retry=False, kind=SourceFormatError
                )
            except requests.Timeout:
                problem = _Problem(f"no answer within {self.source.timeout:g} s", retry=True)
            except requests.RequestException as exc:
                problem = _Problem(f"cannot reach {self.source.api_base} ({type(exc).__name__})", retry=True)
            except KeyError as exc:  # an error object without the fields vk_api reads
                problem = _Problem(f"an error object without {exc}", retry=False, kind=SourceFormatError)
            if not problem.retry or attempt == len(RETRY_DELAYS):
                raise self._error(label, method, problem)
            self.sleep(RETRY_DELAYS[attempt])
            attempt += 1

    def _error(self, label: str, method: str, problem: _Problem) -> SourceError:
        kind, message = problem.kind, f"{label}: {method}: {problem.detail}"
        if problem.code is not None:
            kind, hint = _REFUSALS.get(problem.code, (SourceError, "see VK's list of API error codes"))
            message = f"{label}: {method}: VK error {problem.code} ({problem.detail.rstrip('.')}): {hint}"
        # The token never belongs in a message, even if some layer echoed it back.
        return kind(self.source.name, message.replace(self._secret, "***"))
