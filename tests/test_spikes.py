"""The spike detector on hand-made series: counts of one hour against the same hour on earlier days."""

from __future__ import annotations

import pytest

from alerts.spikes import SpikeSettings, detect_spike, poisson_threshold, poisson_upper_tail

QUIET = [0] * 14
# A lively brand: about 100 mentions in this hour, swinging more than Poisson noise would.
BUSY = [80, 120, 100, 90, 110, 100, 95, 105, 130, 70, 100, 100, 90, 110]  # mean 100, σ ≈ 15.3
# A small brand: one or two mentions in this hour.
SMALL = [1, 2, 1, 0, 2, 1, 1, 2, 0, 1, 2, 1, 1, 2]  # mean ≈ 1.2, σ ≈ 0.7


def test_two_mentions_after_two_quiet_weeks_are_not_a_spike():
    verdict = detect_spike(2, QUIET)
    assert not verdict.spike and not verdict.baseline_too_short


def test_fewer_days_than_min_history_is_baseline_too_short():
    verdict = detect_spike(500, [0, 1], SpikeSettings(min_history_days=3))
    assert verdict.baseline_too_short and not verdict.spike
    assert verdict.history_days == 2 and "baseline too short" in verdict.reason


def test_exactly_min_history_days_is_judged():
    verdict = detect_spike(500, [0, 1, 0], SpikeSettings(min_history_days=3))
    assert verdict.spike and verdict.history_days == 3


def test_count_above_mean_plus_three_sigma_is_a_spike():
    verdict = detect_spike(150, BUSY)
    assert verdict.spike
    assert verdict.baseline is not None
    assert verdict.baseline.bound_by == "sigma" and verdict.baseline.threshold == 146


def test_count_within_three_sigma_of_a_swinging_brand_is_not_a_spike():
    # 140 would be wildly unlikely for a Poisson rate of 100 (p ≈ 0.0001), but this brand swings.
    verdict = detect_spike(140, BUSY)
    assert not verdict.spike
    assert verdict.p_value is not None and verdict.p_value < 0.001


def test_small_mean_needs_a_poisson_improbable_count_not_just_three_sigma():
    # mean + 3σ ≈ 3.3, but 6 mentions at a rate of 1.2 an hour still happen once in ~600 hours.
    assert not detect_spike(6, SMALL, SpikeSettings(min_count=1)).spike
    verdict = detect_spike(7, SMALL, SpikeSettings(min_count=1))
    assert verdict.spike and verdict.baseline is not None and verdict.baseline.bound_by == "poisson"


def test_one_more_than_a_constant_history_is_not_a_spike():
    # σ = 0: without the Poisson bar, 51 after fourteen days of exactly 50 would alert.
    assert not detect_spike(51, [50] * 14).spike


def test_minimum_count_holds_back_a_statistically_clear_jump():
    verdict = detect_spike(8, QUIET, SpikeSettings(min_count=10))
    assert not verdict.spike
    assert verdict.baseline is not None and verdict.baseline.bound_by == "min_count"
    assert verdict.baseline.threshold == 10


def test_verdict_reports_the_count_and_the_baseline():
    verdict = detect_spike(30, [10, 12, 9, 11, 10, 13, 8])
    assert verdict.count == 30
    assert verdict.baseline is not None
    assert verdict.baseline.days == 7
    assert verdict.baseline.mean == pytest.approx(10.43, abs=0.01)
    assert verdict.baseline.stddev == pytest.approx(1.72, abs=0.01)
    assert verdict.baseline.threshold == 23
    assert "30 ≥ threshold 23" in verdict.reason


@pytest.mark.parametrize(
    ("k", "rate", "expected"),
    [
        (0, 3.0, 1.0),
        (2, 2.0, 0.5939941502901619),  # 1 - e^-2 (1 + 2)
        (7, 1.2, 0.00025111248),
        (1100, 1000.0, 0.00096263040586),  # a large rate must not underflow to 0 or 1
    ],
)
def test_poisson_upper_tail_matches_known_values(k, rate, expected):
    assert poisson_upper_tail(k, rate) == pytest.approx(expected, rel=1e-6)


def test_poisson_threshold_is_the_first_count_below_the_p_value():
    k = poisson_threshold(1.2, 0.001)
    assert poisson_upper_tail(k, 1.2) < 0.001 <= poisson_upper_tail(k - 1, 1.2)
