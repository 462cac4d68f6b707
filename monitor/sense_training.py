"""Train the learned brand-or-word decision (monitor/brand_sense.py) from what brandpulse already
holds: the texts it collected (or any CSV of texts) for examples the rules are sure of, and the
staff's answers on ordinary-word mentions: «Не релевантно» says "not us", taking a mention in work
or resolving it says "us".

    brandpulse match-train --output models/brand-sense.json               # the database's items
    brandpulse match-train --input posts.csv --output models/brand-sense.json
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.brand_sense import MIN_EXAMPLES, SenseExample, SenseModel, train
from monitor.db.models import Item, Mention, Workflow
from monitor.errors import ConfigError
from monitor.matching import BrandMatcher

# Staff answers that say whether a mention is about the brand at all.
NOT_US = ("ignored",)
US = ("in_progress", "resolved")


@dataclass
class TrainingReport:
    texts: int = 0
    # (brand, why) -> examples: named / excluded / no_context / staff_yes / staff_no
    examples: Counter[tuple[str, str]] = field(default_factory=Counter)
    model: SenseModel | None = None

    def brands_left_to_rules(self, brands: Iterable[str]) -> list[str]:
        trained = set(self.model.brands) if self.model else set()
        return [name for name in brands if name not in trained]


def examples_from_texts(matcher: BrandMatcher, texts: Iterable[str]) -> Iterator[SenseExample]:
    for text in texts:
        yield from matcher.sense_examples(text)


def database_texts(session: Session, batch: int = 2000) -> Iterator[str]:
    """Every stored item's text, in id order, a batch at a time (never the whole table in memory)."""
    last = 0
    while True:
        rows = session.execute(
            select(Item.id, Item.text).where(Item.id > last).order_by(Item.id).limit(batch)
        ).all()
        if not rows:
            return
        for item_id, text in rows:
            last = item_id
            yield text


def staff_examples(session: Session, matcher: BrandMatcher) -> Iterator[SenseExample]:
    """Ordinary-word mentions the staff judged: «Не релевантно» = not the brand; in work = the brand."""
    rows = session.execute(
        select(Item.text, Mention.brand, Mention.span_start, Mention.span_end, Workflow.status)
        .join(Mention, Mention.item_id == Item.id)
        .join(Workflow, Workflow.mention_id == Mention.id)
        .where(Workflow.status.in_(NOT_US + US), Mention.by_place.is_(False))
    )
    for text, brand, start, end, status in rows:
        features = matcher.hit_features_at(text, start, end, brand)
        if features is not None:
            is_brand = status in US
            yield SenseExample(brand, features, is_brand, "staff_yes" if is_brand else "staff_no")


def csv_texts(path: Path) -> Iterator[str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "text" not in reader.fieldnames:
                raise ConfigError(f"{path}: no 'text' column (the header has: {reader.fieldnames})")
            for row in reader:
                yield row["text"] or ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None


def train_sense(
    matcher: BrandMatcher,
    texts: Iterable[str],
    staff: Iterable[SenseExample] = (),
    min_examples: int = MIN_EXAMPLES,
) -> TrainingReport:
    report = TrainingReport()
    examples: list[SenseExample] = []

    def counted(texts: Iterable[str]) -> Iterator[str]:
        for text in texts:
            report.texts += 1
            yield text

    judged = list(staff)
    for example in [*examples_from_texts(matcher, counted(texts)), *judged]:
        examples.append(example)
        report.examples[(example.brand, example.why)] += 1
    # A person's judgement outweighs a rule's guess: staff answers count twice.
    report.model = train(examples + judged, min_examples)
    return report
