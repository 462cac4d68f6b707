"""Find configured brands in a text: any inflected form, derived adjectives (озоновский), hyphen
compounds (Тинькофф-то), misspelt names (Тинкоф, Вайлдберис), inside #hashtags and @handles
(@tinkoff_bank, dodopizzaru), minus exclusions, and ordinary-word brands (Магнит, Лента) only with
context. Invisible characters inside a name are read through (monitor/invisible.py). Pure: text
in, matches out.

The word forms are compiled once in BrandMatcher.from_config (monitor/morphology.py and its
neighbours: derived_words, typos, hashtags, handles); which of the phrases found count as a
mention is monitor/verdicts.py's call, and an ordinary-word name listed with other brands («в
сбербанке и почте») is one (monitor/brand_lists.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from monitor.brand_lists import vouched_for
from monitor.brand_sense import SenseExample, SenseModel, hit_features
from monitor.config import BrandConfig
from monitor.derived_words import derived_forms
from monitor.errors import ConfigError
from monitor.handles import HandleIndex, handle_spellings
from monitor.hashtags import TagForm, TagIndex, joined_forms
from monitor.morphology import (
    AnalysedText,
    PhraseIndex,
    WordForms,
    can_be_noun,
    compile_phrase,
    fold,
    is_abbreviation,
    is_dictionary_word,
)
from monitor.query import WORD
from monitor.typos import TypoIndex
from monitor.verdicts import FOUND, BrandRules, Hit, HitChecks, TextQuery, Verdict, compile_rules

__all__ = ["BrandMatcher", "Match", "TextQuery"]

# Letters and digits glued by apostrophes or dots, no space or hyphen: one word (О'КЕЙ, 5ka.ru).
_ONE_WORD = re.compile(r"^[^\s\-\u2010]+$")
# What holds the parts of a handle or a site name together with no space: dodo_pizza, dodo.pizza.
_HANDLE_SEPARATORS = frozenset(("_", "__", "-", "\u2010", "."))
_LONGEST_HANDLE = 5  # parts


@dataclass(frozen=True)
class Match:
    brand: str
    start: int
    end: int
    text: str
    competitor: bool
    # "model" when the learned brand-or-word decision settled it (with its probability), else "rules".
    decided_by: str = "rules"
    probability: float | None = None


class BrandMatcher:
    """All brands compiled once; find(text) gives each brand's first valid mention."""

    def __init__(
        self,
        brands: list[BrandRules],
        terms_index: PhraseIndex[tuple[int, bool]],
        tags: TagIndex,
        handles: HandleIndex[int],
        typos: TypoIndex[tuple[int, bool]],
        sense: SenseModel | None = None,
    ):
        self._brands = brands
        # The learned decision per brand index, for brands that have one (monitor/brand_sense.py).
        self._sense = {
            index: model
            for index, rules in enumerate(brands)
            if sense is not None and (model := sense.for_brand(rules.config.name)) is not None
        }
        # How many hits the learned decision settled, and how many it turned into mentions; and
        # its decisions on the last text (brand, start, probability, features), for match-eval.
        self.model_decisions = 0
        self.model_mentions = 0
        self.last_decisions: list[tuple[str, int, float, list[str]]] = []
        self._terms = terms_index
        self._tags = tags
        self._handles = handles
        self._typos = typos
        # The first two letters of words worth a second look as a handle or a slip of a name.
        self._second_look = {start for start in handles.starts if start.isascii()} | typos.starts

    @classmethod
    def from_config(cls, brands: list[BrandConfig], sense: SenseModel | None = None) -> BrandMatcher:
        compiled: list[BrandRules] = []
        indexes = _TermIndexes()
        for index, brand in enumerate(brands):
            for term in brand.terms:
                indexes.add(index, brand, term)
            compiled.append(compile_rules(brand))
        return cls(
            compiled,
            PhraseIndex(indexes.phrases),
            indexes.tags,
            indexes.handles,
            TypoIndex(indexes.slip_names),
            sense,
        )

    def find(self, text: str) -> list[Match]:
        """Each brand's first valid mention in text, sorted by start offset."""
        analysed = AnalysedText.analyse(text)
        checks = HitChecks(analysed, self._brands, self._terms)
        found: dict[int, Hit] = {}
        seen: list[Hit] = []
        waiting: list[Hit] = []
        # Hits the rules cannot settle, for brands with a learned decision: the model's to judge.
        undecided: list[Hit] = []
        for hit in self._hits(analysed):
            seen.append(hit)
            if hit.brand in found:
                continue
            verdict = checks.verdict(hit)
            if verdict is Verdict.BY_CONTEXT and hit.brand in self._sense:
                undecided.append(hit)
            elif verdict in FOUND:
                found[hit.brand] = hit
                if len(found) == len(self._brands):
                    break
            elif verdict is Verdict.WANTS_CONTEXT:
                waiting.append(hit)
        if waiting:
            self._add_listed(analysed, checks, seen, waiting, found)
            undecided += [hit for hit in waiting if hit.brand in self._sense]
        decided: dict[int, float] = {}
        if self._sense:
            self.last_decisions = []
        for hit in sorted(undecided, key=lambda hit: hit.start):
            if hit.brand in found:
                continue
            features = hit_features(analysed, hit.token, hit.end, checks.has_context(hit))
            sense = self._sense[hit.brand]
            probability = sense.probability(features)
            self.model_decisions += 1
            self.last_decisions.append(
                (self._brands[hit.brand].config.name, hit.start, probability, features)
            )
            if probability >= sense.threshold:
                self.model_mentions += 1
                found[hit.brand], decided[hit.brand] = hit, probability
        matches = []
        for hit in found.values():
            config = self._brands[hit.brand].config
            span = text[hit.start : hit.end]
            by_model = hit.brand in decided
            matches.append(
                Match(
                    config.name, hit.start, hit.end, span, config.competitor,
                    "model" if by_model else "rules", decided.get(hit.brand),
                )
            )  # fmt: skip
        return sorted(matches, key=lambda match: (match.start, match.brand))

    def sense_examples(self, text: str) -> list[SenseExample]:
        """What the rules say for sure about this text's ordinary-word hits, as examples for the
        learned decision: a name written as a name is the company, an exclusion's hit is not, and a
        bare lower-case hit with no context (not listed with another brand) is taken as not."""
        analysed = AnalysedText.analyse(text)
        checks = HitChecks(analysed, self._brands, self._terms)
        examples: list[SenseExample] = []
        for hit in self._hits(analysed):
            rules = self._brands[hit.brand]
            if not hit.ordinary_word or rules.context is None:
                continue
            if _whole_tag(analysed, hit):
                continue  # a bare hashtag's neighbours are other hashtags: no example
            verdict = checks.verdict(hit)
            if verdict is Verdict.NAMED and not hit.in_tag:
                is_brand, why = True, "named"  # a hashtag's neighbours are other hashtags: no example
            elif verdict is Verdict.EXCLUDED:
                is_brand, why = False, "excluded"
            elif verdict is Verdict.WANTS_CONTEXT:
                is_brand, why = False, "no_context"
            else:
                continue
            features = hit_features(analysed, hit.token, hit.end, checks.has_context(hit))
            examples.append(SenseExample(rules.config.name, features, is_brand, why))
        return examples

    def hit_features_at(self, text: str, start: int, end: int, brand: str) -> list[str] | None:
        """The learned decision's features of the brand's hit at [start, end), if it is an
        ordinary-word hit (staff feedback on a stored mention becomes an example this way)."""
        analysed = AnalysedText.analyse(text)
        checks = HitChecks(analysed, self._brands, self._terms)
        for hit in self._hits(analysed):
            rules = self._brands[hit.brand]
            if hit.start == start and rules.config.name == brand and hit.ordinary_word and rules.context:
                return hit_features(analysed, hit.token, hit.end, checks.has_context(hit))
        return None

    @staticmethod
    def _add_listed(
        text: AnalysedText, checks: HitChecks, seen: list[Hit], waiting: list[Hit], found: dict[int, Hit]
    ) -> None:
        """Ordinary-word hits short of context that are listed with a sure hit of another brand
        (monitor/brand_lists.py); a brand's earliest such hit wins over a later sure one."""
        # A list names things: «Окей, в Магнит зайду» starts with a particle, not a chain.
        waiting = [hit for hit in waiting if can_be_noun(text.folded[hit.token])]
        if not waiting:
            return

        def sure(hit: Hit) -> bool:
            return checks.verdict(hit) in FOUND

        for hit in vouched_for(text.text, seen, waiting, lambda hit: hit.brand, sure):
            if hit.brand not in found or hit.start < found[hit.brand].start:
                found[hit.brand] = hit

    def _hits(self, text: AnalysedText) -> Iterator[Hit]:
        """Candidate mentions in text order, before exclusions, context and query.

        A hyphen compound holds the brand (Тинькофф-то, Магнит-Косметик, мтс-овский) unless an
        exclusion says otherwise (МТС-банк): which compounds are another company is the user's call.
        """
        terms_at, handle_starts, typos = self._terms.at, self._handles.starts, self._typos
        second_look, shortest_slip = self._second_look, typos.shortest
        for i, folded in enumerate(text.folded):
            if text.is_tag[i]:
                tag_hits = list(self._tag_hits(text, i))
                yield from tag_hits
                if folded[:2] in handle_starts:
                    # #магнит is the word, read as one (_tag_hits), not a handle that is a name.
                    words = {hit.brand for hit in tag_hits if hit.ordinary_word and _whole_tag(text, hit)}
                    for hit in self._handle_hits(text, i):
                        if hit.brand not in words or hit.end != text.ends[i]:
                            yield hit
                continue
            candidates = terms_at(text, i)
            for (brand, ordinary), last in candidates:
                yield Hit(brand, text.starts[i], text.ends[last], i, ordinary, False)
            if candidates:
                continue
            # No form of a term: maybe a Latin handle or site name, or a slip of a long name. Both
            # begin with a name's first letters, which most words do not.
            ascii_word = folded.isascii()
            if (ascii_word or len(folded) >= shortest_slip) and folded[:2] in second_look:
                if ascii_word and folded[:2] in handle_starts:
                    yield from self._handle_hits(text, i)
                for brand, ordinary in typos.find(folded):
                    yield Hit(brand, text.starts[i], text.ends[i], i, ordinary, False)

    def _tag_hits(self, text: AnalysedText, i: int) -> Iterator[Hit]:
        """A term's form inside a hashtag or handle (monitor/hashtags.py)."""
        body, folded, offset = text.text[text.starts[i] : text.ends[i]], text.folded[i], text.starts[i]
        handle = folded.replace("_", "")
        hashtag = text.text[offset - 1] == "#"
        for hit in self._tags.find(body, folded):
            # Glued after other words (#обожаюозон), or the whole hashtag (#магнит under a fridge
            # photo, #мир #любовь), an ordinary word is read as in plain text; an @handle is a name.
            bare = hashtag and hit.ordinary and hit.start == 0 and hit.end == len(body)
            as_word = hit.glued or bare
            ordinary = hit.ordinary and as_word
            yield Hit(hit.brand, offset + hit.start, offset + hit.end, i, ordinary, not as_word, handle)

    def _handle_hits(self, text: AnalysedText, i: int) -> Iterator[Hit]:
        """A whole handle or site name that is a brand's name, parts and suffixes aside: @dodo_pizza,
        dodopizzaru, tinkoff-bank, ozon.ru. The longest run of parts that is a name wins."""
        runs = list(_handle_runs(text, i))
        whole = runs[-1][1]
        for last, handle in reversed(runs):
            brands, suffixed = self._handles.find(handle)
            # A lone Latin word that is a name (tinkoff) stands as a word; anything with a tag
            # mark, parts or a suffix is written as a handle and read as a name.
            written_as_handle = text.is_tag[i] or last > i or suffixed
            for brand in brands:
                yield Hit(brand, text.starts[i], text.ends[last], i, False, written_as_handle, whole)
            if brands:
                return


