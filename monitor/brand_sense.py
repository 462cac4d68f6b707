"""The learned brand-or-word decision: is this «магнит» the shop or a fridge magnet?

The rules settle most hits: a name written as a name (mid-sentence capital, quotes, hashtag), an
exclusion, a brand listed with other brands. What they cannot settle is an ordinary word in lower
case or opening a sentence: with a context word somewhere in the text the rules say "mention" (and
«в мире всё дорожает, особенно продукты» is wrong), without one they say "no" (and «пополнил
мегафон через приложение» is missed). For those hits a small model per brand reads the words
around the hit and answers "is this the company?".

It learns from the config's own collected texts, no labelling needed (monitor/sense_training.py):
the brand's word written as a name is the company, an exclusion's hit is the other sense, and a
bare lower-case hit with no context is taken as the other sense too (most are); staff answers in
the inbox and Telegram («Не релевантно», taken in work) are added on top. A linear model over the
words near the hit, stored as JSON: readable, and scored in microseconds without numpy.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from monitor.errors import ConfigError
from monitor.morphology import AnalysedText

FORMAT = "brandpulse-brand-sense/1"
WINDOW = 6  # words each side of the hit
STEM = 5  # letters of a word kept: «магазине», «магазина» and «магазин» are one feature
DEFAULT_THRESHOLD = 0.4


def last_token(text: AnalysedText, hit_token: int, hit_end: int) -> int:
    last = hit_token
    while last + 1 < len(text.starts) and text.starts[last + 1] < hit_end:
        last += 1
    return last


def hit_features(text: AnalysedText, token: int, end: int, has_context: bool) -> list[str]:
    """What the model reads of one hit: its word form, its neighbours, the words around it (their
    first letters), and whether a context word is in the text. Never the capital letter: the
    examples it learns from as "the company" are written as names, the hits it judges are not."""
    last = last_token(text, token, end)
    words = text.folded
    features = [f"form:{words[token]}"] + (["context"] if has_context else [])
    # Nothing is said of a hit opening the text: the names it learns from stand mid-sentence by
    # definition, so "first word" would only teach it that first words are never the company.
    for k in (1, 2):
        before = token - k
        after = last + k
        if before >= 0 and not text.is_tag[before]:
            features.append(f"L{k}:{words[before]}")
        features.append(f"R{k}:{words[after] if after < len(words) and not text.is_tag[after] else '$'}")
    around = range(max(0, token - WINDOW), min(len(words), last + WINDOW + 1))
    features.extend(
        f"w:{words[i][:STEM]}" for i in around if not token <= i <= last and not text.is_tag[i] and words[i]
    )
    return features


@dataclass(frozen=True)
class BrandSense:
    """One brand's linear model: weights of the features it saw, a bias, and its threshold."""

    weights: dict[str, float]
    bias: float
    threshold: float = DEFAULT_THRESHOLD
    examples: int = 0  # how many hits it learned from (for match-eval and the model file)

    def probability(self, features: Iterable[str]) -> float:
        score = self.bias + sum(self.weights.get(feature, 0.0) for feature in set(features))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))


class SenseModel:
    """brand name -> its BrandSense; a brand without one is left to the rules."""

    def __init__(self, brands: dict[str, BrandSense], path: str | None = None):
        self.brands = brands
        self.path = path

    def for_brand(self, brand: str) -> BrandSense | None:
        return self.brands.get(brand)

    def with_thresholds(self, thresholds: dict[str, float]) -> SenseModel:
        """The same model with the config's per-brand thresholds in place of the trained ones."""
        return SenseModel(
            {
                name: BrandSense(
                    sense.weights, sense.bias, thresholds.get(name, sense.threshold), sense.examples
                )
                for name, sense in self.brands.items()
            },
            self.path,
        )

    def save(self, path: str | Path) -> None:
        data = {
            "format": FORMAT,
            "brands": {
                name: {
                    "bias": round(sense.bias, 6),
                    "threshold": sense.threshold,
                    "examples": sense.examples,
                    "weights": {k: round(v, 6) for k, v in sorted(sense.weights.items())},
                }
                for name, sense in self.brands.items()
            },
        }
        Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> SenseModel:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: cannot read the brand-or-word model: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ConfigError(f"{path}: not a brand-or-word model (expected format {FORMAT!r})")
        try:
            brands = {
                name: BrandSense(
                    weights={str(k): float(v) for k, v in entry["weights"].items()},
                    bias=float(entry["bias"]),
                    threshold=float(entry.get("threshold", DEFAULT_THRESHOLD)),
                    examples=int(entry.get("examples", 0)),
                )
                for name, entry in data["brands"].items()
            }
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"{path}: damaged brand-or-word model: {exc!r}") from None
        return cls(brands, str(path))


@dataclass(frozen=True)
class SenseExample:
    brand: str
    features: list[str]
    is_brand: bool
    why: str  # named, excluded, no_context, staff


# How much an example counts by where its label came from: a bare hit without context is only
# probably the other sense, so it counts less than a sure one.
WEIGHTS = {"no_context": 0.15}

# Fewer examples than this of either kind and the brand keeps the rules alone: a model from a
# handful of hits would decide by chance.
MIN_EXAMPLES = 8


def train(examples: Sequence[SenseExample], min_examples: int = MIN_EXAMPLES) -> SenseModel:
    """One logistic regression per brand with enough examples of both kinds (balanced classes)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    by_brand: dict[str, list[SenseExample]] = {}
    for example in examples:
        by_brand.setdefault(example.brand, []).append(example)
    brands: dict[str, BrandSense] = {}
    for brand, rows in sorted(by_brand.items()):
        positives = sum(row.is_brand for row in rows)
        if min(positives, len(rows) - positives) < min_examples:
            continue
        vectorizer = DictVectorizer()
        matrix = vectorizer.fit_transform([dict.fromkeys(row.features, 1) for row in rows])
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
        model.fit(
            matrix, [row.is_brand for row in rows], sample_weight=[WEIGHTS.get(row.why, 1.0) for row in rows]
        )
        names: list[str] = list(vectorizer.get_feature_names_out())
        weights = {name: float(w) for name, w in zip(names, model.coef_[0], strict=True) if abs(w) > 1e-4}
        brands[brand] = BrandSense(weights, float(model.intercept_[0]), DEFAULT_THRESHOLD, len(rows))
    return SenseModel(brands)


def describe(model: SenseModel, brand: str, features: Sequence[str], top: int = 3) -> str:
    """The features that pushed one decision most, for match-eval: "+R1:через +w:попол −no_context"."""
    sense = model.for_brand(brand)
    if sense is None:
        return ""
    pushes = sorted(((sense.weights.get(f, 0.0), f) for f in set(features)), key=lambda p: -abs(p[0]))
    return " ".join(f"{'+' if w > 0 else '−'}{f}" for w, f in pushes[:top] if w)
