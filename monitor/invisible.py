"""Characters a reader does not see: zero-width spaces and joiners, soft hyphens, BOMs, bidi marks,
stress accents. A word is read through them (Вкус, a zero-width space, Маркет is the one word
ВкусМаркет) while its span still covers the text as given, invisible characters and all, so it fits
the stored text that the inbox highlights.
"""

from __future__ import annotations

import re

# The inside of a regex character class: format characters, which str.isprintable() rejects (a
# cheap test for texts that have none), and the stress marks, which are combining accents.
INVISIBLE = (
    "\u00ad"  # soft hyphen
    "\u061c"  # Arabic letter mark
    "\u180e"  # Mongolian vowel separator (an old zero-width space)
    "\u200b-\u200f"  # zero-width space, non-joiner and joiner; left-to-right and right-to-left marks
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2060-\u2064"  # word joiner and invisible operators
    "\u2066-\u2069"  # bidi isolates
    "\ufeff"  # BOM / zero-width no-break space
    "\u0300\u0301\u0340\u0341"  # grave and acute accents: stress marks (the diaeresis of ё stays)
)
_INVISIBLE = re.compile(f"[{INVISIBLE}]+")


def without_invisible(text: str) -> str:
    return _INVISIBLE.sub("", text) if not text.isascii() else text


def visible_before(text: str, position: int, spaces: bool = False) -> int:
    """Where the last visible character before position is (-1: none); `spaces` looks past spaces
    and tabs too."""
    position -= 1
    while position >= 0 and (
        (spaces and text[position] in " \t\u00a0")
        or (not text[position].isprintable() and _INVISIBLE.match(text, position))
    ):
        position -= 1
    return position


# What must never reach a screen or a chat as sent: bidi embeddings, overrides and isolates (one
# U+202E turns «оплатил 100» into «001 литalпо» and can make a link read as another), and control
# characters other than tab and newline. Zero-width joiners stay: emoji sequences are made of them.
_DIRECTION_AND_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]+")


def shown(text: str) -> str:
    """`text` as it may be shown or sent: without direction overrides and control characters. The
    stored text keeps them (matching reads through them; the original is evidence)."""
    return _DIRECTION_AND_CONTROL.sub("", text) if not text.isprintable() else text
