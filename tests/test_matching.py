"""Brand matching: every word form, hashtags and handles, exclusions, context for ordinary words."""

from __future__ import annotations

import pytest

from monitor.config import BrandConfig
from monitor.errors import ConfigError
from monitor.matching import BrandMatcher, Match

SBER = BrandConfig(name="Сбербанк", aliases=["Сбер", "Sber", "Sberbank"])
MEGAFON = BrandConfig(
    name="МегаФон", aliases=["Megafon"], exclude=["кричать в мегафон", "в мегафон"], competitor=True
)
MTS = BrandConfig(name="МТС", aliases=["MTS"])
TINKOFF = BrandConfig(name="Тинькофф", aliases=["Tinkoff", "Тиньков"], exclude=["Олег Тиньков"])
ALFA = BrandConfig(name="Альфа-Банк", aliases=["Alfa"])
MAGNIT = BrandConfig(name="Магнит", context=["магазин", "покупка", "кассир", "чек", "скидка", "акция"])
PYATEROCHKA = BrandConfig(name="Пятёрочка", context=["магазин", "кассир", "скидка"])
LENTA = BrandConfig(name="Лента", context=["гипермаркет", "магазин", "кассир"])
POCHTA = BrandConfig(name="Почта России", aliases=["Почта"], context=["посылка", "отделение", "трек"])
OZON = BrandConfig(name="Озон", aliases=["Ozon"], context=["заказ", "доставка", "пвз"])
MIR = BrandConfig(name="Мир", context=["карта", "оплата", "платёжный"])

MATCHER = BrandMatcher.from_config(
    [SBER, MEGAFON, MTS, TINKOFF, ALFA, MAGNIT, PYATEROCHKA, LENTA, POCHTA, OZON, MIR]
)


def found(text: str) -> list[tuple[str, str]]:
    """(brand, matched text) for each match, in text order."""
    return [(match.brand, match.text) for match in MATCHER.find(text)]


# --- word forms -------------------------------------------------------------------------------


def test_match_finds_brand_in_nominative_case():
    assert found("Сбербанк опять заблокировал перевод, пишу уже третий раз") == [("Сбербанк", "Сбербанк")]


def test_match_finds_brand_in_genitive_case():
    assert found("Третий день жду ответа от Сбербанка 😡😡") == [("Сбербанк", "Сбербанка")]


def test_match_finds_brand_in_dative_case():
    assert found("Спасибо Сбербанку за быстрый возврат!") == [("Сбербанк", "Сбербанку")]


def test_match_finds_brand_in_instrumental_case():
    assert found("что вообще происходит со Сбербанком?") == [("Сбербанк", "Сбербанком")]


def test_match_finds_brand_in_prepositional_case():
    assert found("в Сбербанке очередь на час, окно работает одно") == [("Сбербанк", "Сбербанке")]


def test_match_finds_brand_the_dictionary_does_not_know_in_genitive_case():
    assert found("кэшбэк от Тинькоффа пришёл, все норм") == [("Тинькофф", "Тинькоффа")]


def test_match_finds_operator_in_genitive_case():
    assert found("У Мегафона опять нет связи в метро") == [("МегаФон", "Мегафона")]


def test_match_is_case_insensitive():
    assert found("СБЕРБАНК ВЕРНИТЕ ДЕНЬГИ!!!") == [("Сбербанк", "СБЕРБАНК")]


def test_alias_matches_in_inflected_form():
    assert found("в сбере сказали ждать 5 рабочих дней") == [("Сбербанк", "сбере")]


def test_latin_alias_matches_as_a_whole_token():
    assert found("Оформила Tinkoff Black, пока довольна") == [("Тинькофф", "Tinkoff")]


def test_latin_alias_does_not_match_inside_a_longer_latin_word():
    assert found("учим alfavit с ребенком") == []


def test_yo_in_config_matches_text_written_with_e():
    assert found("Зашла в Пятерочку у дома, там скидки на сыр") == [("Пятёрочка", "Пятерочку")]


