"""Brand matching on the way people really write: handles, derived adjectives, hyphen compounds,
names glued inside hashtags, one-letter slips in long names, punctuation inside names, invisible
characters; and the ordinary words that must stay ordinary."""

from __future__ import annotations

import pytest

from monitor.config import BrandConfig
from monitor.matching import BrandMatcher

TINKOFF = BrandConfig(name="Тинькофф", aliases=["Tinkoff", "Тиньков"], exclude=["Олег Тиньков"])
T_BANK = BrandConfig(name="Т-Банк", aliases=["Тинькофф Банк"])
DODO = BrandConfig(name="Додо Пицца", aliases=["Dodo Pizza"])
VKUSMARKET = BrandConfig(name="ВкусМаркет")
PYATEROCHKA = BrandConfig(name="Пятёрочка", context=["магазин", "кассир", "скидка"])
MTS = BrandConfig(name="МТС", exclude=["МТС-банк"])
VTB = BrandConfig(name="ВТБ")
SBER = BrandConfig(name="Сбербанк", aliases=["Сбер"])
OZON = BrandConfig(name="Озон", aliases=["Ozon"], context=["заказ", "доставка", "пункт выдачи"])
MAGNIT = BrandConfig(
    name="Магнит",
    aliases=["Магнит у дома"],
    context=["магазин", "пакет", "скидка"],
    exclude=["магнит на холодильник"],
)
LENTA = BrandConfig(name="Лента", context=["гипермаркет", "магазин", "касса"])
MIR = BrandConfig(name="Мир", context=["карта", "оплата", "терминал"])
POCHTA = BrandConfig(name="Почта России", aliases=["Почта"], context=["посылка", "отделение", "трек"])
SPORTMASTER = BrandConfig(name="Спортмастер")
WILDBERRIES = BrandConfig(name="Wildberries", aliases=["Вайлдберриз"])
VKUSNO = BrandConfig(name="Вкусно — и точка")
SVYAZNOY = BrandConfig(name="Связной", context=["салон", "телефон", "смартфон"])

MATCHER = BrandMatcher.from_config(
    [
        TINKOFF, T_BANK, DODO, VKUSMARKET, PYATEROCHKA, MTS, VTB, SBER, OZON, MAGNIT, LENTA, MIR, POCHTA,
        SPORTMASTER, WILDBERRIES, VKUSNO, SVYAZNOY,
    ]
)  # fmt: skip


def found(text: str) -> list[tuple[str, str]]:
    """(brand, matched text) for each match, in text order."""
    return [(match.brand, match.text) for match in MATCHER.find(text)]


def brands(text: str) -> list[str]:
    return [match.brand for match in MATCHER.find(text)]


# --- handles and site names ------------------------------------------------------------------------


def test_handle_with_underscore_matches_the_latin_spelling_of_a_cyrillic_alias():
    assert "Т-Банк" in brands("@tinkoff_bank верните кэшбэк за октябрь, третий раз пишу")


def test_handle_of_a_cyrillic_name_matches_without_any_latin_alias():
    assert found("Подписалась на @vkusmarket_official ради розыгрыша 🎁") == [("ВкусМаркет", "vkusmarket")]


def test_handle_glued_with_a_site_suffix_and_no_at_sign_matches():
    assert found("заказывала через dodopizzaru, привезли холодную") == [("Додо Пицца", "dodopizzaru")]


@pytest.mark.parametrize("handle", ["@dodo_pizza", "@dodo-pizza", "dodo_pizza", "dodo.pizza", "@DodoPizza"])
def test_handle_with_separators_matches_a_multi_word_latin_alias(handle):
    assert brands(f"{handle} где курьер? жду второй час") == ["Додо Пицца"]


def test_handle_with_two_suffixes_matches():
    assert brands("написала в @vkusmarket_support_ru, тишина") == ["ВкусМаркет"]


def test_handle_transliterates_ya_and_ch():
    assert brands("@pyaterochka_official, у вас ценники не совпадают с кассой") == ["Пятёрочка"]


