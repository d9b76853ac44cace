"""SAFER's certificate for a randomized-smoothing classifier against word substitutions.

Ye, Gong and Liu (ACL 2020), "SAFER: A Structure-free Approach for Certified Robustness
to Adversarial Word Substitutions", Theorem 1. The smoothed classifier
g(x) = argmax_c P_{Z ~ Pi_x}(f(Z) = c) draws Z by replacing every word x_j with a uniform
member of its perturbation set T_{x_j}. For any x' whose words are x'_j in T_{x_j}
(any number of them changed), the distributions Pi_x and Pi_x' differ in total variation
by at most

    q_x = 1 - prod_j min_{w in T_{x_j}} |T_{x_j} n T_w| / |T_{x_j}|

so every class probability moves by at most q_x, and the prediction c_A cannot change when

    p_A - q_x > max_{c != c_A} p_c + q_x.                  (Theorem 1)

With p_B <= 1 - p_A this is implied by p_A - q_x > 1/2, the form SAFER's released
evaluation checks (evaluation.py: `p - 1 + prod(tv) >= 0.5 + mc_error`). Here p_A is
replaced by a one-sided Clopper-Pearson lower bound at level 1 - alpha from the N votes
(Cohen et al. 2019's estimate), in place of SAFER's fixed Monte Carlo margin `mc_error`:
that is our departure. The same N samples give the prediction and the bound (as in SAFER's
code; Cohen et al. draw separate selection samples). Pure maths: the perturbation sets come in as a
`members(word)` function (benchmark.resources.substitutions.SubstitutionSet.members).
"""

from __future__ import annotations

import math
from typing import Callable, Iterable

Members = Callable[[str], tuple]


def word_factor(word: str, members: Members) -> float:
    """min over w in T(word) of |T(word) n T(w)| / |T(word)|: 1 for a word nothing can replace."""
    own = set(members(word))
    if len(own) <= 1:
        return 1.0
    return min(len(own & set(members(w))) / len(own) for w in own)


def total_variation_bound(words: Iterable[str], members: Members, max_changed: int | None = None) -> float:
    """q_x of Theorem 1. With `max_changed` = R, only the R most damaging words may change
    (the product then runs over the R smallest factors; None: any number of words)."""
    factors = sorted(word_factor(w, members) for w in words)
    if max_changed is not None:
        factors = factors[:max_changed]
    return 1.0 - math.prod(factors)


def clopper_pearson_lower(successes: int, n: int, alpha: float) -> float:
    """One-sided (1 - alpha) lower confidence bound on a binomial proportion."""
    from scipy.stats import beta

    if successes <= 0:
        return 0.0
    return float(beta.ppf(alpha, successes, n - successes + 1))


def certify(votes: list[int], q: float, alpha: float = 0.05) -> dict:
    """The smoothed prediction from the vote counts, and whether Theorem 1 certifies it."""
    n = sum(votes)
    top = max(range(len(votes)), key=lambda c: (votes[c], -c))  # ties go to the lower class index
    p_lower = clopper_pearson_lower(votes[top], n, alpha)
    return {"prediction": top, "p_a_lower": p_lower, "q": q, "certified": p_lower - q > 0.5}
