"""Alert texts: Russian, escaped for Telegram HTML, brand in bold, within 4,096 characters."""

from __future__ import annotations

from datetime import UTC, datetime

from alerts.messages import TELEGRAM_LIMIT, highlighted_snippet, negative_alert
from alerts.rules import ScoredMention


def mention(text: str, brand_word: str = "ВкусМаркете", **overrides) -> ScoredMention:
    start = text.index(brand_word)
    fields = dict(
        mention_id=1,
        brand="ВкусМаркет",
        competitor=False,
        source="otzovik",
        source_type="site",
        url="https://otzovik.com/review_123.html",
        author="Ирина К.",
        text=text,
        span_start=start,
        span_end=start + len(brand_word),
        published_at=datetime(2026, 11, 20, 9, 15, tzinfo=UTC),
        label="negative",
        score=0.91,
        reach=1200,
        engagement=14,
    )
    fields.update(overrides)
    return ScoredMention(**fields)


def test_alert_names_brand_source_author_reach_and_link():
    text = negative_alert(mention("Купила в ВкусМаркете просроченный творог, больше ни ногой"), urgent=False)
    assert "<b>ВкусМаркет</b>" in text
    assert "otzovik" in text and "Ирина К." in text and "1 200" in text
    assert 'href="https://otzovik.com/review_123.html"' in text
    assert "негатив (0.91)" in text


def test_user_html_arrives_as_literal_text():
    evil = 'В ВкусМаркете <b>хамят</b> <a href="http://evil">тут</a> & <script>alert(1)</script>'
    text = negative_alert(mention(evil, author="<i>Хакер</i>"), urgent=False)
    assert "&lt;b&gt;хамят&lt;/b&gt;" in text
    assert "&lt;a href=&quot;http://evil&quot;&gt;" in text or '&lt;a href="http://evil"&gt;' in text
    assert "&amp;" in text and "<script>" not in text
    assert "&lt;i&gt;Хакер&lt;/i&gt;" in text


def test_brand_is_highlighted_in_snippet():
    snippet = highlighted_snippet("Был в ВкусМаркете вчера", 6, 17)
    assert snippet == "Был в <b>ВкусМаркете</b> вчера"


def test_long_text_is_cut_around_the_brand():
    text = "а" * 5000 + " ВкусМаркете обсчитали " + "б" * 5000
    snippet = highlighted_snippet(text, 5001, 5012, width=100)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<b>ВкусМаркете</b>" in snippet and len(snippet) < 200


def test_message_fits_telegram_limit_even_when_all_text_needs_escaping():
    text = "ВкусМаркете " + '<&>"' * 20000
    message = negative_alert(mention(text), urgent=True)
    assert len(message) <= TELEGRAM_LIMIT
    assert message.count("<b>") == message.count("</b>")


def test_urgent_alert_is_marked():
    assert "Срочно" in negative_alert(mention("ВкусМаркете хамят", reach=50_000), urgent=True)


def test_alert_time_is_the_time_staff_read_not_utc(monkeypatch):
    monkeypatch.delenv("BRANDPULSE_TIMEZONE", raising=False)
    assert "Время: 20.11.2026 12:15 МСК" in negative_alert(mention("ВкусМаркете хамят"), urgent=False)
    monkeypatch.setenv("BRANDPULSE_TIMEZONE", "Asia/Yekaterinburg")
    text = negative_alert(mention("ВкусМаркете хамят"), urgent=False)
    assert "Время: 20.11.2026 14:15 Asia/Yekaterinburg" in text


def test_unknown_reach_and_reactions_are_left_out_rather_than_zero():
    text = negative_alert(mention("ВкусМаркете хамят", reach=0, engagement=0), urgent=False)
    assert "охват" not in text and "реакций" not in text
    assert "Автор: Ирина К.\n" in text
    assert "охват 27 400 · реакций 14" in negative_alert(
        mention("ВкусМаркете хамят", reach=27_400), urgent=False
    )