def test_yo_in_text_matches_config_written_with_e():
    matcher = BrandMatcher.from_config([BrandConfig(name="Пятерочка")])
    assert [m.text for m in matcher.find("Опять в Пятёрочке обсчитали")] == ["Пятёрочке"]


def test_decomposed_yo_matches():
    text = "Опять в Пяте\u0308рочке обсчитали"
    assert found(text) == [("Пятёрочка", "Пяте\u0308рочке")]


def test_latin_lookalike_letters_in_cyrillic_word_match():
    assert found("Cбepбaнк снова глючит") == [("Сбербанк", "Cбepбaнк")]  # c, e, p, a are Latin


# --- abbreviations and compounds -----------------------------------------------------------------


def test_abbreviation_matches_with_case_ending():
    assert found("написала МТСу в поддержку, тишина") == [("МТС", "МТСу")]


def test_abbreviation_matches_with_hyphenated_case_ending():
    assert found("что не так с МТС-ом сегодня?") == [("МТС", "МТС-ом")]


def test_hyphen_compound_the_user_excluded_is_not_a_mention_of_its_first_part():
    mts = BrandMatcher.from_config([BrandConfig(name="МТС", exclude=["МТС-банк"])])
    assert mts.find("Одобрили кредит в МТС-банке под 19%") == []
    assert mts.find("Одобрили кредит в МТС Банке под 19%") == []


def test_hyphenated_name_matches_in_inflected_form():
    assert found("Перевод из Альфа-Банка шёл два дня") == [("Альфа-Банк", "Альфа-Банка")]


def test_hyphenated_name_matches_when_written_with_a_space():
    assert found("в Альфа Банке вежливые операторы") == [("Альфа-Банк", "Альфа Банке")]


def test_multi_word_alias_matches_in_inflected_form():
    assert found("Отправила документы Почтой России, ждём") == [("Почта России", "Почтой России")]


def test_multi_word_alias_does_not_match_across_punctuation():
    assert found("Последняя буква — альфа. Банк закрыт на обед") == []


def test_name_written_with_an_apostrophe_matches():
    okey = BrandMatcher.from_config([BrandConfig(name="О'КЕЙ", aliases=["O'KEY"])])
    assert [m.text for m in okey.find("Охрана в О’КЕЙ проверяет чеки на выходе")] == ["О’КЕЙ"]
    assert [m.text for m in okey.find("O'KEY Group опубликовала отчётность")] == ["O'KEY"]


def test_okay_written_with_an_apostrophe_is_not_the_okey_chain():
    okey = BrandMatcher.from_config(
        [BrandConfig(name="Окей", aliases=["О'КЕЙ", "О\u2019КЕЙ"], context=["гипермаркет"])]
    )
    assert okey.find("о'кей, договорились на восемь") == []
    assert okey.find("о\u2019кей, договорились на восемь") == []
    assert [m.text for m in okey.find("Охрана в О'КЕЙ проверяет чеки")] == ["О'КЕЙ"]


def test_site_address_alias_matches_and_a_dotted_exclusion_suppresses():
    brands = [
        BrandConfig(name="Пятёрочка", aliases=["5ka.ru"]),
        BrandConfig(name="Лента", exclude=["Лента.ру", "Lenta.ru"], aliases=["lenta"]),
    ]
    matcher = BrandMatcher.from_config(brands)
    assert [m.text for m in matcher.find("5ka.ru выдаёт ошибку при входе")] == ["5ka.ru"]
    assert matcher.find("Прочитал на Lenta.ru, что будет снегопад") == []
    assert matcher.find("Лента.ру опубликовала материал про бензин") == []
    # A full stop and a space end a sentence: nothing is glued there.
    assert [m.text for m in matcher.find("Скидки в Ленте. Ру-ру-ру")] == ["Ленте"]


def test_word_that_starts_with_the_brand_is_not_a_mention():
    assert found("сбербанкомат у подъезда опять не работает") == []


# --- hashtags and handles -------------------------------------------------------------------------