@dataclass
class _TermIndexes:
    """Every way a brand's terms are looked for, filled term by term (keys: brand index, ordinary)."""

    phrases: list[tuple[tuple[int, bool], tuple[WordForms, ...]]] = field(default_factory=list)
    tags: TagIndex = field(default_factory=TagIndex)
    handles: HandleIndex[int] = field(default_factory=HandleIndex)
    slip_names: list[tuple[tuple[int, bool], str, frozenset[str]]] = field(default_factory=list)

    def add(self, index: int, brand: BrandConfig, term: str) -> None:
        words = compile_phrase(term, strict=True)
        if not words:
            raise ConfigError(f"brand {brand.name!r}: term {term!r} has no letters or digits")
        # A made-up alias (Мирпэй, magnit) is the brand wherever it stands; only a term the
        # dictionary knows can be the ordinary word that `context` tells apart. A term written as
        # one word (О'КЕЙ is «о'кей», okay) is judged whole.
        ordinary = (len(words) == 1 or _ONE_WORD.match(term) is not None) and is_dictionary_word(term)
        self.phrases.append(((index, ordinary), words))
        folded = fold(term)
        latin = folded.isascii()
        in_tags = joined_forms(words, folded)
        for form in in_tags:
            self.tags.add(form, TagForm(index, latin, ordinary))
        self.handles.add(index, term)
        if not latin:
            # tinkoff in #tinkoff_отзывы for a brand configured as Тинькофф only.
            for spelling in handle_spellings(term) - in_tags:
                self.tags.add(spelling, TagForm(index, False, False))
        if len(words) == 1 and _ONE_WORD.match(term):
            word = WORD.findall(folded)[0]
            self.slip_names.append(((index, ordinary), word, words[0].forms))
            if not latin:
                # тиньковская, озоновский, мтсовский: none is a dictionary word, so none needs context.
                derived = derived_forms(word, is_abbreviation(term))
                self.phrases.append(((index, False), (WordForms(derived, frozenset()),)))


def _whole_tag(text: AnalysedText, hit: Hit) -> bool:
    return text.is_tag[hit.token] and (hit.start, hit.end) == (text.starts[hit.token], text.ends[hit.token])


def _handle_runs(text: AnalysedText, i: int) -> Iterator[tuple[int, str]]:
    """(last token, the parts so far as one folded word) for the handle or site name starting at
    token i: its parts glued by _ - or . with no space (dodo_pizza, dodo.pizza, tinkoff-bank)."""
    last, handle = i, text.folded[i].replace("_", "")
    yield last, handle
    while (
        last + 1 < len(text.folded)
        and last - i + 1 < _LONGEST_HANDLE
        and not text.is_tag[last + 1]
        and text.between(last, last + 1) in _HANDLE_SEPARATORS
    ):
        last += 1
        handle += text.folded[last]
        yield last, handle
