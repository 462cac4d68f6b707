"""How fast BrandMatcher.find runs on one core: short posts per second, and one 1 MB text.

Usage, from the repository root:

.venv/bin/python bench/matching.py                 # 20,000 generated VK/Telegram-style posts
.venv/bin/python bench/matching.py --file posts.txt  # your own texts, one per line
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from monitor.config import BrandConfig
from monitor.matching import BrandMatcher

BRANDS = [
    BrandConfig(name="Сбербанк", aliases=["Сбер", "Sber", "Sberbank", "СберБанк Онлайн"]),
    BrandConfig(name="Тинькофф", aliases=["Tinkoff", "Тиньков", "Т-Банк"], exclude=["Олег Тиньков"]),
    BrandConfig(
        name="Альфа-Банк", aliases=["Альфа", "Alfa", "Альфа Банк"], context=["банк", "карта", "кредит"]
    ),
    BrandConfig(name="ВТБ", aliases=["VTB"]),
    BrandConfig(name="МегаФон", aliases=["Megafon"], exclude=["кричать в мегафон", "в мегафон"]),
    BrandConfig(name="МТС", aliases=["MTS"]),
    BrandConfig(name="Билайн", aliases=["Beeline"]),
    BrandConfig(name="Магнит", aliases=["Magnit"], context=["магазин", "покупка", "кассир", "скидка", "чек"]),
    BrandConfig(name="Пятёрочка", aliases=["5ка"], context=["магазин", "кассир", "скидка", "акция"]),
    BrandConfig(name="Лента", aliases=["Lenta"], context=["магазин", "гипермаркет", "кассир", "скидка"]),
    BrandConfig(name="Озон", aliases=["Ozon"], context=["заказ", "доставка", "пвз", "маркетплейс"]),
    BrandConfig(name="Wildberries", aliases=["WB", "Вайлдберриз", "ВБ"], query="NOT (вб AND ватт)"),
    BrandConfig(name="Почта России", aliases=["Почта"], context=["посылка", "отделение", "трек"]),
    BrandConfig(name="Мир", aliases=["карта Мир"], context=["карта", "оплата", "платёж"]),
    BrandConfig(name="Яндекс", aliases=["Yandex", "Яндекс Маркет"], competitor=True),
]

_OPENERS = ["", "Короче, ", "Люди, ", "Ну вот ", "Опять ", "Девочки, ", "Кто знает, ", "Итак, "]
_BODIES = [
    "в {b} очередь на час, кассир один на весь зал",
    "{b} заблокировал карту без объяснений, поддержка молчит уже третий день",
    "перевела деньги через {b} а они зависли",
    "заказала на {b} куртку, доставка через неделю",
    "повесила магнит на холодильник, теперь красиво",
    "купили мегафон для митинга, кричали в мегафон весь день",
    "спасибо {b} за быстрое решение вопроса",
    "в {b} скидки на сыр, кто успел?",
    "#{t} лучший, всем советую",
    "подписывайтесь на @{t}_official там розыгрыш",
    "лента новостей сегодня скучная, мир сошел с ума",
    "почта не приходит на телефон, пароль не сбросить",
    "погода отличная, гуляли в парке до вечера",
    "у нас в городе открыли новый ТЦ, парковка бесплатная",
    "{b} опять поднял тарифы, перехожу к другому оператору",
]
_ENDINGS = ["", "!!!", " 😡", " 👍👍", "...", " ((", " ))", " 🔥🔥🔥", "?"]
_BRAND_WORDS = [
    "Сбербанке",
    "сбере",
    "Тинькофф",
    "Тинькоффа",
    "Альфа-Банке",
    "ВТБ",
    "МегаФоне",
    "МТСе",
    "Билайн",
    "Магните",
    "пятерочке",
    "Ленте",
    "озоне",
    "Почте России",
    "Яндексе",
    "вб",
    "Wildberries",
]
_TAGS = ["сбербанк", "СберБанк", "tinkoff", "МегаФон", "mts", "магнит", "ozon", "пятерочка"]


def generate_posts(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    posts = []
    for _ in range(count):
        body = rng.choice(_BODIES).format(b=rng.choice(_BRAND_WORDS), t=rng.choice(_TAGS))
        extra = " ".join(
            rng.choice(_BODIES).format(b="магазине", t="новости") for _ in range(rng.randint(0, 2))
        )
        posts.append(f"{rng.choice(_OPENERS)}{body}. {extra}{rng.choice(_ENDINGS)}")
    return posts


def add_unseen_words(posts: list[str], per_post: int = 6, seed: int = 13) -> list[str]:
    """Pessimistic variant: every post gets made-up words no cache has seen (pymorphy3 must guess)."""
    rng = random.Random(seed)
    syllables = "ма гни сбе ро тин ль фа по чт ле нта зо кра ви ду".split()

    def word() -> str:
        return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))

    return [post + " " + " ".join(word() for _ in range(per_post)) for post in posts]


def run(matcher: BrandMatcher, label: str, texts: list[str]) -> None:
    started = time.perf_counter()
    mentions = sum(len(matcher.find(text)) for text in texts)
    elapsed = time.perf_counter() - started
    chars = sum(map(len, texts)) / len(texts)
    print(
        f"{label}: {len(texts)} texts (avg {chars:.0f} chars), {mentions} mentions, "
        f"{elapsed:.2f}s = {len(texts) / elapsed:,.0f} texts/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--file", type=Path, help="texts to match, one per line")
    parser.add_argument("--count", type=int, default=20_000, help="generated posts (without --file)")
    args = parser.parse_args()

    started = time.perf_counter()
    matcher = BrandMatcher.from_config(BRANDS)
    print(f"compile: {len(BRANDS)} brands in {time.perf_counter() - started:.2f}s")

    if args.file:
        texts = args.file.read_text(encoding="utf-8").splitlines()
    else:
        texts = generate_posts(args.count)
    matcher.find(texts[0])  # loads the pymorphy3 dictionaries
    run(matcher, "short posts", texts)
    if not args.file:
        run(
            matcher, "short posts + 6 unseen words each", add_unseen_words(generate_posts(args.count, seed=8))
        )

    big = " ".join(generate_posts(20_000, seed=11))[:1_000_000]
    started = time.perf_counter()
    found = matcher.find(big)
    print(f"one 1 MB text: {len(found)} brands found in {time.perf_counter() - started:.2f}s")


if __name__ == "__main__":
    main()
