"""A small threaded HTTP server on 127.0.0.1 serving a folder: the demo's sites and the tests' fixtures.

It behaves like a real static web server where crawlers care: Content-Type with charset from the
file name, ETag / Last-Modified with 304 answers, gzip for clients that ask, query strings ignored
unless a file named for them exists (`page.html?before=10` -> `page.html__before=10`).
Extra routes (faults, fake APIs) are added by passing `routes`: path prefix -> handler function.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import mimetypes
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] | None = None


# A route gets the handler (path, query, headers, client) and returns a Response, or None to drop
# the connection without answering.
Route = Callable[[BaseHTTPRequestHandler], Response | None]

_CHARSET_HINTS = {".cp1251": "windows-1251", ".koi8r": "koi8-r"}


class LocalServer:
    """`with LocalServer(root) as server: server.url("/feed.xml")`."""

    def __init__(self, root: str | Path | None = None, routes: dict[str, Route] | None = None, port: int = 0):
        self.root = Path(root) if root else None
        self.routes = dict(routes or {})
        self.requests: list[str] = []
        handler = _make_handler(self)
        self._server = _QuietServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_file(self, request: BaseHTTPRequestHandler) -> Response:
        if self.root is None:
            return Response(404, b"not found")
        split = urlsplit(request.path)
        relative = unquote(split.path).lstrip("/") or "index.html"
        candidates = []
        if split.query:
            candidates.append(relative + "__" + split.query.replace("/", "_"))
        candidates.append(relative)
        for candidate in candidates:
            path = (self.root / candidate).resolve()
            if path.is_dir():
                path = path / "index.html"
            if self.root.resolve() in path.parents and path.is_file():
                return _file_response(path, request)
        return Response(404, "<html><body><h1>404 Страница не найдена</h1></body></html>".encode())


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # A client hanging up mid-answer (a crawler hitting its size cap) is normal here.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _file_response(path: Path, request: BaseHTTPRequestHandler) -> Response:
    body = path.read_bytes()
    etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
    modified = email.utils.formatdate(path.stat().st_mtime, usegmt=True)
    if request.headers.get("If-None-Match") == etag or request.headers.get("If-Modified-Since") == modified:
        return Response(304, b"", {"ETag": etag, "Last-Modified": modified})
    headers = {"ETag": etag, "Last-Modified": modified, "Content-Type": _content_type(path)}
    if "gzip" in request.headers.get("Accept-Encoding", "") and len(body) > 256:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    return Response(200, body, headers)


def _content_type(path: Path) -> str:
    name = path.name.split("__")[0]
    charset = "utf-8"
    for hint, encoding in _CHARSET_HINTS.items():
        if hint in path.suffixes:
            charset = encoding
            name = name.replace(hint, "")
    if name.endswith((".xml", ".rss", ".atom")):
        return f"application/xml; charset={charset}"
    guessed = mimetypes.guess_type(name)[0] or "text/html"
    return f"{guessed}; charset={charset}" if guessed.startswith("text/") or "json" in guessed else guessed


def _make_handler(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Without this, keep-alive clients wait ~40 ms per request on Nagle + delayed ACK.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._answer()

        def do_POST(self) -> None:  # noqa: N802
            self._answer()

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer(head=True)

        def _answer(self, head: bool = False) -> None:
            server.requests.append(self.path)
            route = next((r for prefix, r in server.routes.items() if self.path.startswith(prefix)), None)
            response = route(self) if route else server.serve_file(self)
            if response is None:
                self.close_connection = True
                return
            self.send_response(response.status)
            headers = {"Content-Type": "text/html; charset=utf-8", **(response.headers or {})}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if not head:
                self.wfile.write(response.body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: tests and the demo print their own progress

    return Handler


def quote_query_file(path: str, query: str) -> str:
    """The file name that `serve_file` looks up for path?query (for writing fixtures)."""
    return f"{path}__{quote(query, safe='=&')}"
