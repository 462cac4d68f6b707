"""Scores for sentiment predictions: per-class precision/recall/F1, the SentiRuEval metric, confusion.

Pure functions over label lists; no scikit-learn, so they run wherever the engines run.
The official SentiRuEval-2015/16 metric is macro-F1 over the positive and negative classes only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

LABELS = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class ClassScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


def _check(gold: Sequence[str], predicted: Sequence[str]) -> None:
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")


def class_scores(
    gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = LABELS
) -> dict[str, ClassScore]:
    """Precision, recall, F1 and support per label; 0.0 where a ratio has nothing to divide."""
    _check(gold, predicted)
    scores = {}
    for label in labels:
        true_positive = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        predicted_count = sum(1 for p in predicted if p == label)
        support = sum(1 for g in gold if g == label)
        precision = true_positive / predicted_count if predicted_count else 0.0
        recall = true_positive / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[label] = ClassScore(label, precision, recall, f1, support)
    return scores


def f1(gold: Sequence[str], predicted: Sequence[str], label: str) -> float:
    return class_scores(gold, predicted, [label])[label].f1


def macro_f1(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = LABELS) -> float:
    scores = class_scores(gold, predicted, labels)
    return sum(s.f1 for s in scores.values()) / len(labels)


def macro_f1_pn(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """The SentiRuEval metric: mean F1 of positive and negative (neutral not averaged in)."""
    return macro_f1(gold, predicted, ("positive", "negative"))


def confusion_matrix(
    gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = LABELS
) -> list[list[int]]:
    """Rows are gold labels, columns predictions, both in `labels` order; others are ignored."""
    _check(gold, predicted)
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, predicted, strict=True):
        if g in index and p in index:
            matrix[index[g]][index[p]] += 1
    return matrix


def format_confusion(matrix: list[list[int]], labels: Sequence[str] = LABELS) -> str:
    """The matrix as an aligned text table (gold down, predicted across)."""
    width = max(8, *(len(label) for label in labels), *(len(str(n)) for row in matrix for n in row))
    lines = ["gold \\ pred".ljust(width + 4) + "".join(label.rjust(width + 1) for label in labels)]
    for label, row in zip(labels, matrix, strict=True):
        lines.append(label.ljust(width + 4) + "".join(str(n).rjust(width + 1) for n in row))
    return "\n".join(lines)
