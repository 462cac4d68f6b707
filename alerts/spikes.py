"""Spike detection: is this hour's mention count far above the brand's own recent baseline? Pure.

The baseline is the same hour of day on each of the last days (14 by default), so a brand that is
always busy at lunch time does not alert every lunch. An hour is a spike when its count clears all
three bars: the empirical one (mean + 3σ of the baseline), the Poisson one (a count that unlikely,
p < 0.001, if mentions arrived at the baseline rate) and an absolute minimum. The Poisson bar is
what matters for quiet brands: 14 zeros give σ = 0, and 0 → 2 must not be news; the 3σ bar is what
matters for busy brands whose volume swings more than Poisson noise would.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# A baseline of zeros is read as half a mention an hour: two quiet weeks are not proof of silence.
MIN_RATE = 0.5


@dataclass(frozen=True)
class SpikeSettings:
    # Fewer mentions than this in the hour is never a spike, whatever the baseline.
    min_count: int = 5
    # Days of baseline needed before any verdict; fewer is "baseline too short".
    min_history_days: int = 3
    sigmas: float = 3.0
    max_p_value: float = 0.001


@dataclass(frozen=True)
class Baseline:
    """The same hour on earlier days: how many days, their mean and spread, and the bar they set."""

    days: int
    mean: float
    stddev: float
    # The smallest count that is a spike against this baseline.
    threshold: int
    # Which bar set the threshold: "sigma", "poisson" or "min_count".
    bound_by: str


@dataclass(frozen=True)
class SpikeVerdict:
    spike: bool
    count: int
    # None when the history is too short to judge.
    baseline: Baseline | None
    # Upper-tail probability of `count` at the baseline rate (None without a baseline).
    p_value: float | None
    reason: str
    history_days: int

    @property
    def baseline_too_short(self) -> bool:
        return self.baseline is None


def detect_spike(count: int, history: Sequence[int], settings: SpikeSettings | None = None) -> SpikeVerdict:
    """Judge `count` (mentions in one hour) against `history` (the same hour on earlier days).

    `history` holds one count per earlier day the brand was watched, zeros included; days before
    monitoring began must be left out, not counted as zeros.
    """
    settings = settings or SpikeSettings()
    days = len(history)
    if days < settings.min_history_days:
        return SpikeVerdict(
            spike=False,
            count=count,
            baseline=None,
            p_value=None,
            reason=f"baseline too short: {days} of {settings.min_history_days} days",
            history_days=days,
        )
    baseline = compute_baseline(history, settings)
    rate = max(baseline.mean, MIN_RATE)
    p_value = poisson_upper_tail(count, rate)
    spike = count >= baseline.threshold
    relation = "≥" if spike else "<"
    reason = (
        f"{count} {relation} threshold {baseline.threshold} (set by {baseline.bound_by}; "
        f"mean {baseline.mean:.2f}, σ {baseline.stddev:.2f} over {days} days, p={p_value:.2g})"
    )
    return SpikeVerdict(spike, count, baseline, p_value, reason, days)


def compute_baseline(history: Sequence[int], settings: SpikeSettings | None = None) -> Baseline:
    settings = settings or SpikeSettings()
    mean = statistics.fmean(history) if history else 0.0
    stddev = statistics.stdev(history) if len(history) >= 2 else 0.0
    # Strictly above mean + kσ.
    sigma_bar = math.floor(mean + settings.sigmas * stddev) + 1
    poisson_bar = poisson_threshold(max(mean, MIN_RATE), settings.max_p_value)
    bars = {"min_count": settings.min_count, "poisson": poisson_bar, "sigma": sigma_bar}
    bound_by = max(bars, key=lambda name: bars[name])
    return Baseline(len(history), mean, stddev, bars[bound_by], bound_by)


def poisson_upper_tail(k: int, rate: float) -> float:
    """P(X ≥ k) for X ~ Poisson(rate), summed in log space so large rates do not underflow."""
    if k <= 0:
        return 1.0
    if rate <= 0:
        return 0.0
    if k <= rate:
        below = sum(_poisson_pmf(i, rate) for i in range(k))
        return max(0.0, 1.0 - below)
    total, i = 0.0, k
    while True:
        term = _poisson_pmf(i, rate)
        total += term
        # Past the mode the terms fall at least geometrically: stop when they no longer matter.
        if term <= total * 1e-16:
            return min(1.0, total)
        i += 1


def poisson_threshold(rate: float, max_p_value: float) -> int:
    """The smallest k with P(X ≥ k) < max_p_value at this rate."""
    k = max(1, math.floor(rate))
    tail = poisson_upper_tail(k, rate)
    while tail >= max_p_value:
        # P(X ≥ k+1) = P(X ≥ k) - P(X = k): one step per k instead of a new sum.
        tail -= _poisson_pmf(k, rate)
        k += 1
    return k


def _poisson_pmf(i: int, rate: float) -> float:
    return math.exp(i * math.log(rate) - rate - math.lgamma(i + 1))
