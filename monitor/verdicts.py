"""Which of a brand's hits in a text are mentions: its query, its exclusions (an abbreviation spelled
out as something else, or in a text about its other sense, is that throughout the text:
monitor/spelled_out.py, monitor/other_senses.py), and for ordinary-word names (Магнит, Лента) a
name's look or a context word, its own or its category's (monitor/categories.py), unless the name
is another thing's («Мир фантастики», кинотеатр «Перекрёсток»: monitor/quoted_names.py). Pure:
computed once per text and brand, only when a hit asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple

from monitor.categories import categories
from monitor.config import BrandConfig
from monitor.errors import ConfigError
from monitor.handles import handle_spellings, without_suffixes
from monitor.invisible import visible_before, without_invisible
from monitor.morphology import (
    ABBREVIATION_ENDINGS,
    AnalysedText,
    PhraseIndex,
    compile_phrase,
    fold,
    is_abbreviation,
)
from monitor.other_senses import abbreviation_senses, kind_index, other_senses
from monitor.query import WORD, Node, evaluate, parse_query, terms
from monitor.quoted_names import QUOTES, Title, title_around
from monitor.spelled_out import expansion_beside, phrase_spells_out

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
class BrandRules:
    config: BrandConfig
    # The brand's `exclude` and its category's, in that order: exclusions' keys index it.
    exclude: tuple[str, ...]
    exclusions: PhraseIndex[int] | None
    # The exclusions written as one word, as a handle or hashtag holds them (mtsbank, мтсбанк).
    excluded_handles: frozenset[str]
    # The brand's `context` and its category's words.
    context: PhraseIndex[int] | None
    query: TextQuery | None
    # Terms that are abbreviations (МТС) or short names with other senses built in (t2), folded; and
    # which exclusions spell one out (index -> abbreviation): «машинно-тракторная станция» anywhere
    # in a text makes МТС that there.
    # The most words in one exclusion phrase.
    longest_exclusion: int = 0
    abbreviations: frozenset[str] = frozenset()
    spelled_out: dict[int, str] = field(default_factory=dict)
    # Words of the abbreviations' other senses (monitor/other_senses.yaml and `other_senses`): the
    # sense each word belongs to, and which senses each abbreviation has.
    sense_words: PhraseIndex[int] | None = None
    sense_of_word: tuple[int, ...] = ()
    senses_of: dict[str, frozenset[int]] = field(default_factory=dict)
    # The terms as configured, folded: a quoted name in this form stands in apposition (кинотеатр
    # «Перекрёсток»), in another it owns the thing (канал «Пятёрочки»).
    names: frozenset[str] = frozenset()
    # Folded words that may stand beside the name in its quotes: legal forms, formats, its terms' words.
    additions: frozenset[str] = frozenset()
    # The kinds of thing (monitor/other_senses.yaml) that are the brand's own trade (кафе for food).
    own_kinds: frozenset[int] = frozenset()


class Verdict(Enum):
    MENTION = 1
    # The query does not hold.
    NOT_MENTION = 2
    # An ordinary-word hit that passed every rule but found no context word: still a mention when
    # listed with another brand («в сбербанке и почте»), or when the learned decision says so.
    WANTS_CONTEXT = 3
    # An ordinary-word hit written as a name («Магнит», mid-sentence Магнит, #магнит_у_дома): sure.
    NAMED = 4
    # An ordinary-word hit in lower case (or opening a sentence) with a context word in the text: a
    # mention by the rules, which the learned decision (monitor/brand_sense.py) may overrule.
    BY_CONTEXT = 5
    # An exclusion, another sense of an abbreviation or another thing's name covers it.
    EXCLUDED = 6


# What the rules alone count as a mention.
FOUND = frozenset((Verdict.MENTION, Verdict.NAMED, Verdict.BY_CONTEXT))


class Hit(NamedTuple):  # a tuple: made for every candidate, so made cheaply
    brand: int
    start: int
    end: int
    token: int
    # One word that is also an ordinary word of the dictionary (магнит, лента): `context` applies.
    ordinary_word: bool
    # Inside a hashtag or a handle, where a word starts: read as a name. Not a hashtag that is just
    # an ordinary word (#магнит), which reads as the word.
    in_tag: bool
    # The hashtag or handle the hit is in, as one folded word without separators.
    handle: str | None = None


def compile_rules(brand: BrandConfig) -> BrandRules:
    """The brand's exclusions, context and query, its category's words and phrases added."""
    category = categories()[brand.category] if brand.category else None
    exclude = (*brand.exclude, *(category.exclude if category else ()))
    context = [*brand.context, *(category.words if category else ())]
    known = other_senses()
    abbreviations = frozenset(
        fold(term) for term in brand.terms if is_abbreviation(term) or fold(term) in known.abbreviations
    )
    senses = abbreviation_senses(brand, abbreviations)
    words = [word for _, sense_words in senses for word in sense_words]
    own_context = {fold(word) for word in context}
    return BrandRules(
        config=brand,
        exclude=exclude,
        exclusions=_phrase_index(brand, "exclude", list(exclude)),
        longest_exclusion=max((len(compile_phrase(phrase, strict=False)) for phrase in exclude), default=0),
        excluded_handles=frozenset(spelling for phrase in exclude for spelling in handle_spellings(phrase)),
        context=_phrase_index(brand, "context", context),
        query=TextQuery(brand.query) if brand.query else None,
        abbreviations=abbreviations,
        spelled_out={
            n: abbreviation
            for n, phrase in enumerate(exclude)
            for abbreviation in abbreviations
            if phrase_spells_out(phrase, abbreviation)
        },
        sense_words=_phrase_index(brand, "other_senses", words),
        sense_of_word=tuple(n for n, (_, sense_words) in enumerate(senses) for _ in sense_words),
        senses_of={
            abbreviation: frozenset(n for n, (of, _) in enumerate(senses) if of in (abbreviation, None))
            for abbreviation in abbreviations
        },
        names=frozenset(fold(term) for term in brand.terms),
        additions=known.additions | {fold(word) for term in brand.terms for word in WORD.findall(term)},
        own_kinds=frozenset(n for n, kind in enumerate(known.kinds) if fold(kind) in own_context),
    )


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


def abbreviation_in(folded: str, abbreviations: frozenset[str]) -> str | None:
    """The abbreviation a token is a form of: мтс, мтсу, мтсом (hyphenated endings come joined)."""
    for abbreviation in abbreviations:
        ending = folded[len(abbreviation) :]
        if folded.startswith(abbreviation) and (not ending or ending in ABBREVIATION_ENDINGS):
            return abbreviation
    return None


class HitChecks:
    """Per-text verdicts on a brand's hits, each computed at most once and only when needed."""

    def __init__(
        self, text: AnalysedText, brands: list[BrandRules], terms_index: PhraseIndex[tuple[int, bool]]
    ):
        self._text = text
        self._brands = brands
        self._terms = terms_index
        self._query: dict[int, bool] = {}
        self._exclusions: dict[int, list[tuple[int, int, int]]] = {}
        self._context: dict[int, bool] = {}
        self._other_sense: dict[tuple[int, str], bool] = {}
        self._has_quotes: bool | None = None

    def verdict(self, hit: Hit) -> Verdict:
        brand = self._brands[hit.brand]
        if brand.query is not None and not self._query_holds(hit.brand, brand.query):
            return Verdict.NOT_MENTION
        as_name = hit.in_tag or self._reads_as_name(hit)
        if (
            hit.handle is not None
            and brand.excluded_handles
            and not brand.excluded_handles.isdisjoint(without_suffixes(hit.handle))
        ):
            return Verdict.EXCLUDED  # @mts_bank, #мтсбанк with «МТС-банк» excluded; #магнитнахолодильник
        if brand.exclusions is not None and self._excluded_over(hit, brand, brand.exclusions, as_name):
            return Verdict.EXCLUDED
        if brand.abbreviations and self._other_sense_of(hit, brand):
            return Verdict.EXCLUDED
        if brand.context is None or not hit.ordinary_word:
            return Verdict.MENTION
        if self._names_another_thing(hit, brand):
            return Verdict.EXCLUDED
        if as_name:
            return Verdict.NAMED
        if self._has_context(hit.brand, brand.context):
            return Verdict.BY_CONTEXT
        return Verdict.WANTS_CONTEXT

    def has_context(self, hit: Hit) -> bool:
        """Is one of the brand's context words (its own or its category's) in the text?"""
        context = self._brands[hit.brand].context
        return context is not None and self._has_context(hit.brand, context)

    def _query_holds(self, brand: int, query: TextQuery) -> bool:
        if brand not in self._query:
            self._query[brand] = query.matches_analysed(self._text)
        return self._query[brand]

    def _excluded_over(self, hit: Hit, brand: BrandRules, index: PhraseIndex[int], as_name: bool) -> bool:
        """Does an exclusion phrase cover the hit? Only phrases starting close enough before it can,
        so only those tokens are looked at."""
        text = self._text
        last = self._last_token(hit)
        for i in range(max(0, hit.token - brand.longest_exclusion + 1), last + 1):
            for n, end in index.at(text, i):
                # A lowercase exclusion ("в мегафон") names the common noun, so it spares a hit
                # written as a name: "позвонила в Мегафон" is the operator.
                phrase = brand.exclude[n]
                if text.ends[end] > hit.start and (not as_name or phrase != phrase.lower()):
                    return True
        return False

    def _last_token(self, hit: Hit) -> int:
        starts, last = self._text.starts, hit.token
        while last + 1 < len(starts) and starts[last + 1] < hit.end:
            last += 1
        return last

    def _excluded(self, brand: int, index: PhraseIndex[int]) -> list[tuple[int, int, int]]:
        """(start, end, which exclusion) of each exclusion phrase found in the text."""
        if brand not in self._exclusions:
            text = self._text
            found = index.find(text)
            self._exclusions[brand] = [(text.starts[i], text.ends[last], n) for n, i, last in found]
        return self._exclusions[brand]

    def _has_context(self, brand: int, index: PhraseIndex[int]) -> bool:
        if brand not in self._context:
            self._context[brand] = next(index.find(self._text), None) is not None
        return self._context[brand]

    def _other_sense_of(self, hit: Hit, brand: BrandRules) -> bool:
        """Is hit one of the brand's abbreviations that this text spells out as something else, or
        uses in another sense?"""
        abbreviation = abbreviation_in(self._text.folded[hit.token], brand.abbreviations)
        if abbreviation is None or hit.end != self._text.ends[hit.token]:
            return False
        key = (hit.brand, abbreviation)
        if key not in self._other_sense:
            self._other_sense[key] = self._spelled_out(
                hit.brand, brand, abbreviation
            ) or self._about_other_sense(brand, abbreviation)
        return self._other_sense[key]

    def _about_other_sense(self, brand: BrandRules, abbreviation: str) -> bool:
        """Does the text hold more words of one of the abbreviation's other senses than of the
        brand's trade? «директор МТС» among колхозы and тракторы is a machine-tractor station."""
        senses = brand.senses_of.get(abbreviation)
        if not senses or brand.sense_words is None:
            return False
        found = {n for n, _, _ in brand.sense_words.find(self._text)}
        if not found:
            return False
        most = max(sum(1 for n in found if brand.sense_of_word[n] == sense) for sense in senses)
        # Words of the trade count distinct, like the sense's: a tie is the brand's.
        trade = len({n for n, _, _ in brand.context.find(self._text)}) if brand.context is not None else 0
        return most > trade

    def _spelled_out(self, index: int, brand: BrandRules, abbreviation: str) -> bool:
        if brand.exclusions is not None and any(
            brand.spelled_out.get(n) == abbreviation for _, _, n in self._excluded(index, brand.exclusions)
        ):
            return True  # an exclusion that spells it out (машинно-тракторная станция), anywhere
        text = self._text
        if "(" not in text.text:
            return False
        for i, folded in enumerate(text.folded):
            if text.is_tag[i] or abbreviation_in(folded, brand.abbreviations) != abbreviation:
                continue
            expansion = expansion_beside(text, i, abbreviation)
            # «МТС (Мобильные Теле Системы)» spells out the brand itself when that is one of its terms.
            if expansion is not None and not any(
                key[0] == index and last == expansion[1] for key, last in self._terms.at(text, expansion[0])
            ):
                return True
        return False

    def _names_another_thing(self, hit: Hit, brand: BrandRules) -> bool:
        """Is an ordinary-word hit part of another thing's quoted name: a title longer than the
        brand's name («Мир фантастики», «Война и мир»), or the name after a kind of thing the brand
        is not (кинотеатр «Перекрёсток», телеканал «Мир»)?"""
        if self._has_quotes is None:
            self._has_quotes = not QUOTES.isdisjoint(self._text.text)
        if not self._has_quotes:
            return False
        text = self._text
        last = self._last_token(hit)
        title = title_around(text, hit.token, last)
        if title is None:
            return False
        first, end = title.first, title.last
        # «ООО Лента», «Перекрёсток Экспресс»: a legal form or a format leaves it the brand's name.
        while first < hit.token and text.folded[first] in brand.additions:
            first += 1
        while end > last and text.folded[end] in brand.additions:
            end -= 1
        if (first, end) != (hit.token, last) and not any(
            key[0] == hit.brand and term_end == end for key, term_end in self._terms.at(text, first)
        ):
            return True  # more than the name, and not another of the brand's terms (Магнит Косметик)
        # A name in another form owns the thing («в канале «Пятёрочки»»): the brand.
        return text.folded[hit.token] in brand.names and self._kind_before(title, brand)

    def _kind_before(self, title: Title, brand: BrandRules) -> bool:
        """Does a kind of thing the brand is not stand right before the title's quotes?"""
        text, kind = self._text, title.first - 1
        if kind < 0 or text.text[text.ends[kind] : title.opening].strip():
            return False
        kinds = kind_index()
        return any(
            n not in brand.own_kinds and last == kind
            for start in range(max(0, kind - 2), kind + 1)
            for n, last in kinds.at(text, start)
        )

    def _reads_as_name(self, hit: Hit) -> bool:
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
