"""Russian words for brand matching: folding, tokenising a text, the word forms of a term (pymorphy3
lexemes, guessed declensions) and an index that finds phrases in any of their forms.

Everything morphological happens once, when a phrase is compiled: each word becomes the set of its
folded surface forms, so matching a token is a set lookup; lemmatizing a token is only a cached
fallback for words the dictionary does not know (МТСу, Тинькова).

Invisible characters (monitor/invisible.py) inside a word are part of its token and dropped from its
folded form, so offsets always point into the text as given.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

import pymorphy3

from monitor.invisible import INVISIBLE, without_invisible
from monitor.query import WORD

# A #hashtag or @handle (not the @ of an e-mail), or a word of letters and digits...
_TOKEN = re.compile(r"(?<![\w@#])[#@][\w\u0300-\u036f]+|(?:[^\W_]|[\u0300-\u036f])+")
# ...which may hold invisible characters between its letters (Вкус\u200bМаркет). Only a text with
# characters str.isprintable() rejects (line breaks, zero-width and bidi marks) needs this slower
# pattern; stress marks are printable, but the simple pattern keeps them in words all the same.
_TOKEN_THROUGH_INVISIBLE = re.compile(
    rf"(?<![\w@#])[#@][\w\u0300-\u036f]+(?:[{INVISIBLE}]+[\w\u0300-\u036f]+)*"
    rf"|(?:[^\W_]|[\u0300-\u036f])+(?:[{INVISIBLE}]+(?:[^\W_]|[\u0300-\u036f])+)*"
)
_COMBINING = re.compile(r"[\u0300-\u036f]")
_CYRILLIC = re.compile(r"[а-я]")
_LATIN = re.compile(r"[a-z]")
# In a word that mixes scripts, Latin look-alikes stand for Cyrillic letters (Cбepбaнк).
_LOOKALIKES = str.maketrans("aceopxykmthb", "асеорхукмтнв")
# A hyphen, a non-breaking hyphen, a figure or en dash between two words with no space: a compound.
_HYPHENS = ("-", "\u2010", "\u2011", "\u2012", "\u2013")
# Words of a phrase may be separated by these only; a comma or a full stop breaks the phrase.
_JOINERS = " \t\r\n\u00a0\u2009\u202f-\u2010\u2011\u2012\u2013"
# ...unless the name itself has punctuation there («Вкусно — и точка»): then any dash, a comma or a
# colon will do, or nothing at all.
_PUNCTUATION_IN_NAMES = _JOINERS + "\u2014\u2015,:"
# ...or glued by one of these, with no space: names and addresses written as one word (О'КЕЙ,
# 5ka.ru, Lenta.ru), which the tokenizer cuts in two.
_GLUES = frozenset(("'", "\u2019", "\u02bc", "`", "."))
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "`": "'"})
# Case endings written after an abbreviation, with or without a hyphen: МТСу, МТС-ом.
ABBREVIATION_ENDINGS = frozenset(("а", "у", "ом", "е", "ы", "ов", "ам", "ами", "ах"))
LONGEST_LEMMATIZED = 40

K = TypeVar("K")


def fold(word: str) -> str:
    """Lowercase, ё -> е, composed letters, no invisible characters or stress marks, Latin
    look-alikes in Cyrillic words -> Cyrillic."""
    return _fold_cached(word) if len(word) <= LONGEST_LEMMATIZED else _fold(word)


@functools.lru_cache(maxsize=100_000)
def _fold_cached(word: str) -> str:
    return _fold(word)


def _fold(word: str) -> str:
    folded = word.lower()
    if not folded.isascii():
        if not folded.isprintable():  # zero-width and bidi characters
            folded = without_invisible(folded)
        if _COMBINING.search(folded):  # stress marks go, е with a diaeresis becomes ё
            folded = unicodedata.normalize("NFC", without_invisible(folded))
        folded = folded.replace("ё", "е")
        if _LATIN.search(folded) and _CYRILLIC.search(folded):
            folded = folded.translate(_LOOKALIKES)
    return folded


@functools.cache
def _morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()


def _lemmatizable(folded: str) -> bool:
    return not folded.isascii() and len(folded) <= LONGEST_LEMMATIZED


@functools.lru_cache(maxsize=100_000)
def _lemmas(folded: str) -> frozenset[str]:
    return frozenset(fold(parse.normal_form) for parse in _morph().parse(folded))


@dataclass(frozen=True)
class AnalysedText:
    """A text cut into tokens; a hashtag's or handle's token is its body, without # or @."""

    text: str
    starts: list[int]
    ends: list[int]
    folded: list[str]
    is_tag: list[bool]

    @classmethod
    def analyse(cls, text: str) -> AnalysedText:
        starts: list[int] = []
        ends: list[int] = []
        folded: list[str] = []
        is_tag: list[bool] = []
        tokens = _TOKEN if text.isprintable() else _TOKEN_THROUGH_INVISIBLE
        for found in tokens.finditer(text):
            start, end = found.span()
            tag = text[start] in "#@"
            start += tag
            word = fold(text[start:end])
            if (
                word in ABBREVIATION_ENDINGS
                and not tag
                and starts
                and not is_tag[-1]
                and without_invisible(text[ends[-1] : start]) in _HYPHENS
                and is_abbreviation(text[starts[-1] : ends[-1]])
            ):
                ends[-1] = end  # МТС-ом is one word
                folded[-1] += word
                continue
            starts.append(start)
            ends.append(end)
            folded.append(word)
            is_tag.append(tag)
        return cls(text, starts, ends, folded, is_tag)

    def between(self, left: int, right: int) -> str:
        """What stands between tokens left and right, invisible characters left out."""
        between = self.text[self.ends[left] : self.starts[right]]
        return between if between.isascii() else without_invisible(between)

    def joined(self, left: int, right: int, glued: bool = True, punctuated: bool = False) -> bool:
        """Tokens left and right may be words of one phrase: only spaces or hyphens between, or
        (`glued`) one glue character, as inside a name or an address, or (`punctuated`) the dashes,
        commas and colons a name with punctuation inside is written with."""
        between = self.between(left, right)
        if punctuated and not between.strip(_PUNCTUATION_IN_NAMES):
            return True
        return not between.strip(_JOINERS) or (glued and between in _GLUES)


