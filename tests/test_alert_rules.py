"""Which scored mentions become alerts, and for which chats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerts.rules import ScoredMention, decide
from monitor.config import Config, parse_config

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

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
    - name: much-discussed
      sources: [forum]
      min_negative_score: 0.5
      min_engagement: 100
      chat_ids: [-300]
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


def urgent(mention: ScoredMention, config=CONFIG) -> bool:
    decisions = decide(mention, config, NOW)
    assert decisions, "the mention should raise an alert"
    return all(d.urgent for d in decisions)


def test_rule_with_min_engagement_needs_that_many_likes_reposts_and_comments():
    assert chats(scored(score=0.6, engagement=100)) == {"-300"}
    assert chats(scored(score=0.6, engagement=99)) == set()


def test_engagement_growing_fast_is_urgent():
    assert urgent(scored(published_at=NOW - timedelta(hours=1), engagement=60))


def test_engagement_growing_slowly_is_not_urgent():
    assert not urgent(scored(published_at=NOW - timedelta(hours=10), engagement=60))


def test_a_few_reactions_in_a_fresh_posts_first_minutes_are_not_urgent():
    # 20 reactions in 2 minutes count as 20 in half an hour: 40 an hour, under the default 50.
    assert not urgent(scored(published_at=NOW - timedelta(minutes=2), engagement=20))


def test_engagement_without_a_publication_time_is_not_urgent():
    assert not urgent(scored(published_at=None, engagement=10_000))


def with_alerts(**settings) -> Config:
    return CONFIG.model_copy(update={"alerts": CONFIG.alerts.model_copy(update=settings)})


def test_engagement_rate_for_urgency_comes_from_the_config():
    config = with_alerts(urgent_engagement_per_hour=5)
    assert urgent(scored(published_at=NOW - timedelta(hours=2), engagement=10), config)


def test_reach_for_urgency_comes_from_the_config():
    assert urgent(scored(reach=500), with_alerts(urgent_reach=500))


def test_a_post_weeks_old_when_first_collected_is_not_alerted():
    old = scored(published_at=NOW - timedelta(days=14), collected_at=NOW)
    assert decide(old, CONFIG, NOW) == []


def test_a_post_collected_while_fresh_still_alerts_when_it_spreads_days_later():
    spreading = scored(
        published_at=NOW - timedelta(days=3), collected_at=NOW - timedelta(days=3, minutes=-30)
    )
    assert {d.chat_id for d in decide(spreading, CONFIG, NOW)} == {"-100"}


def test_without_a_collection_time_the_age_counts_until_now():
    assert decide(scored(published_at=NOW - timedelta(days=3)), CONFIG, NOW) == []
    assert decide(scored(published_at=NOW - timedelta(days=1)), CONFIG, NOW) != []


def test_post_age_limit_comes_from_the_config_and_can_be_turned_off():
    week_old = scored(published_at=NOW - timedelta(days=7), collected_at=NOW)
    assert decide(week_old, with_alerts(max_post_age=0), NOW) != []
    config = parse_config("brands:\n  - name: ВкусМаркет\nalerts:\n  max_post_age: 12h\n")
    assert config.alerts.max_post_age == 12 * 3600
    assert parse_config("brands:\n  - name: X\nalerts:\n  max_post_age: off\n").alerts.max_post_age == 0
