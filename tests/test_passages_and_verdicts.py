"""What the model reads of a post, and when a review's own rating decides its label."""

from __future__ import annotations

import pytest

from sentiment.passages import PASSAGE_CHARS, around_mention, passage, review_passage, sentences
from sentiment.verdict import decide, rating_label

FILLER = "Сегодня на районе открыли новый парк, дети довольны, погода тоже радует. " * 12


def test_a_short_post_is_read_whole():
    text = "Во ВкусМаркете опять очередь на кассе. Зато хлеб свежий!"
    assert around_mention(text, 3, 14) == text


def test_a_long_post_is_read_around_the_brand():
    complaint = "А во ВкусМаркете мне продали просроченный творог, кассир нахамила."
    text = FILLER + complaint + " " + FILLER
    start = text.index("ВкусМаркете")
    read = around_mention(text, start, start + len("ВкусМаркете"))
    assert complaint in read
    assert len(read) <= PASSAGE_CHARS
    assert read.startswith(("Сегодня", "А во"))  # whole sentences, never half a word


def test_a_sentence_longer_than_the_budget_is_cut_around_the_brand_at_spaces():
    words = " ".join(["слово"] * 300)
    text = words + " ВкусМаркет обманул " + words
    start = text.index("ВкусМаркет")
    read = around_mention(text, start, start + 10)
    assert "ВкусМаркет обманул" in read and len(read) <= PASSAGE_CHARS
    assert read.split()[0] == "слово" and read.split()[-1] == "слово"


def test_sentences_end_at_marks_quotes_and_line_breaks():
    text = "Первое! «Второе?» Третье…\nЧетвёртое"
    assert [text[s:e] for s, e in sentences(text)] == ["Первое!", "«Второе?»", "Третье…", "Четвёртое"]


@pytest.mark.parametrize(
    "cons",
    [
        "Недостатки: нет.",
        "Недостатки: не обнаружила",
        "Минусы: -",
        "недостатки: отсутствуют!",
        "Недостатки: нету",
    ],
)
def test_a_review_section_that_lists_no_drawbacks_is_left_out(cons):
    review = f"Достоинства: вежливые кассиры, свежие овощи. {cons}\nОтзыв: хожу каждый день."
    read = review_passage(review)
    assert "едостатки" not in read and "инусы" not in read
    assert "вежливые кассиры" in read and "хожу каждый день" in read


def test_real_drawbacks_stay_in_the_review():
    review = "Достоинства: рядом с домом. Недостатки: нет пакетов на кассе, грязно.\nОтзыв: так себе."
    assert "Недостатки: нет пакетов на кассе, грязно." in review_passage(review)


def test_a_review_is_read_from_its_start_and_a_post_around_the_brand():
    review = "Достоинства: быстро. Недостатки: нет. " + FILLER + " ВкусМаркет"
    start = review.index("ВкусМаркет")
    assert passage(review, "review", start, start + 10).startswith("Достоинства: быстро.")
    assert passage(review, "post", start, start + 10).endswith("ВкусМаркет")


@pytest.mark.parametrize(
    ("rating", "label"),
    [
        (1, "negative"),
        (2, "negative"),
        (2.5, None),
        (3, None),
        (4, "positive"),
        (5, "positive"),
        (None, None),
        (0, None),
        (10, None),
    ],
)
def test_stars_give_a_label_except_three_none_or_off_scale(rating, label):
    assert rating_label(rating) == label


def test_a_five_star_review_is_not_a_complaint_whatever_the_words():
    verdict = decide("negative", 0.91, 5)
    assert (verdict.label, verdict.decided_by, verdict.model_label) == ("positive", "rating", "negative")


def test_a_one_star_review_is_a_complaint_and_the_model_decides_without_stars():
    assert decide("neutral", 0.6, 1).label == "negative"
    unrated = decide("neutral", 0.6, None)
    assert (unrated.label, unrated.score, unrated.decided_by) == ("neutral", 0.6, "model")
    assert decide("negative", 0.8, 3).decided_by == "model"
