"""The statistics of a study, through scipy: a paired comparison of identity and baseline videos, and the blind
review's preference rate.

* Paired comparison of a metric over the (photo, song) pairs of one setting: means and standard deviations of both
  videos, the mean difference (identity - baseline) with a 95 % paired bootstrap confidence interval (the pairs are
  resampled; ``scipy.stats.bootstrap``, BCa) and the Wilcoxon signed-rank test's p-value (``scipy.stats.wilcoxon``).
  Below MIN_PAIRS pairs neither is given: with 5 pairs the smallest two-sided Wilcoxon p-value is 2 / 2^5 = 0.0625,
  so no difference could ever show.
* Preference: of the judgements that chose a side, the share that chose the identity video, with its exact
  (Clopper-Pearson) 95 % interval and the two-sided binomial test against 50 % (``scipy.stats.binomtest``); "same"
  answers are counted apart.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

MIN_PAIRS = 6  # fewer pairs: "n too small" instead of an interval and a p-value
CONFIDENCE = 0.95  # of every interval
RESAMPLES = 9999  # bootstrap resamples
SEED = 0  # of the bootstrap's resampling, so a summary is the same every time it is made


@dataclass(frozen=True)
class Paired:
    """One metric of one setting, identity video against its baseline, over the pairs where both have a value."""

    n: int  # pairs with a value for both videos
    baseline_mean: float | None
    baseline_std: float | None  # sample standard deviation (None below 2 pairs)
    identity_mean: float | None
    identity_std: float | None
    difference: float | None  # mean of identity - baseline
    ci_low: float | None  # paired bootstrap interval of the mean difference (None below MIN_PAIRS)
    ci_high: float | None
    p_value: float | None  # Wilcoxon signed-rank, two-sided (None below MIN_PAIRS)

    @property
    def enough(self) -> bool:
        return self.n >= MIN_PAIRS


def _mean_std(values: np.ndarray) -> tuple[float | None, float | None]:
    if not len(values):
        return None, None
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else None


def paired(baseline, identity) -> Paired:
    """Compare ``identity`` [n] with ``baseline`` [n] (the same pairs in the same order; NaN where missing)."""
    b = np.asarray(baseline, dtype=float)
    i = np.asarray(identity, dtype=float)
    keep = np.isfinite(b) & np.isfinite(i)
    b, i = b[keep], i[keep]
    diff = i - b  # [n]
    n = len(diff)
    bm, bs = _mean_std(b)
    im, is_ = _mean_std(i)
    mean_diff = float(diff.mean()) if n else None
    low = high = p = None
    if n >= MIN_PAIRS:
        if np.ptp(diff) == 0:  # every pair differs by the same amount: no spread to resample
            low = high = mean_diff
        else:
            low, high = _bootstrap_mean(diff)
        p = 1.0 if not np.any(diff) else float(stats.wilcoxon(diff).pvalue)
    return Paired(n, bm, bs, im, is_, mean_diff, low, high, p)


def _bootstrap_mean(diff: np.ndarray) -> tuple[float, float]:
    """BCa interval of the mean of ``diff`` (percentile when BCa cannot be computed, e.g. heavy ties)."""
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", stats.DegenerateDataWarning)
            result = stats.bootstrap((diff,), np.mean, confidence_level=CONFIDENCE, n_resamples=RESAMPLES,
                                     method=method, rng=np.random.default_rng(SEED))
        low, high = result.confidence_interval
        if np.isfinite(low) and np.isfinite(high):
            return float(low), float(high)
    return float("nan"), float("nan")


@dataclass(frozen=True)
class Preference:
    """Blind judgements of one question: how often the identity video was chosen."""

    judgements: int  # answers in all
    identity: int  # chose the identity video
    baseline: int  # chose the baseline
    same: int  # said they are the same
    rate: float | None  # identity / (identity + baseline); None when no answer chose a side
    ci_low: float | None  # exact binomial (Clopper-Pearson) interval of the rate
    ci_high: float | None
    p_value: float | None  # two-sided binomial test of rate = 0.5


def preference(identity: int, baseline: int, same: int) -> Preference:
    decided = identity + baseline
    if decided == 0:
        return Preference(decided + same, identity, baseline, same, None, None, None, None)
    test = stats.binomtest(identity, decided, 0.5)
    interval = test.proportion_ci(confidence_level=CONFIDENCE, method="exact")
    return Preference(decided + same, identity, baseline, same, identity / decided, float(interval.low),
                      float(interval.high), float(test.pvalue))
