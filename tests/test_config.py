"""spiders.yaml validation: good files load into typed objects, bad ones fail in one line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import RssSource, SiteSource, load_config, parse_config, parse_duration
from monitor.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]

MINIMAL = """
brands:
  - name: Сбербанк
    aliases: [Сбер, Sber]
sources:
  - name: news
    type: rss
    urls: [http://127.0.0.1/feed.xml]
    interval: 15m
"""


def test_shipped_example_config_is_valid():
    config = load_config(REPO / "spiders.yaml")
    assert any(b.competitor for b in config.brands)
    assert {s.type for s in config.sources} >= {"rss", "site", "telegram", "vk"}


def test_demo_config_is_valid():
    from monitor.demo import demo_config_text

    config = parse_config(demo_config_text("http://127.0.0.1:1", "sqlite:///x.db"))
    assert config.sources


def test_minimal_config_loads_typed_sources():
    config = parse_config(MINIMAL)
    source = config.sources[0]
    assert isinstance(source, RssSource)
    assert source.interval == 900
    assert config.brands[0].terms == ["Сбербанк", "Сбер", "Sber"]


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("15m", 900), ("1h", 3600), ("1d", 86400), (120, 120)]
)
def test_durations_parse(text, seconds):
    assert parse_duration(text) == seconds


def test_unknown_key_names_file_line_and_key_path():
    bad = MINIMAL.replace("aliases:", "aliasses:")
    with pytest.raises(ConfigError) as err:
        parse_config(bad, "spiders.yaml")
    assert str(err.value) == "spiders.yaml:4: brands[0].aliasses: unknown key"


def test_unknown_source_type_lists_known_types():
    with pytest.raises(ConfigError) as err:
        parse_config(MINIMAL.replace("type: rss", "type: rsss"))
    message = str(err.value)
    assert "sources[0]" in message and "'rsss'" in message and "rss, site, telegram, vk" in message


def test_wrong_type_is_reported_with_line():
    with pytest.raises(ConfigError) as err:
        parse_config(MINIMAL.replace("interval: 15m", "interval: soon"))
    assert str(err.value).startswith("spiders.yaml:9: sources[0].interval: expected a duration")


def test_malformed_yaml_is_one_line_with_line_number():
    with pytest.raises(ConfigError) as err:
        parse_config("brands:\n  - name: [unclosed\n", "cfg.yaml")
    message = str(err.value)
    assert message.startswith("cfg.yaml:") and "not valid YAML" in message and "\n" not in message


def test_missing_file_is_reported_by_path(tmp_path):
    with pytest.raises(ConfigError, match="nowhere.yaml: file not found"):
        load_config(tmp_path / "nowhere.yaml")


def test_password_in_storage_url_is_refused():
    bad = MINIMAL + "storage:\n  url: postgresql://bp:hunter2@db/bp\n"
    with pytest.raises(ConfigError) as err:
        parse_config(bad)
    assert "DATABASE_URL" in str(err.value)
    assert "hunter2" not in str(err.value)


def test_duplicate_source_names_are_refused():
    doubled = MINIMAL + "  - name: news\n    type: rss\n    urls: [http://127.0.0.1/b.xml]\n"
    with pytest.raises(ConfigError, match="'news' is used twice"):
        parse_config(doubled)


def test_alert_rule_naming_unknown_brand_is_refused():
    bad = MINIMAL + "alerts:\n  rules:\n    - name: r\n      brands: [Тинькофф]\n"
    with pytest.raises(ConfigError, match="unknown brand 'Тинькофф'"):
        parse_config(bad)


def test_site_source_needs_a_start():
    bad = MINIMAL + "  - name: reviews\n    type: site\n    preset: otzovik\n"
    with pytest.raises(ConfigError, match="start_urls or search_url"):
        parse_config(bad)


def test_site_source_with_search_template_loads():
    good = (
        MINIMAL
        + "  - name: reviews\n    type: site\n    preset: otzovik\n    search_url: http://127.0.0.1/?q={query}\n"
    )
    source = parse_config(good).sources[1]
    assert isinstance(source, SiteSource) and source.preset == "otzovik"


def test_config_without_brands_is_refused():
    with pytest.raises(ConfigError, match="brands"):
        parse_config("sources: []\n")


def test_claim_lease_shorter_than_two_minutes_is_rejected_naming_the_key():
    text = MINIMAL + "alerts:\n  telegram:\n    claim_lease: 30s\n"
    with pytest.raises(ConfigError) as err:
        parse_config(text, "spiders.yaml")
    message = str(err.value)
    assert "alerts.telegram.claim_lease" in message and "at least 120 s" in message and "\n" not in message


def test_time_zone_that_names_a_folder_is_a_config_error():
    # ZoneInfo("Europe") raises IsADirectoryError, not ZoneInfoNotFoundError.
    text = "brands: [{name: ВкусМаркет}]\nalerts:\n  digests:\n    - {kind: daily, timezone: Europe}\n"
    with pytest.raises(ConfigError, match="timezone"):
        parse_config(text, "spiders.yaml")


def test_a_key_given_twice_is_refused_with_both_lines():
    text = "brands:\n  - name: ВкусМаркет\n    aliases: [Вкус Маркет]\n    name: Магнит\n"
    with pytest.raises(ConfigError, match=r"^spiders.yaml:4: key 'name' given twice \(first on line 2\)"):
        parse_config(text)


def test_the_same_key_in_two_brands_is_fine():
    config = parse_config("brands:\n  - name: ВкусМаркет\n  - name: Магнит\n")
    assert [b.name for b in config.brands] == ["ВкусМаркет", "Магнит"]


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        (
            "max_pages: 100000000000000000000",
            "sources[0].max_pages: Input should be less than or equal to 10000",
        ),
        ("timeout: .inf", "sources[0].timeout: Input should be a finite number"),
        ("timeout: .nan", "sources[0].timeout: Input should be a finite number"),
        ("interval: 9999d", "sources[0].interval: Input should be less than or equal to"),
        ("max_bytes: 99999999999", "sources[0].max_bytes: Input should be less than or equal to"),
    ],
)
def test_absurd_numbers_are_refused_with_one_line(setting, problem):
    text = (
        f"brands:\n  - name: X\nsources:\n  - name: s\n    type: telegram\n    channels: [a]\n    {setting}\n"
    )
    with pytest.raises(ConfigError) as error:
        parse_config(text)
    assert str(error.value).startswith(f"spiders.yaml:7: {problem}")
    assert "\n" not in str(error.value)
