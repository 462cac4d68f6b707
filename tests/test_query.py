"""BrandConfig.query: the AND / OR / NOT language, its errors, and matching texts in any word form."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from monitor.config import BrandConfig, parse_config
from monitor.errors import ConfigError
from monitor.matching import BrandMatcher, TextQuery
from monitor.query import And, Not, Or, Term, parse_query


def term(*words: str) -> Term:
    return Term(tuple(words))


# --- parsing --------------------------------------------------------------------------------------


def test_single_word_is_a_term():
    assert parse_query("сбер") == term("сбер")


def test_adjacent_terms_are_joined_by_and():
    assert parse_query("сбер кредит") == And((term("сбер"), term("кредит")))


def test_not_binds_tighter_than_and():
    assert parse_query("сбер NOT ипотека") == And((term("сбер"), Not(term("ипотека"))))


def test_and_binds_tighter_than_or():
    assert parse_query("a OR b AND c") == Or((term("a"), And((term("b"), term("c")))))


def test_parentheses_group():
    assert parse_query("(a OR b) c") == And((Or((term("a"), term("b"))), term("c")))


def test_quoted_phrase_is_one_term():
    assert parse_query('"кредитная карта"') == term("кредитная", "карта")


def test_guillemets_quote_a_phrase():
    assert parse_query("«Почта России» OR почтамт") == Or((term("Почта", "России"), term("почтамт")))


def test_lowercase_operators_are_ordinary_words():
    assert parse_query("сбер and кредит") == And((term("сбер"), term("and"), term("кредит")))


def test_russian_conjunctions_are_ordinary_words():
    assert parse_query("кредит или ипотека") == And((term("кредит"), term("или"), term("ипотека")))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "query is empty: write at least one word, or remove the query"),
        ("   ", "query is empty: write at least one word, or remove the query"),
        ("сбер AND", "position 9: expected a word, a \"phrase\" or '(' after AND, found end of query"),
        ("OR сбер", "position 1: expected a word, a \"phrase\" or '(' at the start, found OR"),
        ("сбер OR OR втб", "position 9: expected a word, a \"phrase\" or '(' after OR, found OR"),
        ("(сбер OR втб", "position 13: expected ')' to close the '(' at position 1, found end of query"),
        ("сбер)", "position 5: unexpected ')' with no matching '('"),
        ("()", "position 2: expected a word, a \"phrase\" or '(' after '(', found ')'"),
        ('сбер "кредитная карта', 'position 6: quote " is never closed, expected "'),
        ("«почта россии", "position 1: quote « is never closed, expected »"),
        ('сбер ""', "position 6: quoted phrase has no words"),
        ("сбер !!!", "position 6: '!!!' has no letters or digits"),
    ],
)
def test_bad_query_names_the_position_and_what_was_expected(query, message):
    with pytest.raises(ValueError) as err:
        parse_query(query)
    assert str(err.value) == message


def test_deeply_nested_query_is_refused():
    with pytest.raises(ValueError, match="nested deeper than"):
        parse_query("(" * 60 + "a" + ")" * 60)


# --- validation in the config ----------------------------------------------------------------------


def test_bad_query_fails_brand_validation():
    with pytest.raises(ValidationError, match="position 13: expected '\\)'"):
        BrandConfig(name="Сбербанк", query="(сбер OR втб")


def test_bad_query_in_spiders_yaml_names_line_and_key():
    text = "brands:\n  - name: Сбербанк\n    query: 'сбер AND'\n"
    with pytest.raises(ConfigError) as err:
        parse_config(text, "spiders.yaml")
    assert str(err.value) == (
        "spiders.yaml:3: brands[0].query: position 9: expected a word, a \"phrase\" or '(' after AND, "
        "found end of query"
    )


# --- evaluation -----------------------------------------------------------------------------------


def test_query_word_matches_any_inflected_form():
    assert TextQuery("кредит").matches("отказали в кредите без объяснения причин")


def test_query_word_written_inflected_matches_other_forms():
    assert TextQuery("кредиты").matches("взяла кредит на машину")


def test_query_phrase_matches_consecutive_words_in_any_form():
    assert TextQuery('"кредитная карта"').matches("оформила кредитную карту за 5 минут")


def test_query_phrase_does_not_match_scattered_words():
    assert not TextQuery('"кредитная карта"').matches("кредитная история плохая, карта заблокирована")


def test_query_not_rejects_text_with_the_word():
    assert not TextQuery("сбер NOT ипотека").matches("в сбере одобрили ипотеку")


def test_query_or_accepts_either_word():
    query = TextQuery("ипотека OR вклад")
    assert query.matches("открыла вклад под 18%") and query.matches("ипотеку одобрили!")


def test_query_words_match_hashtags():
    assert TextQuery("ипотека").matches("наконец-то своя квартира #ипотека")


PEREKRESTOK = BrandMatcher.from_config(
    [BrandConfig(name="Перекрёсток", query='Перекрёсток NOT ("на перекрёстке" OR светофор OR ДТП)')]
)


def test_brand_with_query_matches_when_the_query_holds():
    [match] = PEREKRESTOK.find("Зашла в Перекрёсток за хлебом, кассир нахамил")
    assert match.text == "Перекрёсток"


def test_brand_with_query_does_not_match_when_the_query_fails():
    assert PEREKRESTOK.find("ДТП на Перекрёстке у Ленина, светофор не работает") == []
