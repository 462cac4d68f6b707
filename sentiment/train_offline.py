"""Train the offline sentiment model on the shared Russian datasets and write the artifact.

Example:
    python -m sentiment.train_offline --output sentiment/models/offline
    python -m sentiment.train_offline --output /tmp/with-rusentiment --extra rusentiment

C and class_weight are chosen on a held-out 20% of the SentiRuEval *train* files (split by
tweet text, so a tweet naming two banks never lands on both sides); the chosen setting is then
refit on all the training rows and scored once on banks_test / telecoms_test (the dev sets).
Reads ../shared/datasets (beside the repository) or $BRANDPULSE_DATASETS; never copy the data
into the repository.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

from sentiment.datasets import (  # noqa: F401  (re-exported: callers import these from here)
    DOMAINS,
    ENTITY_TERMS,
    EXTRAS,
    LICENCES,
    DatasetError,
    DatasetsMissing,
    Rows,
    datasets_dir,
    extra_rows,
    held_out_split,
    lexicon,
    load_sentirueval,
    sentirueval_rows,
)
from sentiment.lexicon import expand_forms
from sentiment.metrics import class_scores, confusion_matrix, macro_f1_pn
from sentiment.offline import DEFAULT_MODEL_DIR, FeatureSettings, Featurizer, OfflineEngine, save_model

MODEL_VERSION = "1.1.0"

# What `python -m sentiment.train_offline` trains by default: the shipped model. Each part was
# measured on its own on the dev sets (see MODEL_CARD.md): masking the brand + a 3-word window
# around it, the LINIS lexicon block (rated lemmas, weight 0.5) and one-word LINIS rows,
# @handles kept (tweets to a bank's support account), duplicates of a text sharing one weight.
# CEDR hurt; RuSentiment helped ~1 point but makes the model non-commercial, so it stays out of
# the default (train that variant with --extra linis --extra rusentiment).
SHIPPED_SETTINGS = FeatureSettings(mask_brand=True, brand_window=3, lexicon_weight=0.5, keep_handles=True)
SHIPPED_EXTRAS: tuple[str, ...] = ("linis",)
DEFAULT_C_GRID = (2.0, 4.0, 8.0)
DEFAULT_CLASS_WEIGHTS: tuple[str | None, ...] = ("balanced",)


@dataclass
class LinearModel:
    coef: np.ndarray  # (classes, n_features), zero for features never seen in training
    intercept: np.ndarray
    classes: list[str]

    def predict(self, x: Any) -> list[str]:
        scores = np.asarray(x @ self.coef.T) + self.intercept
        return [self.classes[k] for k in scores.argmax(axis=1)]


def fit(x: Any, rows: Rows, c: float, class_weight: str | None) -> LinearModel:
    """Multinomial logistic regression (lbfgs) on the hashed features.

    Only the ~10% of hash columns that occur in the training rows are handed to the solver: the
    others get zero weight anyway, and lbfgs is several times faster on the narrow matrix.
    """
    used = np.unique(x.indices)
    model = LogisticRegression(C=c, class_weight=class_weight, max_iter=2000, tol=1e-4)
    model.fit(x[:, used], rows.labels, sample_weight=rows.weights)
    coef = np.zeros((len(model.classes_), x.shape[1]), dtype=np.float64)
    coef[:, used] = model.coef_
    return LinearModel(coef, model.intercept_, [str(label) for label in model.classes_])


def fit_engine(
    rows: Rows,
    settings: FeatureSettings,
    c: float = 4.0,
    class_weight: str | None = None,
    ratings: Mapping[str, float] | None = None,
) -> OfflineEngine:
    """Train on `rows` and return the engine, its weights already rounded to float16 as shipped.

    `ratings` (word form -> rating, see `expand_forms`) is used when `settings.lexicon_weight` is
    set; without it, the lexicon stored in the shipped model is used.
    """
    features = Featurizer(settings, ratings).transform(rows.texts, rows.brands)
    model = fit(features, rows, c, class_weight)
    return OfflineEngine(
        model.coef.astype(np.float16), model.intercept, model.classes, settings, lexicon=ratings
    )


def scores(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, object]:
    per_class = class_scores(gold, predicted)
    return {
        "f1_pn": round(macro_f1_pn(gold, predicted), 4),
        "f1_negative": round(per_class["negative"].f1, 4),
        "f1_positive": round(per_class["positive"].f1, 4),
        "rows": len(gold),
        "confusion": confusion_matrix(gold, predicted),
    }


def train(
    root: Path,
    settings: FeatureSettings,
    extras: Sequence[str] = (),
    extra_weight: float = 1.0,
    c_grid: Sequence[float] = DEFAULT_C_GRID,
    class_weights: Sequence[str | None] = DEFAULT_CLASS_WEIGHTS,
    text_only_copies: bool = True,
    log: Callable[[str], None] = print,
    share_duplicates: bool = True,
) -> tuple[OfflineEngine, dict[str, object]]:
    """Tune on a held-out part of the train files, refit on all of them, score on the dev sets.

    `share_duplicates`: the copies of one text share one unit of sample weight (see
    `sentirueval_rows`). The LINIS lexicon is read when `settings.lexicon_weight` is set.
    """
    started = time.perf_counter()
    ratings = expand_forms(lexicon(root)) if settings.lexicon_weight else None
    featurizer = Featurizer(settings, ratings)
    train_frames = {d: load_sentirueval(root, d, "train") for d in DOMAINS}
    parts, held_parts = [], []
    for domain, frame in train_frames.items():
        fit_index, held_index = held_out_split(frame, 0.2)
        rows = sentirueval_rows(frame, share_duplicates)
        parts.append(rows.take(fit_index))
        held_parts.append((domain, rows.take(held_index)))
    if text_only_copies:
        # Each tweet also once without its brand, so callers that pass no brand get a model
        # that has seen plain, unmasked texts too.
        parts = [p + p.without_brands() for p in parts]
    extra = Rows.empty()
    for name in extras:
        extra = extra + extra_rows(root, name, extra_weight)
        log(f"extra data {name}: {len(extra)} rows so far")
    tune_rows = parts[0] + parts[1] + extra
    x_tune = featurizer.transform(tune_rows.texts, tune_rows.brands)
    x_held = {d: featurizer.transform(r.texts, r.brands) for d, r in held_parts}

    tuning: list[dict[str, Any]] = []
    for class_weight in class_weights:
        for c in c_grid:
            model = fit(x_tune, tune_rows, c, class_weight)
            per_domain = {d: macro_f1_pn(r.labels, model.predict(x_held[d])) for d, r in held_parts}
            mean = float(np.mean(list(per_domain.values())))
            tuning.append({"C": c, "class_weight": class_weight, "held_out_f1_pn": round(mean, 4)})
            log(
                f"C={c:<5} class_weight={class_weight!s:<8} held-out F1pn "
                + " ".join(f"{d}={v:.4f}" for d, v in per_domain.items())
                + f" mean={mean:.4f}"
            )
    best = max(tuning, key=lambda t: t["held_out_f1_pn"])
    log(f"chosen: C={best['C']} class_weight={best['class_weight']}")

    all_rows = sentirueval_rows(train_frames["banks"], share_duplicates) + sentirueval_rows(
        train_frames["telecoms"], share_duplicates
    )
    if text_only_copies:
        all_rows = all_rows + all_rows.without_brands()
    all_rows = all_rows + extra
    engine = fit_engine(all_rows, settings, best["C"], best["class_weight"], ratings)
    train_seconds = time.perf_counter() - started

    dev = evaluate(engine, root)
    dev_text_only = evaluate(engine, root, use_brand=False)
    report = {
        "hyperparameters": {
            "C": best["C"],
            "class_weight": best["class_weight"],
            "solver": "lbfgs",
            "text_only_copies": text_only_copies,
            "share_duplicates": share_duplicates,
        },
        "tuning": tuning,
        # Dev sets scored toward each row's company (brand terms as in ENTITY_TERMS) ...
        "dev": dev,
        # ... and as plain texts, the way a caller without a brand gets them.
        "dev_text_only": {
            d: {k: v for k, v in r.items() if k != "confusion"} for d, r in dev_text_only.items()
        },
        "train_seconds": round(train_seconds, 1),
        "training_rows": len(all_rows),
        "training_data": training_data(root, extras, extra_weight, lexicon_block=bool(ratings)),
    }
    return engine, report


def training_data(
    root: Path, extras: Sequence[str], extra_weight: float, lexicon_block: bool = False
) -> list[dict[str, object]]:
    data: list[dict[str, object]] = [
        {
            "name": "sentirueval2015",
            "files": [f"sentirueval2015/{d}_train.csv" for d in DOMAINS],
            "licence": LICENCES["sentirueval2015"],
        }
    ]
    for name in extras:
        data.append({"name": name, "weight": extra_weight, "licence": LICENCES[name]})
    if lexicon_block:
        data.append({
            "name": "linis",
            "use": "lexicon block: words rated |mean| >= 0.5 and their word forms, stored in weights.npz",
            "licence": LICENCES["linis"],
        })  # fmt: skip
    return data


def evaluate(engine: OfflineEngine, root: Path, use_brand: bool = True) -> dict[str, Any]:
    """F1pn, negative F1 and speed on banks_test / telecoms_test (the dev sets)."""
    results: dict[str, Any] = {}
    for domain in DOMAINS:
        frame = load_sentirueval(root, domain, "test")
        predicted = [""] * len(frame)
        for entity, group in frame.groupby("entity"):
            terms = ENTITY_TERMS.get(entity, [entity]) if use_brand else None
            proba = engine.predict_proba(group["text"].tolist(), terms)
            for i, k in zip(group.index, proba.argmax(axis=1), strict=True):
                predicted[i] = engine.classes[k]
        results[domain] = scores(frame["label"].tolist(), predicted)
        texts = frame["text"].tolist()
        started = time.perf_counter()
        engine.predict(texts)
        results[domain]["texts_per_second"] = round(len(texts) / (time.perf_counter() - started))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sentiment.train_offline",
        description="Train the offline sentiment model. Example: "
        "python -m sentiment.train_offline --output sentiment/models/offline",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_MODEL_DIR, help="artifact directory")
    parser.add_argument(
        "--extra",
        action="append",
        choices=EXTRAS,
        help="extra dataset (repeatable; default: "
        + ", ".join(SHIPPED_EXTRAS)
        + "); rusentiment makes the model non-commercial",
    )
    parser.add_argument("--no-extras", action="store_true", help="train on SentiRuEval only")
    parser.add_argument("--extra-weight", type=float, default=1.0, help="sample weight of extra rows")
    parser.add_argument(
        "--brand-window",
        type=int,
        default=SHIPPED_SETTINGS.brand_window,
        help="words either side of the brand mention added as features (0 = off)",
    )
    parser.add_argument(
        "--mask-brand",
        action=argparse.BooleanOptionalAction,
        default=SHIPPED_SETTINGS.mask_brand,
        help="replace the scored brand by one token",
    )
    parser.add_argument(
        "--text-only-copies",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also train on each tweet without its brand (for callers passing no brand)",
    )
    parser.add_argument(
        "--share-duplicates",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="copies of one text (multi-brand tweets, retweeted news) share one unit of weight",
    )
    parser.add_argument(
        "--lexicon-weight",
        type=float,
        default=SHIPPED_SETTINGS.lexicon_weight,
        help="weight of the LINIS lexicon block (0 = off)",
    )
    parser.add_argument(
        "--negation",
        action=argparse.BooleanOptionalAction,
        default=SHIPPED_SETTINGS.negation,
        help='add "не_<word>" tokens for negated words',
    )
    parser.add_argument(
        "--keep-handles",
        action=argparse.BooleanOptionalAction,
        default=SHIPPED_SETTINGS.keep_handles,
        help="keep the name of @handles as a token (e.g. a company's support account)",
    )
    parser.add_argument("--char-bits", type=int, default=20, help="log2 of the char n-gram hash space")
    parser.add_argument("--word-bits", type=int, default=18, help="log2 of the word n-gram hash space")
    parser.add_argument(
        "--c",
        type=float,
        action="append",
        help="C values to try (repeatable; default " + ",".join(f"{c:g}" for c in DEFAULT_C_GRID) + ")",
    )
    parser.add_argument("--report", type=Path, help="also write the report as JSON here")
    args = parser.parse_args(argv)

    try:
        root = datasets_dir()
    except DatasetsMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    extras = [] if args.no_extras else (args.extra or list(SHIPPED_EXTRAS))
    settings = replace(
        SHIPPED_SETTINGS,
        char_features=2**args.char_bits,
        word_features=2**args.word_bits,
        brand_window=args.brand_window,
        mask_brand=args.mask_brand,
        lexicon_weight=args.lexicon_weight,
        negation=args.negation,
        keep_handles=args.keep_handles,
    )

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        engine, report = train(
            root,
            settings,
            extras,
            args.extra_weight,
            tuple(args.c or DEFAULT_C_GRID),
            text_only_copies=args.text_only_copies,
            log=log,
            share_duplicates=args.share_duplicates,
        )
    except (DatasetsMissing, DatasetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    commercial = "rusentiment" not in extras
    metadata = {
        "version": MODEL_VERSION,
        "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "scikit_learn": sklearn.__version__,
        "commercial_use": commercial,
        "licence_note": "trained without RuSentiment: usable commercially"
        if commercial
        else "trained on RuSentiment (CC BY-NC-SA 4.0): non-commercial use only, share-alike",
        "command": "python -m sentiment.train_offline " + " ".join(sys.argv[1:] if argv is None else argv),
        **report,
    }
    metadata["selfcheck"] = selfcheck(engine)
    save_model(
        args.output, engine.coef_t.T, engine.intercept, engine.classes, settings, metadata, engine.lexicon
    )
    summary = {k: metadata[k] for k in ("hyperparameters", "dev", "train_seconds", "training_rows")}
    size = sum(f.stat().st_size for f in args.output.iterdir())
    summary["artifact_bytes"] = size
    if args.report:
        args.report.write_text(json.dumps(metadata, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


SELFCHECK_TEXTS = [
    "Ужасный сервис, деньги списали дважды, поддержка молчит",
    "Спасибо за быструю помощь, всё решили за пять минут!",
    "Банк открыл новое отделение на Ленина, 5",
]


def selfcheck(engine: OfflineEngine) -> list[dict[str, object]]:
    """Probabilities for fixed texts, stored so a test can prove the loaded model computes the same."""
    proba = engine.predict_proba(SELFCHECK_TEXTS)
    return [
        {"text": t, "proba": [round(float(p), 4) for p in row]}
        for t, row in zip(SELFCHECK_TEXTS, proba, strict=True)
    ]


if __name__ == "__main__":
    raise SystemExit(main())
