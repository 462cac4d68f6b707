"""Teacher -> student: fine-tune e5-small on the labelled corpora, then distil it into small students.

The teacher (multilingual-e5-small, 12 layers, pruned vocabulary from `sentiment.e5_vocab`) is too
slow for every crawled post on a small server (~100 texts/s on 2 cores). Students of 1-2 layers run
at ~1,000 texts/s; trained on the teacher's probabilities for every text of the corpora plus
perturbed copies of them (tokens dropped or swapped), they keep more of its quality than when
trained on the gold labels alone (Tang et al., 2019, "Distilling task-specific knowledge from BERT
into simple neural networks").

The word-embedding table stays frozen everywhere (the teacher's, projected for narrower students), so
a student's trained weights are small and are exported apart from the table; `assemble_student`
rebuilds the full transformers model from them and the pruned base.

Runs on CPU or a GPU (bf16 autocast on CUDA). Every dev score is printed per epoch and kept in
`report.json`; the best epoch (mean dev F1pn) is kept — the dev sets are the SentiRuEval test files,
as ../shared/datasets/README.md prescribes, never trained on.

    python -m sentiment.distill --base e5-pruned.npz --tokenizer tokenizer.json --output out/
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sentiment import LABELS
from sentiment.batching import length_sorted_batches, pad
from sentiment.convert_e5 import bert_config, state_dict
from sentiment.datasets import DOMAINS, corpus_texts, datasets_dir, extra_rows, load_sentirueval
from sentiment.e5_vocab import PrunedE5, load_pruned
from sentiment.metrics import f1, macro_f1_pn

WORD_TABLE_KEY = "bert.embeddings.word_embeddings.weight"
PROJECTION_KEY = "bert.embeddings.word_embeddings.projection.weight"


@dataclass(frozen=True)
class StudentShape:
    name: str
    layers: int
    hidden: int = 384
    intermediate: int = 1536
    heads: int = 6


@dataclass
class Settings:
    max_length: int = 128
    teacher_epochs: int = 3
    teacher_lr: float = 5e-5
    teacher_batch: int = 32
    teacher_seeds: tuple[int, ...] = (0,)
    domain_copies: int = 2  # SentiRuEval rows repeated: our domain weighs more than VK posts
    augment_copies: int = 3
    student_epochs: int = 4
    student_lr: float = 3e-4
    student_batch: int = 128
    temperature: float = 2.0
    gold_weight: float = 0.3  # share of the gold one-hot in a labelled text's target
    export_teacher: bool = False
    teacher_probs: str | None = None  # npz of probabilities from a teacher scored elsewhere
    limit: int | None = None  # smoke runs: this many texts per corpus
    students: list[StudentShape] = field(default_factory=list)


# ----------------------------------------------------------------------------------------- data


@dataclass
class Labelled:
    texts: list[str]
    labels: list[str]


def labelled_corpora(root: Path, settings: Settings) -> Labelled:
    """SentiRuEval train files (repeated `domain_copies` times) + RuSentiment + CEDR as 3-way labels."""
    texts: list[str] = []
    labels: list[str] = []
    for domain in DOMAINS:
        frame = load_sentirueval(root, domain, "train")
        frame = frame.head(settings.limit) if settings.limit else frame
        for _ in range(settings.domain_copies):
            texts += frame["text"].tolist()
            labels += frame["label"].tolist()
    for name in ("rusentiment", "cedr"):
        rows = extra_rows(root, name, 1.0)
        cut = settings.limit or len(rows)
        texts += rows.texts[:cut]
        labels += rows.labels[:cut]
    return Labelled(texts, labels)


def transfer_texts(root: Path, settings: Settings) -> list[str]:
    """Every text of the training corpora, labelled or not (RuSentiment speech/skip, CEDR test)."""
    texts = [t for corpus in ("sentirueval", "rusentiment", "cedr") for t in corpus_texts(root, corpus)]
    unique = list(dict.fromkeys(t for t in texts if t.strip()))
    return unique[: settings.limit * 4] if settings.limit else unique


def dev_sets(root: Path, settings: Settings) -> dict[str, Labelled]:
    out = {}
    for domain in DOMAINS:
        frame = load_sentirueval(root, domain, "test")
        frame = frame.head(settings.limit) if settings.limit else frame
        out[domain] = Labelled(frame["text"].tolist(), frame["label"].tolist())
    return out


# ------------------------------------------------------------------------------------- batching


def encode(tokenizer: Any, texts: Sequence[str], max_length: int) -> list[list[int]]:
    """Token ids (with <s> and </s>), cut to `max_length` keeping the closing </s>."""
    encoded = tokenizer.encode_batch([str(t or "")[: max_length * 16] for t in texts])
    out = []
    for e in encoded:
        ids = e.ids
        out.append(ids if len(ids) <= max_length else ids[: max_length - 1] + ids[-1:])
    return out


def augment(sequences: list[list[int]], copies: int, rng: random.Random) -> list[list[int]]:
    """Perturbed copies: each inner token dropped with p=0.1, neighbours swapped with p=0.1."""
    out = []
    for ids in sequences:
        inner = ids[1:-1]
        for _ in range(copies):
            kept = [t for t in inner if rng.random() >= 0.1] or inner[:1]
            for i in range(len(kept) - 1):
                if rng.random() < 0.1:
                    kept[i], kept[i + 1] = kept[i + 1], kept[i]
            out.append(ids[:1] + kept + ids[-1:])
    return out


def shuffled_length_batches(sequences: Sequence[list[int]], size: int, rng: random.Random) -> list[list[int]]:
    """Training batches: shuffled, but each drawn from a window sorted by length (little padding)."""
    order = list(range(len(sequences)))
    rng.shuffle(order)
    window = size * 64
    batches = []
    for start in range(0, len(order), window):
        chunk = order[start : start + window]
        batches += [[chunk[i] for i in b] for b in length_sorted_batches([sequences[i] for i in chunk], size)]
    rng.shuffle(batches)
    return batches


def padded(sequences: list[list[int]], pad_id: int, device: Any) -> tuple[Any, Any]:
    ids, mask = pad(sequences, pad_id)
    return ids.to(device), mask.to(device)


# ------------------------------------------------------------------------------------- training


def _autocast(device: Any) -> Any:
    import contextlib

    import torch

    if getattr(device, "type", str(device)) == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def predict_logits(model: Any, sequences: list[list[int]], pad_id: int, device: Any, batch: int = 256) -> Any:
    import torch

    model.eval()
    out = np.zeros((len(sequences), len(LABELS)), dtype=np.float32)
    with torch.inference_mode(), _autocast(device):
        for index in length_sorted_batches(sequences, batch):
            ids, mask = padded([sequences[i] for i in index], pad_id, device)
            out[index] = model(input_ids=ids, attention_mask=mask).logits.float().cpu().numpy()
    return out


def dev_scores(logits: np.ndarray, gold: Sequence[str]) -> dict[str, float]:
    predicted = [LABELS[i] for i in logits.argmax(1)]
    return {
        "f1pn": round(macro_f1_pn(gold, predicted), 4),
        "negative_f1": round(f1(gold, predicted, "negative"), 4),
    }


def train(
    model: Any,
    sequences: list[list[int]],
    targets: np.ndarray,
    epochs: int,
    lr: float,
    batch_size: int,
    pad_id: int,
    device: Any,
    evaluate: Callable[[Any], dict[str, Any]],
    log: Callable[[str], None],
    seed: int = 0,
    temperature: float = 1.0,
) -> dict[str, Any]:
    """Soft-target cross-entropy (targets: rows of probabilities); keeps the best epoch's weights."""
    import torch

    rng = random.Random(seed)
    torch.manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    steps = epochs * math.ceil(len(sequences) / batch_size)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(steps - warmup, 1)))
    )
    target_tensor = torch.tensor(targets, dtype=torch.float32)
    best: dict[str, Any] = {"score": -1.0}
    for epoch in range(epochs):
        model.train()
        started, total, count = time.perf_counter(), 0.0, 0
        for index in shuffled_length_batches(sequences, batch_size, rng):
            ids, mask = padded([sequences[i] for i in index], pad_id, device)
            with _autocast(device):
                logits = model(input_ids=ids, attention_mask=mask).logits.float()
            log_probs = torch.log_softmax(logits / temperature, dim=-1)
            loss = -(target_tensor[index].to(device) * log_probs).sum(-1).mean() * temperature**2
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            total += float(loss.detach())
            count += 1
        scores = evaluate(model)
        log(
            f"  epoch {epoch + 1}/{epochs}: loss {total / max(count, 1):.4f} {scores} "
            f"({time.perf_counter() - started:.0f} s)"
        )
        if scores["mean_f1pn"] > best["score"]:
            state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            best = {"score": scores["mean_f1pn"], "epoch": epoch + 1, "scores": scores, "state": state}
    model.load_state_dict(best["state"])
    return {k: v for k, v in best.items() if k != "state"}


