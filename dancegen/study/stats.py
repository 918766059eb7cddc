"""The statistics of a study, through scipy: a paired comparison of identity and baseline videos, and the blind
review's preference rate.

* Paired comparison of a metric over the (photo, song) pairs of one setting: means and standard deviations of both
  videos, the mean difference (identity - baseline) with a 95 % cluster bootstrap confidence interval and the
  Wilcoxon signed-rank test's p-value (``scipy.stats.wilcoxon``). Every photo meets every song, so the pairs of one
  photo are not independent: the bootstrap resamples photos (clusters) with replacement and takes all the pairs of
  each photo drawn (``scipy.stats.bootstrap`` on the photos' sums and counts, BCa), which keeps a large photo effect
  from making the interval too narrow. Without clusters every pair is its own. Below MIN_PAIRS pairs neither
  interval nor p is given (with 5 pairs the smallest two-sided Wilcoxon p-value is 2 / 2^5 = 0.0625, so no
  difference could ever show), and no interval below MIN_CLUSTERS photos.
* Many comparisons in one summary: :func:`holm` adjusts their p-values (Holm's step-down method, which holds the
  family-wise error rate under any dependence between the tests, as between metrics of the same videos).
* Preference: of the judgements that chose a side, the share that chose the identity video, with its exact
  (Clopper-Pearson) 95 % interval and the two-sided binomial test against 50 % (``scipy.stats.binomtest``); "same"
  answers are counted apart.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

MIN_PAIRS = 6  # fewer pairs: "n too small" instead of an interval and a p-value
MIN_CLUSTERS = 2  # fewer photos: no interval (a single photo's pairs cannot show how photos vary)
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
    ci_low: float | None  # cluster bootstrap interval of the mean difference (None below MIN_PAIRS pairs or
    ci_high: float | None  # MIN_CLUSTERS clusters)
    p_value: float | None  # Wilcoxon signed-rank over the pairs, two-sided (None below MIN_PAIRS)
    clusters: int = 0  # photos (clusters) among the n pairs; n when every pair is its own

    @property
    def enough(self) -> bool:
        return self.n >= MIN_PAIRS


def _mean_std(values: np.ndarray) -> tuple[float | None, float | None]:
    if not len(values):
        return None, None
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else None


def paired(baseline, identity, clusters=None) -> Paired:
    """Compare ``identity`` [n] with ``baseline`` [n] (the same pairs in the same order; NaN where missing).

    clusters: [n] labels (the photo of each pair) for the cluster bootstrap; None: every pair is its own cluster
    (the plain paired bootstrap)."""
    b = np.asarray(baseline, dtype=float)
    i = np.asarray(identity, dtype=float)
    groups = np.arange(len(b)) if clusters is None else np.asarray(clusters)
    keep = np.isfinite(b) & np.isfinite(i)
    b, i, groups = b[keep], i[keep], groups[keep]
    diff = i - b  # [n]
    n = len(diff)
    k = len(np.unique(groups))
    bm, bs = _mean_std(b)
    im, is_ = _mean_std(i)
    mean_diff = float(diff.mean()) if n else None
    low = high = p = None
    if n >= MIN_PAIRS:
        if np.ptp(diff) == 0:  # every pair differs by the same amount: no spread to resample
            low = high = mean_diff
        elif k >= MIN_CLUSTERS:
            low, high = _cluster_bootstrap_mean(diff, groups)
        p = 1.0 if not np.any(diff) else float(stats.wilcoxon(diff).pvalue)
    return Paired(n, bm, bs, im, is_, mean_diff, low, high, p, k)


def _pooled_mean(sums: np.ndarray, counts: np.ndarray, axis: int = -1) -> np.ndarray:
    """Mean over every pair of the drawn clusters: their summed differences over their summed pair counts."""
    return sums.sum(axis=axis) / counts.sum(axis=axis)


def _cluster_bootstrap_mean(diff: np.ndarray, groups: np.ndarray) -> tuple[float, float]:
    """BCa interval of the mean of ``diff`` [n], resampling the clusters of ``groups`` [n] with all their pairs
    (percentile when BCa cannot be computed, e.g. heavy ties). With one pair per cluster it is the plain bootstrap
    of the mean."""
    _, index = np.unique(groups, return_inverse=True)
    sums = np.bincount(index, weights=diff)  # [k]: each cluster's summed differences
    counts = np.bincount(index).astype(float)  # [k]: its pairs
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", stats.DegenerateDataWarning)
            result = stats.bootstrap((sums, counts), _pooled_mean, paired=True, vectorized=True,
                                     confidence_level=CONFIDENCE, n_resamples=RESAMPLES, method=method,
                                     rng=np.random.default_rng(SEED))
        low, high = result.confidence_interval
        if np.isfinite(low) and np.isfinite(high):
            return float(low), float(high)
    return float("nan"), float("nan")


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of a family of p-values, in the given order (None stays None and does not count).

    The m given values are sorted; the j-th smallest (j = 1..m) becomes max over i <= j of (m - i + 1) * p_(i),
    capped at 1. Reject at level a where the adjusted value is <= a: the family-wise error rate is at most a."""
    given = [(p, at) for at, p in enumerate(p_values) if p is not None]
    m = len(given)
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, at) in enumerate(sorted(given)):
        running = max(running, min(1.0, (m - rank) * p))
        out[at] = running
    return out


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
