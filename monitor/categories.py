"""Brand categories (BrandConfig.category): the built-in context words and everyday-sense exclusions
of a trade, read from monitor/categories.yaml, so a user picks `category: telecom` instead of typing
«тариф, симка, роуминг…» into `context`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

VOCABULARY = Path(__file__).with_name("categories.yaml")


@dataclass(frozen=True)
class Category:
    name: str
    # Base forms; matched in any word form, like a brand's own `context`.
    words: tuple[str, ...]
    # Lowercase phrases where a name common in the trade is an everyday thing (на ленту).
    exclude: tuple[str, ...]


@functools.cache
def categories() -> dict[str, Category]:
    """Every known category by name; the file ships with the package and is read once."""
    data = yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))
    return {
        name: Category(name, tuple(entry["words"]), tuple(entry.get("exclude", ())))
        for name, entry in data.items()
    }


def category_names() -> list[str]:
    return sorted(categories())
