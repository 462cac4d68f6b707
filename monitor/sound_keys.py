"""How a word sounds, as a key that the usual ways of misspelling a Russian brand name leave
alone: Тинкоф, Тинькофф and Tinkoff, Вайлдберис and Wildberries, Мигафон and Мегафон, Билаин and
Билайн, Сбербанг and Сбербанк all get one key. monitor/typos.py compares names by these keys.
"""

from __future__ import annotations

import functools
import re

# Latin letters as a Russian reader says them, digraphs first, so a Latin name or a slip of one
# meets the Cyrillic spelling (wildberies ~ вайлдберриз, tinkof ~ тинькофф).
_LATIN_DIGRAPHS = (
    ("shch", "щ"), ("sch", "щ"), ("sh", "ш"), ("ch", "ч"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"),
    ("ph", "ф"), ("ck", "к"), ("ee", "и"), ("oo", "у"), ("ya", "я"), ("yu", "ю"), ("yo", "е"),
)  # fmt: skip
_LATIN_LETTERS = str.maketrans(
    {
        "a": "а", "b": "б", "c": "к", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "х", "i": "и",
        "j": "дж", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "q": "к", "r": "р",
        "s": "с", "t": "т", "u": "у", "v": "в", "w": "в", "x": "кс", "y": "и", "z": "з",
    }
)  # fmt: skip
_LATIN_DIGRAPH = re.compile("|".join(latin for latin, _ in _LATIN_DIGRAPHS))
_DIGRAPH_SOUNDS = dict(_LATIN_DIGRAPHS)
# What writers mix up: unstressed vowels (Мигафон, Пятерачка, Растелеком), voiced and voiceless
# consonants (Сбербанг, Вайлдберис), й and и (Билаин), and the signs ь and ъ (Тинкоф).
_SOUNDS = str.maketrans(
    {
        "о": "а", "я": "а", "э": "и", "е": "и", "ы": "и", "ю": "у",
        "з": "с", "г": "к", "д": "т", "б": "п", "в": "ф", "ж": "ш", "щ": "ш", "ц": "с",
        "й": "и", "ь": None, "ъ": None,
    }
)  # fmt: skip
_REPEATS = re.compile(r"(.)\1+")


@functools.lru_cache(maxsize=100_000)
def sound_key(folded: str) -> str:
    """The key of a folded word (monitor/morphology.fold): Latin read as Cyrillic, mixed-up letters
    made one, doubled letters single."""
    cyrillic = folded
    if folded.isascii():
        cyrillic = _LATIN_DIGRAPH.sub(lambda found: _DIGRAPH_SOUNDS[found.group()], folded)
    cyrillic = cyrillic.translate(_LATIN_LETTERS)  # Latin letters left in a word of both scripts
    return _REPEATS.sub(r"\1", cyrillic.translate(_SOUNDS))