def is_abbreviation(word: str) -> bool:
    return 2 <= len(word) <= 5 and word.isupper() and bool(_CYRILLIC.search(word.lower()))


@dataclass(frozen=True)
class WordForms:
    """One word of a term or phrase: its folded surface forms, and lemmas for unknown words."""

    forms: frozenset[str]
    lemmas: frozenset[str]
    # The phrase has punctuation before this word («Вкусно — и точка»): texts may write any.
    after_punctuation: bool = False

    def matches(self, folded: str) -> bool:
        return folded in self.forms or (_lemmatizable(folded) and not self.lemmas.isdisjoint(_lemmas(folded)))


@functools.lru_cache(maxsize=8192)
def _compile_word(word: str, strict: bool) -> WordForms:
    """strict (brand terms): the word as a dictionary form, else a guessed noun declension.
    Not strict (query, context, exclusions): the lemmas of whatever form the user wrote."""
    folded = fold(word)
    if len(folded) < 2 or not _CYRILLIC.search(folded):
        return WordForms(frozenset({folded}), frozenset({folded}))
    parses = [parse for parse in _morph().parse(folded) if parse.tag.POS]
    chosen = [parse for parse in parses if fold(parse.normal_form) == folded]
    chosen = chosen or [parse for parse in parses if parse.is_known] or ([] if strict else parses)
    forms = {folded}
    for parse in chosen:
        lexeme = {fold(form.word) for form in parse.lexeme}
        if strict and not parse.is_known:
            # A guessed paradigm may drop a "fleeting vowel" (Сбер -> сбра): brand names keep their stem.
            lexeme = {form for form in lexeme if form.startswith(folded[:-1])}
        forms |= lexeme
    lemmas = {folded} | {fold(parse.normal_form) for parse in chosen}
    if not chosen:
        forms |= _guess_noun_forms(folded)
    if is_abbreviation(word):
        forms |= {folded + ending for ending in ABBREVIATION_ENDINGS}
    return WordForms(frozenset(forms), frozenset(lemmas))


def is_dictionary_word(word: str) -> bool:
    """A Russian word the dictionary knows (магнит, окей), not a made-up name (Мирпэй), Latin, or a
    word it knows only as a company's name (Билайн, Ашан, МТС: nothing else to tell it from)."""
    # The dictionary spells «о'кей» with a plain apostrophe; texts and configs use any of them.
    folded = fold(word).translate(_APOSTROPHES)
    return bool(_CYRILLIC.search(folded)) and any(
        parse.is_known and "Orgn" not in parse.tag for parse in _morph().parse(folded)
    )


@functools.lru_cache(maxsize=10_000)
def can_be_noun(folded: str) -> bool:
    """Has the word a noun reading (ленте, почте), unlike «окей», a particle, or «самокатный»?"""
    return any(parse.tag.POS == "NOUN" for parse in _morph().parse(folded))


# Parts of speech that make quoted words a sentence rather than a name: verbs, infinitives,
# gerunds, short participles.
_VERB_PARTS = frozenset(("VERB", "INFN", "GRND", "PRTS"))


@functools.lru_cache(maxsize=10_000)
def is_verb_form(folded: str) -> bool:
    """Is the word's likeliest reading a form of a verb (закрыли, купить, закрыт)?"""
    return _lemmatizable(folded) and _morph().parse(folded)[0].tag.POS in _VERB_PARTS


@functools.lru_cache(maxsize=100_000)
def word_is_known(folded: str) -> bool:
    """A form the dictionary lists as written, not one it guesses: магнитный, перекрестах."""
    return bool(_CYRILLIC.search(folded)) and bool(_morph().word_is_known(folded))


