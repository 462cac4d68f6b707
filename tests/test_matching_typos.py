"""Misspelt brand names, the way people really misspell them: doubled letters, ь dropped, vowels and
voiced consonants mixed up, Latin read as Cyrillic, slips in case forms; and the real words and
foreign words that sound like a name and must stay what they are."""

from __future__ import annotations

import pytest

from monitor.config import BrandConfig
from monitor.matching import BrandMatcher

MATCHER = BrandMatcher.from_config(
    [
        BrandConfig(name="Wildberries", aliases=["Вайлдберриз"]),
        BrandConfig(name="Тинькофф", aliases=["Tinkoff"]),
        BrandConfig(name="Мегафон", category="telecom"),
        BrandConfig(name="Билайн"),
        BrandConfig(name="Ростелеком"),
        BrandConfig(name="Сбербанк", aliases=["Сбер"]),
        BrandConfig(name="Спортмастер"),
        BrandConfig(name="Магнит", category="grocery"),
        BrandConfig(name="Озон", aliases=["Ozon"], category="marketplace"),
        BrandConfig(name="Додо Пицца", aliases=["Додо"]),
    ]
)


def found(text: str) -> list[tuple[str, str]]:
    """(brand, matched text) for each match, in text order."""
    return [(match.brand, match.text) for match in MATCHER.find(text)]


@pytest.mark.parametrize(
    ("text", "brand", "word"),
    [
        ("Вайлдберис опять задержал заказ на неделю", "Wildberries", "Вайлдберис"),
        ("Вилдберис вернул деньги за брак только через месяц", "Wildberries", "Вилдберис"),
        ("заказала на Wildberis, пришло не то", "Wildberries", "Wildberis"),
        ("Тинкоф заблокировал карту без объяснений", "Тинькофф", "Тинкоф"),
        ("Билаин отключил интернет за неуплату, хотя я платил", "Билайн", "Билаин"),
        ("Растелеком снова без интернета второй день", "Ростелеком", "Растелеком"),
        ("Збербанк списал комиссию за перевод", "Сбербанк", "Збербанк"),
    ],
)
def test_name_written_as_it_sounds_is_a_mention(text, brand, word):
    assert found(text) == [(brand, word)]


@pytest.mark.parametrize(
    ("text", "brand", "word"),
    [
        ("в Вайлдберисе поменяли правила возврата", "Wildberries", "Вайлдберисе"),
        ("у Тинкофа кэшбэк всё равно лучше", "Тинькофф", "Тинкофа"),
        ("в Билаине опять поменяли тариф без спроса", "Билайн", "Билаине"),
    ],
)
def test_misspelt_name_in_a_case_form_is_a_mention(text, brand, word):
    assert found(text) == [(brand, word)]


def test_unstressed_vowel_mixed_up_at_the_start_of_a_name_is_a_mention():
    assert found("Мигафон опять поднял тариф, а связи нет") == [("Мегафон", "Мигафон")]


def test_long_name_sounding_one_slip_away_is_a_mention():
    assert found("купила кроссовки в Спортмастэрре") == [("Спортмастер", "Спортмастэрре")]


def test_short_name_written_as_it_sounds_is_a_mention():
    assert found("Азон опять потерял мой заказ") == [("Озон", "Азон")]


def test_misspelt_ordinary_word_brand_still_needs_context():
    assert found("на митинге кричали в мигафон") == []


@pytest.mark.parametrize(
    "text",
    [
        "Магнат скупил все заводы в области",  # Магнит: a real word one letter away
        "Спортсмены вышли на поле под дождём",  # Спортмастер
        "Сбор за вывоз мусора снова вырос",  # Сбер
        "Над старым городом звучал азан",  # Озон: a real word that sounds like it
    ],
)
def test_real_word_that_sounds_like_a_name_is_no_mention(text):
    assert found(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Прочитала статью про ozone layer, интересно",  # Ozon
        "В todo на завтра: купить хлеб",  # Додо
    ],
)
def test_short_latin_word_is_no_slip_of_a_short_name(text):
    assert found(text) == []
