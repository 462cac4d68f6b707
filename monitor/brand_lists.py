"""Brands named in one list («в сбербанке и почте одни очереди», «Пятёрочка, лента, магнит»): a brand
that stands beside other configured brands is read as one of them, so the list is context enough
for an ordinary-word name in it.

Only a list counts, not the whole text: «Сбер — лучший банк в мире» holds a brand and the word
«мир», yet the world is no payment card. Which hits are in a list is decided here; whether a hit
is sure enough to vouch for its neighbours is monitor/matching.py's call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from monitor.morphology import fold
from monitor.query import WORD

# What joins two names of one list: a conjunction or a list mark. Adjacent names with neither are
# no list («купила в Пятёрочке ленту» is a ribbon bought there).
_CONJUNCTIONS = frozenset("и или либо а да ни".split())
_LIST_MARKS = frozenset(",/&+")
# Other words that may stand between them: the prepositions and particles repeated before each
# name («и в сбере, и в почте», «то ли в ленте, то ли в магните»).
_LINKS = _CONJUNCTIONS | frozenset("то ли тоже также в во на из изо у с со к ко от до через про".split())
_MOST_LINKS = 4
_WIDEST_GAP = 40  # characters: four short words, their marks and spaces
# And besides: spaces, quotes and brackets around a name. A full stop, a colon or a dash ends the
# list («налоговая, пенсионный и почта — везде очереди»).
_AROUND_NAMES = frozenset(" \t\r\n\u00a0\u202f«»\"“”„'()")


class Spanned(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


H = TypeVar("H", bound=Spanned)


def listed_together(text: str, left_end: int, right_start: int) -> bool:
    """Do the names ending at left_end and starting at right_start belong to one list?"""
    if right_start - left_end > _WIDEST_GAP:
        return False
    between = text[left_end:right_start]
    words = [fold(word) for word in WORD.findall(between)]
    if len(words) > _MOST_LINKS or not all(word in _LINKS for word in words):
        return False
    marks = WORD.sub("", between)
    if not all(char in _LIST_MARKS or char in _AROUND_NAMES for char in marks):
        return False
    return any(char in _LIST_MARKS for char in marks) or any(word in _CONJUNCTIONS for word in words)


def lists(text: str, hits: Iterable[H]) -> list[list[H]]:
    """The hits grouped into runs of names listed together, in text order; overlapping hits (two
    readings of one word) share a run. A hit with no neighbour is a run of its own."""
    runs: list[list[H]] = []
    end = -1
    for hit in sorted(hits, key=lambda hit: (hit.start, -hit.end)):
        if runs and (hit.start < end or listed_together(text, end, hit.start)):
            runs[-1].append(hit)
        else:
            runs.append([hit])
        end = max(end, hit.end) if hit.start < end else hit.end
    return runs


def vouched_for(
    text: str, hits: list[H], waiting: list[H], brand_of: Callable[[H], int], sure: Callable[[H], bool]
) -> list[H]:
    """The waiting hits (short of context only) that share a list with a sure hit of another brand;
    `sure` is asked only about hits listed with a waiting one."""
    waiting_ids = {id(hit) for hit in waiting}
    vouched: list[H] = []
    for run in lists(text, hits):
        waiting_here = [hit for hit in run if id(hit) in waiting_ids]
        if not waiting_here:
            continue
        sure_brands = {brand_of(hit) for hit in run if id(hit) not in waiting_ids and sure(hit)}
        vouched.extend(hit for hit in waiting_here if sure_brands - {brand_of(hit)})
    return vouched
