"""The sentiment model brandpulse ships: hashed char + word n-grams and a linear classifier.

The featurizer is stateless (feature hashing), so the artifact is only the classifier weights
(a compressed .npz) and a small JSON of metadata; loading never unpickles anything.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from sentiment import ModelLoadError

ARTIFACT_FORMAT = 1
WEIGHTS_FILE = "weights.npz"
METADATA_FILE = "metadata.json"
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "offline"

# Long posts are cut before featurizing: the cost is linear in length, and the opening of a
# review or post almost always carries its tone.
MAX_CHARS = 5_000

_URL = re.compile(r"(?:https?:?/{0,2}|www\.)\S*", re.IGNORECASE)
_HANDLE = re.compile(r"@\w+")
_REPEAT = re.compile(r"(.)\1{2,}", re.DOTALL)
# Pictographs, dingbats, symbols; skin tones and joiners are dropped so one emoji is one token.
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\u2190-\u21ff\u3030\u303d\u2764]"
)
_EMOJI_JUNK = re.compile("[\ufe0f\u200d\U0001f3fb-\U0001f3ff]")
_SPACES = re.compile(r"\s+")
# Words, single emoji and the bracket smileys Russian writers use for :) and :( .
WORD_TOKEN_PATTERN = (
    r"(?u)\w+|[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\u2190-\u21ff\u3030\u303d\u2764]"
    r"|\)+|\(+|!+|\?+"
)
URL_TOKEN = " urltoken "
HANDLE_TOKEN = " usertoken "
BRAND_TOKEN = "brandtoken"


def normalize(text: Any) -> str:
    """Lowercase, ё→е, URLs and @handles to tokens, letters repeated 3+ times squeezed to 2."""
    if text is None:
        return ""
    text = str(text)[:MAX_CHARS].lower().replace("ё", "е")
    text = _URL.sub(URL_TOKEN, text)
    text = _HANDLE.sub(HANDLE_TOKEN, text)
    text = _EMOJI_JUNK.sub("", text)
    text = _EMOJI.sub(lambda m: f" {m.group(0)} ", text)
    text = _REPEAT.sub(r"\1\1", text)
    return _SPACES.sub(" ", text).strip()


def brand_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    """A regex for the brand's terms in normalized text, tolerant of Russian case endings.

    "Сбербанк" also finds "сбербанка", "сбербанке"; "Альфа-Банк" finds "альфа банке".
    """
    alternatives = []
    for term in terms:
        words = re.findall(r"\w+", normalize(term))
        if not words:
            continue
        parts = []
        for word in words:
            # Russian inflects by the ending: keep a stem of all but the last two letters of
            # longer words and let any ending follow.
            stem = word[: len(word) - 2] if len(word) >= 6 else word
            parts.append(re.escape(stem) + r"\w*")
        alternatives.append(r"[\s\-]*".join(parts))
    if not alternatives:
        return None
    alternatives.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")")


@dataclass(frozen=True)
class FeatureSettings:
    """How texts become feature vectors; stored in the artifact so training and use agree."""

    char_ngram_range: tuple[int, int] = (2, 5)
    word_ngram_range: tuple[int, int] = (1, 2)
    char_features: int = 2**20
    word_features: int = 2**18
    # Words either side of a brand mention whose n-grams are added as a separate block; 0 = off.
    brand_window: int = 0
    brand_features: int = 2**16
    # Replace the mention of the brand being scored by one token (so the model learns about
    # "the brand", not about Sberbank in particular).
    mask_brand: bool = False
    sublinear_tf: bool = True
    char_weight: float = 1.0
    word_weight: float = 1.0
    brand_weight: float = 0.5

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSettings:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ModelLoadError(f"offline model metadata has unknown feature settings: {sorted(unknown)}")
        values = dict(data)
        for key in ("char_ngram_range", "word_ngram_range"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)

    @property
    def n_features(self) -> int:
        return self.char_features + self.word_features + (self.brand_features if self.brand_window else 0)


@dataclass
class Featurizer:
    settings: FeatureSettings
    _char: HashingVectorizer = field(init=False, repr=False)
    _word: HashingVectorizer = field(init=False, repr=False)
    _brand: HashingVectorizer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        s = self.settings
        common: dict[str, Any] = dict(lowercase=False, alternate_sign=False, norm=None, dtype=np.float32)
        self._char = HashingVectorizer(
            analyzer="char_wb", ngram_range=s.char_ngram_range, n_features=s.char_features, **common
        )
        self._word = HashingVectorizer(
            analyzer="word",
            token_pattern=WORD_TOKEN_PATTERN,
            ngram_range=s.word_ngram_range,
            n_features=s.word_features,
            **common,
        )
        self._brand = HashingVectorizer(
            analyzer="word",
            token_pattern=WORD_TOKEN_PATTERN,
            ngram_range=(1, 2),
            n_features=s.brand_features,
            **common,
        )

    def transform(
        self, texts: Sequence[Any], brand_terms: Sequence[Sequence[str]] | None = None
    ) -> sp.csr_matrix:
        """Texts (and, per text, the brand's terms or an empty list) -> one sparse row each."""
        s = self.settings
        normalized = [normalize(t) for t in texts]
        patterns: list[re.Pattern[str] | None] = [None] * len(normalized)
        if brand_terms is not None and (s.mask_brand or s.brand_window):
            cache: dict[tuple[str, ...], re.Pattern[str] | None] = {}
            for i, terms in enumerate(brand_terms):
                key = tuple(terms)
                if key not in cache:
                    cache[key] = brand_pattern(key)
                patterns[i] = cache[key]
        windows = [
            _brand_window(t, p, s.brand_window) if p else ""
            for t, p in zip(normalized, patterns, strict=True)
        ]
        if s.mask_brand:
            normalized = [
                p.sub(BRAND_TOKEN, t) if p else t for t, p in zip(normalized, patterns, strict=True)
            ]
        blocks = [
            _scale(self._char.transform(normalized), s.sublinear_tf, s.char_weight),
            _scale(self._word.transform(normalized), s.sublinear_tf, s.word_weight),
        ]
        if s.brand_window:
            blocks.append(_scale(self._brand.transform(windows), s.sublinear_tf, s.brand_weight))
        return sp.hstack(blocks, format="csr", dtype=np.float32)


def _brand_window(text: str, pattern: re.Pattern[str], width: int) -> str:
    """The words within `width` of each mention of the brand, the mention itself as a token."""
    if not width:
        return ""
    masked = pattern.sub(f" {BRAND_TOKEN} ", text)
    words = masked.split()
    pieces = []
    for i, word in enumerate(words):
        if word == BRAND_TOKEN:
            pieces.append(" ".join(words[max(0, i - width) : i + width + 1]))
    return " | ".join(pieces)


def _scale(matrix: sp.csr_matrix, sublinear_tf: bool, weight: float) -> sp.csr_matrix:
    """log(1+tf) then L2-normalize each row, times the block weight."""
    matrix = matrix.tocsr()
    if sublinear_tf:
        np.log1p(matrix.data, out=matrix.data)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    scale = sp.diags((weight / norms).astype(np.float32))
    return (scale @ matrix).tocsr()


def softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


class OfflineEngine:
    """The shipped engine: `predict(texts, brand=None) -> [(label, probability)]`."""

    name = "offline"

    def __init__(
        self,
        coef: np.ndarray,
        intercept: np.ndarray,
        classes: Sequence[str],
        settings: FeatureSettings,
        metadata: dict[str, Any] | None = None,
    ):
        if coef.shape != (len(classes), settings.n_features):
            raise ModelLoadError(
                f"offline model weights have shape {coef.shape}, expected "
                f"({len(classes)}, {settings.n_features}) from its feature settings"
            )
        # Weights are stored as float16; compute in float32. Transposed once for fast X @ W.
        self.coef_t = np.ascontiguousarray(coef.astype(np.float32).T)
        self.intercept = intercept.astype(np.float32)
        self.classes = list(classes)
        self.settings = settings
        self.metadata = metadata or {}
        self.featurizer = Featurizer(settings)

    def predict_proba(self, texts: Sequence[Any], brand: str | Sequence[str] | None = None) -> np.ndarray:
        terms: list[str] = [] if brand is None else ([brand] if isinstance(brand, str) else list(brand))
        features = self.featurizer.transform(list(texts), [terms] * len(texts) if terms else None)
        return softmax(np.asarray(features @ self.coef_t) + self.intercept)

    def predict(self, texts: Sequence[str], brand: str | None = None) -> list[tuple[str, float]]:
        if isinstance(texts, str):
            raise TypeError("predict() takes a sequence of texts, not one string")
        if len(texts) == 0:
            return []
        proba = self.predict_proba(texts, brand)
        best = proba.argmax(axis=1)
        return [(self.classes[k], float(proba[i, k])) for i, k in enumerate(best)]


def save_model(
    directory: str | Path,
    coef: np.ndarray,
    intercept: np.ndarray,
    classes: Sequence[str],
    settings: FeatureSettings,
    metadata: dict[str, Any],
) -> None:
    """Write weights.npz (float16, compressed) and metadata.json into `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        directory / WEIGHTS_FILE, coef=coef.astype(np.float16), intercept=intercept.astype(np.float32)
    )
    document = {
        "format": ARTIFACT_FORMAT,
        "engine": "offline",
        "classes": list(classes),
        "features": asdict(settings),
        **metadata,
    }
    (directory / METADATA_FILE).write_text(
        json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def load_model(directory: str | Path | None = None) -> OfflineEngine:
    """Load the artifact from `directory` (default: the model shipped inside the package)."""
    directory = Path(directory) if directory is not None else DEFAULT_MODEL_DIR
    meta_path, weights_path = directory / METADATA_FILE, directory / WEIGHTS_FILE
    if not meta_path.is_file() or not weights_path.is_file():
        raise ModelLoadError(
            f"cannot load offline model from {directory}: {METADATA_FILE} or {WEIGHTS_FILE} missing; "
            "train one with: python -m sentiment.train_offline --output " + str(directory)
        )
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {meta_path}: {exc}") from exc
    if metadata.get("format") != ARTIFACT_FORMAT:
        raise ModelLoadError(
            f"{meta_path}: artifact format {metadata.get('format')!r}; "
            f"this brandpulse reads format {ARTIFACT_FORMAT}: retrain with python -m sentiment.train_offline"
        )
    try:
        with np.load(weights_path, allow_pickle=False) as arrays:
            coef, intercept = arrays["coef"], arrays["intercept"]
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"cannot read {weights_path}: {exc}") from exc
    settings = FeatureSettings.from_dict(metadata["features"])
    return OfflineEngine(coef, intercept, metadata["classes"], settings, metadata)
