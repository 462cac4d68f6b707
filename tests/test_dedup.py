import random

from monitor.dedup import (
    MAX_HAMMING_DISTANCE,
    canonical_url,
    fingerprint,
    fingerprint_bands,
    hamming_distance,
    is_near_duplicate,
    normalise_text,
    simhash,
)

POST = (
    "Заказала в Пятёрочке доставку на 19:00, курьер приехал в 22:40 и привёз тёплое молоко. "
    "Поддержка ответила шаблоном и предложила промокод на 100 рублей, больше не закажу."
)


def test_canonical_url_lowercases_scheme_and_host():
    assert canonical_url("HTTPS://Otzovik.COM/review_123.html") == "https://otzovik.com/review_123.html"


def test_canonical_url_strips_www_and_mobile_hosts():
    assert canonical_url("https://m.vk.com/wall-1_2") == "https://vk.com/wall-1_2"
    assert canonical_url("https://www.banki.ru/services/responses/") == "https://banki.ru/services/responses"


def test_canonical_url_keeps_a_second_level_domain_named_m():
    assert canonical_url("https://m.ru/news") == "https://m.ru/news"


def test_canonical_url_drops_fragment_and_tracking_params():
    url = (
        "https://lenta.ru/news/2025/03/01/magnit/?utm_source=tg&utm_medium=social&fbclid=x1"
        "&yclid=42&gclid=g&from=main&ref=feed#comments"
    )
    assert canonical_url(url) == "https://lenta.ru/news/2025/03/01/magnit"


def test_canonical_url_sorts_remaining_params():
    assert (
        canonical_url("https://irecommend.ru/content/otzyv?page=2&sort=new&utm_campaign=a")
        == "https://irecommend.ru/content/otzyv?page=2&sort=new"
    )
    assert canonical_url("https://site.ru/a?b=2&a=1") == canonical_url("https://site.ru/a?a=1&b=2")


def test_canonical_url_strips_trailing_slash_and_default_port():
    assert canonical_url("https://pikabu.ru:443/story/magnit/") == "https://pikabu.ru/story/magnit"


def test_canonical_url_reads_encoded_and_raw_cyrillic_paths_the_same():
    assert canonical_url("https://ru.wikipedia.org/wiki/Магнит_(сеть_магазинов)") == canonical_url(
        "https://ru.wikipedia.org/wiki/%D0%9C%D0%B0%D0%B3%D0%BD%D0%B8%D1%82_(%D1%81%D0%B5%D1%82%D1%8C_"
        "%D0%BC%D0%B0%D0%B3%D0%B0%D0%B7%D0%B8%D0%BD%D0%BE%D0%B2)"
    )


def test_canonical_url_leaves_non_web_urls_alone():
    assert canonical_url("  tg://resolve?domain=magnit  ") == "tg://resolve?domain=magnit"
    assert canonical_url("") == ""


def test_normalise_text_lowercases_and_replaces_yo():
    assert normalise_text("Ёлки, ПЯТЁРОЧКА!") == "елки пятерочка"


def test_normalise_text_drops_urls_handles_punctuation_and_emoji():
    text = "@magnit_official   спасибо!!! 😡😡 Смотрите: https://vk.com/wall-1_2?utm_source=x — ужас…"
    assert normalise_text(text) == "спасибо смотрите ужас"


def test_simhash_is_a_signed_64_bit_integer():
    values = [simhash(f"отзыв номер {n}") for n in range(50)]
    assert all(-(2**63) <= value < 2**63 for value in values)
    assert any(value < 0 for value in values)


def test_simhash_is_stable_across_runs():
    # Python's hash() is randomised per process; the fingerprint must not be.
    assert simhash("курьер опоздал на три часа и не извинился") == simhash(
        "курьер опоздал на три часа и не извинился"
    )
    assert simhash("") == 0


def test_copy_paste_with_different_punctuation_is_a_near_duplicate():
    copy = (
        "заказала в пятерочке доставку на 19 00 -- курьер приехал в 22:40, и привез теплое молоко!!! "
        "Поддержка ответила шаблоном и предложила промокод на 100 рублей... больше не закажу 😡"
    )
    assert is_near_duplicate(POST, copy)


def test_repost_with_prefix_is_a_near_duplicate():
    assert is_near_duplicate(POST, f"Репост: {POST}")
    assert is_near_duplicate(POST, f"Репост от @spb_news: {POST}")


def test_different_posts_are_not_near_duplicates():
    other = (
        "В Магните на Ленина открыли кассы самообслуживания, очередей стало меньше, "
        "но охранник всё равно проверяет чеки у каждого второго покупателя."
    )
    assert not is_near_duplicate(POST, other)


def test_short_texts_never_group_even_when_equal():
    assert not is_near_duplicate("Спасибо!", "Спасибо!")
    assert not is_near_duplicate("Спасибо за быструю доставку!", "Спасибо за быструю доставку!!")
    assert fingerprint("Спасибо за быструю доставку!") is None


def test_near_duplicates_share_at_least_one_fingerprint_band():
    rng = random.Random(7)
    for _ in range(2000):
        value = rng.getrandbits(64) - 2**63
        flipped = value
        for bit in rng.sample(range(64), MAX_HAMMING_DISTANCE):
            flipped ^= 1 << bit
        flipped = (flipped + 2**63) % 2**64 - 2**63
        assert hamming_distance(value, flipped) == MAX_HAMMING_DISTANCE
        assert set(enumerate(fingerprint_bands(value))) & set(enumerate(fingerprint_bands(flipped)))
