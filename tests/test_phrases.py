"""What negative mentions talk about: only words and two-word phrases that say what went wrong, never
the review sites' headings, fillers, numbers, links, emoji or the brand itself (issue 17, point 9)."""

from __future__ import annotations

import pytest

from monitor.phrases import PhraseTally, PhraseTrend, brand_filter, compare

# Complaints as people write them, in the places we crawl.
COMPLAINTS = [
    # otzovik's review template
    "Отзыв о ВкусМаркет. Достоинства: нет. Недостатки: обсчитали на кассе, просрочка на полках. "
    "Не рекомендую этот магазин!",
    # a VK post with emoji, a sum and a link
    "Сегодня во ВкусМаркете опять обсчитали на кассе 😡😡 на 350 руб, очень обидно, вообще кошмар "
    "https://vk.com/wall-1_2",
    # a comment to the brand's handle, a word made from the name, a hashtag of it
    "@vkusmarket_help заказ не пришёл уже три дня, вкусмаркетовская доставка просто ужас 👎 #вкусмаркет",
    # a forum post with the site's address
    "Три раза писал в поддержку vkusmarket.ru — никто не ответил, заказ не пришёл, деньги не вернули.",
    "Просрочка на полках во ВкусМаркете, молоко кислое. Магазин у дома, 2 раза уже, 5шт выкинула.",
    "Заказ не пришёл, поддержка не ответила 🤬 пишите на help@vkusmarket.ru",
]
NOISE = [
    # review headings and verdicts
    "отзыв", "достоинство", "недостаток", "рекомендовать", "не рекомендовать",
    # fillers and time words
    "сегодня", "опять", "очень", "вообще", "просто", "уже", "день", "раз", "писать",
    # the kind of company
    "магазин",
    # numbers, written or in digits, with units
    "три", "350", "руб", "5шт",
    # links, addresses, handles, the brand and what is made from it
    "https", "vk", "com", "wall", "vkusmarket", "vkusmarket_help", "help", "ru",
    "вкусмаркет", "вкусмаркетовский",
]  # fmt: skip


@pytest.fixture
def tally() -> PhraseTally:
    tally = PhraseTally(brand_filter(["ВкусМаркет"]))
    for text in COMPLAINTS:
        tally.add(text)
    return tally


def test_the_topics_of_real_complaints_are_what_went_wrong(tally):
    words = compare(tally, PhraseTally(tally.is_brand), phrases=False)
    assert [(w.phrase, w.this_week) for w in words] == [
        ("заказ", 3), ("не прийти", 3), ("касса", 2), ("не ответить", 2), ("обсчитать", 2), ("поддержка", 2),
        ("полка", 2), ("просрочка", 2),
    ]  # fmt: skip
    assert compare(tally, PhraseTally(tally.is_brand), phrases=True) == [PhraseTrend("заказ не пришел", 3, 0)]


@pytest.mark.parametrize("noise", NOISE)
def test_noise_is_never_a_topic(tally, noise):
    assert not [key for key in tally.counts if noise in key.split(" ")]


def test_a_generic_verb_counts_when_negated_but_a_negated_filler_does_not():
    tally = PhraseTally(brand_filter(["ВкусМаркет"]))
    tally.add("Курьер пришёл через час, приложение работает. Не очень понравилось.")
    tally.add("Заказ не пришёл, приложение не работает")
    assert {"не прийти", "не работать", "приложение"} <= set(tally.counts)
    assert not {"прийти", "работать", "час", "не очень", "очень", "понравиться"} & set(tally.counts)


def test_emoji_between_two_words_keep_them_apart():
    tally = PhraseTally(brand_filter([]))
    tally.add("хамство 🤬 кассир")
    assert {"хамство", "кассир"} <= set(tally.counts) and "хамство кассир" not in tally.counts
