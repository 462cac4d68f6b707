"""Readers for the shared Russian sentiment datasets: SentiRuEval, RuSentiment, CEDR and LINIS.

Everything here turns one file into typed rows (text, label, brand terms, weight) or a lexicon;
training and selection live in `sentiment.train_offline`. The data is read from
../shared/datasets (beside the repository) or $BRANDPULSE_DATASETS and never copied into the repo.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sentiment import LABELS

DOMAINS = ("banks", "telecoms")
EXTRAS = ("rusentiment", "cedr", "linis")

# How each SentiRuEval entity id is written in the tweets, for the brand-aware features.
ENTITY_TERMS: dict[str, list[str]] = {
    "sberbank": ["Сбербанк", "Сбер", "sberbank", "sber"],
    "vtb": ["ВТБ", "vtb"],
    "rshb": ["Россельхозбанк", "РСХБ", "rshb"],
    "bankmoskvy": ["Банк Москвы", "bankmoskvy"],
    "alfabank": ["Альфа-Банк", "Альфабанк", "Альфа", "alfabank", "alfa"],
    "gazprom": ["Газпромбанк", "Газпром", "gazprombank", "gazprom"],
    "raiffeisen": ["Райффайзенбанк", "Райффайзен", "Райф", "raiffeisen"],
    "uralsib": ["Уралсиб", "uralsib"],
    "mts": ["МТС", "mts"],
    "megafon": ["МегаФон", "megafon"],
    "beeline": ["Билайн", "beeline"],
    "rostelecom": ["Ростелеком", "rostelecom"],
    "tele2": ["Теле2", "Tele2", "Теле 2"],
    "skylink": ["Скайлинк", "skylink"],
    "komstar": ["Комстар", "komstar"],
}

LICENCES = {
    "sentirueval2015": "research evaluation data of the SentiRuEval-2015/16 track "
    "(Loukachevitch, Rubtsova et al.)",
    "rusentiment": "CC BY-NC-SA 4.0 (non-commercial, share-alike; a model trained on it inherits that)",
    "cedr": "Apache-2.0 (Sboev et al., 2021)",
    "linis": "CC BY 4.0 (Koltsova et al.)",
}

LINIS_FILE = Path("linis") / "word_ratings.csv"


class DatasetsMissing(RuntimeError):
    """The shared datasets folder, or one file in it, is not there."""


class DatasetError(ValueError):
    """A dataset file exists but cannot be read as expected (the message names the file)."""


def datasets_dir() -> Path:
    """$BRANDPULSE_DATASETS, else ../shared/datasets beside the repository (or the working dir)."""
    env = os.environ.get("BRANDPULSE_DATASETS")
    if env:
        candidates = [Path(env)]  # set explicitly: no silent fallback to another copy
    else:
        candidates = [
            Path(__file__).resolve().parents[1].parent / "shared" / "datasets",
            Path.cwd().parent / "shared" / "datasets",
        ]
    for candidate in candidates:
        if (candidate / "sentirueval2015").is_dir():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise DatasetsMissing(f"shared datasets not found (tried {tried}); set BRANDPULSE_DATASETS")


def read_csv(path: Path, columns: tuple[str, ...], **options: Any) -> pd.DataFrame:
    """pandas.read_csv that names the file in every error and checks the columns we need."""
    if not path.is_file():
        raise DatasetsMissing(f"{path}: file not found; check ../shared/datasets or BRANDPULSE_DATASETS")
    try:
        frame = pd.read_csv(path, **options)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DatasetError(f"{path}: cannot read as CSV: {exc}") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DatasetError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(map(str, frame.columns))}"
        )
    return frame


@dataclass
class Rows:
    """Texts with labels, per-row brand terms (empty for unbranded data) and sample weights."""

    texts: list[str]
    labels: list[str]
    brands: list[list[str]]
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, index: np.ndarray) -> Rows:
        return Rows(
            [self.texts[i] for i in index],
            [self.labels[i] for i in index],
            [self.brands[i] for i in index],
            self.weights[index],
        )

    def without_brands(self) -> Rows:
        return Rows(self.texts, self.labels, [[] for _ in self.texts], self.weights)

    def __add__(self, other: Rows) -> Rows:
        return Rows(
            self.texts + other.texts,
            self.labels + other.labels,
            self.brands + other.brands,
            np.concatenate([self.weights, other.weights]),
        )

    @classmethod
    def empty(cls) -> Rows:
        return cls([], [], [], np.zeros(0, dtype=np.float32))


def load_sentirueval(root: Path, domain: str, split: str) -> pd.DataFrame:
    """One SentiRuEval file (`banks_train`, `telecoms_test`, ...): one row per tweet x company."""
    path = root / "sentirueval2015" / f"{domain}_{split}.csv"
    frame = read_csv(path, ("text", "entity", "label", "date"), dtype={"id": str})
    frame["text"] = frame["text"].fillna("").astype(str)
    return frame[frame["label"].isin(LABELS)].reset_index(drop=True)


def sentirueval_rows(frame: pd.DataFrame, share_duplicates: bool = False) -> Rows:
    """Rows toward each row's company.

    `share_duplicates`: the copies of one text (a tweet naming three banks is three rows, and the
    same sanctions headline was tweeted dozens of times) share one unit of weight, so repeated
    news does not outweigh the many different opinions.
    """
    weights = np.ones(len(frame), dtype=np.float32)
    if share_duplicates and len(frame):
        copies = frame.groupby("text")["text"].transform("size").to_numpy()
        weights = (1.0 / copies).astype(np.float32)
    return Rows(
        frame["text"].tolist(),
        frame["label"].tolist(),
        [ENTITY_TERMS.get(e, [e]) for e in frame["entity"]],
        weights,
    )


def load_linis(root: Path) -> pd.DataFrame:
    """The LINIS Crowd lexicon: columns `word` and `mean` (crowd rating in [-2, 2])."""
    path = root / LINIS_FILE
    frame = read_csv(path, ("Words", "mean"), sep=";", decimal=",")
    words = frame["Words"].astype(str).str.strip().str.lower().str.replace("ё", "е")
    means = pd.to_numeric(frame["mean"], errors="coerce")
    if means.isna().all():
        raise DatasetError(f"{path}: column mean has no numbers (expected a decimal comma, e.g. -0,25)")
    result = pd.DataFrame({"word": words, "mean": means}).dropna()
    return result[result["word"] != ""].drop_duplicates("word").reset_index(drop=True)


def lexicon(root: Path, min_abs: float = 0.5) -> dict[str, float]:
    """LINIS words rated at least `min_abs` away from neutral, word (lemma) -> mean rating."""
    frame = load_linis(root)
    frame = frame[frame["mean"].abs() >= min_abs]
    return {str(w): float(m) for w, m in zip(frame["word"], frame["mean"], strict=True)}


def extra_rows(root: Path, name: str, weight: float) -> Rows:
    """RuSentiment, CEDR or the LINIS lexicon as (text, negative/neutral/positive) rows."""
    if name == "rusentiment":
        frames = [
            read_csv(root / "rusentiment" / f, ("label", "text"))
            for f in ("random_posts.csv", "preselected_posts.csv")
        ]
        frame = pd.concat(frames)
        frame = frame[frame["label"].isin(LABELS)]  # speech and skip are not sentiment
        texts, labels = frame["text"].fillna("").astype(str).tolist(), frame["label"].tolist()
    elif name == "cedr":
        path = root / "cedr" / "train.csv"  # cedr/test.csv stays unused
        frame = read_csv(path, ("text", "labels"))
        texts, labels = [], []
        for text, raw in zip(frame["text"], frame["labels"], strict=True):
            try:
                emotions = set(ast.literal_eval(raw.replace(" ", ","))) if raw.strip("[] ") else set()
            except (ValueError, SyntaxError) as exc:
                raise DatasetError(f"{path}: labels {raw!r} is not a list of emotion ids") from exc
            # 0 joy, 1 sadness, 2 surprise, 3 fear, 4 anger; surprise and mixed rows are dropped.
            if not emotions:
                label = "neutral"
            elif emotions == {0}:
                label = "positive"
            elif emotions <= {1, 3, 4}:
                label = "negative"
            else:
                continue
            texts.append(str(text))
            labels.append(label)
    elif name == "linis":
        frame = load_linis(root)
        frame = frame[frame["mean"].abs() >= 1.0]  # clearly rated words only
        texts = frame["word"].tolist()
        labels = ["positive" if m > 0 else "negative" for m in frame["mean"]]
    else:
        raise ValueError(f"unknown extra dataset {name!r}; expected one of {', '.join(EXTRAS)}")
    return Rows(texts, labels, [[] for _ in texts], np.full(len(texts), weight, dtype=np.float32))


# Every text of a corpus, labelled or not (RuSentiment speech/skip rows, CEDR's test file); the
# SentiRuEval dev files are never among them.
TEXT_FILES = {
    "rusentiment": ("rusentiment/random_posts.csv", "rusentiment/preselected_posts.csv"),
    "cedr": ("cedr/train.csv", "cedr/test.csv"),
}


def corpus_texts(root: Path, corpus: str) -> list[str]:
    """The texts of `corpus` (sentirueval = both train files, rusentiment, cedr), in file order."""
    if corpus == "sentirueval":
        return [t for domain in DOMAINS for t in load_sentirueval(root, domain, "train")["text"]]
    if corpus not in TEXT_FILES:
        raise ValueError(f"unknown corpus {corpus!r}; expected sentirueval, {', '.join(TEXT_FILES)}")
    texts: list[str] = []
    for name in TEXT_FILES[corpus]:
        texts += read_csv(root / name, ("text",))["text"].fillna("").astype(str).tolist()
    return texts


def held_out_split(frame: pd.DataFrame, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices of train and held-out rows: the held-out rows are the latest `fraction` by date.

    The dev sets come from another period than the train files (Dec 2013 vs Jul-Aug 2014), and
    a random split of the train files scores ~0.77 F1pn (retweets and the same news on both
    sides) against ~0.5 on the dev sets; holding out the last days imitates that shift.
    """
    cut = frame["date"].quantile(1 - fraction)
    late = (frame["date"] >= cut).to_numpy()
    return np.flatnonzero(~late), np.flatnonzero(late)
