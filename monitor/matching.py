"""Find configured brands in a text: any inflected form, inside #hashtags and @handles, minus
exclusions, and ordinary-word brands (Магнит, Лента) only with context. Pure: text in, matches out.

The word forms are compiled once in BrandMatcher.from_config (monitor/morphology.py); this module
holds the rules for which of the phrases found count as a mention.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from monitor.config import BrandConfig
from monitor.errors import ConfigError
from monitor.morphology import (
    LONGEST_LEMMATIZED,
    AnalysedText,
    PhraseIndex,
    WordForms,
    compile_phrase,
    fold,
    is_dictionary_word,
    known_words,
)
from monitor.query import WORD, Node, evaluate, parse_query, terms

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
_HASHTAG_SCAN = 100


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
    context: PhraseIndex[int] | None
    query: TextQuery | None


@dataclass(frozen=True)
class _Hit:
    brand: int
    start: int
    end: int
    token: int
    # One word that is also an ordinary word of the dictionary (магнит, лента): `context` applies.
    ordinary_word: bool
    in_tag: bool


class BrandMatcher:
    """All brands compiled once; find(text) gives each brand's first valid mention."""

    def __init__(
        self,
        brands: list[_Brand],
        terms_index: PhraseIndex[tuple[int, bool]],
        tag_forms: dict[str, list[tuple[int, bool]]],
    ):
        self._brands = brands
        self._terms = terms_index
        self._tag_forms = tag_forms
        self._tag_lengths = sorted({len(form) for form in tag_forms}, reverse=True)

    @classmethod
    def from_config(cls, brands: list[BrandConfig]) -> BrandMatcher:
        compiled: list[_Brand] = []
        term_phrases: list[tuple[tuple[int, bool], tuple[WordForms, ...]]] = []
        tag_forms: dict[str, list[tuple[int, bool]]] = {}
        for index, brand in enumerate(brands):
            for term in brand.terms:
                words = compile_phrase(term, strict=True)
                if not words:
                    raise ConfigError(f"brand {brand.name!r}: term {term!r} has no letters or digits")
                # A made-up alias (Мирпэй, magnit) is the brand wherever it stands; only a term
                # the dictionary knows can be the ordinary word that `context` tells apart.
                # A term written as one word (О'КЕЙ is «о'кей», okay) is judged whole.
                ordinary = (len(words) == 1 or _ONE_WORD.match(term) is not None) and is_dictionary_word(term)
                term_phrases.append(((index, ordinary), words))
                latin = fold(term).isascii()
                for form in _joined_forms(words, fold(term)):
                    entries = tag_forms.setdefault(form, [])
                    if (index, latin) not in entries:
                        entries.append((index, latin))
            compiled.append(
                _Brand(
                    config=brand,
                    exclusions=_phrase_index(brand, "exclude", brand.exclude),
                    context=_phrase_index(brand, "context", brand.context),
                    query=TextQuery(brand.query) if brand.query else None,
                )
            )
        return cls(compiled, PhraseIndex(term_phrases), tag_forms)

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
        """Candidate mentions in text order, before exclusions, context and query."""
        for i in range(len(text.folded)):
            if text.is_tag[i]:
                yield from self._tag_hits(text, i)
                continue
            candidates = self._terms.at(text, i)
            # A term never starts or ends inside a hyphen compound: МТС-банк is not МТС.
            if candidates and not text.hyphenated(i - 1, i):
                for (brand, ordinary), last in candidates:
                    if not text.hyphenated(last, last + 1):
                        yield _Hit(brand, text.starts[i], text.ends[last], i, ordinary, False)

    def _tag_hits(self, text: AnalysedText, i: int) -> Iterator[_Hit]:
        """A term's form at the start of a hashtag or handle, or of one of its camelCase parts."""
        body, folded, offset = text.text[text.starts[i] : text.ends[i]], text.folded[i], text.starts[i]
        if len(body) != len(folded):  # folding changed the length: only whole-body matches
            for brand, _ in self._tag_forms.get(folded, ()):
                yield _Hit(brand, offset, text.ends[i], i, True, True)
            return
        for start in _segment_starts(body):
            for length in self._tag_lengths:
                end = start + length
                entries = self._tag_forms.get(folded[start:end]) if end <= len(folded) else None
                for brand, latin in entries or ():
                    if _ends_word_in_tag(body, folded, end, latin, length):
                        yield _Hit(brand, offset + start, offset + end, i, True, True)


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


def _joined_forms(words: tuple[WordForms, ...], folded_term: str) -> set[str]:
    """How a term looks in a hashtag: #сбербанка, #почтароссии, #альфабанк, @brand_official."""
    as_written = {re.sub(r"[\s\-\u2010]+", "", folded_term)}
    if len(words) == 1:
        return as_written | words[0].forms
    written = WORD.findall(folded_term)
    head, tail = "".join(written[:-1]), "".join(written[1:])
    return as_written | {form + tail for form in words[0].forms} | {head + form for form in words[-1].forms}


def _segment_starts(body: str) -> Iterator[int]:
    """Where a word may begin inside a hashtag: its start, after _, at camelCase and digit changes."""
    yield 0
    for p in range(1, min(len(body), _HASHTAG_SCAN)):
        before, here = body[p - 1], body[p]
        after_underscore = before == "_" and here != "_"
        camel_case = before.islower() and here.isupper()
        digits_change = before.isdigit() != here.isdigit() and "_" not in (before, here)
        if after_underscore or camel_case or digits_change:
            yield p


def _ends_word_in_tag(body: str, folded: str, end: int, latin: bool, length: int) -> bool:
    """Does the term found in a hashtag end where a word ends, not inside one (#магнитнаябуря)?"""
    if end == len(body) or body[end] == "_" or body[end].isdigit():
        return True
    if body[end].isupper() and body[end - 1].islower():
        return True
    if latin:
        return length >= 4  # sberbank, tinkoffjournal; a short alias must stand alone
    rest_end = next((p for p in _segment_starts(body[end:]) if p > 0), len(body) - end)
    return known_words(folded[end : end + min(rest_end, LONGEST_LEMMATIZED)])


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
        if hit.start > 0 and text[hit.start - 1] in _OPENING_QUOTES:
            return True
        if _SITE_ADDRESS.match(text, hit.end):
            return True  # a site's address: лента.рф, perekrestok.ru
        word = text[hit.start : hit.end]
        if not word[:1].isupper():
            return False
        if _INNER_CAPITAL.search(word):
            return True  # a capital after a small letter (МегаФон, ВкусВилл): only names are written so
        if word.isupper() and len(word) > 1 and hit.token > 0:
            previous = text[self._text.starts[hit.token - 1] : self._text.ends[hit.token - 1]]
            if previous.isupper():
                return False  # SHOUTING TEXT: capitals say nothing
        i = hit.start - 1
        while i >= 0 and text[i] in " \t\u00a0":
            i -= 1
        return i >= 0 and (text[i].isalnum() or text[i] in _MID_SENTENCE)
