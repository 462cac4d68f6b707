"""Outbox dedup keys built from user strings (brand, rule and source names) that always fit the
`dedup_key` column (300 characters), on every backend: SQLite does not enforce the length, PostgreSQL does."""

from __future__ import annotations

import hashlib

# A part longer than this keeps a readable beginning and ends in a short hash of the whole part,
# so two long names that share a beginning still get different keys.
MAX_PART_CHARS = 60
_HASH_CHARS = 12


def dedup_key(*parts: str) -> str:
    """`parts` joined by ':', each over-long one shortened; short parts stay as they are, so keys
    queued before stay the same. Also builds prefixes: dedup_key("spike", brand, rule) + ":"."""
    return ":".join(_fit(part) for part in parts)


def _fit(part: str) -> str:
    if len(part) <= MAX_PART_CHARS:
        return part
    digest = hashlib.sha1(part.encode("utf-8")).hexdigest()[:_HASH_CHARS]
    return f"{part[: MAX_PART_CHARS - _HASH_CHARS - 1]}~{digest}"
