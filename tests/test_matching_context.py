"""Context nobody has to type: other brands in one list, a brand's category, and an abbreviation
spelled out as something else meaning that throughout the text."""

from __future__ import annotations

import pytest

from monitor.categories import category_names
from monitor.config import BrandConfig, parse_config
from monitor.errors import ConfigError
from monitor.matching import BrandMatcher


def found(matcher: BrandMatcher, text: str) -> list[tuple[str, str]]:
    return [(match.brand, match.text) for match in matcher.find(text)]


# --- other brands in one list ------------------------------------------------------------------

LISTS = BrandMatcher.from_config(
    [
        BrandConfig(name="Сбербанк", aliases=["Сбер"]),
        BrandConfig(name="Почта России", aliases=["Почта"], context=["посылка", "трек"]),
        BrandConfig(name="Пятёрочка", context=["магазин", "кассир"]),
        BrandConfig(name="Лента", context=["гипермаркет", "кассир"]),
        BrandConfig(name="Магнит", context=["магазин", "кассир"]),
        BrandConfig(name="Мир", context=["карта", "оплата"]),
        BrandConfig(name="Окей", aliases=["О'КЕЙ"], context=["гипермаркет"]),
    ]
)


def test_ordinary_word_brand_listed_with_another_brand_counts():
    assert found(LISTS, "в сбербанке и почте одни очереди, полдня потеряла") == [
        ("Сбербанк", "сбербанке"),
        ("Почта России", "почте"),
    ]


def test_list_with_commas_and_repeated_prepositions_counts():
    assert found(LISTS, "и в сбере, и в почте одни очереди") == [
        ("Сбербанк", "сбере"),
        ("Почта России", "почте"),
    ]


def test_ordinary_word_listed_with_institutions_that_are_no_brands_is_not_a_mention():
    assert found(LISTS, "налоговая, пенсионный и почта — везде очереди") == []


def test_a_sure_brand_vouches_for_the_whole_list():
    text = "сравнила цены в Пятёрочке, ленте и магните, разница копеечная"
    assert found(LISTS, text) == [("Пятёрочка", "Пятёрочке"), ("Лента", "ленте"), ("Магнит", "магните")]


def test_undecided_ordinary_words_do_not_vouch_for_each_other():
    assert found(LISTS, "в ленте и магните одни и те же цены") == []


def test_a_brand_elsewhere_in_the_text_is_no_context():
    assert found(LISTS, "Сбер — лучший банк в мире, говорят по телевизору") == [("Сбербанк", "Сбер")]


def test_names_side_by_side_without_a_list_mark_are_no_list():
    assert found(LISTS, "купила в Пятёрочке ленту для подарка") == [("Пятёрочка", "Пятёрочке")]


def test_a_dash_ends_the_list():
    assert found(LISTS, "Сбер — почта не работает, интернета нет") == [("Сбербанк", "Сбер")]


def test_a_particle_before_a_comma_is_no_list_item():
    assert found(LISTS, "Окей, в Магнит за хлебом зайду по дороге") == [("Магнит", "Магнит")]


# --- categories --------------------------------------------------------------------------------

CATEGORIES = BrandMatcher.from_config(
    [
        BrandConfig(name="Мегафон", category="telecom"),
        BrandConfig(name="Билайн", category="telecom"),
        BrandConfig(name="Озон", category="marketplace"),
        BrandConfig(name="Лента", category="grocery", context=["гипер"]),
        BrandConfig(name="Магнит", category="grocery"),
        BrandConfig(name="Почта России", aliases=["Почта"], category="postal"),
        BrandConfig(name="Мир", category="bank"),
        BrandConfig(name="Победа", category="airline"),
    ]
)


@pytest.mark.parametrize(
    ("text", "brand"),
    [
        ("мегафон опять списал деньги за автоплатеж, хотя я его отключала", "Мегафон"),
        ("симку мегафона не могу пополнить через приложение", "Мегафон"),
        ("в роуминге мегафон съел весь баланс за два дня", "Мегафон"),
        ("заказала на озоне куртку, пункт выдачи в соседнем доме", "Озон"),
        ("курьер с озона опоздал на три часа", "Озон"),
        ("вернули деньги за куртку на озоне только через месяц", "Озон"),
        ("в ленте опять просрочка на полке с йогуртами", "Лента"),
        ("кассир в магните пробил чек дважды", "Магнит"),
        ("почта опять потеряла посылку, трек не обновляется неделю", "Почта России"),
        ("пришло извещение, завтра иду на почту", "Почта России"),
        ("оплатила картой мир, а кэшбэк так и не пришёл", "Мир"),
        ("летала победой, за ручную кладь содрали как за багаж", "Победа"),
    ],
)
def test_category_words_count_as_context(text, brand):
    assert [name for name, _ in found(CATEGORIES, text)] == [brand]