# --------------------------------------------------------------------------------------- models


def projected_embedding(table: Any, hidden: int) -> Any:
    """A frozen 384-wide word table followed by a trained projection to `hidden`, initialised with
    the table's top principal directions (torch is imported only when training)."""
    import torch

    class Projected(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.table = torch.nn.Embedding.from_pretrained(table, freeze=True)
            self.projection = torch.nn.Linear(table.shape[1], hidden, bias=False)
            centred = table - table.mean(0, keepdim=True)
            sample = centred[:: max(1, len(table) // 20000)]  # 20K rows fix the directions well enough
            _, _, components = torch.linalg.svd(sample, full_matrices=False)
            with torch.no_grad():
                self.projection.weight.copy_(components[:hidden])

        def forward(self, ids: Any) -> Any:
            return self.projection(self.table(ids))

    return Projected()


def build_teacher(base: PrunedE5) -> Any:
    from transformers import BertForSequenceClassification

    config = bert_config(base)
    config.num_labels = len(LABELS)
    config.id2label = dict(enumerate(LABELS))
    config.label2id = {label: i for i, label in enumerate(LABELS)}
    model = BertForSequenceClassification(config)
    weights = {f"bert.{k}": v for k, v in state_dict(base).items()}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if unexpected or any(not k.startswith("classifier.") for k in missing):
        raise RuntimeError(f"teacher weights do not fit: missing {missing}, unexpected {unexpected}")
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    return model


def student_config(teacher_config: Any, shape: StudentShape) -> Any:
    from transformers import BertConfig

    return BertConfig(
        **{
            **teacher_config.to_dict(),
            "hidden_size": shape.hidden,
            "num_hidden_layers": shape.layers,
            "num_attention_heads": shape.heads,
            "intermediate_size": shape.intermediate,
        }
    )


def build_student(teacher: Any, shape: StudentShape) -> Any:
    """Same hidden size as the teacher: its embeddings and bottom layers; narrower: a projection."""
    from transformers import BertForSequenceClassification

    student = BertForSequenceClassification(student_config(teacher.config, shape))
    table = teacher.bert.embeddings.word_embeddings.weight.detach().float().cpu()
    if shape.hidden == teacher.config.hidden_size:
        teacher_state = teacher.state_dict()
        own = student.state_dict()
        copied = {
            k: v
            for k, v in teacher_state.items()
            if k in own and own[k].shape == v.shape and _layer_of(k) < shape.layers
        }
        student.load_state_dict(copied, strict=False)
    else:
        student.bert.embeddings.word_embeddings = projected_embedding(table, shape.hidden)
    for name, parameter in student.named_parameters():
        if name in (WORD_TABLE_KEY, "bert.embeddings.word_embeddings.table.weight"):
            parameter.requires_grad_(False)
    return student.float()


def _layer_of(key: str) -> int:
    parts = key.split(".")
    if "layer" in parts and parts[parts.index("layer") - 1] == "encoder":
        return int(parts[parts.index("layer") + 1])
    return -1  # embeddings, pooler, classifier


def trained_weights(student: Any) -> dict[str, Any]:
    """A student's weights without the frozen word table (rebuilt from the pruned base)."""
    return {
        k: v.detach().cpu().half().contiguous()
        for k, v in student.state_dict().items()
        if k not in (WORD_TABLE_KEY, "bert.embeddings.word_embeddings.table.weight")
    }


def assemble_student(base: PrunedE5, config: dict[str, Any], weights: dict[str, Any]) -> Any:
    """The full transformers model from exported weights + the pruned base's word table."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    model = BertForSequenceClassification(BertConfig(**config))
    table = torch.from_numpy(base.tensor("emb.word", (base.dimensions.vocab, base.dimensions.hidden)))
    weights = {k: v.float() for k, v in weights.items()}
    projection = weights.pop(PROJECTION_KEY, None)
    weights[WORD_TABLE_KEY] = table @ projection.T if projection is not None else table
    model.load_state_dict(weights, strict=True)
    return model.eval()


def save_student_model(
    base: PrunedE5, config: dict[str, Any], weights: dict[str, Any], output: Path, max_length: int = 128
) -> Path:
    """A transformers model directory (fp16 weights, tokenizer of the pruned vocabulary) that
    `sentiment.engine: transformers` loads like any hub model."""
    from sentiment.convert_e5 import build_tokenizer

    model = assemble_student(base, config, weights)
    model.config.id2label = dict(enumerate(LABELS))
    model.config.label2id = {label: i for i, label in enumerate(LABELS)}
    output.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(output, safe_serialization=True)
    build_tokenizer(base.vocabulary, max_length).save_pretrained(output)
    return output


# ------------------------------------------------------------------------------------------ run


def soft(logits: np.ndarray, temperature: float) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    probabilities: np.ndarray = e / e.sum(1, keepdims=True)
    return probabilities


def one_hot(labels: Sequence[str], smoothing: float = 0.0) -> np.ndarray:
    out = np.full((len(labels), len(LABELS)), smoothing / len(LABELS), dtype=np.float32)
    for row, label in enumerate(labels):
        out[row, LABELS.index(label)] += 1.0 - smoothing
    return out


def fine_tune_teachers(
    base: PrunedE5,
    train_ids: list[list[int]],
    labelled: Labelled,
    transfer_ids: list[list[int]],
    dev_ids: dict[str, list[list[int]]],
    dev: dict[str, Labelled],
    settings: Settings,
    evaluate: Callable[[Any], dict[str, Any]],
    log: Callable[[str], None],
    report: dict[str, Any],
) -> Any:
    """One fine-tuned e5 per seed; their mean transfer-set logits go into report['_transfer_logits']."""
    import torch

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    pad_id = base.vocabulary.pad
    seeds = settings.teacher_seeds
    transfer_logits = np.zeros((len(transfer_ids), len(LABELS)), dtype=np.float32)
    dev_logits = {d: np.zeros((len(ids), len(LABELS)), dtype=np.float32) for d, ids in dev_ids.items()}
    teacher = None
    for seed in seeds:
        log(f"teacher seed {seed}")
        teacher = build_teacher(base).to(device)
        best = train(
            teacher,
            train_ids,
            one_hot(labelled.labels, 0.05),
            settings.teacher_epochs,
            settings.teacher_lr,
            settings.teacher_batch,
            pad_id,
            device,
            evaluate,
            log,
            seed,
        )
        report["teachers"].append({"seed": seed, **best})
        transfer_logits += predict_logits(teacher, transfer_ids, pad_id, device) / len(seeds)
        for d, ids in dev_ids.items():
            dev_logits[d] += predict_logits(teacher, ids, pad_id, device) / len(seeds)
    if teacher is None:
        raise ValueError("no teacher: give teacher_seeds or teacher_probs")
    report["teacher_ensemble"] = {d: dev_scores(dev_logits[d], dev[d].labels) for d in dev_ids}
    log(f"teacher ensemble on dev: {report['teacher_ensemble']}")
    report["_transfer_logits"] = transfer_logits
    return teacher.cpu()


def teacher_probabilities(path: Path, texts: Sequence[str]) -> np.ndarray:
    """Rows of an npz (`texts`, `probabilities` in LABELS order) for `texts`, in that order."""
    with np.load(path, allow_pickle=False) as archive:
        row_of = {str(t): i for i, t in enumerate(archive["texts"])}
        probabilities: np.ndarray = archive["probabilities"]
    missing = [t for t in texts if t not in row_of]
    if missing:
        raise ValueError(
            f"{path}: no teacher probabilities for {len(missing)} texts, e.g. {missing[0][:60]!r}"
        )
    return probabilities[[row_of[t] for t in texts]].astype(np.float32)


def run(
    base_path: Path, tokenizer_path: Path, output: Path, settings: Settings, log: Callable[[str], None]
) -> dict[str, Any]:
    import torch
    from safetensors.torch import save_file
    from tokenizers import Tokenizer

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    output.mkdir(parents=True, exist_ok=True)
    root = datasets_dir()
    base = load_pruned(base_path)
    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    pad_id = base.vocabulary.pad
    labelled = labelled_corpora(root, settings)
    dev = dev_sets(root, settings)
    dev_ids = {d: encode(tokenizer, s.texts, settings.max_length) for d, s in dev.items()}
    report: dict[str, Any] = {
        "device": str(device),
        "settings": asdict(settings),
        "teachers": [],
        "students": [],
    }

    def evaluate(model: Any) -> dict[str, Any]:
        scores: dict[str, Any] = {}
        for domain, ids in dev_ids.items():
            scores[domain] = dev_scores(predict_logits(model, ids, pad_id, device), dev[domain].labels)
        scores["mean_f1pn"] = round(float(np.mean([scores[d]["f1pn"] for d in dev_ids])), 4)
        return scores

    def save_report() -> None:
        (output / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))

    train_ids = encode(tokenizer, labelled.texts, settings.max_length)
    transfer = transfer_texts(root, settings)
    transfer_ids = encode(tokenizer, transfer, settings.max_length)
    rng = random.Random(0)
    transfer_ids += augment(transfer_ids, settings.augment_copies, rng)
    log(f"{len(train_ids)} labelled rows, {len(transfer_ids)} transfer sequences, device {device}")

    if settings.teacher_probs:
        # A teacher scored elsewhere: its probabilities for the original texts; each perturbed
        # copy inherits its original's (the perturbations are small).
        original = np.log(np.clip(teacher_probabilities(Path(settings.teacher_probs), transfer), 1e-6, 1.0))
        teacher_logits = np.concatenate([original, np.repeat(original, settings.augment_copies, axis=0)])
        teacher = build_teacher(base)  # untrained: the students' initial embeddings and layers
        report["teacher_probs"] = settings.teacher_probs
    else:
        teacher = fine_tune_teachers(
            base, train_ids, labelled, transfer_ids, dev_ids, dev, settings, evaluate, log, report
        )
        teacher_logits = report.pop("_transfer_logits")
        np.save(output / "transfer_logits.npy", teacher_logits)
        if settings.export_teacher:
            _save_teacher(teacher, output, save_file)
    report["teacher_config"] = teacher.config.to_dict()
    save_report()

    # Targets: the teacher's softened probabilities; labelled texts mix in their gold label.
    targets = soft(teacher_logits, settings.temperature)
    gold_of = dict(zip(labelled.texts, labelled.labels, strict=True))
    for row, text in enumerate(transfer):
        if text in gold_of:
            targets[row] = (1 - settings.gold_weight) * targets[row] + settings.gold_weight * one_hot(
                [gold_of[text]]
            )[0]

    for shape in settings.students:
        log(f"student {shape.name}: {shape}")
        student = build_student(teacher.cpu(), shape).to(device)
        best = train(
            student,
            transfer_ids,
            targets,
            settings.student_epochs,
            settings.student_lr,
            settings.student_batch,
            pad_id,
            device,
            evaluate,
            log,
            0,
            settings.temperature,
        )
        config = student_config(teacher.config, shape).to_dict()
        weights = trained_weights(student)
        save_file(weights, str(output / f"{shape.name}.safetensors"))
        # The exported fp16 weights + the pruned table must give the student's answers back.
        rebuilt = assemble_student(base, config, weights).to(device)
        agreement = {
            d: float(
                (
                    predict_logits(rebuilt, ids, pad_id, device).argmax(1)
                    == predict_logits(student, ids, pad_id, device).argmax(1)
                ).mean()
            )
            for d, ids in dev_ids.items()
        }
        log(f"  rebuilt from the exported weights: same label on {agreement} of dev texts")
        report["students"].append({"shape": asdict(shape), "config": config, "agreement": agreement, **best})
        save_report()
    return report


DEFAULT_STUDENTS = [
    StudentShape("s1x384", layers=1),
    StudentShape("s2x256", layers=2, hidden=256, intermediate=1024, heads=4),
]


def _save_teacher(teacher: Any, output: Path, save_file: Callable[..., None], shards: int = 3) -> None:
    """The last teacher without its frozen word table, in fp16 shards (each under 16 MB)."""
    weights = trained_weights(teacher)
    parts: list[dict[str, Any]] = [{} for _ in range(shards)]
    sizes = [0] * shards
    for name in sorted(weights, key=lambda k: -weights[k].numel()):  # largest first, to the lightest
        lightest = sizes.index(min(sizes))
        parts[lightest][name] = weights[name]
        sizes[lightest] += weights[name].numel()
    for shard, part in enumerate(parts):
        save_file(part, str(output / f"teacher-{shard + 1}-of-{shards}.safetensors"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="pruned e5 (.npz) from sentiment.e5_vocab")
    parser.add_argument(
        "--tokenizer", type=Path, required=True, help="tokenizer.json of the pruned vocabulary"
    )
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--settings", default="{}", help="JSON overriding Settings fields")
    args = parser.parse_args(argv)
    overrides = json.loads(args.settings)
    shapes = [StudentShape(**s) for s in overrides.pop("students", [])] or DEFAULT_STUDENTS
    if "teacher_seeds" in overrides:
        overrides["teacher_seeds"] = tuple(overrides["teacher_seeds"])
    settings = Settings(**overrides, students=shapes)

    def log(line: str) -> None:
        print(line, flush=True)

    run(args.base, args.tokenizer, args.output, settings, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
