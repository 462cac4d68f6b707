"""Alert fatigue decisions (pure) and the digest text: batching, cool-down, quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.batches import DigestEntry, digest_parts
from alerts.fatigue import (
    BURST,
    COOLDOWN,
    QUIET,
    ChatHistory,
    ChatPolicy,
    DueAlert,
    chat_policy,
    plan_chat,
    quiet_until,
)
from alerts.keyboard import CALLBACK_LIMIT, alert_keyboard, parse_callback
from alerts.messages import TELEGRAM_LIMIT
from monitor.config import QuietHours, parse_config
from monitor.errors import ConfigError

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # 15:00 in Moscow
NIGHT = QuietHours(start="23:00", end="08:00", timezone="Europe/Moscow")


def policy(**overrides) -> ChatPolicy:
    fields = dict(
        batch_over=5,
        batch_window=timedelta(minutes=10),
        batch_max_messages=3,
        cooldown=None,
        quiet_hours=None,
    )
    fields.update(overrides)
    return ChatPolicy(**fields)


def negatives(n: int, brand: str = "ВкусМаркет", urgent: bool = False, start: int = 1) -> list[DueAlert]:
    return [DueAlert(i, "negative", brand, urgent) for i in range(start, start + n)]


def test_alerts_within_the_allowance_go_out_one_by_one():
    plan = plan_chat(negatives(5), ChatHistory(), policy(), NOW)
    assert plan.send == [1, 2, 3, 4, 5] and not plan.folds and not plan.holds


def test_alerts_over_the_allowance_fold_into_one_burst_digest():
    plan = plan_chat(negatives(12), ChatHistory(), policy(), NOW)
    assert plan.send == [1, 2, 3, 4, 5]
    assert plan.folds == {BURST: [6, 7, 8, 9, 10, 11, 12]}


def test_alerts_sent_earlier_in_the_window_use_up_the_allowance():
    plan = plan_chat(negatives(3), ChatHistory(sent_in_window=4), policy(), NOW)
    assert plan.send == [1] and plan.folds == {BURST: [2, 3]}


def test_second_burst_in_one_window_waits_for_the_next_digest():
    last_digest = NOW - timedelta(minutes=4)
    plan = plan_chat(
        negatives(3), ChatHistory(sent_in_window=5, last_burst_digest_at=last_digest), policy(), NOW
    )
    assert plan.send == [] and not plan.folds
    assert {(h.until, h.reason) for h in plan.holds} == {(last_digest + timedelta(minutes=10), BURST)}


def test_alert_that_waited_goes_into_a_digest_of_its_reason_when_due():
    due = [DueAlert(1, "negative", "ВкусМаркет", False, hold_reason=BURST)]
    assert plan_chat(due, ChatHistory(), policy(), NOW).folds == {BURST: [1]}


def test_other_kinds_are_never_held_or_folded():
    due = [DueAlert(1, "health", None, True), *negatives(8, start=2)]
    plan = plan_chat(due, ChatHistory(sent_in_window=5), policy(quiet_hours=NIGHT), NOW)
    assert plan.send == [1]


def test_cooldown_holds_more_alerts_about_the_same_brand():
    due = negatives(3) + negatives(1, brand="Ромашка", start=4)
    plan = plan_chat(due, ChatHistory(), policy(cooldown=timedelta(minutes=30)), NOW)
    assert plan.send == [1, 4]
    assert [(h.alert_id, h.until, h.reason) for h in plan.holds] == [
        (2, NOW + timedelta(minutes=30), COOLDOWN),
        (3, NOW + timedelta(minutes=30), COOLDOWN),
    ]


def test_cooldown_counts_from_the_last_alert_sent_earlier():
    earlier = NOW - timedelta(minutes=20)
    history = ChatHistory(last_alert_by_brand={"ВкусМаркет": earlier})
    plan = plan_chat(negatives(1), history, policy(cooldown=timedelta(minutes=30)), NOW)
    assert plan.holds[0].until == earlier + timedelta(minutes=30)


def test_quiet_hours_hold_alerts_until_they_end():
    night = datetime(2026, 11, 20, 22, 30, tzinfo=UTC)  # 01:30 in Moscow
    plan = plan_chat(negatives(2), ChatHistory(), policy(quiet_hours=NIGHT), night)
    ends = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)  # 08:00 in Moscow
    assert [(h.alert_id, h.until, h.reason) for h in plan.holds] == [(1, ends, QUIET), (2, ends, QUIET)]


def test_urgent_alert_bypasses_quiet_hours_only_when_configured():
    night = datetime(2026, 11, 20, 22, 30, tzinfo=UTC)
    due = negatives(1, urgent=True)
    assert plan_chat(due, ChatHistory(), policy(quiet_hours=NIGHT), night).send == []
    bypass = NIGHT.model_copy(update={"urgent_bypass": True})
    assert plan_chat(due, ChatHistory(), policy(quiet_hours=bypass), night).send == [1]


@pytest.mark.parametrize(
    ("utc_time", "ends_at"),
    [
        (datetime(2026, 11, 20, 20, 0, tzinfo=UTC), datetime(2026, 11, 21, 5, 0, tzinfo=UTC)),  # 23:00 MSK
        (datetime(2026, 11, 21, 4, 59, tzinfo=UTC), datetime(2026, 11, 21, 5, 0, tzinfo=UTC)),  # 07:59 MSK
        (datetime(2026, 11, 21, 5, 0, tzinfo=UTC), None),  # 08:00 MSK: over
        (datetime(2026, 11, 20, 19, 59, tzinfo=UTC), None),  # 22:59 MSK: not yet
    ],
)
def test_quiet_hours_spanning_midnight(utc_time, ends_at):
    assert quiet_until(NIGHT, utc_time) == ends_at


def test_daytime_quiet_hours():
    lunch = QuietHours(start="13:00", end="14:00", timezone="UTC")
    assert quiet_until(lunch, datetime(2026, 1, 1, 13, 30, tzinfo=UTC)) == datetime(
        2026, 1, 1, 14, 0, tzinfo=UTC
    )
    assert quiet_until(lunch, datetime(2026, 1, 1, 14, 0, tzinfo=UTC)) is None


CONFIG = """
brands: [{name: ВкусМаркет}]
alerts:
  telegram:
    chat_ids: [-100, -200]
    batch_over: 10
    batch_window: 15m
    cooldown: 30m
    quiet_hours: {start: "23:00", end: "08:00"}
    per_chat:
      -200: {batch_over: 2, cooldown: off, quiet_hours: off}