def test_category_words_add_to_the_brands_own_context():
    assert found(CATEGORIES, "в ленте на гипере опять никого") == [("Лента", "ленте")]


def test_category_turns_context_on_for_an_ordinary_word():
    assert found(CATEGORIES, "кричал в мегафон на весь двор, соседи жаловались") == []


def test_a_name_known_only_as_a_company_needs_no_context():
    # The dictionary knows «билайн» only as the company: nothing else it could be.
    assert found(CATEGORIES, "перешла на билайн в прошлом месяце") == [("Билайн", "билайн")]


@pytest.mark.parametrize(
    "text",
    [
        # The checkout belt: «продукты» and «кассир» are grocery words, but so is the belt.
        "положила продукты на ленту, а кассир ушла курить",
        "листаю ленту, а там все пишут, что продукты дорожают",
        # A context word nearby by chance.
        "в мире всё дорожает, особенно продукты",
        "Сбер — лучший банк в мире",
        "магнит на холодильник привезла из Казани, в магазине у вокзала брала",
        # The loudspeaker, with a telecom word in the text.
        "кричал в мегафон на митинге, связь с толпой так себе",
        # E-mail: «письмо» is no postal word.
        "письмо с кодом не пришло на почту, пароль не сбросить",
        "налоговая, пенсионный и почта — везде очереди",
    ],
)
def test_category_words_do_not_turn_everyday_senses_into_mentions(text):
    assert found(CATEGORIES, text) == []


def test_a_category_exclusion_spares_a_name():
    assert found(CATEGORIES, "продукты на Ленте дешевле, чем у дома") == [("Лента", "Ленте")]


def test_every_category_compiles():
    brands = [BrandConfig(name=f"Бренд{n}", category=name) for n, name in enumerate(category_names())]
    assert BrandMatcher.from_config(brands).find("ничего") == []


def test_unknown_category_is_a_one_line_config_error():
    text = "brands:\n  - name: Мегафон\n    category: telekom\n"
    with pytest.raises(ConfigError) as error:
        parse_config(text, "spiders.yaml")
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("spiders.yaml:3: brands[0].category: unknown category 'telekom'")
    assert "expected one of: airline, bank," in message


# --- an abbreviation spelled out as something else --------------------------------------------

MTS = BrandMatcher.from_config([BrandConfig(name="МТС", aliases=["MTS"], exclude=["МТС-банк"])])
MTS_HISTORY = BrandMatcher.from_config(
    [BrandConfig(name="МТС", aliases=["MTS"], exclude=["машинно-тракторная станция"])]
)


def test_expansion_in_brackets_after_the_abbreviation_drops_every_hit_in_the_text():
    text = (
        "МТС (машинно-тракторные станции) создавались с 1928 года. "
        "В МТС работали трактористы и механики, МТС обслуживали колхозы."
    )
    assert found(MTS, text) == []


def test_abbreviation_in_brackets_after_its_expansion_drops_every_hit_in_the_text():
    text = "В МТС работали трактористы. Машинно-тракторные станции (МТС) упразднили в 1958 году."
    assert found(MTS, text) == []


def test_an_exclusion_that_spells_the_abbreviation_out_drops_it_anywhere_in_the_text():
    text = "Машинно-тракторная станция была в каждом районе. В МТС работали лучшие трактористы."
    assert found(MTS_HISTORY, text) == []


def test_the_spelled_out_exclusion_leaves_texts_without_it_alone():
    assert found(MTS_HISTORY, "В МТС опять подняли тариф") == [("МТС", "МТС")]


def test_brackets_that_do_not_spell_it_out_keep_the_brand():
    assert found(MTS, "МТС (салон на Ленина) опять не работает") == [("МТС", "МТС")]


def test_an_exclusion_naming_another_company_drops_only_the_hit_it_covers():
    assert found(MTS, "Кредит брала в МТС-банке, а симка у меня МТС") == [("МТС", "МТС")]