def test_hashtag_matches():
    assert found("очередь на час #сбербанк #негатив") == [("Сбербанк", "сбербанк")]


def test_hashtag_camelcase_matches():
    assert found("Связь пропала второй раз за день #МегаФон") == [("МегаФон", "МегаФон")]


def test_hashtag_starting_with_brand_matches():
    assert found("#сбербанконлайн не грузится с утра") == [("Сбербанк", "сбербанк")]


def test_handle_with_suffix_matches_latin_alias():
    assert found("@sberbank_official ответьте в личку") == [("Сбербанк", "sberbank")]


def test_camelcase_part_of_hashtag_matches():
    assert found("#ЛюблюСбер за кэшбэк") == [("Сбербанк", "Сбер")]


def test_hashtag_with_brand_inside_another_word_does_not_match():
    assert found("голова болит #магнитнаябуря") == []


def test_email_address_is_not_a_handle():
    assert found("пишите на help@alfavit.ru") == []


# --- exclusions -----------------------------------------------------------------------------------


def test_exclusion_suppresses_loudspeaker_megafon():
    assert found("соседи полночи кричали в мегафон, вызвали полицию") == []


def test_lowercase_exclusion_spares_brand_written_as_a_name():
    assert found("Позвонила в Мегафон, 40 минут висела на линии") == [("МегаФон", "Мегафон")]


def test_exclusion_suppresses_only_the_hit_it_covers():
    text = "Кричал в мегафон на митинге, а потом МегаФон прислал счёт за роуминг"
    assert found(text) == [("МегаФон", "МегаФон")]


def test_exclusion_suppresses_surname_tinkov():
    assert found("Олег Тиньков дал большое интервью") == []


def test_exclusion_matches_in_inflected_form():
    assert found("Интервью с Олегом Тиньковым посмотрела целиком") == []


def test_alias_tinkov_still_matches_the_bank():
    assert found("оформила карту Тинькова, кэшбэк норм") == [("Тинькофф", "Тинькова")]


# --- context for brands that are ordinary words ----------------------------------------------------


def test_context_required_for_lowercase_magnit():
    assert found("купила магнит на холодильник, теперь красиво") == []


def test_context_word_in_any_form_lets_lowercase_magnit_count():
    assert found("в магните у дома кассира не дождешься") == [("Магнит", "магните")]


def test_capitalised_brand_mid_sentence_counts_without_context():
    assert found("Вчера в Магните обсчитали на 200 рублей") == [("Магнит", "Магните")]


def test_capital_inside_the_word_reads_as_a_name_even_at_sentence_start():
    megafon = BrandMatcher.from_config([BrandConfig(name="Мегафон", context=["связь"])])
    assert [m.text for m in megafon.find("МегаФон ТВ тормозит на смарт-ТВ")] == ["МегаФон"]
    assert megafon.find("Мегафон на стадионе не слышно") == []
    assert megafon.find("МЕГАФОН НА СТАДИОНЕ НЕ СЛЫШНО") == []


def test_capitalised_brand_at_sentence_start_needs_context():
    assert found("Магнит на холодильник привезли из Сочи") == []


def test_capitalised_brand_after_emoji_needs_context():
    assert found("😍 Магнит с котиками, подарок от подруги") == []


def test_guillemet_quoted_brand_counts_without_context():
    assert found("«Магнит» закрыли на нашей улице") == [("Магнит", "Магнит")]


def test_straight_quoted_brand_counts_without_context():
    assert found('"Лента" опять подняла цены') == [("Лента", "Лента")]


def test_site_address_of_ordinary_word_brand_counts_without_context():
    lenta = BrandMatcher.from_config([BrandConfig(name="Лента", context=["магазин"])])
    assert [m.text for m in lenta.find("лента.рф не грузит корзину")] == ["лента"]
    assert lenta.find("лента не грузится") == []


