"""One engine over many rows: which model a name means, scoring (text, brand) rows, and evaluating.

Engines take one brand per `predict` call, so rows are grouped by brand, cut into batches, and the
results put back in input order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentiment import LABELS, ModelLoadError, SentimentEngine
from sentiment.metrics import ClassScore, class_scores, confusion_matrix, format_confusion, macro_f1_pn

if TYPE_CHECKING:
    from monitor.config import SentimentConfig

OFFLINE_FILES = ("metadata.json", "weights.npz")
HYBRID_HEAD_FILE = "head.npz"  # sentiment.hybrid.HEAD_FILE, named here so scoring imports no torch
E5_ENCODER_FILE = "encoder.npz"  # sentiment.e5_engine.ENCODER_FILE, likewise


def resolve_model(name: str | None, base: SentimentConfig) -> SentimentConfig:
    """The sentiment config for a `--model` value; the other settings (batch size, labels...) stay.

    None: `base` as it is; "e5" / "offline" / "hybrid": the shipped model of that engine; a folder
    with metadata.json and weights.npz: that offline model; with head.npz: that hybrid model; with
    encoder.npz: that e5 model; any other folder or name: a transformers model (folder or hub id).
    """
    if name is None:
        return base
    if name in ("e5", "offline", "hybrid"):
        return base.model_copy(update={"engine": name, "model": None})
    path = Path(name).expanduser()
    if all((path / f).is_file() for f in OFFLINE_FILES):
        return base.model_copy(update={"engine": "offline", "model": str(path)})
    if (path / HYBRID_HEAD_FILE).is_file():
        return base.model_copy(update={"engine": "hybrid", "model": str(path)})
    if (path / E5_ENCODER_FILE).is_file():
        return base.model_copy(update={"engine": "e5", "model": str(path)})
    if path.is_dir() and not (path / "config.json").is_file():
        raise ModelLoadError(
            f"{name}: neither an offline model (metadata.json + weights.npz) "
            "nor a transformers model (config.json)"
        )
    return base.model_copy(update={"engine": "transformers", "model": name})


def describe_model(config: SentimentConfig) -> str:
    if config.engine in ("e5", "offline", "hybrid"):
        return f"{config.engine} ({config.model})" if config.model else f"{config.engine} (shipped)"
    return f"transformers ({config.model})"


def predict_rows(
    engine: SentimentEngine,
    texts: Sequence[str],
    brands: Sequence[str | None] | None = None,
    batch_size: int = 256,
    progress: Callable[[int], None] | None = None,
) -> list[tuple[str, float]]:
    """(label, score) per text, in input order; each text scored toward its own brand (or none)."""
    if brands is not None and len(brands) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(brands)} brands")
    groups: dict[str | None, list[int]] = {}
    for i in range(len(texts)):
        groups.setdefault(brands[i] if brands is not None else None, []).append(i)
    results: list[tuple[str, float]] = [("", 0.0)] * len(texts)
    for brand, indices in groups.items():
        for start in range(0, len(indices), batch_size):
            batch = indices[start : start + batch_size]
            predictions = engine.predict([texts[i] for i in batch], brand=brand)
            for i, prediction in zip(batch, predictions, strict=True):
                results[i] = prediction
            if progress:
                progress(len(batch))
    return results


@dataclass(frozen=True)
class Evaluation:
    """Scores of predictions against gold labels; f1_pn is the SentiRuEval metric."""

    model: str
    rows: int
    classes: dict[str, ClassScore]
    f1_pn: float
    accuracy: float
    confusion: list[list[int]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "rows": self.rows,
            "f1_pn": round(self.f1_pn, 4),
            "accuracy": round(self.accuracy, 4),
            "classes": {
                label: {
                    "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4),
                    "support": s.support,
                }
                for label, s in self.classes.items()
            },
            "confusion": {"labels": list(LABELS), "matrix": self.confusion},
        }

    def to_text(self) -> str:
        lines = [
            f"model: {self.model}",
            f"rows: {self.rows}",
            "",
            f"{'label':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}",
        ]
        for label, s in self.classes.items():
            lines.append(f"{label:<10}{s.precision:>10.4f}{s.recall:>10.4f}{s.f1:>10.4f}{s.support:>10}")
        lines += [
            "",
            f"macro-F1 positive+negative (SentiRuEval): {self.f1_pn:.4f}",
            f"accuracy: {self.accuracy:.4f}",
            "",
            "confusion (rows: gold, columns: predicted)",
            format_confusion(self.confusion),
        ]
        return "\n".join(lines)


def score_predictions(gold: Sequence[str], predicted: Sequence[str], model: str = "") -> Evaluation:
    correct = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p)
    return Evaluation(
        model=model,
        rows=len(gold),
        classes=class_scores(gold, predicted),
        f1_pn=macro_f1_pn(gold, predicted),
        accuracy=correct / len(gold) if gold else 0.0,
        confusion=confusion_matrix(gold, predicted),
    )


def evaluate(
    engine: SentimentEngine,
    texts: Sequence[str],
    gold: Sequence[str],
    brands: Sequence[str | None] | None = None,
    model: str = "",
    batch_size: int = 256,
) -> Evaluation:
    predicted = [label for label, _ in predict_rows(engine, texts, brands, batch_size)]
    return score_predictions(gold, predicted, model or engine.name)
