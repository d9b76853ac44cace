"""benchmark.core.stats against published values, hand-computed tables and simulated coverage."""

import math

import numpy as np
import pytest

from benchmark.core import stats


@pytest.mark.parametrize("successes, n, low, high", [
    # Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table II, Wilson score.
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_newcombes_published_intervals(successes, n, low, high):
    interval = stats.wilson_interval(successes, n)
    assert (round(interval.low, 4), round(interval.high, 4)) == (low, high)


def test_wilson_of_nothing_is_none():
    assert stats.wilson_interval(0, 0) is None


@pytest.mark.parametrize("a, n1, b, n2, low, high", [
    # Newcombe (1998), "Interval estimation for the difference between independent proportions",
    # Table II, method 10 (Wilson square-and-add).
    (56, 70, 48, 80, 0.0524, 0.3339), (9, 10, 3, 10, 0.1705, 0.8090),
])
def test_square_and_add_matches_newcombes_independent_examples(a, n1, b, n2, low, high):
    interval = stats.newcombe_difference(a / n1, stats.wilson_interval(a, n1), b / n2, stats.wilson_interval(b, n2))
    assert (round(interval.low, 4), round(interval.high, 4)) == (low, high)


def test_mcnemar_exact_p_by_hand():
    # 6 vs 4 discordant pairs: p = 2 * P(X <= 4), X ~ Bin(10, 1/2) = 2 * 386 / 1024.
    assert stats.mcnemar_exact_p(6, 4) == pytest.approx(2 * 386 / 1024)
    assert stats.mcnemar_exact_p(4, 6) == stats.mcnemar_exact_p(6, 4)
    # 10 vs 0: 2 / 1024; no discordant pair at all: no evidence either way.
    assert stats.mcnemar_exact_p(10, 0) == pytest.approx(2 / 1024)
    assert stats.mcnemar_exact_p(0, 0) == 1.0


def test_holm_by_hand():
    # Sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> monotone 0.06.
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert stats.holm([]) == []


def test_bootstrap_mean_interval_is_seeded_and_covers_the_mean():
    values = [float(v) for v in range(1, 51)]
    first, again = stats.bootstrap_mean_interval(values), stats.bootstrap_mean_interval(values)
    assert first == again
    assert first.low < 25.5 < first.high
    # Normal theory: mean +- 1.96 * sd / sqrt(n) = 25.5 +- 4.04; the percentile bootstrap is close.
    assert first.low == pytest.approx(25.5 - 1.96 * np.std(values, ddof=1) / math.sqrt(50), abs=0.6)
    assert stats.bootstrap_mean_interval([3.0, 3.0]) == stats.Interval(3.0, 3.0)
    assert stats.bootstrap_mean_interval([]) is None


def test_paired_accuracy_difference_covers_at_the_nominal_rate():
    rng = np.random.default_rng(1)
    # True cell probabilities of (both right, only first, only second, neither): difference 0.05.
    cells, n, trials = [0.70, 0.10, 0.05, 0.15], 200, 400
    covered = 0
    for table in rng.multinomial(n, cells, size=trials):
        interval = stats.paired_accuracy_difference(*map(int, table))
        covered += interval.low <= 0.05 <= interval.high
    assert 0.92 <= covered / trials <= 0.98


def test_paired_accuracy_difference_is_narrower_than_ignoring_the_pairing():
    # Highly concordant pairs: the paired interval must use that and be much narrower.
    paired = stats.paired_accuracy_difference(150, 6, 4, 40)
    independent = stats.newcombe_difference(156 / 200, stats.wilson_interval(156, 200),
                                            154 / 200, stats.wilson_interval(154, 200))
    assert paired.low < 0.01 < paired.high
    assert paired.high - paired.low < 0.6 * (independent.high - independent.low)


def test_paired_mean_difference():
    first = [0.5, 1.0, 0.2, 0.9, 0.7, 0.4, 1.0, 0.8]
    second = [0.4, 0.8, 0.2, 0.5, 0.6, 0.1, 0.9, 0.6]
    mean, interval, p = stats.paired_mean_difference(first, second)
    assert mean == pytest.approx(np.mean(np.subtract(first, second)))
    assert 0 < interval.low < mean < interval.high
    # Sign-flip test: 7 positive differences and one zero; all 2^8 flips are enumerated exactly.
    assert p == pytest.approx(2 / 128, abs=1e-9)
    assert stats.paired_mean_difference([1.0, 0.0], [1.0, 0.0]) == (0.0, stats.Interval(0.0, 0.0), 1.0)


def test_seed_then_example_bootstrap_separates_a_consistent_gain_from_noise():
    import numpy as np

    from benchmark.core.stats import seed_then_example_bootstrap

    rng = np.random.default_rng(1)
    # Paired 0/1 correctness differences on 1,000 examples per seed: +1 on 12%, -1 on 4% (a +8 point gain).
    gain = [rng.choice([1, -1, 0], size=1000, p=[0.12, 0.04, 0.84]) for _ in range(3)]
    pooled = seed_then_example_bootstrap(gain)
    assert pooled.sign_holds_in_every_seed and 0.05 < pooled.mean < 0.11
    assert pooled.interval.low > 0 and pooled.p_value < 0.05
    # Same discordance, no gain: the interval covers 0 and p is large.
    noise = [rng.choice([1, -1, 0], size=1000, p=[0.08, 0.08, 0.84]) for _ in range(3)]
    flat = seed_then_example_bootstrap(noise)
    assert flat.interval.low < 0 < flat.interval.high and flat.p_value > 0.05


def test_seed_then_example_bootstrap_widens_with_seed_to_seed_spread():
    from benchmark.core.stats import seed_then_example_bootstrap

    # Every seed's examples agree exactly (no within-seed noise), but the seeds disagree by 10
    # points: the pooled interval must reflect that spread; a sign flip across seeds is reported.
    spread = seed_then_example_bootstrap([[0.1] * 200, [0.0] * 200, [-0.1] * 200])
    assert spread.interval.low <= -0.05 and spread.interval.high >= 0.05
    assert not spread.sign_holds_in_every_seed
    same = seed_then_example_bootstrap([[0.1] * 200] * 3)
    assert same.interval.low == pytest.approx(0.1) and same.interval.high == pytest.approx(0.1)
    assert same.p_value == 0.0


def test_seed_mean_interval_binomial_shortcut_matches_resampling_examples():
    """0/1 outcomes take the Binomial(n, p) shortcut; values a hair off 0/1 take the explicit
    example resampling. Both estimate the same distribution: the intervals agree within Monte
    Carlo error, and both are wider than the seeds' means alone spread."""
    from benchmark.core.stats import seed_then_example_mean_interval

    per_seed = [[1.0] * c + [0.0] * (300 - c) for c in (150, 170, 160)]  # 50%, 56.7%, 53.3%
    shortcut = seed_then_example_mean_interval(per_seed)
    explicit = seed_then_example_mean_interval([[v * (1 + 1e-9) for v in seed] for seed in per_seed])
    assert abs(shortcut.low - explicit.low) < 0.01 and abs(shortcut.high - explicit.high) < 0.01
    assert shortcut.low < 0.50 and shortcut.high > 0.567