def test_a_sentence_ended_without_a_space_is_no_site_address():
    brands = [
        BrandConfig(name="Магнит", context=["магазин"], exclude=["магнит на холодильник"]),
        BrandConfig(name="Перекрёсток", context=["магазин"], exclude=["на перекрёстке"]),
    ]
    matcher = BrandMatcher.from_config(brands)
    assert matcher.find("Купила магнит.Завтра повешу") == []
    assert matcher.find("Стоим на перекрестке.Потом направо") == []


def test_caps_lock_typo_is_no_capital_inside_a_name():
    magnit = BrandMatcher.from_config([BrandConfig(name="Магнит", exclude=["магнит на холодильник"])])
    assert magnit.find("МАгнит на холодильник купила") == []


def test_alias_that_is_no_dictionary_word_counts_without_context():
    mir = BrandMatcher.from_config([BrandConfig(name="Мир", aliases=["Мирпэй", "Mir"], context=["карта"])])
    assert [m.text for m in mir.find("Мирпэй не работает на Хуавей")] == ["Мирпэй"]
    assert [m.text for m in mir.find("mir не проходит в отеле")] == ["mir"]
    assert mir.find("Мир тесен, встретил одноклассника") == []


def test_hashtag_that_is_just_an_ordinary_word_needs_context_like_the_word():
    assert found("вот это очередь #магнит") == []
    assert found("вот это очередь, кассир одна #магнит") == [("Магнит", "магнит")]


def test_shouted_text_needs_context():
    assert found("КУПИЛА МАГНИТ НА ХОЛОДИЛЬНИК") == []


def test_shouted_brand_in_a_lowercase_sentence_counts():
    assert found("опять в МАГНИТЕ обсчитали") == [("Магнит", "МАГНИТЕ")]


def test_multi_word_alias_counts_without_context():
    assert found("почта россии опять потеряла мою посылку") == [("Почта России", "почта россии")]


def test_lowercase_pochta_without_context_is_not_the_brand():
    assert found("почта не приходит на телефон, пароль не сбросить") == []


@pytest.mark.parametrize(
    "text",
    [
        "лента новостей сегодня скучная",
        "мир тесен, встретила одноклассника",
        "во всём мире растут цены",
        "озон в атмосфере защищает от ультрафиолета",
        "подарили магниты из Казани",
        "вплела ленту в косу, фото ниже 👇",
        "Пятерочка по математике, ура!!!",
        "альфа-версия приложения глючит",
        "электронная почта не работает",
    ],
)
def test_ordinary_words_are_not_brand_mentions(text):
    assert found(text) == []


# --- the shape of the result ---------------------------------------------------------------------


def test_one_match_per_brand_is_its_first_mention():
    text = "Сбер снова лежит. Сбербанк, ну сколько можно? #сбербанк"
    assert found(text) == [("Сбербанк", "Сбер")]


def test_matches_are_sorted_by_start():
    text = "Ушла из МТС в Мегафон, а зарплату получаю в Сбере"
    assert [brand for brand, _ in found(text)] == ["МТС", "МегаФон", "Сбербанк"]


def test_offsets_point_into_the_original_text():
    text = "🔥🔥 Люди!! в СБЕРЕ\nопять сбой 😡"
    [match] = MATCHER.find(text)
    assert text[match.start : match.end] == match.text == "СБЕРЕ"


def test_competitor_flag_comes_from_the_config():
    [match] = MATCHER.find("Перешла в МегаФон")
    assert match == Match(brand="МегаФон", start=10, end=17, text="МегаФон", competitor=True)


def test_empty_text_has_no_matches():
    assert MATCHER.find("") == []


def test_megabyte_text_is_matched():
    text = "погода хорошая, гуляли в парке. " * 32_000 + "А в Сбере опять очередь"
    [match] = MATCHER.find(text)
    assert (match.brand, match.start) == ("Сбербанк", len(text) - len("Сбере опять очередь"))


def test_term_without_letters_is_a_config_error():
    with pytest.raises(ConfigError, match="brand '!!!': term '!!!' has no letters or digits"):
        BrandMatcher.from_config([BrandConfig(name="!!!")])
