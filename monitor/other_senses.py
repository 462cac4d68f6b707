"""What a brand's name means when it is not the brand, read from monitor/other_senses.yaml: the kinds
of named thing a «quoted» name may belong to (кинотеатр «Перекрёсток»), the words that may stand
beside a name in its quotes (ООО, Экспресс), and the vocabularies of well-known abbreviations' other
senses (МТС: колхоз, трактор…). monitor/verdicts.py applies them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from monitor.config import BrandConfig
from monitor.errors import ConfigError
from monitor.morphology import PhraseIndex, compile_phrase, fold

VOCABULARY = Path(__file__).with_name("other_senses.yaml")


@dataclass(frozen=True)
class OtherSenses:
    # Base forms, matched in any word form.
    kinds: tuple[str, ...]
    # Folded words, compared whole.
    additions: frozenset[str]
    # Folded abbreviation -> (sense, its words in base forms), in the file's order.
    abbreviations: dict[str, tuple[tuple[str, tuple[str, ...]], ...]]


@functools.cache
def other_senses() -> OtherSenses:
    """The file ships with the package and is read once."""
    data = yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))
    return OtherSenses(
        kinds=tuple(data["kinds"]),
        additions=frozenset(fold(word) for word in data["additions"]),
        # str(): a bare year (1930) reads as a number.
        abbreviations={
            fold(abbreviation): tuple((sense, tuple(map(str, words))) for sense, words in senses.items())
            for abbreviation, senses in data["abbreviations"].items()
        },
    )


@functools.cache
def kind_index() -> PhraseIndex[int]:
    """The kinds compiled once, each keyed by its place in OtherSenses.kinds."""
    return PhraseIndex((n, compile_phrase(kind, strict=False)) for n, kind in enumerate(other_senses().kinds))


def abbreviation_senses(
    brand: BrandConfig, abbreviations: frozenset[str]
) -> list[tuple[str | None, tuple[str, ...]]]:
    """(the abbreviation it is a sense of, None for all of them; its words) for each other sense of
    the brand's folded abbreviations: the built-in ones, then the brand's own `other_senses`."""
    built_in = other_senses().abbreviations
    senses: list[tuple[str | None, tuple[str, ...]]] = [
        (abbreviation, words)
        for abbreviation in sorted(abbreviations)
        for _, words in built_in.get(abbreviation, ())
    ]
    if brand.other_senses:
        if not abbreviations:
            raise ConfigError(
                f"brand {brand.name!r}: other_senses are words of another sense of an abbreviation "
                "(МТС, ВБ), and none of its name and aliases is one; use exclude or context instead"
            )
        senses.append((None, tuple(brand.other_senses)))
    return senses
