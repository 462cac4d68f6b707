"""An abbreviation spelled out as something else: «МТС (машинно-тракторные станции)», «машинно-
тракторные станции (МТС)», or an `exclude` phrase whose initials are the abbreviation. A text that
spells an abbreviation out once means that sense every time it uses it (one sense per text), so
monitor/matching.py drops all of the brand's hits of that abbreviation there.
"""

from __future__ import annotations

from monitor.morphology import AnalysedText, fold
from monitor.query import WORD

# Short words an expansion may hold that give no letter: «Министерство по чрезвычайным ситуациям».
_SKIPPED = frozenset("и в во на по для при из о об от с со к".split())
_OPEN, _CLOSE = "(", ")"


def spells_out(words: list[str], abbreviation: str) -> bool:
    """Are words (folded; each part of a hyphenated word a word of its own) the abbreviation's
    expansion: their first letters, short linking words aside or not, its letters?"""
    if len(words) < 2:
        return False
    letters = "".join(word[0] for word in words)
    content = "".join(word[0] for word in words if word not in _SKIPPED)
    return abbreviation in (letters, content)


def phrase_spells_out(phrase: str, abbreviation: str) -> bool:
    """An `exclude` phrase that is the abbreviation's other expansion (машинно-тракторная станция)."""
    return spells_out([fold(word) for word in WORD.findall(phrase)], abbreviation)


def expansion_beside(text: AnalysedText, i: int, abbreviation: str) -> tuple[int, int] | None:
    """(first, last token) of an expansion in brackets right after token i («МТС (…)»), or of the
    words right before token i when it stands bracketed («… (МТС)»), if it spells out the
    abbreviation."""
    longest = 2 * len(abbreviation) + 1  # words, hyphenated parts counted apart
    count = len(text.folded)
    if i + 1 < count and text.between(i, i + 1).strip() == _OPEN:
        last = i + 1
        while last + 1 < count and last - i < longest and _one_name(text, last, last + 1):
            last += 1
        if _closed_after(text, last) and spells_out(text.folded[i + 1 : last + 1], abbreviation):
            return i + 1, last
    if i > 0 and text.between(i - 1, i).strip() == _OPEN and _closed_after(text, i):
        first = i - 1
        while i - first <= longest:
            if spells_out(text.folded[first:i], abbreviation):
                return first, i - 1
            if first == 0 or not _one_name(text, first - 1, first):
                break
            first -= 1
    return None


def _one_name(text: AnalysedText, left: int, right: int) -> bool:
    """Only spaces or hyphens between two tokens: words of one name."""
    return not text.is_tag[right] and not text.between(left, right).strip(" -\u2010\u2011\u00a0")


def _closed_after(text: AnalysedText, i: int) -> bool:
    end = text.ends[i]
    return text.text[end : end + 8].lstrip()[:1] == _CLOSE  # a few spaces at most, not the rest
