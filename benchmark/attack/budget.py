"""The attack runner's side of robustness curves (benchmark/metrics/curves.py): a perturbation
cap any recipe can take, and a tracer that logs, per example, every query budget under which a
budgeted run of the same greedy word-importance search would succeed.
"""

from __future__ import annotations

from benchmark.metrics.curves import CAP_PARAM, allowed_words


def resolve_params(recipe, overrides: dict) -> dict:
    """The recipe's parameters plus the runner's perturbation cap, checked (0 < share <= 1)."""
    from benchmark.core.errors import UserError

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
