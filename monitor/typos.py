"""Long names written with one slip: a letter missing, extra or wrong, or two letters swapped
(Тинькоф, Спортмастр, Wildberies). Only names of 7+ letters, whose one-letter neighbours are rarely
words; and a word the dictionary knows (спортсмены, перекрестах) is never taken for a slip.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

from monitor.morphology import word_is_known

SHORTEST_NAME = 7
# Slips are looked for only in words that begin as a name's form does: people misspell the middle
# and end of a long name, rarely its first two letters, and most words of a text are skipped at once.
_PREFIX = 2

K = TypeVar("K")


class TypoIndex(Generic[K]):
    """The word forms of long names, found in a folded word one edit away from one of them."""

    def __init__(self, names: Iterable[tuple[K, str, frozenset[str]]]):
        """names: (key, the folded name, its folded word forms)."""
        self._forms: dict[str, list[K]] = {}
        # A form with one letter deleted -> the forms it came from.
        self._deletions: dict[str, set[str]] = {}
        for key, name, forms in names:
            if len(name) < SHORTEST_NAME:
                continue
            for form in forms:
                if len(form) < SHORTEST_NAME - 1:
                    continue
                keys = self._forms.setdefault(form, [])
                if key not in keys:
                    keys.append(key)
                for deleted in _deletions(form):
                    self._deletions.setdefault(deleted, set()).add(form)
        # Words that do not begin so are no slip of a name: callers may skip find() for them.
        self.starts = {form[:_PREFIX] for form in self._forms}
        lengths = {len(form) for form in self._forms}
        self._lengths = lengths | {n - 1 for n in lengths} | {n + 1 for n in lengths}
        # Shorter words are no slip of any name here.
        self.shortest = min(self._lengths, default=SHORTEST_NAME)

    def find(self, folded: str) -> list[K]:
        """Keys of the names one edit away from folded; none for a word the dictionary knows."""
        if len(folded) not in self._lengths or folded[:_PREFIX] not in self.starts:
            return []
        if folded in self._forms:
            return []  # the name itself, not a slip: the term index finds it
        candidates = set(self._deletions.get(folded, ()))  # a letter missing
        for deleted in _deletions(folded):
            if deleted in self._forms:
                candidates.add(deleted)  # a letter extra
            candidates.update(self._deletions.get(deleted, ()))  # a letter wrong, or two swapped
        forms = [form for form in candidates if one_edit_apart(folded, form)]
        if not forms or word_is_known(folded):
            return []
        keys: list[K] = []
        for form in forms:
            keys.extend(key for key in self._forms[form] if key not in keys)
        return keys


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
