"""Fault routes for monitor.local_server.LocalServer: the misbehaving servers crawlers must survive.

    /status/<code>          answers that status (a small HTML body), e.g. /status/503
    /retry-after/<seconds>  429 with Retry-After: <seconds>, then 200 on the next call for the same
                            path and query; ?times=N answers 429 N times first
    /delay/<seconds>        sleeps, then answers 200 (for timeouts)
    /drop                   closes the connection without answering
    /redirect-loop          redirects to itself for ever
    /redirect-chain/<n>     redirects to /redirect-chain/<n+1>, and so on for ever (never a URL twice)
    /big/<megabytes>        a 200 HTML page of that size (fractions allowed: /big/0.5)
    /headers                echoes the request headers as JSON

Add a query string (?case=my-test) to keep one test's counters apart from another's.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from monitor.local_server import Response, Route

# A slow answer longer than this is a bug in the test, not a timeout scenario.
MAX_DELAY_SECONDS = 30.0


def fault_routes() -> dict[str, Route]:
    """Fresh routes (with their own 429 counters) to pass as LocalServer(routes=...)."""
    rate_limited = _RateLimiter()
    return {
        "/status/": _status,
        "/retry-after/": rate_limited,
        "/delay/": _delay,
        "/drop": _drop,
        "/redirect-loop": _redirect_loop,
        "/redirect-chain/": _redirect_chain,
        "/big/": _big,
        "/headers": _headers,
    }


def _argument(request: BaseHTTPRequestHandler) -> str:
    """The last path segment: /status/503?x=1 -> '503'."""
    return urlsplit(request.path).path.rstrip("/").rsplit("/", 1)[-1]


def _page(status: int, message: str) -> bytes:
    return f"<html><body><h1>{status}</h1><p>{message}</p></body></html>".encode()


def _status(request: BaseHTTPRequestHandler) -> Response:
    try:
        status = int(_argument(request))
    except ValueError:
        return Response(400, _page(400, "use /status/<code>"))
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown status"
    return Response(status, _page(status, phrase))


class _RateLimiter:
    """429 the first `times` calls for one path+query, then 200 once, then start over."""

    def __init__(self) -> None:
        self._calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: BaseHTTPRequestHandler) -> Response:
        split = urlsplit(request.path)
        seconds = _argument(request)
        times = int(parse_qs(split.query).get("times", ["1"])[0])
        with self._lock:
            self._calls[request.path] += 1
            call = self._calls[request.path]
            if call > times:
                del self._calls[request.path]
        if call <= times:
            return Response(429, _page(429, "Too Many Requests"), {"Retry-After": seconds})
        return Response(200, _page(200, "OK after waiting"))


def _delay(request: BaseHTTPRequestHandler) -> Response:
    seconds = min(float(_argument(request)), MAX_DELAY_SECONDS)
    time.sleep(seconds)
    return Response(200, _page(200, f"answered after {seconds:g} s"))


def _drop(request: BaseHTTPRequestHandler) -> None:
    return None


def _redirect_loop(request: BaseHTTPRequestHandler) -> Response:
    return Response(302, b"", {"Location": "/redirect-loop"})


def _redirect_chain(request: BaseHTTPRequestHandler) -> Response:
    split = urlsplit(request.path)
    try:
        step = int(_argument(request))
    except ValueError:
        return Response(400, _page(400, "use /redirect-chain/<n>"))
    query = f"?{split.query}" if split.query else ""
    return Response(302, b"", {"Location": f"/redirect-chain/{step + 1}{query}"})


def _big(request: BaseHTTPRequestHandler) -> Response:
    size = int(float(_argument(request)) * 1024 * 1024)
    head = b"<html><body>"
    line = "<p>Сбербанк, МегаФон, Пятёрочка: строка-заполнитель большой страницы.</p>\n".encode()
    body = head + line * (size // len(line) + 1)
    return Response(200, body[:size])


def _headers(request: BaseHTTPRequestHandler) -> Response:
    headers = {name: value for name, value in request.headers.items()}
    return Response(200, json.dumps(headers).encode(), {"Content-Type": "application/json"})
