"""A brand's name in quotes: «Магнит» is the shop, but «Мир фантастики» is a magazine and кинотеатр
«Перекрёсток» a cinema. Finds the quoted title around a hit and tells a title from quoted speech;
whether the title names the brand is monitor/verdicts.py's call.
"""

from __future__ import annotations

from typing import NamedTuple

from monitor.morphology import AnalysedText, is_verb_form

# Opening quote -> what closes it. Straight quotes and “ open or close by where they stand.
_CLOSING = {"«": "»", "„": "“”", "‹": "›", "‘": "’", "“": "”", '"': '"', "'": "'"}
_CLOSING_ONLY = frozenset("»”›’")
_EITHER = frozenset("“\"'")
QUOTES = frozenset(_CLOSING) | _CLOSING_ONLY
_LONGEST_TITLE = 80  # characters
# A title is a few words with no verb and no sentence's end («Мир фантастики», «Война и мир»);
# anything longer, or with a verb, is quoted speech («В Ленте опять подняли цены», — пишет она).
_MOST_TITLE_WORDS = 6
_SENTENCE_MARKS = frozenset(".!?;")


class Title(NamedTuple):
    first: int  # its first and last token
    last: int
    opening: int  # where its opening quote stands


def title_around(text: AnalysedText, first: int, last: int) -> Title | None:
    """The quoted title that holds tokens first..last, if they stand inside quotes on one line and
    the quotes hold a title rather than a quoted sentence."""
    source = text.text
    opening = _opening_before(source, text.starts[first])
    if opening is None:
        return None
    closing = _closing_after(source, text.ends[last], _CLOSING[source[opening]])
    if closing is None:
        return None
    inside = source[opening + 1 : closing]
    if any(mark in inside for mark in _SENTENCE_MARKS):
        return None
    while first > 0 and text.starts[first - 1] > opening:
        first -= 1
    while last + 1 < len(text.starts) and text.ends[last + 1] <= closing:
        last += 1
    if last - first + 1 > _MOST_TITLE_WORDS:
        return None
    if any(is_verb_form(text.folded[i]) for i in range(first, last + 1)):
        return None
    return Title(first, last, opening)


def _opening_before(text: str, position: int) -> int | None:
    """The opening quote of the quotes position stands in, if any on its line."""
    for p in range(position - 1, max(-1, position - _LONGEST_TITLE - 1), -1):
        char = text[p]
        if char == "\n" or char in _CLOSING_ONLY:
            return None
        if char in _CLOSING:
            return p if char not in _EITHER or _opens(text, p) else None
    return None


def _opens(text: str, p: int) -> bool:
    """Does a straight quote or “ at p open (a space or nothing before it, a word after it)?"""
    before_ok = p == 0 or not text[p - 1].isalnum()
    return before_ok and p + 1 < len(text) and not text[p + 1].isspace()


def _closing_after(text: str, position: int, closers: str) -> int | None:
    for p in range(position, min(len(text), position + _LONGEST_TITLE)):
        if text[p] in closers:
            return p
        if text[p] == "\n":
            return None
    return None
