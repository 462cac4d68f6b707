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


class SourceFormatError(SourceError):
    pass
