"""False hits of three kinds and the real mentions beside them: another thing's «quoted» name
(«Мир фантастики», кинотеатр «Перекрёсток»), the ordinary word as a bare #hashtag (#магнит under a
fridge photo), and an abbreviation in a text about its other sense (МТС among колхозы)."""

from __future__ import annotations

import pytest

from monitor.config import BrandConfig
from monitor.errors import ConfigError
from monitor.matching import BrandMatcher

MATCHER = BrandMatcher.from_config(
    [
        BrandConfig(name="Магнит", category="grocery", aliases=["Магнит Косметик", "Магнит у дома"]),
        BrandConfig(name="Лента", category="grocery"),
        BrandConfig(name="Перекрёсток", aliases=["Перекресток"], category="grocery"),
        BrandConfig(name="Пятёрочка", aliases=["Пятерочка"], category="grocery"),
        BrandConfig(name="Мир", aliases=["Мир Pay"], category="bank"),
        BrandConfig(name="Самокат", category="delivery"),
        BrandConfig(name="Теремок", category="food"),
        BrandConfig(name="Сбербанк", aliases=["Сбер"], category="bank"),
        BrandConfig(name="МТС", category="telecom"),
        BrandConfig(name="Wildberries", aliases=["ВБ", "WB"], category="marketplace"),
        BrandConfig(name="Tele2", aliases=["Т2"], category="telecom"),
        BrandConfig(
            name="Московский кредитный банк",
            aliases=["МКБ"],
            category="bank",
            other_senses=["мочекаменный", "почка", "камень", "уролог"],
        ),
    ]
)


def brands(text: str) -> list[str]:
    return [match.brand for match in MATCHER.find(text)]


# --- another thing's «quoted» name -------------------------------------------------------------


def test_quoted_title_longer_than_the_name_is_another_things_name():
    assert brands("Купил свежий номер «Мир фантастики», там большой обзор новых книг") == []
    assert brands("Оформил подписку на «Мир фантастики», оплатил картой") == []
    assert brands("Новости читаю только в телеграме «Лента дня», остальное шум") == []


def test_brand_word_inside_a_quoted_title_is_not_the_brand_whatever_the_context():
    assert brands("Купила сыну «Войну и мир» к школе, оплатила картой на кассе") == []


def test_quoted_name_after_a_kind_of_other_thing_is_that_thing():
    assert brands("Вечером идём в кинотеатр «Перекрёсток» на новый фильм") == []
    assert brands("Вчера по телеканалу «Мир» показывали концерт") == []
    assert brands("Издательство «Самокат» выпустило новую книгу для подростков") == []
    assert brands("Отдыхали в санатории «Магнит» под Кисловодском") == []


def test_quoted_name_after_a_shop_word_is_the_brand():
    assert brands("Зашла в магазин «Магнит» за хлебом") == ["Магнит"]
    assert brands("В супермаркете «Перекрёсток» на кассе очередь") == ["Перекрёсток"]


def test_kind_that_is_the_brands_own_trade_is_no_other_thing():
    assert brands("Пообедали в кафе «Теремок» у вокзала") == ["Теремок"]
    assert brands("Пообедали в кафе «Магнит» у вокзала") == []


def test_quoted_name_owning_the_thing_is_the_brand():
    # «Пятёрочки» is whose channel it is, not the channel's name.
    assert brands("В телеграм-канале «Пятёрочки» написали про новые акции") == ["Пятёрочка"]


def test_quoted_name_with_a_legal_form_or_a_store_format_is_the_brand():
    assert brands("ООО «Лента» оштрафовали за просрочку") == ["Лента"]
    assert brands("Открыли «Перекрёсток Экспресс» у метро, работает круглосуточно") == ["Перекрёсток"]
    assert brands("«Магнит Косметик» открылся у нас на районе") == ["Магнит"]
    assert brands("Оплачиваю телефоном через «Мир Pay», удобно") == ["Мир"]


def test_quoted_speech_naming_the_brand_is_the_brand():
    assert brands("«В Ленте опять обсчитали на кассе», — пишет подписчица") == ["Лента"]
    assert brands("«Магнит» закрыли на нашей улице") == ["Магнит"]


def test_quoted_brand_that_is_no_ordinary_word_counts_in_any_title():
    assert brands("Смотрели в кинотеатре «Сбер» премьеру") == ["Сбербанк"]


# --- the ordinary word as a bare #hashtag -----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Привезли из Казани, повесили на кухне 😍 #магнит #холодильник #дом",
        "Какой закат сегодня #мир #любовь #счастье",
        "Утро на районе, туман #перекресток #город",
        "Последний звонок! #лента #выпускной #школа",
        "Сын учится ездить 🛴 #самокат #лето",
        "Весна! #Мир #Любовь #Весна",
    ],
)
def test_bare_hashtag_of_an_ordinary_word_needs_context(text):
    assert brands(text) == []


def test_bare_hashtag_of_an_ordinary_word_with_context_counts():
    assert brands("Опять просрочку подсунули 😡 #пятерочка") == ["Пятёрочка"]


def test_other_hashtags_of_the_post_are_its_context():
    assert brands("Вот это улов сегодня #пятерочка #скидки") == ["Пятёрочка"]


def test_hashtag_that_joins_the_name_with_other_words_still_counts():
    assert brands("Третий раз за неделю #лентаотстой") == ["Лента"]
    assert brands("Новая помада #магниткосметик") == ["Магнит"]


def test_hashtag_of_a_name_that_is_no_ordinary_word_still_counts():
    assert brands("Ну вот опять #мтс") == ["МТС"]
    assert brands("Приложение снова висит #сбербанк") == ["Сбербанк"]


def test_handle_of_an_ordinary_word_still_counts():
    assert brands("Напишите в личку @лента, ответа нет") == ["Лента"]


# --- an abbreviation in a text about its other sense ------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Дед всю жизнь проработал в колхозе и МТС, чинил тракторы",
        "В 1930-е директор МТС отвечал за посевную в трёх колхозах",
        "Колхозы района получали технику через МТС, тракторов не хватало",
        "После химиотерапии на КТ нашли мтс в печени, онколог назначил ещё курс",
        "Всемирный банк снизил прогноз: по оценке ВБ, ВВП развивающихся стран вырастет меньше",
    ],
)
def test_abbreviation_among_words_of_its_other_sense_is_that_sense(text):
    assert brands(text) == []


def test_abbreviation_among_words_of_its_trade_is_the_brand():
    assert brands("МТС снова подняла тариф, а связь в деревне как была плохой") == ["МТС"]
    assert brands("Заказала на ВБ кроссовки, в ПВЗ привезли за день") == ["Wildberries"]


def test_abbreviation_wins_when_its_trade_has_as_many_words():
    text = "МТС провела мобильный интернет в бывший колхоз, теперь тариф дешевле"
    assert brands(text) == ["МТС"]


def test_short_name_with_built_in_other_senses_is_judged_like_an_abbreviation():
    assert brands("Пересматривал вчера Т2, Шварценеггер там лучший") == []
    assert brands("Перешёл на Т2, тариф дешевле") == ["Tele2"]


def test_brands_own_other_senses_drop_its_abbreviation():
    assert brands("Врач подтвердил МКБ: камни в почках, уролог прописал диету") == []
    assert brands("Открыла вклад в МКБ, ставка лучше, чем у всех") == ["Московский кредитный банк"]


def test_other_senses_on_a_brand_without_an_abbreviation_is_a_config_error():
    with pytest.raises(ConfigError, match="other_senses"):
        BrandMatcher.from_config([BrandConfig(name="Лента", other_senses=["выпускной"])])