def test_cyrillic_hashtag_with_underscore_matches_a_multi_word_alias():
    assert "Т-Банк" in brands("опять списали комиссию #тинькофф_банк")


def test_handle_transliterates_ks_as_x():
    yandex = BrandMatcher.from_config([BrandConfig(name="Яндекс", aliases=["Яндекс Маркет"])])
    assert [m.text for m in yandex.find("@yandexmarket_official, где мой возврат?")] == ["yandexmarket"]


def test_handle_or_hashtag_the_user_excluded_is_no_mention():
    assert brands("@mts_bank одобрил кредитку, но лимит смешной") == []
    assert brands("кредитку одобрили за час #мтсбанк") == []
    assert brands("@mts_support ответьте уже, интернета нет с утра") == ["МТС"]


def test_latin_word_that_only_begins_with_a_name_is_no_handle():
    assert found("купила ozonator для квартиры и mirror для ванной") == []


def test_email_address_of_another_site_is_no_handle():
    assert found("пишите на help@alfavit.ru или на info@lentochka.org") == []


# --- words derived from a brand -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "brand", "word"),
    [
        ("тиньковская карта лучше всех, кэшбэк приходит сразу", "Тинькофф", "тиньковская"),
        ("с тиньковской картой за границей проблем не было", "Тинькофф", "тиньковской"),
        ("забрала посылку в озоновском пункте выдачи", "Озон", "озоновском"),
        ("опять порвался пятёрочковский пакет 🙄", "Пятёрочка", "пятёрочковский"),
        ("мтсовский тариф подорожал на 100 рублей", "МТС", "мтсовский"),
        ("у сберовских банкоматов очередь", "Сбербанк", "сберовских"),
        ("втбшная карта не проходит в метро", "ВТБ", "втбшная"),
        ("сберовцы опять звонят с предложением кредита", "Сбербанк", "сберовцы"),
    ],
)
def test_relational_word_derived_from_a_brand_is_a_mention(text, brand, word):
    assert found(text) == [(brand, word)]


@pytest.mark.parametrize(
    "text",
    [
        "В магазине у дома купила магнитную доску для кухни",
        "Ленточный фундамент заливали два дня, в магазине не хватило цемента",
        "мирный атом и карта звёздного неба — лучшие подарки",
        "Почтальон принёс посылку прямо к двери",
        "Закон Магнитского обсуждают в магазине у кассы",
        "почтовый ящик забит рекламой, трек не найти",
    ],
)
def test_dictionary_words_akin_to_a_brand_are_not_mentions(text):
    assert found(text) == []


# --- hyphen compounds -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "brand", "word"),
    [
        ("Тинькофф-то хоть на звонки отвечает", "Тинькофф", "Тинькофф"),
        ("пока дошла до Озона-то, уже закрылись", "Озон", "Озона"),
        ("В Магнит-Косметик завезли новую палетку", "Магнит", "Магнит"),
        ("мтс-овский роутер опять перезагружается", "МТС", "мтс"),
        ("Перевод из Сбер-Онлайна не дошёл", "Сбербанк", "Сбер"),
    ],
)
def test_hyphen_compound_holds_the_brand(text, brand, word):
    assert found(text) == [(brand, word)]


def test_hyphen_compound_of_an_ordinary_word_still_needs_context():
    assert found("магнит-липучка на дверь держит отлично") == []


def test_en_dash_joins_a_hyphenated_name():
    alfa = BrandMatcher.from_config([BrandConfig(name="Альфа-Банк")])
    assert [m.text for m in alfa.find("Перевод из Альфа–Банка шёл два дня")] == ["Альфа–Банка"]


# --- hashtags ---------------------------------------------------------------------------------------


def test_brand_at_the_end_of_a_hashtag_after_other_words_matches():
    assert found("Забрала заказ за пять минут #обожаюозон") == [("Озон", "озон")]


def test_brand_at_the_start_of_a_hashtag_before_other_words_matches():
    assert found("Кассир нахамила, очередь до входа #пятерочкаотстой") == [("Пятёрочка", "пятерочка")]


