"""Intervals and tests for benchmark numbers: Wilson, bootstrap, exact McNemar, Newcombe, Holm.

Every function takes plain counts or per-example values and returns plain floats, so records,
the leaderboard and `infobench compare` share one implementation. scipy is imported inside the
functions (importing this module stays cheap). Bootstraps take an explicit seed: the same
values give the same interval, so a record computed twice is the same record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
PERMUTATION_RESAMPLES = 9999


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> Interval | None:
    """Wilson score interval for a proportion (None when n is 0)."""
    from scipy.stats import binomtest

    if n <= 0:
        return None
    ci = binomtest(int(successes), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return Interval(float(ci.low), float(ci.high))


def bootstrap_mean_interval(values, confidence: float = CONFIDENCE, seed: int = BOOTSTRAP_SEED,
                            resamples: int = BOOTSTRAP_RESAMPLES) -> Interval | None:
    """Percentile bootstrap interval for the mean of per-example values (None when empty).

    Percentile rather than BCa: BCa is undefined when every value is the same (a model that
    never needs more than one query, say), and at n in the hundreds the two agree closely.
    """
    import numpy as np
    from scipy.stats import bootstrap

    data = np.asarray(list(values), dtype=float)
    if data.size == 0:
        return None
    if np.all(data == data[0]):
        return Interval(float(data[0]), float(data[0]))
    result = bootstrap((data,), np.mean, confidence_level=confidence, n_resamples=resamples,
                       method="percentile", rng=np.random.default_rng(seed))
    return Interval(float(result.confidence_interval.low), float(result.confidence_interval.high))


def mcnemar_exact_p(only_first: int, only_second: int) -> float:
    """Two-sided exact McNemar p from the discordant counts (binomial test at 1/2; 1.0 when none)."""
    from scipy.stats import binomtest

    discordant = int(only_first) + int(only_second)
    if discordant == 0:
        return 1.0
    return float(binomtest(int(only_first), discordant, 0.5, alternative="two-sided").pvalue)


def newcombe_difference(p1: float, ci1: Interval, p2: float, ci2: Interval, phi: float = 0.0) -> Interval:
    """Newcombe's square-and-add interval for p1 - p2 from the two Wilson intervals.

    phi = 0 is method 10 of Newcombe (1998a, independent samples); the correlation phi of a
    paired table gives method 10 of Newcombe (1998b, paired data).
    """
    down1, up1 = p1 - ci1.low, ci1.high - p1
    down2, up2 = p2 - ci2.low, ci2.high - p2
    below = math.sqrt(max(down1 ** 2 - 2 * phi * down1 * up2 + up2 ** 2, 0.0))
    above = math.sqrt(max(up1 ** 2 - 2 * phi * up1 * down2 + down2 ** 2, 0.0))
    return Interval(p1 - p2 - below, p1 - p2 + above)


def paired_accuracy_difference(both: int, only_first: int, only_second: int, neither: int,
                               confidence: float = CONFIDENCE) -> Interval | None:
    """Interval for acc(first) - acc(second) on the same examples (Newcombe 1998b, method 10).

    Chosen over a paired bootstrap because it is deterministic, stays inside [-1, 1], and keeps
    its coverage when the discordant counts are small (a handful of pairs is common under attack).
    """
    n = both + only_first + only_second + neither
    if n == 0:
        return None
    first, second = both + only_first, both + only_second
    margins = (first * (n - first) * second * (n - second))
    phi = (both * neither - only_first * only_second) / math.sqrt(margins) if margins else 0.0
    return newcombe_difference(first / n, wilson_interval(first, n, confidence),
                               second / n, wilson_interval(second, n, confidence), phi)


def paired_mean_difference(first, second, confidence: float = CONFIDENCE, seed: int = BOOTSTRAP_SEED,
                           resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, Interval | None, float]:
    """(mean(first - second), paired percentile bootstrap interval, two-sided sign-flip permutation p).

    For per-example scores such as SQuAD F1: examples are resampled together, so the interval
    reflects the pairing; the p value comes from randomly swapping each pair's two scores.
    """
    import numpy as np
    from scipy.stats import permutation_test

    differences = np.asarray(list(first), dtype=float) - np.asarray(list(second), dtype=float)
    if differences.size == 0:
        return 0.0, None, 1.0
    if np.all(differences == 0):
        return 0.0, Interval(0.0, 0.0), 1.0
    interval = bootstrap_mean_interval(differences, confidence, seed, resamples)
    test = permutation_test((differences,), np.mean, permutation_type="samples", vectorized=True,
                            n_resamples=PERMUTATION_RESAMPLES, alternative="two-sided",
                            rng=np.random.default_rng(seed))
    return float(differences.mean()), interval, float(test.pvalue)


def holm(p_values: list[float]) -> list[float]:
    """Holm step-down adjusted p values, in the input order (scipy has only BH/BY).

    The i-th smallest p is multiplied by (m - i), then made monotone and capped at 1.
    """
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


@dataclass(frozen=True)
class PooledDifference:
    mean: float  # mean over seeds of the per-seed mean difference
    interval: Interval
    p_value: float  # two-sided bootstrap p: twice the smaller tail share beyond 0
    per_seed: tuple[float, ...]

    @property
    def sign_holds_in_every_seed(self) -> bool:
        return all(d > 0 for d in self.per_seed) or all(d < 0 for d in self.per_seed)


def seed_then_example_bootstrap(per_seed_differences: list, confidence: float = CONFIDENCE,
                                seed: int = BOOTSTRAP_SEED, resamples: int = BOOTSTRAP_RESAMPLES
                                ) -> PooledDifference | None:
    """Pool paired per-example differences (first - second) over training seeds.

    Two-stage (hierarchical) bootstrap: each resample draws the seeds with replacement, then the
    examples within each drawn seed with replacement, and averages the per-seed means. So the
    interval carries both the seed-to-seed spread of the difference and each seed's sampling
    error; a plain example bootstrap over the pooled examples would ignore the first.
    """
    import numpy as np

    found = _two_stage(per_seed_differences, confidence, seed, resamples)
    if found is None:
        return None
    seeds, means, interval = found
    p_value = min(1.0, 2 * min(np.mean(means <= 0), np.mean(means >= 0)))
    per_seed = tuple(float(d.mean()) for d in seeds)
    return PooledDifference(float(np.mean(per_seed)), interval, float(p_value), per_seed)


def seed_then_example_mean_interval(per_seed_values: list, confidence: float = CONFIDENCE,
                                    seed: int = BOOTSTRAP_SEED, resamples: int = BOOTSTRAP_RESAMPLES
                                    ) -> Interval | None:
    """Interval for a mean over training seeds of per-seed example means (a leaderboard row that
    merges seeds), by the same two-stage bootstrap as `seed_then_example_bootstrap`."""
    found = _two_stage(per_seed_values, confidence, seed, resamples)
    return None if found is None else found[2]


def _two_stage(per_seed: list, confidence: float, seed: int, resamples: int):
    """(the seeds' value arrays, the resampled means, their percentile interval), or None when empty."""
    import numpy as np

    seeds = [np.asarray(list(values), dtype=float) for values in per_seed if len(values)]
    if not seeds:
        return None
    means = _seed_then_example_means(seeds, np.random.default_rng(seed), resamples)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return seeds, means, Interval(float(low), float(high))


def _seed_then_example_means(seeds: list, rng, resamples: int):
    """One mean per resample: draw the seeds with replacement, each drawn seed's examples with
    replacement (a fresh draw every time a seed is drawn), average the drawn seeds' means.
    Vectorised per (slot, seed): resamples x seeds x examples draws in all, no Python loop per resample."""
    import numpy as np

    drawn = rng.integers(0, len(seeds), size=(resamples, len(seeds)))
    slot_means = np.empty(drawn.shape)
    for slot in range(len(seeds)):
        for index, values in enumerate(seeds):
            rows = np.flatnonzero(drawn[:, slot] == index)
            if np.isin(values, (0.0, 1.0)).all():  # 0/1 outcomes: a resample's mean is Binomial(n, p) / n
                slot_means[rows, slot] = rng.binomial(values.size, values.mean(), size=rows.size) / values.size
                continue
            per_chunk = max(1, 10_000_000 // values.size)  # bounds memory on test sets of 10k examples
            for start in range(0, rows.size, per_chunk):
                chunk = rows[start:start + per_chunk]
                picks = rng.integers(0, values.size, size=(chunk.size, values.size))
                slot_means[chunk, slot] = values[picks].mean(axis=1)
    return slot_means.mean(axis=1)
