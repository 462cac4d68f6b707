"""What negative mentions talk about: words and two-word phrases of Russian texts, lemmatized, with
stop words, words that fit any complaint, numbers, links, @handles and the brand names (in any
form, and the words made from them) left out, counted once per text.

Pure: texts in, counts out. The trends page and the weekly report compare this week with the last.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from monitor.derived_words import derived_forms
from monitor.morphology import AnalysedText, compile_phrase, fold, is_abbreviation, normal_form

# Lemmas (ё folded to е) that say nothing about what went wrong.
STOP_WORDS = frozenset(
    """
    а без бы был быть в вам вас весь во вот все всего всегда вы где да даже для до его ее ей ему если
    есть еще же за зачем здесь и из или им их к как какой каждый кто ко когда который ли либо меж между
    мне мной мой мочь мы на над надо наш него нее нет ни никто ничто но ну о об обо он она они оно от
    очень опять перед по под после потом потому почему при про раз с сам свой себя сейчас снова со так
    также такой
    там твой те тем то тогда тоже только тот ты тут у уж уже хоть чем через что чтобы чей эта эти это
    этот я вообще просто вроде конечно ведь ага ого ой вон сюда туда день сегодня вчера завтра год
    http https www com ru
    """.split()
)
# Lemmas that fit any complaint about anything, so they never say what this one is about: fillers,
# say-and-think verbs, counting words, units of time and money, the headings review sites put in
# every review (otzovik: «Достоинства: … Недостатки: …») and the names of the kind of company
# itself («магазин» in texts about a shop).
GENERIC_WORDS = frozenset(
    """
    реально вполне совсем именно действительно кстати блин короче типа вообщем итак ладно пока
    вместо около почти сразу давно недавно иногда часто никогда ещё больше меньше много мало
    сильно слишком сколько столько какой-то что-то кто-то как-то почему-то где-то
    человек люди вещь дело случай момент ситуация вопрос проблема раз время
    быть стать мочь хотеть сказать говорить написать писать думать знать понимать видеть
    смотреть делать сделать идти пойти зайти прийти ходить получаться получиться являться работать
    дать получить нравиться понравиться
    хороший плохой нормальный новый старый последний
    один два три четыре пять шесть семь восемь девять десять двадцать тридцать сорок пятьдесят
    сто тысяча миллион полтора пара первый второй третий
    секунда минута час неделя месяц утро вечер ночь рубль руб тыс штука
    достоинство недостаток отзыв комментарий плюс минус впечатление оценка итог вывод общий целое
    рекомендовать советовать
    магазин магазинчик супермаркет гипермаркет дискаунтер сеть компания фирма организация
    банк оператор маркетплейс ресторан кафе сервис бренд
    """.split()
)
# Generic verbs whose negation is the complaint itself (заказ не пришёл, приложение не работает).
COUNTED_WHEN_NEGATED = frozenset("прийти работать дать получить сделать".split())
# pymorphy3's dictionary lemmas that read wrong to a person (деньги -> деньга).
LEMMA_FIXES = {"деньга": "деньги"}
NEGATION = "не"
SHORTEST_WORD = 3
# Links, bare site addresses and e-mail addresses are not words: "https://example.ru/a" must not
# count as "https", "example", "ru", nor "vkusmarket.ru/promo" as "vkusmarket", "promo".
_URL = re.compile(
    r"(?:https?://|www\.)\S+|\S+@[\w-]+\.\w+|[\w.-]+\.(?:ru|рф|su|com|net|org|io|me|shop|store|online)\b\S*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Unit:
    """A word that counts, or "не" with the word it negates (не вернули -> не вернуть)."""

    lemma: str
    surface: str
    first: int  # token index range in the text, for adjacency
    last: int
    is_phrase: bool = False


def brand_filter(brand_terms: Iterable[str]) -> Callable[[str], bool]:
    """A test for folded words that are a brand's words in any form (ВкусМаркете, Магниту) or words
    made from them (вкусмаркетовский, магнитовцы)."""
    terms = list(brand_terms)
    words = [forms for term in terms for forms in compile_phrase(term, strict=True)]
    derived = frozenset().union(
        *(derived_forms(fold(word), is_abbreviation(word)) for term in terms for word in term.split())
    )
    return lambda folded: folded in derived or any(forms.matches(folded) for forms in words)


def _counts(lemma: str, negated: bool) -> bool:
    """Does this word say what the complaint is about?"""
    if lemma in STOP_WORDS:
        return False
    return lemma not in GENERIC_WORDS or (negated and lemma in COUNTED_WHEN_NEGATED)


def _units(text: str, is_brand: Callable[[str], bool]) -> list[_Unit]:
    analysed = AnalysedText.analyse(_URL.sub(" ", text))
    units: list[_Unit] = []
    negated_at: int | None = None
    for i, folded in enumerate(analysed.folded):
        if folded == NEGATION:
            negated_at = i
            continue
        negation = negated_at is not None and negated_at == i - 1 and analysed.joined(i - 1, i, glued=False)
        negated_at = None
        # Numbers (also 2шт, 5к), an @handle: never what a complaint is about.
        handle = analysed.is_tag[i] and _tag_mark(analysed, i) == "@"
        if any(c.isdigit() for c in folded) or handle or len(folded) < SHORTEST_WORD or is_brand(folded):
            continue
        lemma = normal_form(folded)
        lemma = LEMMA_FIXES.get(lemma, lemma)
        if not _counts(lemma, bool(negation)):
            continue
        if negation:
            units.append(_Unit(f"{NEGATION} {lemma}", f"{NEGATION} {folded}", i - 1, i))
        else:
            units.append(_Unit(lemma, folded, i, i))
    # Two units make a phrase only when nothing but spaces stood between them (no comma, no
    # full stop, no dropped word).
    adjacent = [
        (left, right)
        for left, right in zip(units, units[1:], strict=False)
        if right.first == left.last + 1 and analysed.joined(left.last, right.first, glued=False)
    ]
    return units + [
        _Unit(f"{left.lemma} {right.lemma}", f"{left.surface} {right.surface}", left.first, right.last, True)
        for left, right in adjacent
    ]


def _tag_mark(analysed: AnalysedText, i: int) -> str:
    """The mark before tag token i: "#" or "@"."""
    return analysed.text[analysed.starts[i] - 1]


@dataclass
class PhraseTally:
    """How many texts use each word and two-word phrase, keyed by lemmas; shown as the most
    common way the texts wrote it (a phrase) or as the lemma (a word)."""

    is_brand: Callable[[str], bool]
    texts: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    surfaces: dict[str, Counter[str]] = field(default_factory=dict)
    phrases: set[str] = field(default_factory=set)

    def add(self, text: str) -> None:
        self.texts += 1
        seen: set[str] = set()
        for unit in _units(text, self.is_brand):
            self.surfaces.setdefault(unit.lemma, Counter())[unit.surface] += 1
            if unit.is_phrase:
                self.phrases.add(unit.lemma)
            if unit.lemma not in seen:
                seen.add(unit.lemma)
                self.counts[unit.lemma] += 1

    def shown(self, key: str) -> str:
        # "долгое ожидание" reads better than its lemmas "долгий ожидание"; a word reads fine as a lemma.
        if key not in self.phrases:
            return key
        # The most used spelling; a tie goes to the alphabetically first, so the output is stable.
        return min(self.surfaces[key].items(), key=lambda surface: (-surface[1], surface[0]))[0]


@dataclass(frozen=True)
class PhraseTrend:
    phrase: str
    this_week: int
    last_week: int


def compare(
    this: PhraseTally, last: PhraseTally, phrases: bool, limit: int = 15, min_count: int = 2
) -> list[PhraseTrend]:
    """The words (or two-word phrases) most texts used this week, at least min_count of them, with
    last week's count; ties go to what grew most."""
    chosen = [key for key, n in this.counts.items() if n >= min_count and (key in this.phrases) == phrases]
    chosen.sort(key=lambda key: (-this.counts[key], -(this.counts[key] - last.counts[key]), key))
    return [PhraseTrend(this.shown(key), this.counts[key], last.counts[key]) for key in chosen[:limit]]
