"""Names written with a slip, compared by how they sound (monitor/sound_keys.py): a doubled letter
dropped or added, ь left out, a vowel or a voiced consonant mixed up, Latin for Cyrillic (Тинкоф,
Вайлдберис, Мигафон, Сбербанг, Билаин, Wildberies) sound the same as the name; a long name also
takes one slip more, a letter missing, extra or wrong, or two swapped (Спортмастр, Спотрмастер,
Сбребанк). Any case form of the name may carry the slip (у Тинькофа, в Спортмастре). A word the
dictionary knows (спортсмены, магнат, перекрестах) is never taken for a slip.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import product
from typing import Generic, TypeVar

from monitor.morphology import word_is_known
from monitor.sound_keys import sound_key

# A name of this many letters matches words that sound like it (Азон, Сбир, Билаин)...
SHORTEST_SOUNDALIKE = 4
# ...but below this many, only Cyrillic words: a short Latin word is another language's (todo is no
# Додо, ozone no Озон), and a handle of the name is monitor/handles.py's to find.
SHORTEST_LATIN = 6
# ...and of this many, whose key is as long, words one slip away from sounding like it: a shorter
# name's neighbours are words (Магнит/магнат, Сбер/сбор) or made-up words (Тинькофф/тинзофа).
SHORTEST_NAME = 7
# Slips are looked for only in words that begin as a name's key does: people misspell the middle
# and end of a long name, rarely how it starts, and most words of a text are skipped at once.
_PREFIX = 2
_REMEMBERED = 100_000  # words
_LETTERS = "абвгдежзийклмнопрстуфхцчшщъыьэюяabcdefghijklmnopqrstuvwxyz"

K = TypeVar("K")


@dataclass(frozen=True)
class _Name(Generic[K]):
    key: K
    # A slip in a longer name is forgiven one edit from its sound; a shorter one must sound the same.
    long: bool
    # A short name's slips are Cyrillic words only.
    short: bool


class TypoIndex(Generic[K]):
    """The word forms of names by their sound keys; find() gives the names a folded word is a slip of."""

    def __init__(self, names: Iterable[tuple[K, str, frozenset[str]]]):
        """names: (key, the folded name, its folded word forms)."""
        self._forms: set[str] = set()
        self._sounds: dict[str, list[_Name[K]]] = {}
        # A long name's sound key with one letter deleted -> the keys it came from.
        self._deletions: dict[str, set[str]] = {}
        for key, name, forms in names:
            if len(name) < SHORTEST_SOUNDALIKE:
                continue
            long = len(name) >= SHORTEST_NAME and len(sound_key(name)) >= SHORTEST_NAME
            entry = _Name(key, long, short=len(name) < SHORTEST_LATIN)
            for form in forms:
                if len(form) < SHORTEST_SOUNDALIKE - 1:
                    continue
                self._forms.add(form)
                sound = sound_key(form)
                entries = self._sounds.setdefault(sound, [])
                if entry not in entries:
                    entries.append(entry)
                if long:
                    for deleted in _deletions(sound):
                        self._deletions.setdefault(deleted, set()).add(sound)
        self._starts = {sound[:_PREFIX] for sound in self._sounds}
        self._lengths = {len(sound) for sound in self._sounds}
        # Keys a slip away from a long name's: looked for only where one may be.
        long_sounds = [sound for sound, entries in self._sounds.items() if any(e.long for e in entries)]
        self._near_lengths = {len(sound) + step for sound in long_sounds for step in (-1, 0, 1)}
        self._near_starts = {sound[:_PREFIX] for sound in long_sounds}
        # The first two letters of the words whose key may begin as a name's does: callers may skip
        # find() for the rest.
        self.starts = {
            "".join(pair) for pair in product(_LETTERS, repeat=2) if self._may_start(sound_key("".join(pair)))
        }
        # Shorter words are no slip of any name here (a word's key is no longer than the word).
        self.shortest = min(self._lengths | self._near_lengths, default=SHORTEST_NAME)
        # Texts repeat their words: each is looked up once.
        self._found: dict[str, list[K]] = {}

    def _may_start(self, sound: str) -> bool:
        return any(start.startswith(sound[:_PREFIX]) for start in self._starts)

    def find(self, folded: str) -> list[K]:
        """Keys of the names folded is a slip of; none for a word the dictionary knows."""
        found = self._found.get(folded)
        if found is None:
            if len(self._found) >= _REMEMBERED:
                self._found.clear()
            found = self._found[folded] = self._find(folded)
        return found

    def _find(self, folded: str) -> list[K]:
        if folded in self._forms:
            return []  # the name itself, not a slip: the term index finds it
        sound = sound_key(folded)
        if sound[:_PREFIX] not in self._starts:
            return []
        latin = folded.isascii()
        names = [name for name in self._sounds.get(sound, ()) if not (latin and name.short)]
        if len(sound) in self._near_lengths and sound[:_PREFIX] in self._near_starts:
            names += self._one_slip_from(sound)
        if not names or word_is_known(folded):
            return []
        keys: list[K] = []
        for name in names:
            if name.key not in keys:
                keys.append(name.key)
        return keys

    def _one_slip_from(self, sound: str) -> Iterator[_Name[K]]:
        """The long names whose keys are one edit from sound."""
        near = set(self._deletions.get(sound, ()))  # a letter missing
        for deleted in _deletions(sound):
            if deleted in self._sounds:
                near.add(deleted)  # a letter extra
            near.update(self._deletions.get(deleted, ()))  # a letter wrong, or two swapped
        for other in near:
            if one_edit_apart(sound, other):
                yield from (name for name in self._sounds[other] if name.long)


def _deletions(word: str) -> Iterator[str]:
    for position in range(len(word)):
        yield word[:position] + word[position + 1 :]


def one_edit_apart(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or swap of two neighbouring letters turns a into b."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))
    if len(a) < len(b):
        return a[first:] == b[first + 1 :]
    if a[first + 1 :] == b[first + 1 :]:
        return True
    return a[first : first + 2] == b[first : first + 2][::-1] and a[first + 2 :] == b[first + 2 :]
