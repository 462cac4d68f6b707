"""Lexicon and negation features for the offline model: LINIS word ratings, negated words.

The lexicon rates lemmas; `expand_forms` (at training time, with pymorphy3) turns it into every
word form -> rating, which the artifact stores, so scoring is a dictionary lookup per token and
needs no morphological analyser.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

# Words that turn the next word around: "не работает", "нет связи", "без проблем".
NEGATORS = frozenset({"не", "ни", "нет", "без"})
NEGATION_PREFIX = "не_"
_CYRILLIC_WORD = re.compile(r"[а-я]+")

# Per text: count of negative and of positive lexicon words, their summed strength, the most
# negative and most positive rating. Signed log1p keeps long texts from dominating.
LEXICON_COLUMNS = ("neg_count", "pos_count", "neg_sum", "pos_sum", "min", "max")


@functools.cache
def _morph() -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


def expand_forms(ratings: Mapping[str, float]) -> dict[str, float]:
    """Every inflected form of each rated lemma -> its rating ("ужасный" -> "ужасного", "ужасные", ...).

    Where two lemmas share a form, the stronger rating wins.
    """
    forms: dict[str, float] = {}

    def put(form: str, rating: float) -> None:
        form = form.replace("ё", "е")
        if form not in forms or abs(rating) > abs(forms[form]):
            forms[form] = rating

    for word, rating in ratings.items():
        put(word, rating)
        if not _CYRILLIC_WORD.fullmatch(word):
            continue
        parses = _morph().parse(word)
        parse = next((p for p in parses if p.normal_form.replace("ё", "е") == word), parses[0])
        for form in parse.lexeme:
            put(str(form.word), rating)
    return forms


def negated(tokens: Sequence[str]) -> list[str]:
    """`не_<word>` for each word right after a negator: "не работает" -> ["не_работает"]."""
    pairs = zip(tokens, tokens[1:], strict=False)
    return [NEGATION_PREFIX + word for prev, word in pairs if prev in NEGATORS]


def lexicon_features(
    tokens: Sequence[str], ratings: Mapping[str, float], flip_negated: bool = True
) -> list[float]:
    """The LEXICON_COLUMNS for one text's tokens; a rated word after a negator counts reversed.

    `ratings` maps word forms (see `expand_forms`) to ratings.
    """
    scores = []
    previous = ""
    for token in tokens:
        rating = ratings.get(token)
        if rating is not None:
            scores.append(-rating if flip_negated and previous in NEGATORS else rating)
        previous = token
    negatives = [s for s in scores if s < 0]
    positives = [s for s in scores if s > 0]
    return [
        len(negatives),
        len(positives),
        -sum(negatives),
        sum(positives),
        min(scores, default=0.0),
        max(scores, default=0.0),
    ]


def lexicon_matrix(
    token_lists: Sequence[Sequence[str]], ratings: Mapping[str, float], flip_negated: bool = True
) -> np.ndarray:
    """One row of signed-log1p lexicon features per text (float32)."""
    raw = np.array(
        [lexicon_features(tokens, ratings, flip_negated) for tokens in token_lists], dtype=np.float32
    ).reshape(len(token_lists), len(LEXICON_COLUMNS))
    return np.sign(raw) * np.log1p(np.abs(raw))
