"""`engine: hybrid`: the offline model and multilingual-e5-small sentence embeddings, combined.

The offline model reads n-grams around the brand; e5-small (a 12-layer multilingual encoder) reads
the whole sentence. Each errs differently, so their product of probabilities (a log-linear mix)
beats either alone on the SentiRuEval dev sets. The e5 part ships as the pruned 4-bit file of
`sentiment.e5_vocab` (~20 MB, dequantized at load, nothing downloaded) with a logistic-regression
head on its mean-pooled `query: ` embeddings.

It is ~60x slower than the offline model (~65 texts/s on 2 cores against ~4,000): the choice
for a stream of thousands of mentions a day where each flagged complaint matters, not for scoring
millions of archived posts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentiment import LABELS, ModelLoadError
from sentiment.batching import length_sorted_batches, pad
from sentiment.offline import OfflineEngine, best_labels, load_model, softmax

HYBRID_DIR = Path(__file__).parent / "models" / "hybrid"
ENCODER_FILE = "e5-pruned.npz"
HEAD_FILE = "head.npz"
METADATA_FILE = "metadata.json"
OFFLINE_SUBDIR = "offline"  # a retrained hybrid's own offline model
QUERY_PREFIX = "query: "  # e5 embeds classification inputs as queries
MAX_TOKENS = 128
CHARS_PER_TOKEN_BOUND = 16


class E5Encoder:
    """Mean-pooled, L2-normalised e5 embeddings from a pruned e5 file (see sentiment.e5_vocab)."""

    def __init__(self, path: str | Path, threads: int | None = None, batch_size: int = 64):
        import torch
        from transformers import BertModel

        from sentiment.convert_e5 import E5FormatError, bert_config, build_tokenizer, state_dict
        from sentiment.e5_vocab import load_pruned

        torch.set_num_threads(threads or os.cpu_count() or 1)
        try:
            pruned = load_pruned(path)
            model = BertModel(bert_config(pruned))
            model.load_state_dict(state_dict(pruned))
        except (E5FormatError, RuntimeError) as exc:
            raise ModelLoadError(f"cannot load the e5 encoder {path}: {exc}") from exc
        self.model = model.eval()
        self.tokenizer = build_tokenizer(pruned.vocabulary, MAX_TOKENS)
        self.pad_id = pruned.vocabulary.pad
        self.batch_size = batch_size

    def embed(self, texts: Sequence[Any]) -> np.ndarray:
        import torch

        cleaned = [
            QUERY_PREFIX + ("" if t is None else str(t))[: MAX_TOKENS * CHARS_PER_TOKEN_BOUND] for t in texts
        ]
        encoded = self.tokenizer(cleaned, truncation=True, max_length=MAX_TOKENS)["input_ids"]
        out = np.zeros((len(encoded), self.model.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for index in length_sorted_batches(encoded, self.batch_size):
                ids, mask = pad([encoded[i] for i in index], self.pad_id)
                hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
                weights = mask.unsqueeze(-1).float()
                pooled = (hidden * weights).sum(1) / weights.sum(1)
                out[index] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
        return out


@dataclass(frozen=True)
class Head:
    """Logistic regression over e5 embeddings: scores = embeddings @ coef.T + intercept (LABELS order)."""

    coef: np.ndarray
    intercept: np.ndarray

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        return softmax(embeddings @ self.coef.T + self.intercept)


def fit_head(embeddings: np.ndarray, labels: Sequence[str], c: float = 4.0) -> Head:
    from sklearn.linear_model import LogisticRegression

    classifier = LogisticRegression(C=c, max_iter=2000).fit(embeddings, list(labels))
    order = [list(classifier.classes_).index(label) for label in LABELS]
    return Head(classifier.coef_[order].astype(np.float32), classifier.intercept_[order].astype(np.float32))


def mix(e5: np.ndarray, offline: np.ndarray, e5_weight: float = 1.0) -> np.ndarray:
    """The two opinions combined: the normalised product of probabilities, e5's raised to `e5_weight`."""
    return softmax(e5_weight * np.log(np.clip(e5, 1e-9, 1.0)) + np.log(np.clip(offline, 1e-9, 1.0)))


