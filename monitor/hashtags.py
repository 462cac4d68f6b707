"""Where a brand's name stands inside the body of a #hashtag or @handle: at its start, after `_`, at a
camelCase or digit change (#ЛюблюСбер, @sberbank_official, #сбербанконлайн), or glued after other
words (#обожаюозон, #хочувсбер). The name must end where a word ends: #магнитнаябуря is no Магнит.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from monitor.morphology import LONGEST_LEMMATIZED, WordForms, known_words
from monitor.query import WORD

_HASHTAG_SCAN = 100
# Shortest name found glued after other words: shorter ones hide inside too many words.
_SHORTEST_GLUED = 3
# One-letter words a hashtag may run together with a name: #вмагните, #ялюблюозон, #хочувсбер.
_ONE_LETTER_WORDS = frozenset("вксуоия")


@dataclass(frozen=True)
class TagForm:
    brand: int
    # A Latin alias (sberbank): may run on into other Latin words (@sberbankonline).
    latin: bool
    # The term is an ordinary word (магнит): glued after other words it needs the brand's context.
    ordinary: bool


class TagHit(NamedTuple):
    brand: int
    start: int  # offsets into the tag's body
    end: int
    # Found after other words inside the body, not where a word starts (#обожаюозон).
    glued: bool
    ordinary: bool


class TagIndex:
    """Folded forms of every term as it looks in a hashtag (#сбербанка, #почтароссии)."""

    def __init__(self) -> None:
        self._forms: dict[str, list[TagForm]] = {}
        self._lengths: list[int] = []  # longest first
        self._glued_starts: set[str] = set()

    def add(self, form: str, entry: TagForm) -> None:
        entries = self._forms.setdefault(form, [])
        if entry not in entries:
            entries.append(entry)
        if len(form) not in self._lengths:
            self._lengths = sorted([*self._lengths, len(form)], reverse=True)
        if not entry.latin and len(form) >= _SHORTEST_GLUED and not form.isascii():
            self._glued_starts.add(form[:_SHORTEST_GLUED])

    def find(self, body: str, folded: str) -> Iterator[TagHit]:
        """The terms' forms in a tag's body (without # or @) and its folded spelling."""
        if len(body) != len(folded):  # folding changed the length: only whole-body matches
            for entry in self._forms.get(folded, ()):
                yield TagHit(entry.brand, 0, len(body), False, entry.ordinary)
            return
        starts = list(_segment_starts(body))
        found = False
        for start in starts:
            for length in self._lengths:
                end = start + length
                entries = self._forms.get(folded[start:end]) if end <= len(folded) else None
                for entry in entries or ():
                    if _ends_word_in_tag(body, folded, end, entry.latin, length):
                        found = True
                        yield TagHit(entry.brand, start, end, False, entry.ordinary)
        # A tag that names a brand where a word starts is about that brand; the words a name may be
        # glued after are Russian ones.
        if not found and not folded.isascii():
            yield from self._glued(body, folded, starts)

    def _glued(self, body: str, folded: str, starts: list[int]) -> Iterator[TagHit]:
        """A name after dictionary words inside one part of the tag: #обожаюозон, #пятничныймагнит."""
        segment = 0
        for position in range(1, min(len(folded), _HASHTAG_SCAN)):
            if position in starts:
                segment = position
                continue
            if folded[position : position + _SHORTEST_GLUED] not in self._glued_starts:
                continue
            if not _words_before(folded[segment:position]):
                continue
            for length in self._lengths:
                end = position + length
                entries = self._forms.get(folded[position:end]) if end <= len(folded) else None
                for entry in entries or ():
                    if not entry.latin and _ends_word_in_tag(body, folded, end, False, length):
                        yield TagHit(entry.brand, position, end, True, entry.ordinary)


def joined_forms(words: tuple[WordForms, ...], folded_term: str) -> set[str]:
    """How a term looks in a hashtag: #сбербанка, #почтароссии, #альфабанк, #вкусноиточка."""
    as_written = {re.sub(r"[\W_]+", "", folded_term)}
    if len(words) == 1:
        return as_written | words[0].forms
    written = WORD.findall(folded_term)
    head, tail = "".join(written[:-1]), "".join(written[1:])
    return as_written | {form + tail for form in words[0].forms} | {head + form for form in words[-1].forms}


def _segment_starts(body: str) -> Iterator[int]:
    """Where a word may begin inside a hashtag: its start, after _, at camelCase and digit changes."""
    yield 0
    for p in range(1, min(len(body), _HASHTAG_SCAN)):
        before, here = body[p - 1], body[p]
        after_underscore = before == "_" and here != "_"
        camel_case = before.islower() and here.isupper()
        digits_change = before.isdigit() != here.isdigit() and "_" not in (before, here)
        if after_underscore or camel_case or digits_change:
            yield p


def _ends_word_in_tag(body: str, folded: str, end: int, latin: bool, length: int) -> bool:
    """Does the term found in a hashtag end where a word ends, not inside one (#магнитнаябуря)?"""
    if end == len(body) or body[end] == "_" or body[end].isdigit():
        return True
    if body[end].isupper() and body[end - 1].islower():
        return True
    if latin:
        return length >= 4  # sberbank, tinkoffjournal; a short alias must stand alone
    rest_end = next((p for p in _segment_starts(body[end:]) if p > 0), len(body) - end)
    return known_words(folded[end : end + min(rest_end, LONGEST_LEMMATIZED)])


def _words_before(prefix: str) -> bool:
    """Is the start of a hashtag's part a run of words that a name may follow (обожаю, хочув, я)?"""
    if len(prefix) > LONGEST_LEMMATIZED:
        return False
    if prefix in _ONE_LETTER_WORDS or known_words(prefix):
        return True
    if prefix[-1] in _ONE_LETTER_WORDS and known_words(prefix[:-1]):
        return True  # хочу + в
    return prefix[0] in _ONE_LETTER_WORDS and known_words(prefix[1:])  # я + обожаю