"""


def test_per_chat_settings_override_the_defaults():
    telegram = parse_config(CONFIG).alerts.telegram
    default, override = chat_policy(telegram, "-100"), chat_policy(telegram, "-200")
    assert (default.batch_over, default.batch_window, default.cooldown) == (
        10,
        timedelta(minutes=15),
        timedelta(minutes=30),
    )
    assert default.quiet_hours is not None and default.quiet_hours.start == "23:00"
    assert (override.batch_over, override.batch_window, override.cooldown, override.quiet_hours) == (
        2,
        timedelta(minutes=15),
        None,
        None,
    )


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ('quiet_hours: {start: "25:00", end: "08:00"}', "expected a time of day"),
        ('quiet_hours: {start: "23:00", end: "08:00", timezone: Mars/Olympus}', "unknown time zone"),
        ("batch_over: 0", "greater than or equal to 1"),
    ],
)
def test_bad_fatigue_settings_are_refused_with_the_key(setting, problem):
    text = f"brands: [{{name: A}}]\nalerts:\n  telegram:\n    {setting}\n"
    with pytest.raises(ConfigError, match=problem):
        parse_config(text)


def entry(n: int, text: str = "Купила в ВкусМаркете просрочку") -> DigestEntry:
    return DigestEntry(
        brand="ВкусМаркет",
        source="otzovik",
        url=f"https://otzovik.com/review_{n}.html",
        text=text,
        span_start=9,
        span_end=20,
    )


def test_small_digest_lists_every_mention_with_brand_source_snippet_and_link():
    [part] = digest_parts(BURST, [entry(1), entry(2)], total=2, max_messages=3)
    assert part.listed == 2 and "2 негативных упоминания" in part.text
    assert part.text.count("• <b>ВкусМаркет</b> · otzovik: «Купила в ВкусМаркете") == 2
    assert 'href="https://otzovik.com/review_2.html"' in part.text and "и ещё" not in part.text


def test_digest_escapes_user_text():
    [part] = digest_parts(QUIET, [entry(1, text='В ВкусМаркете <b>хамят</b> & "<script>"')], 1, 1)
    assert "&lt;b&gt;хамят&lt;/b&gt;" in part.text and "<script>" not in part.text and "&amp;" in part.text


def test_big_digest_splits_into_parts_within_the_limit_and_counts_the_rest():
    total = 10_000
    parts = digest_parts(BURST, [entry(n) for n in range(200)], total, max_messages=3)
    assert len(parts) == 3
    assert all(len(p.text) <= TELEGRAM_LIMIT for p in parts)
    assert "(часть 1 из 3)" in parts[0].text
    listed = sum(p.listed for p in parts)
    assert all(p.text.count("\n• ") + p.text.startswith("• ") == p.listed for p in parts)
    rest = f"{total - listed:,}".replace(",", " ")
    assert f"и ещё {rest} — см. дашборд" in parts[-1].text


def test_digest_of_a_deleted_mention_falls_back_to_the_alert_text():
    [part] = digest_parts(COOLDOWN, [DigestEntry(fallback="⚠️ Негативное упоминание\nБренд: X")], 1, 1)
    assert "• ⚠️ Негативное упоминание Бренд: X" in part.text and "1 негативное упоминание" in part.text


def test_buttons_carry_the_mention_and_status_within_64_bytes():
    keyboard = alert_keyboard(2_147_483_647)
    buttons = keyboard["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["Беру в работу", "Не релевантно"]
    assert all(len(b["callback_data"].encode()) <= CALLBACK_LIMIT for b in buttons)
    changes = [parse_callback(b["callback_data"]) for b in buttons]
    assert [(c.mention_id, c.status) for c in changes if c] == [
        (2_147_483_647, "in_progress"),
        (2_147_483_647, "ignored"),
    ]


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "st:1:resolved",
        "st:x:ignored",
        "other:1:ignored",
        "st:1",
        "st:²:ignored",
        "st:2147483648:ignored",
    ],
)
def test_callback_data_that_is_not_ours_is_ignored(data):
    assert parse_callback(data) is None
