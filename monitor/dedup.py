"""Recognising copies of one post: canonical URLs for the same page, SimHash for the same text.

Pure functions only; monitor/store.py applies them when it saves items.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Query parameters that say how a reader arrived, not what they read.
_TRACKING_PARAMS = frozenset({"fbclid", "yclid", "gclid", "ysclid", "_openstat", "from", "ref"})
_TRACKING_PREFIXES = ("utm_",)
# Host prefixes that serve the same page as the bare host (m.vk.com is vk.com).
_MIRROR_HOST_PREFIXES = ("www.", "m.", "mobile.")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_PATH_SAFE = "/:@!$&'()*+,;=~-._"

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"@\w+")
# Everything that is not a letter or a digit: punctuation, symbols, emoji, underscores.
_NOT_WORD = re.compile(r"[\W_]+")
# How a repost announces itself before the copied text ("Репост: ...", "RT @shop: ...").
# Runs on normalised text, so the handle in "Репост от @shop:" is already gone.
_REPOST_MARKER = re.compile(r"^(?:репост|rt|forwarded from|переслано)(?: от| из| from)?\b")

SHINGLE_WORDS = 3
# Below this many words SimHash is noise: "Спасибо!" and "Спасибо большое!" must never group.
MIN_WORDS_FOR_FINGERPRINT = 8
# Bits two fingerprints may differ in and still be copies of one text.
MAX_HAMMING_DISTANCE = 3
# The fingerprint split into bands for indexed lookup. With at most 3 differing bits, at least one
# of 4 bands is identical (pigeonhole), so an equality match on any band finds every candidate.
BANDS = 4
BAND_BITS = 16

_MASK64 = (1 << 64) - 1


def canonical_url(url: str) -> str:
    """One spelling per page: lowercase scheme and host, no www./m. mirror prefix, no default port,
    no fragment, no tracking parameters, remaining parameters sorted, no trailing slash.

    Anything that is not an http(s) URL comes back stripped of surrounding whitespace only.
    """
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return url
    host = parts.hostname.lower()
    while True:
        for prefix in _MIRROR_HOST_PREFIXES:
            # Keep at least a second-level name: m.ru stays m.ru.
            if host.startswith(prefix) and host.count(".") >= 2:
                host = host[len(prefix) :]
                break
        else:
            break
    netloc = host
    port = parts.port if _has_valid_port(parts) else None
    if port is not None and str(port) != _DEFAULT_PORTS[scheme]:
        netloc = f"{host}:{port}"
    if parts.username or parts.password:
        userinfo = parts.username or ""
        if parts.password:
            userinfo += f":{parts.password}"
        netloc = f"{userinfo}@{netloc}"

    # Decode then re-encode so a Cyrillic path reads the same whether a feed encoded it or not.
    path = quote(unquote(parts.path), safe=_PATH_SAFE).rstrip("/")
    query_pairs = [
        (key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(key)
    ]
    query = urlencode(sorted(query_pairs), quote_via=quote)
    return urlunsplit((scheme, netloc, path, query, ""))


def _has_valid_port(parts: object) -> bool:
    try:
        return getattr(parts, "port") is not None  # noqa: B009 - .port raises on a bad port
    except ValueError:
        return False


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key in _TRACKING_PARAMS or key.startswith(_TRACKING_PREFIXES)


def normalise_text(text: str) -> str:
    """Lowercase words only: ё→е, without URLs, @handles, punctuation, emoji and repeated spaces.

    A leading repost marker ("Репост:", "RT", "Переслано из") is dropped too, so a repost reads
    like the post it copies.
    """
    text = text.lower().replace("ё", "е")
    text = _URL.sub(" ", text)
    text = _HANDLE.sub(" ", text)
    text = _NOT_WORD.sub(" ", text).strip()
    return _REPOST_MARKER.sub("", text).strip()


def word_count(text: str) -> int:
    return len(normalise_text(text).split())


def simhash(text: str) -> int:
    """64-bit SimHash of the text's word 3-shingles, as a signed int64 (fits BIGINT)."""
    words = normalise_text(text).split()
    if not words:
        return 0
    if len(words) < SHINGLE_WORDS:
        shingles = Counter([" ".join(words)])
    else:
        shingles = Counter(
            " ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)
        )
    weights = [0] * 64
    for shingle, count in shingles.items():
        digest = int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += count if digest >> bit & 1 else -count
    value = 0
    for bit, weight in enumerate(weights):
        if weight > 0:
            value |= 1 << bit
    return to_signed64(value)


def fingerprint(text: str) -> int | None:
    """The SimHash to store for a text, or None when the text is too short to compare safely."""
    if word_count(text) < MIN_WORDS_FOR_FINGERPRINT:
        return None
    return simhash(text)


def hamming_distance(a: int, b: int) -> int:
    return ((a ^ b) & _MASK64).bit_count()


def is_near_duplicate(a: str, b: str) -> bool:
    """True when both texts are long enough to compare and their SimHashes differ in ≤ 3 bits."""
    fingerprint_a, fingerprint_b = fingerprint(a), fingerprint(b)
    if fingerprint_a is None or fingerprint_b is None:
        return False
    return hamming_distance(fingerprint_a, fingerprint_b) <= MAX_HAMMING_DISTANCE


def fingerprint_bands(value: int) -> tuple[int, ...]:
    """The fingerprint cut into BANDS unsigned 16-bit pieces, lowest bits first."""
    unsigned = value & _MASK64
    band_mask = (1 << BAND_BITS) - 1
    return tuple(unsigned >> (BAND_BITS * band) & band_mask for band in range(BANDS))


def to_signed64(value: int) -> int:
    value &= _MASK64
    return value - (1 << 64) if value >= 1 << 63 else value
