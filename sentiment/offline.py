"""The sentiment model brandpulse ships: hashed char + word n-grams and a linear classifier.

The featurizer is stateless (feature hashing), so the artifact is only the classifier weights
(a compressed .npz) and a small JSON of metadata; loading never unpickles anything.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from sentiment import LABELS, ModelLoadError
from sentiment.lexicon import LEXICON_COLUMNS, lexicon_matrix, negated

# Format 2 added the optional lexicon block (its word list is stored in weights.npz); format 1
# artifacts still load.
ARTIFACT_FORMAT = 2
READABLE_FORMATS = (1, 2)
WEIGHTS_FILE = "weights.npz"
METADATA_FILE = "metadata.json"
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "offline"

# Long posts are cut before featurizing: the cost is linear in length, and the opening of a
# review or post almost always carries its tone.
MAX_CHARS = 5_000

_URL = re.compile(r"(?:https?:?/{0,2}|www\.)\S*", re.IGNORECASE)
_HANDLE = re.compile(r"@(\w+)")
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
_WORD_TOKEN = re.compile(WORD_TOKEN_PATTERN)
URL_TOKEN = " urltoken "
HANDLE_TOKEN = " usertoken "
_KEPT_HANDLE = r" usertoken \1 "
BRAND_TOKEN = "brandtoken"


def normalize(text: Any, keep_handles: bool = False) -> str:
    """Lowercase, ё→е, URLs and @handles to tokens, letters repeated 3+ times squeezed to 2.

    `keep_handles`: "@alfa_bank" becomes "usertoken alfa_bank" instead of "usertoken", so a
    message addressed to a company's support account (mostly complaints) is seen as such.
    """
    if text is None:
        return ""
    text = str(text)[:MAX_CHARS].lower().replace("ё", "е")
    text = _URL.sub(URL_TOKEN, text)
    text = _HANDLE.sub(_KEPT_HANDLE if keep_handles else HANDLE_TOKEN, text)
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
    # "не работает" also yields the token "не_работает" in the word block.
    negation: bool = False
    # Keep the name of an @handle after its token (see `normalize`).
    keep_handles: bool = False
    # Weight of the dense LINIS lexicon block (counts and sums of rated lemmas); 0 = off.
    lexicon_weight: float = 0.0

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
        return (
            self.char_features
            + self.word_features
            + (self.brand_features if self.brand_window else 0)
            + (len(LEXICON_COLUMNS) if self.lexicon_weight else 0)
        )


@dataclass
class Featurizer:
    settings: FeatureSettings
    # Word form -> LINIS rating (sentiment.lexicon.expand_forms), used when lexicon_weight is set.
    lexicon: Mapping[str, float] | None = None
    _char: HashingVectorizer = field(init=False, repr=False)
    _word: HashingVectorizer = field(init=False, repr=False)
    _brand: HashingVectorizer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        s = self.settings
        if s.lexicon_weight and not self.lexicon:
            # Callers that train with the shipped settings on their own rows get its lexicon.
            self.lexicon = bundled_lexicon()
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
        normalized = [normalize(t, s.keep_handles) for t in texts]
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
            _scale(self._word_counts(normalized), s.sublinear_tf, s.word_weight),
        ]
        if s.brand_window:
            blocks.append(_scale(self._brand.transform(windows), s.sublinear_tf, s.brand_weight))
        if s.lexicon_weight and self.lexicon:
            tokens = [_WORD_TOKEN.findall(t) for t in normalized]
            dense = lexicon_matrix(tokens, self.lexicon) * np.float32(s.lexicon_weight)
            blocks.append(sp.csr_matrix(dense))
        return sp.hstack(blocks, format="csr", dtype=np.float32)

    def _word_counts(self, normalized: list[str]) -> sp.csr_matrix:
        if not self.settings.negation:
            return self._word.transform(normalized)
        # The same hashed n-grams as without negation, plus one "не_<word>" feature per negated word.
        analyze = self._word.build_analyzer()
        documents = [analyze(t) + negated(_WORD_TOKEN.findall(t)) for t in normalized]
        hasher = HashingVectorizer(
            analyzer=_identity,
            n_features=self.settings.word_features,
            lowercase=False,
            alternate_sign=False,
            norm=None,
            dtype=np.float32,
        )
        return hasher.transform(documents)


def _identity(features: list[str]) -> list[str]:
    return features


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
    probabilities: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
    return probabilities


def best_labels(probabilities: np.ndarray) -> list[tuple[str, float]]:
    """(label, its probability) per row of probabilities in LABELS order."""
    best = probabilities.argmax(axis=1)
    return [(LABELS[i], float(p[i])) for i, p in zip(best, probabilities, strict=True)]


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
        lexicon: Mapping[str, float] | None = None,
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
        self.lexicon = dict(lexicon) if lexicon else None
        self.featurizer = Featurizer(settings, self.lexicon)

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
    lexicon: Mapping[str, float] | None = None,
) -> None:
    """Write weights.npz (float16 weights, the lexicon if any; compressed) and metadata.json."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {
        "coef": coef.astype(np.float16),
        "intercept": intercept.astype(np.float32),
    }
    if settings.lexicon_weight and not lexicon:
        lexicon = bundled_lexicon()
    if lexicon:
        # Plain unicode and float arrays: loadable with allow_pickle=False.
        arrays["lexicon_words"] = np.array(list(lexicon), dtype=np.str_)
        arrays["lexicon_ratings"] = np.array(list(lexicon.values()), dtype=np.float32)
    np.savez_compressed(directory / WEIGHTS_FILE, **arrays)  # type: ignore[arg-type]
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


@functools.cache
def bundled_lexicon() -> dict[str, float]:
    """The LINIS lexicon stored in the shipped artifact (the default for the lexicon block)."""
    path = DEFAULT_MODEL_DIR / WEIGHTS_FILE
    try:
        with np.load(path, allow_pickle=False) as arrays:
            words, ratings = arrays["lexicon_words"], arrays["lexicon_ratings"]
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(
            f"the lexicon block needs a lexicon and {path} holds none ({exc}); "
            "pass one (sentiment.datasets.lexicon) or set lexicon_weight=0"
        ) from exc
    return {str(w): float(r) for w, r in zip(words, ratings, strict=True)}


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
    if metadata.get("format") not in READABLE_FORMATS:
        raise ModelLoadError(
            f"{meta_path}: artifact format {metadata.get('format')!r}; this brandpulse reads formats "
            f"{', '.join(map(str, READABLE_FORMATS))}: retrain with python -m sentiment.train_offline"
        )
    lexicon: dict[str, float] | None = None
    try:
        with np.load(weights_path, allow_pickle=False) as arrays:
            coef, intercept = arrays["coef"], arrays["intercept"]
            if "lexicon_words" in arrays.files:
                words, ratings = arrays["lexicon_words"], arrays["lexicon_ratings"]
                lexicon = {str(w): float(r) for w, r in zip(words, ratings, strict=True)}
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"cannot read {weights_path}: {exc}") from exc
    settings = FeatureSettings.from_dict(metadata["features"])
    if settings.lexicon_weight and not lexicon:
        raise ModelLoadError(f"{weights_path}: the model uses a lexicon but the file holds none; retrain it")
    return OfflineEngine(coef, intercept, metadata["classes"], settings, metadata, lexicon)
