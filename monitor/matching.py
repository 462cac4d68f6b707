"""Find configured brands in a text: any inflected form, derived adjectives (озоновский), hyphen
compounds (Тинькофф-то), one-letter slips in long names (Тинькоф), inside #hashtags and @handles
(@tinkoff_bank, dodopizzaru), minus exclusions, and ordinary-word brands (Магнит, Лента) only with
context. Invisible characters inside a name are read through (monitor/invisible.py). Pure: text
in, matches out.

The word forms are compiled once in BrandMatcher.from_config (monitor/morphology.py and its
neighbours: derived_words, typos, hashtags, handles); this module holds the rules for which of the
phrases found count as a mention.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from monitor.config import BrandConfig
from monitor.derived_words import derived_forms
from monitor.errors import ConfigError
from monitor.handles import HandleIndex, handle_spellings, without_suffixes
from monitor.hashtags import TagForm, TagIndex, joined_forms
from monitor.invisible import visible_before, without_invisible
from monitor.morphology import (
    AnalysedText,
    PhraseIndex,
    WordForms,
    compile_phrase,
    fold,
    is_abbreviation,
    is_dictionary_word,
)
from monitor.query import WORD, Node, evaluate, parse_query, terms
from monitor.typos import TypoIndex

_OPENING_QUOTES = set("«\"“„'‘‹")
# A capitalised word right after these is mid-sentence; after anything else (. ! ? emoji, a line
# break, the start of the text) its capital letter says nothing about it being a name.
_MID_SENTENCE = set(",;:-–—(")
# A brand followed by a top-level domain reads as a site's address, not as the end of a sentence
# written without a space («магнит.Завтра»).
_SITE_ADDRESS = re.compile(
    r"\.(?:ru|su|com|net|org|info|online|shop|store|рф|by|kz|ua|uz)(?![^\W_])", re.IGNORECASE
)
_INNER_CAPITAL = re.compile(r"[a-zа-яё][A-ZА-ЯЁ]")
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


class TextQuery:
    """A compiled BrandConfig.query: which texts satisfy it, words matched in any inflected form."""

    def __init__(self, query: str):
        self.query = query
        self._tree: Node = parse_query(query)
        self._index = PhraseIndex(
            (term, compile_phrase(" ".join(term.words), False)) for term in terms(self._tree)
        )

    def matches(self, text: str) -> bool:
        return self.matches_analysed(AnalysedText.analyse(text))

    def matches_analysed(self, text: AnalysedText) -> bool:
        present = {term for term, _, _ in self._index.find(text)}
        return evaluate(self._tree, present.__contains__)


@dataclass(frozen=True)
class _Brand:
    config: BrandConfig
    exclusions: PhraseIndex[int] | None
    # The exclusions written as one word, as a handle or hashtag holds them (mtsbank, мтсбанк).
    excluded_handles: frozenset[str]
    context: PhraseIndex[int] | None
    query: TextQuery | None


class _Hit(NamedTuple):  # a tuple: made for every candidate, so made cheaply
    brand: int
    start: int
    end: int
    token: int
    # One word that is also an ordinary word of the dictionary (магнит, лента): `context` applies.
    ordinary_word: bool
    # Inside a hashtag or a handle, where a word starts: read as a name.
    in_tag: bool
    # The hashtag or handle the hit is in, as one folded word without separators.
    handle: str | None = None


class BrandMatcher:
    """All brands compiled once; find(text) gives each brand's first valid mention."""

    def __init__(
        self,
        brands: list[_Brand],
        terms_index: PhraseIndex[tuple[int, bool]],
        tags: TagIndex,
        handles: HandleIndex[int],
        typos: TypoIndex[tuple[int, bool]],
    ):
        self._brands = brands
        self._terms = terms_index
        self._tags = tags
        self._handles = handles
        self._typos = typos
        # The first two letters of words worth a second look as a handle or a slip of a name.
        self._second_look = {start for start in handles.starts if start.isascii()} | typos.starts

    @classmethod
    def from_config(cls, brands: list[BrandConfig]) -> BrandMatcher:
        compiled: list[_Brand] = []
        indexes = _TermIndexes()
        for index, brand in enumerate(brands):
            for term in brand.terms:
                indexes.add(index, brand, term)
            compiled.append(
                _Brand(
                    config=brand,
                    exclusions=_phrase_index(brand, "exclude", brand.exclude),
                    excluded_handles=frozenset(
                        spelling for phrase in brand.exclude for spelling in handle_spellings(phrase)
                    ),
                    context=_phrase_index(brand, "context", brand.context),
                    query=TextQuery(brand.query) if brand.query else None,
                )
            )
        return cls(
            compiled,
            PhraseIndex(indexes.phrases),
            indexes.tags,
            indexes.handles,
            TypoIndex(indexes.long_names),
        )

    def find(self, text: str) -> list[Match]:
        """Each brand's first valid mention in text, sorted by start offset."""
        analysed = AnalysedText.analyse(text)
        checks = _Checks(analysed, self._brands)
        found: dict[int, Match] = {}
        for hit in self._hits(analysed):
            if hit.brand in found or not checks.valid(hit):
                continue
            config = self._brands[hit.brand].config
            found[hit.brand] = Match(
                config.name, hit.start, hit.end, text[hit.start : hit.end], config.competitor
            )
            if len(found) == len(self._brands):
                break
        return sorted(found.values(), key=lambda match: (match.start, match.brand))

    def _hits(self, text: AnalysedText) -> Iterator[_Hit]:
        """Candidate mentions in text order, before exclusions, context and query.

        A hyphen compound holds the brand (Тинькофф-то, Магнит-Косметик, мтс-овский) unless an
        exclusion says otherwise (МТС-банк): which compounds are another company is the user's call.
        """
        terms_at, handle_starts, typos = self._terms.at, self._handles.starts, self._typos
        second_look, shortest_slip = self._second_look, typos.shortest
        for i, folded in enumerate(text.folded):
            if text.is_tag[i]:
                yield from self._tag_hits(text, i)
                if folded[:2] in handle_starts:
                    yield from self._handle_hits(text, i)
                continue
            candidates = terms_at(text, i)
            for (brand, ordinary), last in candidates:
                yield _Hit(brand, text.starts[i], text.ends[last], i, ordinary, False)
            if candidates:
                continue
            # No form of a term: maybe a Latin handle or site name, or a slip of a long name. Both
            # begin with a name's first letters, which most words do not.
            ascii_word = folded.isascii()
            if (ascii_word or len(folded) >= shortest_slip) and folded[:2] in second_look:
                if ascii_word and folded[:2] in handle_starts:
                    yield from self._handle_hits(text, i)
                for brand, ordinary in typos.find(folded):
                    yield _Hit(brand, text.starts[i], text.ends[i], i, ordinary, False)

    def _tag_hits(self, text: AnalysedText, i: int) -> Iterator[_Hit]:
        """A term's form inside a hashtag or handle (monitor/hashtags.py)."""
        body, folded, offset = text.text[text.starts[i] : text.ends[i]], text.folded[i], text.starts[i]
        handle = folded.replace("_", "")
        for hit in self._tags.find(body, folded):
            # Glued after other words (#обожаюозон), an ordinary word is read as in plain text.
            in_tag = not hit.glued
            ordinary = hit.ordinary and hit.glued
            yield _Hit(hit.brand, offset + hit.start, offset + hit.end, i, ordinary, in_tag, handle)

    def _handle_hits(self, text: AnalysedText, i: int) -> Iterator[_Hit]:
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
                yield _Hit(brand, text.starts[i], text.ends[last], i, False, written_as_handle, whole)
            if brands:
                return


