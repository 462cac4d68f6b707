"""Retraining the offline model (alone or inside the hybrid engine) on staff corrections, kept
only when it does not score worse.

A correction is a stored Sentiment with `override_label` set. The corrections are split
deterministically: a held-out part scores the active model and the new one, the rest joins the
base training data with a higher sample weight. Copies of one text always land on the same side,
so a repost cannot be trained on and then "predicted".
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.db.models import Item, Mention, Sentiment
from sentiment import LABELS, SentimentEngine, SentimentError
from sentiment.datasets import Rows
from sentiment.hybrid import HybridEngine
from sentiment.offline import normalize
from sentiment.scoring import Evaluation, evaluate
from sentiment.training import Hyperparameters, labelled_rows, train_offline_engine

MIN_CORRECTIONS = 20
HELD_OUT_FRACTION = 0.3
CORRECTION_WEIGHT = 5.0


class NotEnoughCorrections(SentimentError):
    """Too few stored corrections to retrain on and still hold some out for the comparison."""


@dataclass(frozen=True)
class Correction:
    mention_id: int
    text: str
    brand: str
    label: str  # what staff said
    model_label: str  # what the model had said


def stored_corrections(session: Session) -> list[Correction]:
    """Every mention whose sentiment staff overrode with one of our labels, oldest mention first."""
    rows = session.execute(
        select(Sentiment.mention_id, Item.text, Mention.brand, Sentiment.override_label, Sentiment.label)
        .join(Mention, Sentiment.mention_id == Mention.id)
        .join(Item, Mention.item_id == Item.id)
        .where(Sentiment.override_label.in_(LABELS))
        .order_by(Sentiment.mention_id)
    ).all()
    return [
        Correction(mention_id, text or "", brand, str(override), label)
        for mention_id, text, brand, override, label in rows
    ]


def require_enough(count: int, min_corrections: int = MIN_CORRECTIONS) -> None:
    if count < min_corrections:
        raise NotEnoughCorrections(
            f"{count} staff corrections stored; retraining needs at least {min_corrections} "
            "(correct more mentions' sentiment in the inbox first)"
        )


def split_corrections(
    corrections: Sequence[Correction], held_out_fraction: float = HELD_OUT_FRACTION
) -> tuple[list[Correction], list[Correction]]:
    """(train, held out): the same texts always go the same way, whatever the order or the run.

    Texts are ordered by a hash of their normalized form and taken into the held-out part until it
    holds `held_out_fraction` of the corrections (at least one).
    """
    by_text: dict[str, list[Correction]] = {}
    for correction in corrections:
        key = hashlib.sha1(normalize(correction.text).encode("utf-8")).hexdigest()
        by_text.setdefault(key, []).append(correction)
    wanted = max(1, round(held_out_fraction * len(corrections)))
    train: list[Correction] = []
    held_out: list[Correction] = []
    for key in sorted(by_text):
        (held_out if len(held_out) < wanted else train).extend(by_text[key])
    return train, held_out


@dataclass(frozen=True)
class RetrainReport:
    corrections: int
    trained_on: int
    held_out: int
    correction_weight: float
    base_rows: int  # 0 = no base data, corrections only
    before: Evaluation
    after: Evaluation

    @property
    def accepted(self) -> bool:
        """The new model is kept unless it scores worse: macro-F1 pn first, accuracy on a tie."""
        return (self.after.f1_pn, self.after.accuracy) >= (self.before.f1_pn, self.before.accuracy)

    def to_dict(self) -> dict[str, Any]:
        return {
            "corrections": self.corrections,
            "trained_on": self.trained_on,
            "held_out": self.held_out,
            "correction_weight": self.correction_weight,
            "base_rows": self.base_rows,
            "before": {"model": self.before.model, **_headline(self.before)},
            "after": {"model": self.after.model, **_headline(self.after)},
            "accepted": self.accepted,
        }

    def to_text(self) -> str:
        base = f"{self.base_rows} base rows" if self.base_rows else "no base data (corrections only)"
        rows = [
            f"corrections: {self.corrections} ({self.trained_on} trained on with weight "
            f"{self.correction_weight:g}, {self.held_out} held out); {base}",
            f"scores on the {self.held_out} held-out corrections:",
            f"{'':<22}{'before':>10}{'after':>10}",
            f"{'macro-F1 pos+neg':<22}{self.before.f1_pn:>10.4f}{self.after.f1_pn:>10.4f}",
            f"{'accuracy':<22}{self.before.accuracy:>10.4f}{self.after.accuracy:>10.4f}",
            f"before = {self.before.model}; after = the retrained model",
        ]
        return "\n".join(rows)


def _headline(evaluation: Evaluation) -> dict[str, float]:
    return {"f1_pn": round(evaluation.f1_pn, 4), "accuracy": round(evaluation.accuracy, 4)}


def retrain_from_corrections(
    corrections: Sequence[Correction],
    active: SentimentEngine,
    active_name: str,
    base_rows: Rows | None,
    held_out_fraction: float = HELD_OUT_FRACTION,
    correction_weight: float = CORRECTION_WEIGHT,
    min_corrections: int = MIN_CORRECTIONS,
) -> tuple[SentimentEngine, RetrainReport]:
    """Train base rows + the training part of the corrections; score both models on the rest.

    The new engine is an offline model, or, when `active` is a hybrid, that hybrid with the
    retrained offline model inside.
    """
    require_enough(len(corrections), min_corrections)
    train, held_out = split_corrections(corrections, held_out_fraction)
    if not train:
        raise NotEnoughCorrections(
            f"all {len(corrections)} corrections are copies of the same texts: nothing left to train on"
        )
    rows = labelled_rows(
        [c.text for c in train], [c.label for c in train], [c.brand for c in train], correction_weight
    )
    if base_rows is not None:
        rows = base_rows + rows
    # A hybrid active engine keeps its e5 encoder and head; its offline part is what learns.
    hybrid = active if isinstance(active, HybridEngine) else None
    offline = train_offline_engine(rows, Hyperparameters.of(hybrid.offline if hybrid else active))
    engine: SentimentEngine = hybrid.with_offline(offline) if hybrid else offline
    texts, gold, brands = [c.text for c in held_out], [c.label for c in held_out], [c.brand for c in held_out]
    report = RetrainReport(
        corrections=len(corrections),
        trained_on=len(train),
        held_out=len(held_out),
        correction_weight=correction_weight,
        base_rows=len(base_rows) if base_rows is not None else 0,
        before=evaluate(active, texts, gold, brands, model=active_name),
        after=evaluate(engine, texts, gold, brands, model="retrained"),
    )
    return engine, report
