"""Robustness curves from one unbudgeted attack run: after-attack accuracy vs query budget and
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
failure). So the tracer below, watching the unbudgeted run, can list every budget under which
the budgeted run succeeds ("success_budgets": intervals, the last one open when the run
succeeded). Note that this set is not always "B >= queries": a cut batch can succeed where
the full one did not (a fooling candidate outranked by a better-scoring non-fooling one).

The perturbation cap (`max_perturbed_share` s, our MaxPerturbedShare constraint) allows
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


# ---- running: the cap constraint and the tracer ------------------------------------------------

def resolve_params(recipe, overrides: dict) -> dict:
    """The recipe's parameters plus the runner's perturbation cap, checked (0 < share <= 1)."""
    from benchmark.errors import UserError

    overrides = dict(overrides)
    cap = overrides.pop(CAP_PARAM, None)
    params = recipe.resolve_params(overrides)
    if cap is None:
        return params
    if isinstance(cap, bool) or not isinstance(cap, (int, float)) or not 0 < cap <= 1:
        raise UserError(f"{CAP_PARAM} must be a share of words in (0, 1], got {cap!r}")
    return {**params, CAP_PARAM: float(cap)}


def build_attack(recipe, wrapper, resources, params: dict):
    """recipe.build with the recipe's own parameters, then the perturbation cap when one is set."""
    cap = params.get(CAP_PARAM)
    attack = recipe.build(wrapper, resources, **{k: v for k, v in params.items() if k != CAP_PARAM})
    if cap is not None:
        attack.pre_transformation_constraints.append(max_perturbed_share(cap))
    return attack


def max_perturbed_share(share: float):
    """A TextAttack pre-transformation constraint: at most floor(share * original words) modified words."""
    from benchmark.resources import import_textattack

    base = import_textattack().constraints.PreTransformationConstraint

    class MaxPerturbedShare(base):
        def __init__(self, share):
            self.share = share

        def _get_modifiable_indices(self, current_text):
            # original_index_map has one slot per word of the original text, whatever was edited since.
            allowed = allowed_words(self.share, len(current_text.attack_attrs["original_index_map"]))
            if len(current_text.attack_attrs["modified_indices"]) >= allowed:
                return set()
            return set(range(len(current_text.words)))

        def extra_repr_keys(self):
            return ["share"]

    return MaxPerturbedShare(share)


def allowed_words(share: float, words: int) -> int:
    return math.floor(share * words + 1e-9)


class BudgetTracer:
    """Watches a GreedyWordSwapWIR search and lists, per example, the budgets that would succeed."""

    def __init__(self, attack):
        from benchmark.resources import import_textattack

        self.succeeded = import_textattack().goal_function_results.GoalFunctionResultStatus.SUCCEEDED
        search, self.goal = attack.search_method, attack.goal_function
        self._results, self._rank, self._search = (search.get_goal_results, search._get_index_order,
                                                   search.perform_search)
        search.get_goal_results, search._get_index_order, search.perform_search = (
            self._traced_results, self._traced_rank, self._traced_search)
        self.budgets, self.ranking, self.current = [], True, 0.0

    def _traced_search(self, initial_result):
        self.budgets, self.ranking, self.current = [], True, initial_result.score
        return self._search(initial_result)

    def _traced_rank(self, *args, **kwargs):
        order = self._rank(*args, **kwargs)
        self.ranking = False  # from here on every batch is one greedy step
        return order

    def _traced_results(self, texts):
        before = self.goal.num_queries
        results, over = self._results(texts)
        if not self.ranking and results:
            self._greedy_step(before, results)
        return results, over

    def _greedy_step(self, before: int, results) -> None:
        """A budget before + k cuts this batch to its first k results: does the best of them win?"""
        best = None
        for k, result in enumerate(results, start=1):
            if best is None or result.score > best.score:  # first of equal scores, like the stable sort
                best = result
            if best.score > self.current and best.goal_status == self.succeeded:
                self.budgets.append(before + k)
        self.current = max(self.current, best.score)

    def fields(self, result) -> dict:
        """The log fields for the example just attacked."""
        kind = type(result).__name__
        if kind == "SkippedAttackResult":
            return {"success_budgets": [], "modified_words": None}
        intervals = _intervals(self.budgets)
        if kind == "SuccessfulAttackResult":
            final = int(result.perturbed_result.num_queries)
            if not intervals or intervals[-1][1] != final:
                return {"success_budgets": None, "modified_words": None}  # not the search modelled here
            intervals[-1][1] = None  # any larger budget replays the whole run
            modified = len(result.perturbed_result.attacked_text.attack_attrs["modified_indices"])
            return {"success_budgets": intervals, "modified_words": modified}
        return {"success_budgets": intervals, "modified_words": None}


def install_budget_tracer(attack) -> BudgetTracer | None:
    """A tracer for greedy word-importance searches; None for searches it does not model."""
    if type(attack.search_method).__name__ != "GreedyWordSwapWIR":
        return None
    return BudgetTracer(attack)


def _intervals(budgets: list[int]) -> list[list]:
    out: list[list] = []
    for budget in sorted(set(budgets)):
        if out and out[-1][1] == budget - 1:
            out[-1][1] = budget
        else:
            out.append([budget, budget])
    return out


# ---- curves from a log -------------------------------------------------------------------------

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


def query_auc(entries: list[dict]) -> float:
    """Mean after-attack accuracy over AUC_BUDGETS (10..10,000 queries, log-spaced)."""
    values = query_curve(entries, AUC_BUDGETS)
    return sum(values) / len(values)


def read_log_entries(results_dir, record_id: str) -> list[dict] | None:
    """The example entries of an attack record's log (None when the log is missing)."""
    from benchmark import records
    from benchmark.atomic import read_jsonl_log

    path = records.example_log_path(results_dir, record_id)
    if not path.is_file():
        return None
    return [line for line in read_jsonl_log(path) if "header" not in line]
