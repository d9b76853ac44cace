"""The AuA-AUC column: an attack's robustness over query budgets, as a metric of its record.

From one unbudgeted attack's per-example log (benchmark/metrics/curves.py): each example's share
of 61 log-spaced budgets (10..10,000 queries) at which it is still classified right; their mean
is the area under the robustness curve. Held per example, it gets a bootstrap interval, a paired
tie test and seed merging like every other mean (benchmark/leaderboard/stats.py).
"""

from __future__ import annotations


def fill_query_auc(record: dict) -> None:
    """Give an unbudgeted, uncapped attack record with a per-example log its AuA-AUC
    (`auc_queries`, benchmark/metrics/curves.py) and the per-example values behind its interval."""
    from benchmark.leaderboard.validity_column import checked_entries
    from benchmark.metrics import outcomes as outcome_logs
    from benchmark.metrics.curves import query_auc_per_example

    if not unbudgeted_attack(record) or record["metrics"].get("auc_queries") is not None:
        return
    entries = checked_entries(record)  # the log as the validity column read it (memoised on the record)
    if not entries:
        return
    found = outcome_logs.mean_outcomes(query_auc_per_example(entries))
    record["metrics"]["auc_queries"] = sum(found.values.values()) / found.n
    record["_computed_outcomes"] = {**record.get("_computed_outcomes", {}), "auc_queries": found}


def unbudgeted_attack(record: dict) -> bool:
    """An attack run without a query budget or perturbation cap: its log traces the whole curve."""
    from benchmark.metrics.curves import CAP_PARAM

    params = (record["evaluation"].get("recipe") or {}).get("params") or {}
    return record["kind"] == "attack" and params.get("query_budget") is None and not params.get(CAP_PARAM)
