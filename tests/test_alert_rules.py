"""Which scored mentions become alerts, and for which chats."""

from __future__ import annotations

from alerts.rules import ScoredMention, decide
from monitor.config import parse_config

CONFIG = parse_config("""
brands:
  - name: ВкусМаркет
  - name: Магнит
    competitor: true
sources:
  - name: otzovik
    type: rss
    urls: [http://127.0.0.1/a.xml]
  - name: forum
    type: rss
    urls: [http://127.0.0.1/b.xml]
alerts:
  telegram:
    chat_ids: [-100]
  rules:
    - name: ours
      min_negative_score: 0.7
    - name: loud-on-otzovik
      sources: [otzovik]
      min_negative_score: 0.5
      min_reach: 10000
      chat_ids: [-200]
    - name: rival-watch
      brands: [Магнит]
      chat_ids: ["@marketing"]
""")


def scored(**overrides) -> ScoredMention:
    fields = dict(
        mention_id=1,
        brand="ВкусМаркет",
        competitor=False,
        source="forum",
        source_type="rss",
        url="http://x",
        author=None,
        text="ВкусМаркет",
        span_start=0,
        span_end=10,
        published_at=None,
        label="negative",
        score=0.9,
        reach=0,
        engagement=0,
    )
    fields.update(overrides)
    return ScoredMention(**fields)


def chats(mention: ScoredMention) -> set[str]:
    return {d.chat_id for d in decide(mention, CONFIG)}


def test_negative_mention_of_our_brand_goes_to_default_chats():
    assert chats(scored()) == {"-100"}


def test_positive_mention_raises_no_alert():
    assert chats(scored(label="positive", score=0.99)) == set()


def test_score_below_rule_threshold_raises_no_alert():
    assert chats(scored(score=0.6)) == set()


def test_rule_with_reach_and_source_filters():
    assert chats(scored(source="otzovik", score=0.6, reach=20_000)) == {"-200"}
    assert chats(scored(source="forum", score=0.6, reach=20_000)) == set()


def test_competitor_only_alerts_rules_that_name_it():
    assert chats(scored(brand="Магнит", competitor=True)) == {"@marketing"}


def test_high_reach_is_urgent():
    decisions = decide(scored(reach=50_000, source="otzovik"), CONFIG)
    assert decisions and all(d.urgent for d in decisions)
