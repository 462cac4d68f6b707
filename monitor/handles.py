"""Brand names written as handles and site names: @tinkoff_bank, dodopizzaru, dodo.pizza,
#тинькофф_банк. Separators are dropped, a common suffix or two (ru, official, support, bank, …) is
cut off, and what is left is compared with the brand's names written as one word, Cyrillic names
also in the Latin spellings handles use (Тинькофф -> tinkoff, Пятёрочка -> pyaterochka).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Generic, TypeVar

from monitor.morphology import fold

# What accounts and sites add to a brand's name. Longest first, so "online" is not read as "on"+"line".
HANDLE_SUFFIXES = (
    "official", "support", "russia", "online", "group", "store", "news", "team", "help", "shop", "club",
    "bank", "care", "app", "rus", "msk", "spb", "com", "ru", "rf", "tv",
    "онлайн", "россия", "банк", "ру", "рф",
)  # fmt: skip
_SUFFIXES_BY_ENDING: dict[str, list[str]] = {}
for _suffix in HANDLE_SUFFIXES:
    _SUFFIXES_BY_ENDING.setdefault(_suffix[-2:], []).append(_suffix)
# A name cut down to fewer letters than this by suffixes is too short to say anything.
SHORTEST_STRIPPED = 3
_NOT_LETTERS = re.compile(r"[\W_]+")
# How handles spell Russian letters; the first spelling is the common one.
_LATIN_SPELLINGS: dict[str, tuple[str, ...]] = {
    "а": ("a",), "б": ("b",), "в": ("v",), "г": ("g",), "д": ("d",), "е": ("e",), "ж": ("zh",),
    "з": ("z",), "и": ("i",), "й": ("y", "i", "j"), "к": ("k",), "л": ("l",), "м": ("m",), "н": ("n",),
    "о": ("o",), "п": ("p",), "р": ("r",), "с": ("s",), "т": ("t",), "у": ("u",), "ф": ("f",),
    "х": ("kh", "h"), "ц": ("ts", "c", "z"), "ч": ("ch",), "ш": ("sh",), "щ": ("sch", "shch"), "ъ": ("",),
    "ы": ("y", "i"), "ь": ("",), "э": ("e",), "ю": ("yu", "iu", "ju"), "я": ("ya", "ia", "ja"),
}  # fmt: skip
# Past this many spellings of one name, further letters get their common spelling only.
_MOST_SPELLINGS = 32

K = TypeVar("K")


def compact(text: str) -> str:
    """A name or handle folded, without spaces, hyphens, dots, underscores: «Додо Пицца» -> додопицца."""
    return _NOT_LETTERS.sub("", fold(text))


def latin_spellings(folded: str) -> set[str]:
    """How a folded Cyrillic word may be written in Latin letters (кс may be x: яндекс -> yandex)."""
    spellings = {""}
    position = 0
    while position < len(folded):
        if folded.startswith("кс", position):
            options: tuple[str, ...] = ("ks", "x")
            position += 2
        else:
            options = _LATIN_SPELLINGS.get(folded[position], (folded[position],))
            position += 1
        if len(spellings) * len(options) > _MOST_SPELLINGS:
            options = options[:1]
        spellings = {spelling + option for spelling in spellings for option in options}
    return spellings


def handle_spellings(name: str) -> set[str]:
    """The one-word spellings of a name a handle may hold: as written, and in Latin letters."""
    written = compact(name)
    if not written:
        return set()
    return {written} | (latin_spellings(written) if not written.isascii() else set())


class HandleIndex(Generic[K]):
    """Names by their one-word spellings; find(handle) also tries the handle without its suffixes."""

    def __init__(self) -> None:
        self._keys: dict[str, list[K]] = {}
        # The first two letters of every spelling: a handle starts with the name.
        self.starts: set[str] = set()

    def add(self, key: K, name: str) -> None:
        for spelling in handle_spellings(name):
            keys = self._keys.setdefault(spelling, [])
            if key not in keys:
                keys.append(key)
            self.starts.add(spelling[:2])

    def spellings(self) -> Iterator[tuple[str, list[K]]]:
        yield from self._keys.items()

    def find(self, handle: str) -> tuple[list[K], bool]:
        """(keys of the name the compact handle is, whether suffixes were cut off to find it)."""
        for cut, spelling in enumerate(without_suffixes(handle)):
            keys = self._keys.get(spelling)
            if keys:
                return keys, cut > 0
        return [], False


def without_suffixes(handle: str) -> Iterator[str]:
    """The compact handle, then the handle with one or two suffixes cut off (tinkoffbanksupport,
    tinkoffbank, tinkoff)."""
    yield handle
    yield from _cut_suffixes(handle, 2)


def _cut_suffixes(handle: str, most: int) -> Iterator[str]:
    for suffix in _SUFFIXES_BY_ENDING.get(handle[-2:], ()):
        if handle.endswith(suffix) and len(handle) - len(suffix) >= SHORTEST_STRIPPED:
            stripped = handle[: -len(suffix)]
            yield stripped
            if most > 1:
                yield from _cut_suffixes(stripped, most - 1)
