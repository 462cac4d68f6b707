"""How well the configured brands are found: precision and recall on posts a person has labelled.

The labelled CSV has a `text` column and a `brands` column naming, separated by `;`, the configured
brands the post really mentions (empty: none). A brand the matcher finds that the label does not
name is a false hit; a labelled brand it does not find is a miss.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from monitor.brand_sense import SenseModel, describe
from monitor.config import BrandConfig
from monitor.errors import InputError
from monitor.matching import BrandMatcher

BRANDS_SEPARATOR = ";"


@dataclass(frozen=True)
class LabelledPost:
    row: int  # the CSV row number, header = 1, as a spreadsheet shows it
    text: str
    brands: frozenset[str]


@dataclass
class BrandScore:
    brand: str
    labelled: int = 0  # posts labelled with the brand
    true_hits: int = 0
    false_hits: int = 0

    @property
    def misses(self) -> int:
        return self.labelled - self.true_hits

    @property
    def precision(self) -> float:
        found = self.true_hits + self.false_hits
        return self.true_hits / found if found else 1.0

    @property
    def recall(self) -> float:
        return self.true_hits / self.labelled if self.labelled else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


@dataclass(frozen=True)
class MatchError:
    row: int
    brand: str
    kind: str  # "false hit" or "miss"
    text: str
    # What the learned decision said of this brand's hit here ("model p=0.31: −no_context +L1:в").
    model: str = ""


@dataclass
class MatchEvaluation:
    posts: int
    scores: list[BrandScore]
    errors: list[MatchError] = field(default_factory=list)
    # Hits the learned decision judged, and how many it made mentions.
    model_decisions: int = 0
    model_mentions: int = 0

    @property
    def total(self) -> BrandScore:
        """Every brand's posts pooled (micro-averaged)."""
        pooled = BrandScore("all brands")
        for score in self.scores:
            pooled.labelled += score.labelled
            pooled.true_hits += score.true_hits
            pooled.false_hits += score.false_hits
        return pooled


def read_labelled(path: str | Path, known_brands: Iterable[str]) -> list[LabelledPost]:
    """The labelled posts of a CSV; a missing column or an unknown brand name is an InputError
    naming the file (and row)."""
    path, known = Path(path), set(known_brands)
    try:
        source = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    with source:
        try:
            return _labelled_rows(path, csv.DictReader(source), known)
        except UnicodeDecodeError:
            raise InputError(f"{path}: not UTF-8 text; save the CSV as UTF-8") from None
        except csv.Error as exc:
            raise InputError(f"{path}: not a readable CSV: {exc}") from None


def _labelled_rows(path: Path, reader: csv.DictReader[str], known: set[str]) -> list[LabelledPost]:
    missing = {"text", "brands"} - set(reader.fieldnames or ())
    if missing:
        found = ", ".join(reader.fieldnames or []) or "none"
        raise InputError(
            f"{path}: no {' and no '.join(sorted(missing))} column (columns found: {found}); "
            "expected a comma-separated CSV with text,brands"
        )
    posts: list[LabelledPost] = []
    for row_number, row in enumerate(reader, start=2):
        brands = frozenset(
            name.strip() for name in (row["brands"] or "").split(BRANDS_SEPARATOR) if name.strip()
        )
        unknown = sorted(brands - known)
        if unknown:
            raise InputError(
                f"{path}:{row_number}: brand {unknown[0]!r} is not in the config's brands "
                f"({', '.join(sorted(known))})"
            )
        posts.append(LabelledPost(row_number, row["text"] or "", brands))
    return posts


def evaluate_matching(
    brands: list[BrandConfig], posts: list[LabelledPost], sense: SenseModel | None = None
) -> MatchEvaluation:
    """Per brand: labelled posts, right hits, false hits; and every mistake, in row order, with
    what the learned decision (when given) said about it and why."""
    matcher = BrandMatcher.from_config(brands, sense)
    scores = {brand.name: BrandScore(brand.name) for brand in brands}
    errors: list[MatchError] = []
    for post in posts:
        found = {match.brand for match in matcher.find(post.text)}
        said = (
            {brand: (p, describe(sense, brand, f)) for brand, _, p, f in matcher.last_decisions}
            if sense
            else {}
        )
        for name in post.brands:
            scores[name].labelled += 1
        for name in sorted(found | post.brands):
            if name in found and name in post.brands:
                scores[name].true_hits += 1
            elif name in found:
                scores[name].false_hits += 1
                errors.append(MatchError(post.row, name, "false hit", post.text, _model_note(said.get(name))))
            else:
                errors.append(MatchError(post.row, name, "miss", post.text, _model_note(said.get(name))))
    evaluation = MatchEvaluation(len(posts), list(scores.values()), errors)
    evaluation.model_decisions, evaluation.model_mentions = matcher.model_decisions, matcher.model_mentions
    return evaluation


def _model_note(decision: tuple[float, str] | None) -> str:
    return "" if decision is None else f"model p={decision[0]:.2f}: {decision[1]}"


def without_rules(brands: list[BrandConfig]) -> list[BrandConfig]:
    """The same brands with no exclusions, context words, category or query: what the rules are
    measured against."""
    return [
        brand.model_copy(update={"exclude": [], "context": [], "category": None, "query": None})
        for brand in brands
    ]
