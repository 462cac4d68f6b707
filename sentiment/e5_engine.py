"""`engine: e5`: multilingual-e5-small fine-tuned to read sentiment toward one brand.

The brand is its own segment (`<s> brand </s></s> text </s>`), so «Сбер лучше ВТБ» can be positive
toward Сбербанк and negative toward ВТБ. The encoder is mean-pooled into a three-way linear head.

The artifact is one folder: `encoder.npz` (the trained weights: Linear matrices as int8 with a scale
per row, the rest fp16), `vocabulary.npz` (the pruned 4-bit word table and vocabulary of
`sentiment.e5_vocab`, frozen during training, so shipped as it came) and `metadata.json`. Nothing is
downloaded; torch and transformers are imported only when the engine is built.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sentiment import LABELS, ModelLoadError
from sentiment.batching import length_sorted_batches, pad
from sentiment.offline import best_labels, softmax
from sentiment.precision import computing_in, resolve

E5_DIR = Path(__file__).parent / "models" / "e5"
ENCODER_FILE = "encoder.npz"
VOCABULARY_FILE = "vocabulary.npz"
METADATA_FILE = "metadata.json"
ARTIFACT_FORMAT = "brandpulse-e5-brand/1"
WORD_TABLE_KEY = "bert.embeddings.word_embeddings.weight"
MAX_TOKENS = 96
CHARS_PER_TOKEN_BOUND = 16  # a longer text cannot fit MAX_TOKENS anyway: cut before tokenizing


def build_classifier(config: Any) -> Any:
    """BertModel (no pooler) -> mean over real tokens -> dropout -> Linear(hidden, 3)."""
    import torch
    from transformers import BertModel

    class BrandClassifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = BertModel(config, add_pooling_layer=False)
            self.dropout = torch.nn.Dropout(config.hidden_dropout_prob)
            self.classifier = torch.nn.Linear(config.hidden_size, len(LABELS))

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
            return self.classifier(self.dropout(pooled))

    return BrandClassifier()


def encode(
    tokenizer: Any, texts: Sequence[Any], brands: Sequence[str | None], max_length: int
) -> list[list[int]]:
    """Token ids per (brand, text): a pair when the brand is known, the text alone otherwise."""
    cut = max_length * CHARS_PER_TOKEN_BOUND
    cleaned = [("" if t is None else str(t))[:cut] for t in texts]
    out: list[list[int]] = [[] for _ in cleaned]
    with_brand = [i for i, b in enumerate(brands) if b and b.strip()]
    without = [i for i, b in enumerate(brands) if not (b and b.strip())]
    if with_brand:
        pairs = tokenizer(
            [str(brands[i]).strip() for i in with_brand],
            [cleaned[i] for i in with_brand],
            truncation="only_second",
            max_length=max_length,
        )["input_ids"]
        for i, ids in zip(with_brand, pairs, strict=True):
            out[i] = ids
    if without:
        singles = tokenizer([cleaned[i] for i in without], truncation=True, max_length=max_length)[
            "input_ids"
        ]
        for i, ids in zip(without, singles, strict=True):
            out[i] = ids
    return out


def predict_logits(
    model: Any,
    sequences: list[list[int]],
    pad_id: int,
    batch_size: int = 64,
    precision: Literal["fp32", "bf16"] = "fp32",
) -> np.ndarray:
    """Logits per sequence, in input order, scored in length-sorted batches."""
    import torch

    out = np.zeros((len(sequences), len(LABELS)), dtype=np.float32)
    model.eval()
    with torch.inference_mode(), computing_in(precision):
        for index in length_sorted_batches(sequences, batch_size):
            ids, mask = pad([sequences[i] for i in index], pad_id)
            out[index] = model(input_ids=ids, attention_mask=mask).float().numpy()
    return out


# -------------------------------------------------------------------------------------- artifact


def quantize_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per output row: matrix ~= values * scale[:, None]."""
    scale = np.abs(matrix).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    values = np.clip(np.rint(matrix / scale[:, None]), -127, 127).astype(np.int8)
    return values, scale.astype(np.float32)


