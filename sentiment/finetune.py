"""Fine-tuning a local transformers model on labelled texts, saved so `load_engine` can use it.

A plain torch loop (AdamW, linear decay, length-agnostic padding per batch); no Trainer, so no
accelerate and nothing that downloads. The saved config names its labels negative / neutral /
positive, so `sentiment.engine: transformers` + `sentiment.model: DIR` needs no `labels` mapping.
A base that already classifies into our three labels keeps its head; any other base (a plain
encoder, a 2- or 5-class model) gets a fresh three-way head.
"""

from __future__ import annotations

import inspect
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sentiment import LABELS, ModelLoadError, SentimentError
from sentiment.transformers_engine import map_labels

log = logging.getLogger(__name__)

TRAINING_FILE = "brandpulse_training.json"


@dataclass(frozen=True)
class FinetuneSettings:
    epochs: int = 3
    batch_size: int = 16
    learning_rate: float = 5e-5
    max_length: int = 128
    weight_decay: float = 0.01
    seed: int = 0
    threads: int | None = None


@dataclass(frozen=True)
class FinetuneResult:
    output: str
    rows: int
    kept_head: bool
    epoch_losses: list[float]
    seconds: float


def _load_base(base: str) -> tuple[Any, Any, bool]:
    """Tokenizer, classifier with a head for our labels (in LABELS order), whether the head was kept."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    path = Path(base).expanduser()
    if path.exists() and not (path / "config.json").is_file():
        raise ModelLoadError(f"cannot fine-tune {base}: no config.json in that directory")
    try:
        config = AutoConfig.from_pretrained(base, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    except (OSError, ValueError) as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelLoadError(f"cannot load base model {base}: {first_line}") from exc
    ours = {i: label for i, label in enumerate(LABELS)}
    try:
        mapping = map_labels(config.id2label)
    except ModelLoadError:
        mapping = {}
    kept_head = len(mapping) == len(LABELS) and set(mapping.values()) == set(LABELS)
    options: dict[str, Any] = {"local_files_only": True}
    if not kept_head:
        options.update(
            num_labels=len(LABELS),
            id2label=ours,
            label2id={label: i for i, label in ours.items()},
            ignore_mismatched_sizes=True,
        )
    # transformers warns that the new head is untrained: that is what fine-tuning is for.
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        model = AutoModelForSequenceClassification.from_pretrained(base, **options)
    except (OSError, ValueError) as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelLoadError(f"cannot load base model {base}: {first_line}") from exc
    finally:
        hf_logging.set_verbosity(verbosity)
    if kept_head:
        # Rename the raw labels to ours so the saved model maps without configuration.
        model.config.id2label = dict(mapping)
        model.config.label2id = {label: i for i, label in mapping.items()}
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        model.config.pad_token_id = tokenizer.pad_token_id
    return tokenizer, model, kept_head


def finetune(
    base: str,
    texts: Sequence[str],
    labels: Sequence[str],
    output: str | Path,
    settings: FinetuneSettings = FinetuneSettings(),
    log_line: Callable[[str], None] = log.info,
) -> FinetuneResult:
    """Fine-tune `base` (a local model folder or a cached hub id) and save it into `output`."""
    import torch

    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        raise SentimentError(f"cannot fine-tune on labels {', '.join(unknown)}; expected {', '.join(LABELS)}")
    if settings.threads:
        torch.set_num_threads(settings.threads)
    started = time.perf_counter()
    random.seed(settings.seed)
    torch.manual_seed(settings.seed)
    tokenizer, model, kept_head = _load_base(base)
    index_of = {label: i for i, label in model.config.id2label.items()}
    targets = [index_of[label] for label in labels]
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    steps = settings.epochs * ((len(texts) + settings.batch_size - 1) // settings.batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1.0 - step / max(steps, 1)))
    order = list(range(len(texts)))
    # Some tokenizers return token_type_ids that their model (DistilBERT, RoBERTa) does not take.
    takes_token_types = "token_type_ids" in inspect.signature(model.forward).parameters
    epoch_losses = []
    model.train()
    for epoch in range(settings.epochs):
        random.shuffle(order)
        total, batches = 0.0, 0
        for start in range(0, len(order), settings.batch_size):
            batch = order[start : start + settings.batch_size]
            encoded = tokenizer(
                [str(texts[i] or "") for i in batch],
                truncation=True,
                max_length=settings.max_length,
                padding=True,
                return_tensors="pt",
            )
            if not takes_token_types:
                encoded.pop("token_type_ids", None)
            loss = model(**encoded, labels=torch.tensor([targets[i] for i in batch])).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            total += loss.detach().item()
            batches += 1
        epoch_losses.append(round(total / max(batches, 1), 4))
        log_line(f"epoch {epoch + 1}/{settings.epochs}: mean loss {epoch_losses[-1]:.4f}")
    model.eval()
    output = Path(output)
    try:
        output.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(output)
        tokenizer.save_pretrained(output)
    except OSError as exc:
        raise SentimentError(f"{output}: cannot write the model: {exc.strerror or exc}") from exc
    result = FinetuneResult(
        str(output), len(texts), kept_head, epoch_losses, round(time.perf_counter() - started, 1)
    )
    record = {"base": base, "settings": asdict(settings), **asdict(result)}
    (output / TRAINING_FILE).write_text(
        json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return result