def _guess_noun_forms(folded: str) -> set[str]:
    """Case forms of a word pymorphy3 cannot place (surnames like Тиньков): common noun endings."""
    stem, last = folded[:-1], folded[-1]
    if last == "а":
        return {stem + e for e in ("ы", "и", "е", "у", "ой", "ою", "ам", "ами", "ах")}
    if last == "я":
        return {stem + e for e in ("и", "е", "ю", "ей", "ям", "ями", "ях")}
    if last in "ьй":
        return {stem + e for e in ("я", "ю", "ем", "е", "и", "ей", "ев")}
    if last in "бвгджзклмнпрстфхцчшщ":
        return {folded + e for e in ("а", "у", "ом", "ым", "е", "ы", "ов", "ам", "ами", "ах")}
    return set()  # ends in о/е/и/у: indeclinable


def compile_phrase(phrase: str, strict: bool) -> tuple[WordForms, ...]:
    words: list[WordForms] = []
    previous_end: int | None = None
    for found in WORD.finditer(phrase):
        forms = _compile_word(found.group(), strict)
        if previous_end is not None and _is_punctuation(phrase[previous_end : found.start()]):
            forms = dataclasses.replace(forms, after_punctuation=True)
        words.append(forms)
        previous_end = found.end()
    return tuple(words)


def _is_punctuation(between: str) -> bool:
    """Dashes, commas or colons between two words of a name (not a glue: О'КЕЙ, 5ka.ru)."""
    return bool(between.strip(_JOINERS)) and not between.strip(_PUNCTUATION_IN_NAMES)


class PhraseIndex(Generic[K]):
    """Phrases looked up by the surface form of their first word; longer phrases first."""

    def __init__(self, phrases: Iterable[tuple[K, tuple[WordForms, ...]]]):
        self._by_form: dict[str, list[tuple[K, tuple[WordForms, ...]]]] = {}
        self._by_lemma: dict[str, list[tuple[K, tuple[WordForms, ...]]]] = {}
        # Only tokens sharing a 3-letter prefix with a lemma are worth lemmatizing.
        self._prefixes: set[str] = set()
        for key, words in sorted(phrases, key=lambda entry: -len(entry[1])):
            for form in words[0].forms:
                self._by_form.setdefault(form, []).append((key, words))
            for lemma in words[0].lemmas:
                self._by_lemma.setdefault(lemma, []).append((key, words))
                self._prefixes.add(lemma[:3])

    def at(self, text: AnalysedText, i: int) -> list[tuple[K, int]]:
        """(key, index of the last token) for each phrase starting at token i."""
        folded = text.folded[i]
        entries = self._by_form.get(folded)
        if entries is None:
            if folded[:3] not in self._prefixes or not _lemmatizable(folded):
                return []
            entries = [entry for lemma in _lemmas(folded) for entry in self._by_lemma.get(lemma, ())]
        return [(key, i + len(words) - 1) for key, words in entries if _continues(text, i, words)]

    def find(self, text: AnalysedText) -> Iterator[tuple[K, int, int]]:
        for i in range(len(text.folded)):
            for key, last in self.at(text, i):
                yield key, i, last


def _continues(text: AnalysedText, i: int, words: tuple[WordForms, ...]) -> bool:
    """Do the tokens after i hold the rest of the phrase, one word after another?"""
    if i + len(words) > len(text.folded):
        return False
    return all(
        not text.is_tag[i + k]
        and text.joined(i + k - 1, i + k, punctuated=words[k].after_punctuation)
        and words[k].matches(text.folded[i + k])
        for k in range(1, len(words))
    )


# Short words a hashtag may continue with. Other dictionary words must have 4+ letters: pymorphy3
# knows "о", "ера", "пия", which would read #озонотерапия as Озон + о + тера + пия.
_SHORT_WORDS = frozenset(
    "во на не по за из от до со ко об да нет для без про под над при топ наш мой все тут там как где".split()
)


@functools.lru_cache(maxsize=20_000)
def known_words(rest: str) -> bool:
    """Is rest a run of dictionary words (онлайн, банкнеотвечает) rather than a word's tail?"""
    morph = _morph()
    ok = [True] + [False] * len(rest)
    for end in range(1, len(rest) + 1):
        ok[end] = any(
            ok[start]
            and (rest[start:end] in _SHORT_WORDS or end - start >= 4 and morph.word_is_known(rest[start:end]))
            for start in range(end)
        )
    return ok[len(rest)] and _CYRILLIC.search(rest) is not None


@functools.lru_cache(maxsize=100_000)
def normal_form(folded: str) -> str:
    """The dictionary form of a folded word by its most probable parse (обсчитали -> обсчитать);
    words that are not Russian, or too long to be words, come back as they are."""
    if not _lemmatizable(folded):
        return folded
    return fold(_morph().parse(folded)[0].normal_form)