@dataclass
class _TermIndexes:
    """Every way a brand's terms are looked for, filled term by term (keys: brand index, ordinary)."""

    phrases: list[tuple[tuple[int, bool], tuple[WordForms, ...]]] = field(default_factory=list)
    tags: TagIndex = field(default_factory=TagIndex)
    handles: HandleIndex[int] = field(default_factory=HandleIndex)
    long_names: list[tuple[tuple[int, bool], str, frozenset[str]]] = field(default_factory=list)

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
            self.long_names.append(((index, ordinary), word, words[0].forms))
            if not latin:
                # тиньковская, озоновский, мтсовский: none is a dictionary word, so none needs context.
                derived = derived_forms(word, is_abbreviation(term))
                self.phrases.append(((index, False), (WordForms(derived, frozenset()),)))


def _phrase_index(brand: BrandConfig, key: str, phrases: list[str]) -> PhraseIndex[int] | None:
    if not phrases:
        return None
    compiled = []
    for n, phrase in enumerate(phrases):
        words = compile_phrase(phrase, strict=False)
        if not words:
            raise ConfigError(f"brand {brand.name!r}: {key} {phrase!r} has no letters or digits")
        compiled.append((n, words))
    return PhraseIndex(compiled)


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


class _Checks:
    """Per-text verdicts on a brand's hits, each computed at most once and only when needed."""

    def __init__(self, text: AnalysedText, brands: list[_Brand]):
        self._text = text
        self._brands = brands
        self._query: dict[int, bool] = {}
        self._exclusions: dict[int, list[tuple[int, int, bool]]] = {}
        self._context: dict[int, bool] = {}

    def valid(self, hit: _Hit) -> bool:
        brand = self._brands[hit.brand]
        if brand.query is not None and not self._query_holds(hit.brand, brand.query):
            return False
        as_name = hit.in_tag or self._reads_as_name(hit)
        if (
            hit.handle is not None
            and brand.excluded_handles
            and not brand.excluded_handles.isdisjoint(without_suffixes(hit.handle))
        ):
            return False  # @mts_bank, #мтсбанк with «МТС-банк» excluded; #магнитнахолодильник
        if brand.exclusions is not None:
            for start, end, any_spelling in self._excluded(hit.brand, brand.exclusions):
                # A lowercase exclusion ("в мегафон") names the common noun, so it spares a hit
                # written as a name: "позвонила в Мегафон" is the operator.
                if start < hit.end and hit.start < end and (any_spelling or not as_name):
                    return False
        if brand.context is None or not hit.ordinary_word or as_name:
            return True
        return self._has_context(hit.brand, brand.context)

    def _query_holds(self, brand: int, query: TextQuery) -> bool:
        if brand not in self._query:
            self._query[brand] = query.matches_analysed(self._text)
        return self._query[brand]

    def _excluded(self, brand: int, index: PhraseIndex[int]) -> list[tuple[int, int, bool]]:
        """(start, end, applies to any spelling) of each exclusion phrase found in the text."""
        if brand not in self._exclusions:
            text, phrases = self._text, self._brands[brand].config.exclude
            self._exclusions[brand] = [
                (text.starts[i], text.ends[last], phrases[n] != phrases[n].lower())
                for n, i, last in index.find(text)
            ]
        return self._exclusions[brand]

    def _has_context(self, brand: int, index: PhraseIndex[int]) -> bool:
        if brand not in self._context:
            self._context[brand] = next(index.find(self._text), None) is not None
        return self._context[brand]

    def _reads_as_name(self, hit: _Hit) -> bool:
        """«Магнит», "Лента", Магнит mid-sentence or magnit.ru: a name, whatever the context."""
        text = self._text.text
        before = visible_before(text, hit.start)
        if before >= 0 and text[before] in _OPENING_QUOTES:
            return True
        if _SITE_ADDRESS.match(text, hit.end):
            return True  # a site's address: лента.рф, perekrestok.ru
        word = text[hit.start : hit.end]
        if not word.isprintable():
            word = without_invisible(word)  # Вкус\u200bМаркет has its capital inside
        if not word[:1].isupper():
            return False
        if _INNER_CAPITAL.search(word):
            return True  # a capital after a small letter (МегаФон, ВкусВилл): only names are written so
        if word.isupper() and len(word) > 1 and hit.token > 0:
            previous = text[self._text.starts[hit.token - 1] : self._text.ends[hit.token - 1]]
            if previous.isupper():
                return False  # SHOUTING TEXT: capitals say nothing
        i = visible_before(text, hit.start, spaces=True)
        return i >= 0 and (text[i].isalnum() or text[i] in _MID_SENTENCE)
