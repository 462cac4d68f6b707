"""Training an offline model on the user's labelled rows, with train_offline's fit and artifact format.

`python -m sentiment.train_offline` builds the shipped model from the shared datasets with tuning;
this is the short path behind `brandpulse sentiment train`: fixed hyperparameters (the ones chosen
for the shipped model), any labelled rows, optionally the shared datasets underneath.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from monitor.errors import InputError
from sentiment.datasets import (
    DOMAINS,
    DatasetsMissing,
    Rows,
    datasets_dir,
    extra_rows,
    load_sentirueval,
    sentirueval_rows,
)
from sentiment.offline import FeatureSettings, OfflineEngine, save_model
from sentiment.train_offline import SHIPPED_EXTRAS, SHIPPED_SETTINGS, fit_engine, selfcheck

# Fallbacks for a model that does not record how it was trained; the shipped one does (MODEL_CARD.md).
DEFAULT_C = 8.0
DEFAULT_CLASS_WEIGHT: str | None = "balanced"


@dataclass(frozen=True)
class Hyperparameters:
    settings: FeatureSettings = SHIPPED_SETTINGS
    c: float = DEFAULT_C
    class_weight: str | None = DEFAULT_CLASS_WEIGHT

    @classmethod
    def of(cls, engine: Any) -> Hyperparameters:
        """The settings an offline engine was trained with (defaults for anything else)."""
        if not isinstance(engine, OfflineEngine):
            return cls()
        chosen = engine.metadata.get("hyperparameters", {})
        return cls(
            engine.settings,
            float(chosen.get("C", DEFAULT_C)),
            chosen.get("class_weight", DEFAULT_CLASS_WEIGHT),
        )


def labelled_rows(
    texts: Sequence[str], labels: Sequence[str], brands: Sequence[str | None], weight: float = 1.0
) -> Rows:
    """Rows for train_offline's fit; a row about a brand is also added once as plain text, as the
    shipped model is trained, so callers that pass no brand are served too."""
    rows = Rows(
        list(texts),
        list(labels),
        [[brand] if brand else [] for brand in brands],
        np.full(len(texts), weight, dtype=np.float32),
    )
    branded = np.flatnonzero([bool(b) for b in brands])
    if len(branded):
        rows = rows + rows.take(branded).without_brands()
    return rows


def shared_base_rows() -> Rows | None:
    """The shipped model's training data from ../shared/datasets, or None where it is absent."""
    try:
        root = datasets_dir()
    except DatasetsMissing:
        return None
    rows = sentirueval_rows(load_sentirueval(root, DOMAINS[0], "train"))
    for domain in DOMAINS[1:]:
        rows = rows + sentirueval_rows(load_sentirueval(root, domain, "train"))
    rows = rows + rows.without_brands()
    for name in SHIPPED_EXTRAS:
        rows = rows + extra_rows(root, name, 1.0)
    return rows


def train_offline_engine(rows: Rows, hyperparameters: Hyperparameters = Hyperparameters()) -> OfflineEngine:
    classes = sorted(set(rows.labels))
    if len(classes) < 2:
        raise InputError(
            f"training needs at least two different labels; the data has only {', '.join(classes) or 'none'}"
        )
    h = hyperparameters
    engine = fit_engine(rows, h.settings, h.c, h.class_weight)
    engine.metadata = {"hyperparameters": {"C": h.c, "class_weight": h.class_weight, "solver": "lbfgs"}}
    return engine


def save_offline_engine(engine: OfflineEngine, directory: str | Path, metadata: dict[str, Any]) -> None:
    """Write the artifact load_model reads (metadata.json + weights.npz), with a self-check."""
    document = {
        "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        **engine.metadata,
        **metadata,
        "selfcheck": selfcheck(engine),
    }
    try:
        save_model(directory, engine.coef_t.T, engine.intercept, engine.classes, engine.settings, document)
    except OSError as exc:
        raise InputError(f"{directory}: cannot write the model: {exc.strerror or exc}") from exc
