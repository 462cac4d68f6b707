"""The label a mention gets: the model's, unless the author said it with a rating.

Review sites hand us the author's own verdict (otzovik / irecommend stars, banki.ru grades, 1 to 5).
A 1-2 star review is a complaint and a 4-5 star one is not, whatever the words; a 3-star review
(or none) is left to the model. Both labels are kept, with which one decided.
"""

from __future__ import annotations

from dataclasses import dataclass

RATING_SCALE = 5.0
NEGATIVE_AT_MOST = 2.0
POSITIVE_AT_LEAST = 4.0


@dataclass(frozen=True)
class Verdict:
    label: str
    score: float
    decided_by: str  # "model" or "rating"
    model_label: str
    model_score: float
    rating_label: str | None


def rating_label(rating: float | None) -> str | None:
    """negative for 1-2 stars, positive for 4-5, None for 3 stars, no rating or an off-scale value."""
    if rating is None or not 0 < rating <= RATING_SCALE:
        return None
    if rating <= NEGATIVE_AT_MOST:
        return "negative"
    if rating >= POSITIVE_AT_LEAST:
        return "positive"
    return None


def decide(model_label: str, model_score: float, rating: float | None) -> Verdict:
    by_rating = rating_label(rating)
    if by_rating is None:
        return Verdict(model_label, model_score, "model", model_label, model_score, None)
    # The author's own verdict is certain; the model's stays beside it for the dashboard and training.
    return Verdict(by_rating, 1.0, "rating", model_label, model_score, by_rating)