class HybridEngine:
    name = "hybrid"

    def __init__(
        self,
        encoder: E5Encoder,
        head: Head,
        offline: OfflineEngine,
        e5_weight: float = 1.0,
        directory: Path | None = None,
    ):
        self.encoder, self.head, self.offline, self.e5_weight = encoder, head, offline, e5_weight
        self.directory = directory  # where the encoder and head were loaded from

    def with_offline(self, offline: OfflineEngine) -> HybridEngine:
        """The same encoder and head around another offline model (retrained on corrections)."""
        return HybridEngine(self.encoder, self.head, offline, self.e5_weight, self.directory)

    def predict_proba(self, texts: Sequence[Any], brand: str | Sequence[str] | None = None) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        e5 = self.head.probabilities(self.encoder.embed(texts))
        return mix(e5, self.offline.predict_proba(texts, brand=brand), self.e5_weight)

    def predict(self, texts: Sequence[str], brand: str | None = None) -> list[tuple[str, float]]:
        if isinstance(texts, str):
            raise TypeError("predict() takes a sequence of texts, not one string")
        return best_labels(self.predict_proba(texts, brand=brand))


def save_hybrid(
    directory: str | Path, encoder_file: str | Path, head: Head, metadata: dict[str, Any]
) -> Path:
    import shutil

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if Path(encoder_file).resolve() != (directory / ENCODER_FILE).resolve():
        shutil.copyfile(encoder_file, directory / ENCODER_FILE)
    np.savez(directory / HEAD_FILE, coef=head.coef, intercept=head.intercept)
    (directory / METADATA_FILE).write_text(json.dumps(metadata, ensure_ascii=False, indent=2) + "\n")
    return directory


def save_retrained_hybrid(engine: HybridEngine, output: str | Path, metadata: dict[str, Any]) -> Path:
    """`engine` (a hybrid whose offline model was retrained) as a directory of its own: the encoder
    and head copied from where they were loaded, the offline model in `offline/`."""
    from sentiment.training import save_offline_engine

    if engine.directory is None:
        raise ModelLoadError("cannot save a hybrid engine that was not loaded from a directory")
    output = Path(output)
    source = json.loads((engine.directory / METADATA_FILE).read_text(encoding="utf-8"))
    save_hybrid(
        output,
        engine.directory / ENCODER_FILE,
        engine.head,
        {**source, **metadata, "encoder_and_head_from": str(engine.directory)},
    )
    save_offline_engine(engine.offline, output / OFFLINE_SUBDIR, metadata)
    return output


def load_hybrid(
    directory: str | Path | None = None, offline_model: str | Path | None = None, threads: int | None = None
) -> HybridEngine:
    """The hybrid artifact in `directory` (default: the one shipped) + the offline model: its own
    `offline/` when it has one (after `train --from-corrections`), else `offline_model` or the shipped one."""
    directory = Path(directory) if directory else HYBRID_DIR
    if offline_model is None and (directory / OFFLINE_SUBDIR / "weights.npz").is_file():
        offline_model = directory / OFFLINE_SUBDIR
    for name in (ENCODER_FILE, HEAD_FILE, METADATA_FILE):
        if not (directory / name).is_file():
            raise ModelLoadError(f"{directory}: no {name}; not a hybrid model directory")
    try:
        with np.load(directory / HEAD_FILE, allow_pickle=False) as archive:
            head = Head(archive["coef"].astype(np.float32), archive["intercept"].astype(np.float32))
        metadata = json.loads((directory / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"{directory}: unreadable hybrid model: {exc}") from exc
    if head.coef.shape[0] != len(LABELS):
        raise ModelLoadError(f"{directory / HEAD_FILE}: head has {head.coef.shape[0]} classes, expected 3")
    encoder = E5Encoder(directory / ENCODER_FILE, threads=threads)
    if head.coef.shape[1] != encoder.model.config.hidden_size:
        raise ModelLoadError(f"{directory / HEAD_FILE}: head does not fit the encoder's embedding size")
    offline = load_model(offline_model)
    return HybridEngine(encoder, head, offline, float(metadata.get("e5_weight", 1.0)), directory)