def test_brand_glued_after_a_one_letter_word_in_a_hashtag_matches():
    assert found("Ипотеку одобрили за день #хочувсбер") == [("Сбербанк", "сбер")]


def test_ordinary_word_glued_inside_a_hashtag_needs_context():
    assert found("Весна пришла #обожаюмир") == []
    assert found("Такой закат! #любимаялента") == []


def test_brand_inside_a_longer_word_of_a_hashtag_is_no_mention():
    assert found("Давление скачет #магнитнаябуря") == []
    assert found("Записалась на процедуры #озонотерапия") == []


# --- one-letter slips in long names ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "brand", "word"),
    [
        ("Тинькоф опять поднял плату за обслуживание", "Тинькофф", "Тинькоф"),
        ("у Тинькофа лучшая поддержка, без шуток", "Тинькофф", "Тинькофа"),
        ("Вчера зашла в Спортмастр за кроссовками", "Спортмастер", "Спортмастр"),
        ("Спотрмастер закрылся в нашем ТЦ", "Спортмастер", "Спотрмастер"),
        ("карта Тинькафф пришла курьером", "Тинькофф", "Тинькафф"),
        ("Сбербаннк снова списал комиссию", "Сбербанк", "Сбербаннк"),
        ("заказала на wildberies, пришёл не тот размер", "Wildberries", "wildberies"),
    ],
)
def test_long_name_with_one_letter_slip_is_a_mention(text, brand, word):
    assert found(text) == [(brand, word)]


def test_dictionary_word_one_letter_from_a_long_name_is_no_slip():
    assert found("Напишите связный текст без ошибок") == []


def test_name_shorter_than_seven_letters_gets_no_slips():
    assert found("Магнат скупил все магазины в округе") == []
    assert found("Сбор за обслуживание снова вырос") == []


# --- names with punctuation inside -------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    ["«Вкусно — и точка»", "Вкусно - и точка", "Вкусно–и точка", "Вкусно, и точка", "Вкусно и точка"],
)
def test_name_with_a_dash_inside_matches_with_any_dash_a_comma_or_nothing(written):
    assert brands(f"Взяла картошку в {written}, остыла пока несла") == ["Вкусно — и точка"]


def test_full_stop_inside_a_name_breaks_it():
    assert found("Было вкусно. И точка, больше туда не пойду") == []


def test_comma_where_the_name_has_none_breaks_it():
    assert found("Купила магнит, у дома повесила на дверь") == []


# --- invisible characters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hidden",
    [
        "\u200b",  # zero-width space
        "\u200d",  # zero-width joiner
        "\u200c",  # zero-width non-joiner
        "\u00ad",  # soft hyphen
        "\ufeff",  # BOM
        "\u2060",  # word joiner
        "\u200e",  # left-to-right mark
        "\u0301",  # stress mark over the letter before it
    ],
)
def test_invisible_character_inside_a_name_does_not_hide_it(hidden):
    text = f"Опять во Вкус{hidden}Маркете обсчитали на кассе"
    [match] = MATCHER.find(text)
    assert match.brand == "ВкусМаркет"
    assert text[match.start : match.end] == match.text == f"Вкус{hidden}Маркете"


def test_span_after_invisible_characters_points_into_the_original_text():
    text = "\u200b\u200e🔥 Люди, в\u00a0Сбер\u00adбанке\u200b опять сбой \u200d😡"
    [match] = MATCHER.find(text)
    assert (match.start, match.end) == (text.index("Сбер"), text.index("банке") + len("банке"))
    assert match.text == "Сбер\u00adбанке"


def test_exclusion_holds_with_an_invisible_character_between_its_words():
    assert found("В магазине у дома купила магнит\u200b на\u00ad холодильник") == []


def test_quote_before_an_invisible_character_still_marks_a_name():
    assert found("«\u200bМагнит» закрыли на нашей улице") == [("Магнит", "Магнит")]
