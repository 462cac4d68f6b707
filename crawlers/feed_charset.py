"""The charset of a fetched feed, repaired where Russian sites label it wrong or not at all.

feedparser trusts the labels, and when they fail it falls back to Latin charsets for the whole feed.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_XML_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([\w.:\-]+)""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:\-]+)""", re.IGNORECASE)
# UTF-32 first: its little-endian BOM starts with UTF-16's.
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# One-byte Cyrillic charsets a feed with no usable label is told apart among. Few candidates on
# purpose: on a short feed a detector choosing among dozens picks mac_cyrillic or cp866 as often.
_CYRILLIC_CHARSETS = ("cp1251", "koi8_r")
# Labels a server sends by default, whatever the feed is in (Python's names for them).
_DEFAULT_LABELS = frozenset({"ascii", "iso8859-1", "iso8859-15", "cp1252"})


def without_leading_space(body: bytes) -> bytes:
    """The body with blank lines before <?xml ...?> dropped (a BOM stays in front).

    PHP feeds often start with a newline. Expat then rejects the declaration, and feedparser, which
    only looks for it at byte 0, also misses its encoding="windows-1251" and decodes as cp1252.
    """
    bom = codecs.BOM_UTF8 if body.startswith(codecs.BOM_UTF8) else b""
    rest = body[len(bom) :]
    stripped = rest.lstrip(b" \t\r\n")
    if stripped is rest or not stripped.startswith(b"<"):
        return body
    return bom + stripped


def with_right_charset(body: bytes, content_type: str) -> tuple[bytes, str | None]:
    """The body (repaired if need be) and the charset to tell feedparser; None: the labels are right.

    Labels lie both ways on Russian sites: a server default (utf-8, iso-8859-1) on a windows-1251
    feed, an old windows-1251 label on a site moved to UTF-8. And feedparser, when the charset it
    tries fails, falls back to windows-1252 / iso-8859-2 for the whole feed: "Ñáåðáàíê".
    """
    if body.startswith(_UTF32_BOMS):
        return body, "utf-32"
    # Named, not left to feedparser: text/xml without a charset means us-ascii to it (RFC 3023),
    # which breaks a UTF-16 feed on its first byte.
    if body.startswith(_UTF16_BOMS):
        return body, "utf-16"
    utf8 = _as_utf8(body)
    # A UTF-8 BOM means UTF-8 whatever the labels say (XML 1.0, appendix F).
    if body.startswith(codecs.BOM_UTF8):
        return utf8 or body, "utf-8"
    header = _codec_named(_CHARSET.search(content_type))
    markup = _codec_named(_XML_ENCODING.search(body))
    if utf8 is None:
        # Not UTF-8: the encoding the CMS wrote into <?xml?> beats a server default in the header.
        declared = next((name for name in (markup, header) if name and name != "utf-8"), None)
        if declared and declared not in _DEFAULT_LABELS:
            return body, declared
        # No label, or one a server sends whatever the feed is in: the bytes tell.
        return body, _detected_charset(body, declared)
    if utf8 is not body:
        return utf8, "utf-8"
    # Cyrillic in a one-byte charset is never valid UTF-8 over a whole feed, so a non-ASCII body
    # that decodes as UTF-8 is UTF-8, even when labelled windows-1251 or koi8-r.
    if not body.isascii() and any(name and name != "utf-8" for name in (header, markup)):
        return body, "utf-8"
    return body, None


def _detected_charset(body: bytes, declared: str | None) -> str:
    """windows-1251, KOI8-R or the declared Western default, whichever the bytes read best as.

    feedparser itself only tries windows-1252 and iso-8859-2 when no label works, and forcing
    windows-1251 reads a KOI8-R feed as "Я┌╧" garbage.
    """
    candidates = [*_CYRILLIC_CHARSETS, *([declared] if declared else [])]
    best = charset_normalizer.from_bytes(body, cp_isolation=candidates).best()
    found = _codec_name(best.encoding) if best is not None else declared
    return found or "windows-1251"


def _as_utf8(body: bytes) -> bytes | None:
    """`body` when it is UTF-8, with U+FFFD for a few broken letters; None when it is not UTF-8.

    A description cut by a byte-counting substr() ends in half a letter; one such byte would
    otherwise make feedparser read the whole feed as iso-8859-2. windows-1251 text, read as
    UTF-8, breaks on nearly every letter instead.
    """
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("utf-8", errors="replace")
        broken = text.count("\ufffd")
        letters = sum(1 for char in text if not char.isascii())
        return text.encode("utf-8") if broken * 10 < letters else None
    return body


def _codec_named(match: re.Match[str] | re.Match[bytes] | None) -> str | None:
    """Python's name for a declared charset ("UTF8" -> "utf-8", "cp1251" -> "cp1251"); None if unknown."""
    if match is None:
        return None
    label = match.group(1)
    return _codec_name(label.decode("ascii") if isinstance(label, bytes) else label)


def _codec_name(label: str) -> str | None:
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None
