"""One polite HTTP GET for the crawlers that do not run inside Scrapy (RSS, Telegram previews),
plus turning what it fetched into text (decode_body, html_to_text).

Polite: a User-Agent that names us, bounded retries with exponential backoff, Retry-After honoured,
conditional GET, a size cap. Every httpx failure comes out as a SourceError naming the URL.
"""

from __future__ import annotations

import codecs
import email.utils
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import lxml.etree
import lxml.html

from crawlers.antibot import raise_if_blocked
from monitor.clock import utcnow
from monitor.errors import (
    SourceAuthError,
    SourceError,
    SourceFormatError,
    SourceRateLimited,
    SourceUnavailable,
)

USER_AGENT = "brandpulse/0.1 (+https://github.com/brandpulse/brandpulse)"
MAX_REDIRECTS = 10
TRIES = 3
BACKOFF_SECONDS = 1.0
# A longer Retry-After means "come back later", not "wait here": the scheduler will retry the source.
MAX_RETRY_AFTER_SECONDS = 60.0

_RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_CHARSET_IN_CONTENT_TYPE = re.compile(r"charset\s*=\s*[\"']?([\w.:\-]+)", re.IGNORECASE)
# <meta charset="x">, <meta http-equiv="Content-Type" content="text/html; charset=x">, <?xml encoding="x"?>
_CHARSET_IN_MARKUP = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?([\w.:\-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:\-]+)""",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FetchResult:
    status: int
    # Final URL, after redirects.
    url: str
    # Lower-case names.
    headers: dict[str, str]
    body: bytes
    # The body decoded: charset from the header, else from <meta>/<?xml?>, else utf-8 or windows-1251.
    text: str
    # True on 304: the caller's copy (ETag / Last-Modified) is still current; body is empty.
    not_modified: bool = False
    redirects: list[str] = field(default_factory=list)

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


def fetch(
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    headers: Mapping[str, str] | None = None,
    client: httpx.Client | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    source: str | None = None,
    tries: int = TRIES,
    backoff: float = BACKOFF_SECONDS,
    max_retry_after: float = MAX_RETRY_AFTER_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> FetchResult:
    """GET `url` politely; raise a SourceError subclass when there is nothing usable.

    `etag` / `last_modified` (from an earlier FetchResult) make it a conditional GET: an unchanged
    resource answers 304 and comes back with not_modified=True. `source` names the configured
    source in error messages. A given `client` keeps its own redirect cap and transport.
    """
    request_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    if etag:
        request_headers["If-None-Match"] = etag
    if last_modified:
        request_headers["If-Modified-Since"] = last_modified
    with _client_for(client, timeout) as http:
        for attempt in range(1, tries + 1):
            try:
                with http.stream(
                    "GET", url, headers=request_headers, timeout=timeout, follow_redirects=True
                ) as response:
                    wait = _wait_before_retry(
                        response,
                        url,
                        source,
                        attempt=attempt,
                        tries=tries,
                        backoff=backoff,
                        max_retry_after=max_retry_after,
                    )
                    if wait is None:
                        return _read(response, url, source, timeout, max_bytes)
            except _RETRYABLE_ERRORS as exc:
                if attempt == tries:
                    raise error_from_httpx(exc, url, source, timeout=timeout, tries=tries) from exc
                wait = _backoff_delay(backoff, attempt)
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise error_from_httpx(exc, url, source, timeout=timeout, tries=attempt) from exc
            sleep(wait)
    raise AssertionError("unreachable: the last try returns or raises")  # pragma: no cover


def _wait_before_retry(
    response: httpx.Response,
    url: str,
    source: str | None,
    *,
    attempt: int,
    tries: int,
    backoff: float,
    max_retry_after: float,
) -> float | None:
    """None when `response` is the answer; else seconds to wait before the next try.

    Raises when a 429 or 5xx came on the last try, or a 429 asks for a wait longer than we give.
    """
    status = response.status_code
    if status != 429 and status < 500:
        return None
    if status == 429:
        retry_after = _retry_after_seconds(response.headers.get("retry-after"))
        if retry_after is not None and retry_after > max_retry_after:
            raise _error(
                SourceRateLimited,
                source,
                url,
                f"HTTP 429 Too Many Requests, asked to wait {retry_after:.0f} s "
                f"(more than {max_retry_after:.0f} s); will try at the next run",
            )
        if attempt == tries:
            raise _error(SourceRateLimited, source, url, f"HTTP 429 Too Many Requests after {tries} tries")
        return retry_after if retry_after is not None else _backoff_delay(backoff, attempt)
    if attempt == tries:
        raise _error(
            SourceUnavailable, source, url, f"HTTP {status} {response.reason_phrase} after {tries} tries"
        )
    return _backoff_delay(backoff, attempt)


def _backoff_delay(backoff: float, attempt: int) -> float:
    """1 s, 2 s, 4 s... for backoff=1."""
    return backoff * (1 << (attempt - 1))


def error_from_httpx(
    exc: httpx.HTTPError | httpx.InvalidURL,
    url: str,
    source: str | None = None,
    *,
    timeout: float | None = None,
    tries: int = 1,
) -> SourceError:
    """The SourceError a user should see for an httpx failure on `url`."""
    after = f" ({tries} tries)" if tries > 1 else ""
    within = f" after {timeout:g} s" if timeout else ""
    if isinstance(exc, httpx.HTTPStatusError):
        return status_error(exc.response.status_code, exc.response.reason_phrase, url, source)
    if isinstance(exc, httpx.TooManyRedirects):
        return _error(
            SourceUnavailable,
            source,
            url,
            f"too many redirects (more than {MAX_REDIRECTS}); the URL probably redirects in a loop",
        )
    if isinstance(exc, httpx.DecodingError):
        return _error(SourceFormatError, source, url, f"cannot decode the response body: {exc}")
    if isinstance(exc, httpx.ConnectTimeout):
        return _error(SourceUnavailable, source, url, f"timed out connecting{within}{after}")
    if isinstance(exc, httpx.TimeoutException):
        return _error(SourceUnavailable, source, url, f"timed out{within}{after}")
    if isinstance(exc, httpx.ConnectError):
        return _error(SourceUnavailable, source, url, f"cannot connect{after}: {exc}")
    if isinstance(exc, httpx.RemoteProtocolError):
        return _error(
            SourceUnavailable, source, url, f"the server closed the connection without a full answer{after}"
        )
    if isinstance(exc, httpx.ProxyError):
        return _error(SourceUnavailable, source, url, f"proxy error: {exc}; check HTTP(S)_PROXY")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return _error(
            SourceUnavailable, source, url, f"not a fetchable http(s) URL ({exc}); check the source's URL"
        )
    if isinstance(exc, httpx.TransportError):
        return _error(SourceUnavailable, source, url, f"network error{after}: {exc}")
    return _error(SourceUnavailable, source, url, f"request failed: {exc}")


def status_error(status: int, reason: str, url: str, source: str | None = None) -> SourceError:
    """The SourceError for a final HTTP status that carries no usable content."""
    if status in (401, 403):
        return _error(SourceAuthError, source, url, f"HTTP {status} {reason}: access denied")
    if status == 429:
        return _error(SourceRateLimited, source, url, f"HTTP {status} {reason}")
    if status in (404, 410):
        return _error(SourceUnavailable, source, url, f"HTTP {status} {reason}; check the URL")
    return _error(SourceUnavailable, source, url, f"HTTP {status} {reason}")


def combine_failures(source: str, what: str, failures: list[SourceError]) -> SourceError:
    """One error for a source whose every feed / channel failed: the common kind, every reason."""
    if len(failures) == 1:
        return failures[0]
    kinds = {type(failure) for failure in failures}
    kind = kinds.pop() if len(kinds) == 1 else SourceError
    reasons = "; ".join(str(failure).removeprefix(f"{source}: ") for failure in failures)
    error = kind(source, f"all {len(failures)} {what} failed: {reasons}")
    error.__cause__ = failures[0]
    return error


def decode_body(body: bytes, content_type: str | None) -> str:
    """Bytes to text the way a browser would for Russian sites: declared charset, else a guess."""
    for declared in (_charset_from_header(content_type), _charset_from_markup(body)):
        if declared:
            try:
                return body.decode(declared)
            except UnicodeDecodeError:
                # A wrong declaration is common (cp1251 pages labelled utf-8): fall back to guessing.
                break
    if body.startswith(codecs.BOM_UTF8):
        return body[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        # windows-1251 maps almost every byte, so it is the fallback, not a test.
        return body.decode("windows-1251", errors="replace")


_BLOCK_TAGS = frozenset(
    "address article aside blockquote dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 header hr "
    "li main nav ol p pre section table tbody thead tr ul".split()
)
_INVISIBLE_TAGS = frozenset({"script", "style", "template", "noscript", "head", "title"})
_SPACES = re.compile(r"[^\S\n]+")


def html_to_text(fragment: str) -> str:
    """HTML (a feed summary, a post body) to plain text: entities unescaped, one line per paragraph."""
    if not fragment or not fragment.strip():
        return ""
    if "<" not in fragment and "&" not in fragment:
        return tidy_text(fragment)
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return tidy_text(re.sub(r"<[^>]*>", " ", fragment))
    # iterwalk does not report comments, and their tails would be lost with them.
    for node in list(root.iter(lxml.etree.Comment, lxml.etree.ProcessingInstruction)):
        node.drop_tree()
    parts: list[str] = []
    hidden = 0
    preformatted = 0
    # iterwalk rather than recursion: a pathological page nested 10,000 deep must not crash a crawl.
    for event, element in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag in _INVISIBLE_TAGS:
                hidden += 1
                continue
            if tag == "pre":
                preformatted += 1
            if tag == "br" or tag in _BLOCK_TAGS:
                parts.append("\n")
            if element.text and not hidden:
                parts.append(
                    element.text if preformatted else _SPACES.sub(" ", element.text.replace("\n", " "))
                )
            continue
        if tag in _INVISIBLE_TAGS:
            hidden -= 1
        else:
            if tag in _BLOCK_TAGS:
                parts.append("\n")
            if tag == "pre":
                preformatted -= 1
        if element.tail and not hidden and element is not root:
            parts.append(element.tail if preformatted else _SPACES.sub(" ", element.tail.replace("\n", " ")))
    return tidy_text("".join(parts))


def tidy_text(text: str) -> str:
    """Collapse runs of spaces, trim every line, drop empty lines."""
    lines = (_SPACES.sub(" ", line.replace("\xa0", " ")).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


@contextmanager
def _client_for(client: httpx.Client | None, timeout: float) -> Iterator[httpx.Client]:
    if client is not None:
        yield client
        return
    with httpx.Client(timeout=timeout, max_redirects=MAX_REDIRECTS) as own:
        yield own


def _read(
    response: httpx.Response, url: str, source: str | None, timeout: float, max_bytes: int
) -> FetchResult:
    headers = {name.lower(): value for name, value in response.headers.items()}
    final_url = str(response.url)
    redirects = [str(earlier.url) for earlier in response.history]
    if response.status_code == 304:
        return FetchResult(304, final_url, headers, b"", "", not_modified=True, redirects=redirects)
    if response.status_code >= 300:
        if response.status_code >= 400:
            # A 403 with a captcha page is the site refusing us, not a broken URL: say so.
            raise_if_blocked(_error_page(response), headers, response.status_code, source, url)
        raise status_error(response.status_code, response.reason_phrase, url, source)
    too_big = (
        f"response is larger than {max_bytes} bytes, skipped; raise the source's max_bytes if it is expected"
    )
    declared_length = headers.get("content-length", "")
    # Checked before reading; the streamed count below also catches compressed and unsized bodies.
    if declared_length.isdigit() and int(declared_length) > max_bytes:
        raise _error(SourceFormatError, source, url, too_big)
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise _error(SourceFormatError, source, url, too_big)
        if time.monotonic() > deadline:
            # The per-read timeout alone lets a server drip a byte a second forever.
            raise httpx.ReadTimeout(f"body not complete after {timeout:g} s", request=response.request)
        chunks.append(chunk)
    body = b"".join(chunks)
    text = decode_body(body, headers.get("content-type"))
    return FetchResult(response.status_code, final_url, headers, body, text, redirects=redirects)


def _error_page(response: httpx.Response, limit: int = 200_000) -> str:
    """The start of an error answer's body, decoded; "" when it cannot be read."""
    body = b""
    try:
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) >= limit:
                break
    except httpx.HTTPError:
        return ""
    return decode_body(body[:limit], response.headers.get("content-type"))


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - utcnow()).total_seconds())


def _charset_from_header(content_type: str | None) -> str | None:
    match = _CHARSET_IN_CONTENT_TYPE.search(content_type or "")
    return _known_codec(match.group(1)) if match else None


def _charset_from_markup(body: bytes) -> str | None:
    match = _CHARSET_IN_MARKUP.search(body[:2048])
    if not match:
        return None
    name = (match.group(1) or match.group(2)).decode("ascii", errors="ignore")
    return _known_codec(name)


def _known_codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _error(kind: type[SourceError], source: str | None, url: str, message: str) -> SourceError:
    # Without a source name the URL itself heads the message; with one, it follows it.
    if source:
        return kind(source, f"{url}: {message}")
    return kind(url, message)
