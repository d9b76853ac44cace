"""Robustness curves from one unbudgeted attack log: after-attack accuracy vs query budget and
vs the largest share of words an attack may perturb.

Why one run is enough for greedy word-importance searches (TextAttack's GreedyWordSwapWIR:
textfooler, pwws). TextAttack counts a query for every text handed to the goal function
(cached or not): 1 for the original, then the ranking phase (one per word for "delete"; the
saliency queries plus one per swap candidate for PWWS's "weighted-saliency"), then one batch
of candidates per greedy step. With `query_budget=B` a batch is cut to the queries left and the
search stops once B queries are spent. Until the batch that crosses B, a budgeted run makes
exactly the unbudgeted run's queries (candidates are sorted by text, the search has no
randomness); in that batch it sees the first k = B - (queries before it) candidates, keeps the
best-scoring one (ties: the first) if it beats the current text, and succeeds iff that one
fools the model. A budget that runs out inside the ranking phase ends the search there (a
failure). So the attack runner's tracer (benchmark/attack/budget.py), watching the unbudgeted run, can list every budget under which
the budgeted run succeeds ("success_budgets": intervals, the last one open when the run
succeeded). Note that this set is not always "B >= queries": a cut batch can succeed where
the full one did not (a fooling candidate outranked by a better-scoring non-fooling one).

The perturbation cap (`max_perturbed_share` s, MaxPerturbedShare in benchmark/attack/budget.py) allows
floor(s * words) modified words, words counted in the original input (premise and
hypothesis, as the log's "words"). A greedy search modifies one new word per accepted swap and
the cap changes nothing until the limit is reached, so a capped run succeeds iff the
unbudgeted run succeeded with at most that many modified words ("modified_words").

Exact: logs written with the tracer (every greedy-WIR run since this module exists). Bound:
logs without "success_budgets" (older runs, other search methods) give "successful iff
B >= queries", which is exact for B >= queries but can miss successes below it, so the
after-attack accuracy they show is an upper bound. The share curve of a non-greedy search
is only an estimate (a cap can change such a search's path).
"""

from __future__ import annotations

import math

CAP_PARAM = "max_perturbed_share"
# AUC summary: mean after-attack accuracy over log-spaced budgets 10..10,000 (20 per decade).
AUC_BUDGETS = tuple(sorted({int(round(10 ** (1 + i / 20))) for i in range(61)}))


def allowed_words(share: float, words: int) -> int:
    """How many words a cap of `share` lets an attack modify in an input of `words` words."""
    return math.floor(share * words + 1e-9)


def succeeds_within_budget(entry: dict, budget: int) -> bool:
    """Would a run of this example with `query_budget=budget` be a successful attack?"""
    intervals = entry.get("success_budgets")
    if intervals is None:  # no trace: exact for budget >= queries, a bound below
        return entry["result"] == "successful" and budget >= entry["queries"]
    return any(low <= budget and (high is None or budget <= high) for low, high in intervals)


def succeeds_within_share(entry: dict, share: float) -> bool:
    """Would a run with `max_perturbed_share=share` be a successful attack?"""
    if entry["result"] != "successful":
        return False
    modified = entry.get("modified_words")
    if modified is None:
        modified = entry["words_perturbed"]
    return modified <= allowed_words(share, entry["words"])


def query_curve(entries: list[dict], budgets) -> list[float]:
    """After-attack accuracy (share of all examples still right) at each budget."""
    return [_robust_share(entries, lambda e, b=budget: succeeds_within_budget(e, b)) for budget in budgets]


def share_curve(entries: list[dict], shares) -> list[float]:
    return [_robust_share(entries, lambda e, s=share: succeeds_within_share(e, s)) for share in shares]


def _robust_share(entries: list[dict], fooled) -> float:
    robust = sum(1 for e in entries if e["result"] not in ("skipped",) and not fooled(e))
    return robust / len(entries)


def exactness(entries: list[dict], search: str | None) -> dict:
    """How far each curve of this log can be trusted: "exact", "upper bound" or "estimate"."""
    greedy = search == "GreedyWordSwapWIR"
    attacked = [e for e in entries if e["result"] != "skipped"]
    traced = greedy and all(e.get("success_budgets") is not None for e in attacked)
    counted = greedy and all(e.get("modified_words") is not None for e in attacked if e["result"] == "successful")
    return {"queries": "exact" if traced else "upper bound", "share": "exact" if counted else "estimate"}


def search_of(record: dict) -> str | None:
    """The search method's class name, read from the attack's repr in the record."""
    text = (record["evaluation"].get("recipe") or {}).get("attack_repr") or ""
    marker = "(search_method):"
    if marker not in text:
        return None
    return text.split(marker, 1)[1].split("(", 1)[0].strip()


def query_auc_per_example(entries: list[dict]) -> dict[str, float]:
    """Each example's share of AUC_BUDGETS at which it is still classified right (0 when skipped):
    their mean is the mean of query_curve over AUC_BUDGETS, so the AUC gets an interval and a paired test like any mean."""
    def survived_share(entry: dict) -> float:
        if entry["result"] == "skipped":
            return 0.0
        return sum(not succeeds_within_budget(entry, b) for b in AUC_BUDGETS) / len(AUC_BUDGETS)

    return {str(e["index"]): survived_share(e) for e in entries}
