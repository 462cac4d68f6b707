"""Exceptions brandpulse raises on purpose; each carries enough context for a one-line message.

BrandpulseError
├── ConfigError          spiders.yaml unreadable or invalid (file, key path, line)
├── StorageError         database unreachable or path unwritable
├── InputError           a CSV or other user file is unusable (file, column)
├── PermissionDenied     a read-only (viewer) user asked for a change
└── SourceError          a crawl of one source failed; the others go on
    ├── SourceUnavailable    network error, timeout, 5xx after retries
    ├── SourceAuthError      bad or missing token, private/closed community
    ├── SourceRateLimited    429 / flood control after retries
    ├── SourceBlocked        the site answered with its anti-bot check (captcha, JS challenge)
    └── SourceFormatError    page or API answer has an unexpected shape
"""

from __future__ import annotations


class BrandpulseError(Exception):
    """Base of every error brandpulse reports to a user in one line."""


class ConfigError(BrandpulseError):
    pass


class StorageError(BrandpulseError):
    pass


class InputError(BrandpulseError):
    pass


class PermissionDenied(BrandpulseError):
    pass


class SourceError(BrandpulseError):
    def __init__(self, source: str, message: str):
        super().__init__(f"{source}: {message}")
        self.source = source


class SourceUnavailable(SourceError):
    pass


class SourceAuthError(SourceError):
    pass


class SourceRateLimited(SourceError):
    pass


class SourceBlocked(SourceError):
    """A captcha or anti-bot interstitial instead of the content, whatever its HTTP status: the site
    is refusing us, not empty. Raised by the crawlers; the source's health shows it as `blocked`."""


class SourceFormatError(SourceError):
    pass


def failure_kind(error: BaseException) -> str:
    """One word for what kind of failure `error` is, as a source's health records it."""
    kinds: tuple[tuple[type[SourceError], str], ...] = (
        (SourceBlocked, "blocked"),
        (SourceAuthError, "auth"),
        (SourceRateLimited, "rate_limited"),
        (SourceFormatError, "format"),
        (SourceUnavailable, "unavailable"),
    )
    return next((kind for error_type, kind in kinds if isinstance(error, error_type)), "error")