def save_artifact(
    model: Any,
    vocabulary_file: str | Path,
    directory: str | Path,
    metadata: dict[str, Any],
    int8: bool = True,
) -> Path:
    """`model`'s trained weights (the frozen word table left out) + the vocabulary file + metadata."""
    import shutil

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    for name, tensor in model.state_dict().items():
        if name == WORD_TABLE_KEY:
            continue
        values = tensor.detach().float().cpu().numpy()
        if int8 and values.ndim == 2 and name.endswith(".weight") and "embeddings" not in name:
            arrays[f"q/{name}"], arrays[f"s/{name}"] = quantize_rows(values)
        else:
            arrays[f"f/{name}"] = values.astype(np.float16)
    with (directory / ENCODER_FILE).open("wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]
    if Path(vocabulary_file).resolve() != (directory / VOCABULARY_FILE).resolve():
        shutil.copyfile(vocabulary_file, directory / VOCABULARY_FILE)
    record = {"format": ARTIFACT_FORMAT, "labels": list(LABELS), "int8": int8, **metadata}
    (directory / METADATA_FILE).write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
    return directory


def stored_weights(path: Path) -> dict[str, np.ndarray]:
    """encoder.npz back to float32 arrays by parameter name."""
    weights: dict[str, np.ndarray] = {}
    with np.load(path, allow_pickle=False) as archive:
        for key in archive.files:
            kind, name = key.split("/", 1)
            if kind == "f":
                weights[name] = archive[key].astype(np.float32)
            elif kind == "q":
                weights[name] = archive[key].astype(np.float32) * archive[f"s/{name}"][:, None]
    return weights


class E5BrandEngine:
    name = "e5"

    def __init__(
        self,
        directory: str | Path | None = None,
        threads: int | None = None,
        batch_size: int = 64,
        quantize: bool = False,
        precision: str = "auto",
    ):
        import torch

        from sentiment.convert_e5 import E5FormatError, bert_config, build_tokenizer
        from sentiment.e5_vocab import WORD_TABLE, load_pruned

        self.directory = Path(directory) if directory else E5_DIR
        for name in (ENCODER_FILE, VOCABULARY_FILE, METADATA_FILE):
            if not (self.directory / name).is_file():
                raise ModelLoadError(
                    f"{self.directory}: no {name}; not an e5 sentiment model directory "
                    "(another engine's model? set sentiment.engine: offline, hybrid or transformers)"
                )
        try:
            self.metadata = json.loads((self.directory / METADATA_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"{self.directory / METADATA_FILE}: unreadable: {exc}") from exc
        if self.metadata.get("format") != ARTIFACT_FORMAT:
            raise ModelLoadError(
                f"{self.directory / METADATA_FILE}: format {self.metadata.get('format')!r}, "
                f"expected {ARTIFACT_FORMAT!r}"
            )
        torch.set_num_threads(threads or os.cpu_count() or 1)
        try:
            vocabulary = load_pruned(self.directory / VOCABULARY_FILE)
            config = bert_config(vocabulary)
            config.num_hidden_layers = int(self.metadata.get("layers", config.num_hidden_layers))
            weights = stored_weights(self.directory / ENCODER_FILE)
            dims = vocabulary.dimensions
            weights[WORD_TABLE_KEY] = vocabulary.tensor(WORD_TABLE, (dims.vocab, dims.hidden))
            model = build_classifier(config)
            model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=True)
        except (E5FormatError, RuntimeError, KeyError, ValueError, OSError) as exc:
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ModelLoadError(
                f"cannot load the e5 sentiment model {self.directory}: {first_line}"
            ) from exc
        self.model = model.eval()
        if quantize:
            from sentiment.transformers_engine import _quantize_int8

            # Dynamic int8 on the Linear layers: faster on CPU; bench.sentiment_speed measures the cost.
            self.model = _quantize_int8(self.model, str(self.directory))
        # Dynamic int8 already replaced the float Linear layers, so bf16 would only add casts.
        self.precision = "fp32" if quantize else resolve(precision)
        self.max_length = int(self.metadata.get("max_length", MAX_TOKENS))
        self.tokenizer = build_tokenizer(vocabulary.vocabulary, self.max_length)
        self.pad_id = vocabulary.vocabulary.pad
        self.batch_size = batch_size
        # The two models err differently: their product of probabilities (sentiment.hybrid.mix,
        # weight 1, not tuned on the dev sets) scores higher than either alone, at the offline
        # model's negligible cost.
        self.offline = None
        if self.metadata.get("mix_with_offline"):
            from sentiment.offline import load_model

            self.offline = load_model(None)

    def predict_proba(
        self, texts: Sequence[Any], brand: str | Sequence[str | None] | None = None
    ) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        brands = [brand] * len(texts) if brand is None or isinstance(brand, str) else list(brand)
        sequences = encode(self.tokenizer, texts, brands, self.max_length)
        logits = predict_logits(self.model, sequences, self.pad_id, self.batch_size, self.precision)
        probabilities = softmax(logits)
        if self.offline is None:
            return probabilities
        from sentiment.hybrid import mix

        return mix(probabilities, self.offline_probabilities(texts, brands))

    def offline_probabilities(self, texts: Sequence[Any], brands: Sequence[str | None]) -> np.ndarray:
        """The offline model's probabilities, each text toward its own brand (it takes one per call)."""
        assert self.offline is not None
        out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
        for name in set(brands):
            index = [i for i, b in enumerate(brands) if b == name]
            out[index] = self.offline.predict_proba([texts[i] for i in index], brand=name or None)
        return out

    def predict(self, texts: Sequence[str], brand: str | None = None) -> list[tuple[str, float]]:
        if isinstance(texts, str):
            raise TypeError("predict() takes a sequence of texts, not one string")
        return best_labels(self.predict_proba(texts, brand=brand))


@functools.lru_cache(maxsize=4)
def _cached(
    directory: Path, threads: int | None, quantize: bool, precision: str, modified: float
) -> E5BrandEngine:
    return E5BrandEngine(directory, threads=threads, quantize=quantize, precision=precision)


def load_e5(
    directory: str | Path | None = None,
    threads: int | None = None,
    quantize: bool = False,
    precision: str = "auto",
) -> E5BrandEngine:
    """The engine in `directory` (default: the shipped one). Loaded once per process: the engine
    keeps no state between calls, and every pipeline, CLI command and dashboard page that asks for
    it shares the ~100 MB of weights (a changed encoder file is loaded again)."""
    path = (Path(directory) if directory else E5_DIR).resolve()
    encoder = path / ENCODER_FILE
    return _cached(path, threads, quantize, precision, encoder.stat().st_mtime if encoder.is_file() else 0.0)
