"""What a leaderboard cell says besides its value: its 95% interval, the spread over seeds, and
whether its row is tied with the column's best.

- Interval: the record's own (`intervals`), or for records written before intervals existed,
  computed from the per-example log beside it (Wilson from the counts when there is no log).
- Seeds: rows whose checkpoints differ only by seed (same task, backbone, method, training data
  and every other hyper-parameter) become one row: the mean over seeds, their sample standard
  deviation and how many seeds; the single-seed rows stay available (HTML page, CSV).
- Ties: per rate column, each row is tested against the best row (highest, or lowest for the
  attack success rate): exact McNemar where both rows scored the same examples, Fisher's exact
  test on the counts otherwise; for F1, a paired sign-flip permutation test (Welch's t test
  unpaired). The p values of a column are Holm-corrected; a row is marked when its corrected
  p is at least 0.05, i.e. it is not significantly below the best. Untestable rows (no counts
  and no log) are not marked.
"""

from __future__ import annotations

import dataclasses

import json
import re
import statistics
from dataclasses import dataclass, field

from benchmark.metrics import outcomes as outcome_logs

ALPHA = 0.05
HIGHER_IS_BETTER = {"accuracy": True, "clean_accuracy": True, "accuracy_under_attack": True,
                    "attack_success_rate": False, "exact_match": True, "f1": True,
                    outcome_logs.VALIDITY_FILTERED: True, "auc_queries": True}


@dataclass
class Evidence:
    """Everything known about one cell besides its value."""

    interval: dict | None = None  # {n, low, high, method, ...} in the metric's unit
    outcomes: object | None = None  # benchmark.outcomes.Outcomes, or a pooled one for seed rows
    examples: str | None = None  # examples_sha256 of the evaluation
    pooled: list | None = None  # seed rows: per-example values of all seeds together (unpaired)
    sd: float | None = None
    seeds: int | None = None
    tie: bool = False
    record_id: str | None = None  # the record the cell comes from (None for seed-merged cells)


@dataclass
class CellStats:
    interval: tuple[float, float] | None = None
    n: int | None = None
    method: str | None = None
    sd: float | None = None
    seeds: int | None = None
    tie: bool = False
    extra: dict = field(default_factory=dict)


def record_evidence(record: dict) -> dict[str, Evidence]:
    """metric -> Evidence for one loaded record (its log is read from the folder it came from)."""
    folder = record.get("_dir")
    if folder:
        from benchmark.leaderboard.validity_column import checked_outcomes

        found = checked_outcomes(record)
    else:
        found = outcome_logs.outcomes_from_counts(record["kind"], record["metrics"], record["counts"])
    # Outcomes the leaderboard derived itself (validity flags computed now for an old log).
    found = {**found, **record.get("_computed_outcomes", {})}
    intervals = dict(outcome_logs.stored_or_computed_intervals(folder, record, found))
    for name in set(found) - set(intervals):  # e.g. a metric newer than the record's stored intervals
        if record["metrics"].get(name) is not None and (interval := found[name].interval()) is not None:
            intervals[name] = interval
    examples = record["evaluation"].get("examples_sha256")
    return {name: Evidence(intervals.get(name), found.get(name), examples, record_id=record["record_id"])
            for name in record["metrics"]}


# ---------------------------------------------------------------- seeds


def seed_group_key(checkpoint: dict) -> str:
    """Checkpoints that share this differ at most by seed. A hyperparameter a card lacks (one added
    to the trainer after it was written) counts at its default, so an older card of the same
    recipe groups with a newer one."""
    hyper = checkpoint.get("hyperparameters")
    if not isinstance(hyper, dict):
        return json.dumps([checkpoint["model_id"], checkpoint["weights_sha256"]])
    hyper = {**_training_defaults(), **hyper}
    training = checkpoint.get("training_data")
    data = training.get("examples_sha256", training) if isinstance(training, dict) else training
    return json.dumps([checkpoint.get("task"), checkpoint.get("backbone"), checkpoint.get("method"),
                       {k: v for k, v in hyper.items() if k != "seed"}, data], sort_keys=True, default=str)


def _training_defaults() -> dict:
    import dataclasses

    from models.config import TrainConfig

    return {field.name: field.default for field in dataclasses.fields(TrainConfig)}


def aggregate_seeds(rows: list[dict], metric_keys: list[str]) -> list[dict]:
    """Rows in order, those of one seed group merged into one (at the first member's place)."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["_seed_group"], []).append(row)
    merged, done = [], set()
    for row in rows:
        key = row["_seed_group"]
        if key in done:
            continue
        done.add(key)
        members = groups[key]
        seeds = [m["seed"] for m in members]
        if len(members) == 1 or None in seeds or len(set(seeds)) < len(seeds):
            merged += members  # one seed, or a retrained checkpoint with the same seed: rows stay apart
        else:
            merged.append(_merge(members, metric_keys))
    return merged


def _merge(members: list[dict], metric_keys: list[str]) -> dict:
    first = members[0]
    ids = [m["checkpoint"] for m in members]
    stem = re.sub(r"-s\d+$", "", ids[0])
    label = f"{stem}-s*" if all(re.sub(r"-s\d+$", "", i) == stem for i in ids) else " + ".join(ids)
    seeds = sorted(m["seed"] for m in members if m["seed"] is not None)
    row = {**{k: v for k, v in first.items() if not k.startswith("_")}, "checkpoint": label,
           "seed": ", ".join(map(str, seeds)), "_weights": first["_weights"], "_seed_group": first["_seed_group"],
           "_evidence": {}, "_members": ids}
    for key in metric_keys:
        present = [m for m in members if m.get(key) is not None]
        if not present:
            continue
        values = [m[key] for m in present]
        row[key] = statistics.fmean(values)
        parts = [m["_evidence"].get(key) for m in present]
        row["_evidence"][key] = _single_seed_evidence(parts[0]) if len(parts) == 1 else \
            _pooled_evidence(parts, values)
    return row


def _single_seed_evidence(part: Evidence | None) -> Evidence | None:
    """A merged row's cell that only one seed measured: that seed's own interval, marked as one seed."""
    if part is None:
        return None
    return dataclasses.replace(part, seeds=1, sd=None, record_id=None)


def _pooled_evidence(parts: list[Evidence | None], values: list[float]) -> Evidence:
    sd = statistics.stdev(values) if len(values) > 1 else None
    found = [p.outcomes for p in parts if p is not None and p.outcomes is not None]
    pooled_outcomes, pooled_values, interval = None, None, None
    if len(found) == len(parts) and found:
        kind, scale = found[0].kind, found[0].scale
        if kind == outcome_logs.PROPORTION:
            pooled_outcomes = outcome_logs.Outcomes(kind, scale, None, sum(o.successes for o in found),
                                                    sum(o.n for o in found))
        elif all(o.values is not None for o in found):
            pooled_outcomes = outcome_logs.Outcomes(kind, scale, None, None, sum(o.n for o in found))
            pooled_values = [v for o in found for v in o.values.values()]
        if all(o.values is not None for o in found):
            interval = _seed_then_example_interval(found, scale)
    return Evidence(interval, pooled_outcomes, None, pooled_values, sd, len(values))


def _seed_then_example_interval(found: list, scale: float) -> dict | None:
    """The mean over seeds with its two-stage bootstrap interval (seeds, then examples in each)."""
    from benchmark.core import stats

    per_seed = [[o.values[key] for key in sorted(o.values)] for o in found]
    interval = stats.seed_then_example_mean_interval(per_seed)
    if interval is None:
        return None
    return {"n": sum(len(v) for v in per_seed), "low": interval.low * scale, "high": interval.high * scale,
            "confidence": stats.CONFIDENCE, "method": "seed-then-example-bootstrap",
            "resamples": stats.BOOTSTRAP_RESAMPLES, "seed": stats.BOOTSTRAP_SEED}


# ---------------------------------------------------------------- ties with the best


def mark_ties(rows: list[dict], metric_keys: list[str]) -> None:
    """Set Evidence.tie on the cells not significantly below their column's best."""
    for key in metric_keys:
        metric = key.rsplit(".", 1)[-1]
        if metric not in HIGHER_IS_BETTER:
            continue
        present = [r for r in rows if r.get(key) is not None and r["_evidence"].get(key) is not None]
        if len(present) < 2:
            continue
        sign = 1 if HIGHER_IS_BETTER[metric] else -1
        best = max(present, key=lambda r: sign * r[key])
        others = [r for r in present if r is not best]
        tested = [(r, p) for r in others if (p := _p_value(best["_evidence"][key], r["_evidence"][key])) is not None]
        if not tested:
            continue
        best["_evidence"][key].tie = True
        adjusted = _holm([p for _, p in tested])
        for (row, _), p in zip(tested, adjusted):
            row["_evidence"][key].tie = p >= ALPHA


def _holm(p_values: list[float]) -> list[float]:
    from benchmark.core.stats import holm

    return holm(p_values)


def _p_value(best: Evidence, other: Evidence) -> float | None:
    from benchmark.core import stats

    a, b = best.outcomes, other.outcomes
    if a is None or b is None:
        return None
    if _paired(best, other):
        if a.kind == outcome_logs.PROPORTION:
            only_a = sum(1 for k, v in a.values.items() if v and not b.values[k])
            only_b = sum(1 for k, v in b.values.items() if v and not a.values[k])
            return stats.mcnemar_exact_p(only_a, only_b)
        keys = sorted(a.values)
        return stats.paired_mean_difference([a.values[k] for k in keys], [b.values[k] for k in keys])[2]
    if a.kind == outcome_logs.PROPORTION:
        from scipy.stats import fisher_exact

        return float(fisher_exact([[a.successes, a.n - a.successes], [b.successes, b.n - b.successes]]).pvalue)
    first, second = _flat(best), _flat(other)
    if first is None or second is None or len(first) < 2 or len(second) < 2:
        return None
    from scipy.stats import ttest_ind

    p = float(ttest_ind(first, second, equal_var=False).pvalue)
    return 1.0 if p != p else p  # identical constant samples give nan: no evidence of a difference


def _paired(first: Evidence, second: Evidence) -> bool:
    a, b = first.outcomes, second.outcomes
    return (a.values is not None and b.values is not None and first.examples is not None
            and first.examples == second.examples and set(a.values) == set(b.values))


def _flat(evidence: Evidence) -> list | None:
    if evidence.pooled is not None:
        return evidence.pooled
    if evidence.outcomes is not None and evidence.outcomes.values is not None:
        return list(evidence.outcomes.values.values())
    return None


def cell_stats(evidence: Evidence | None, ties: bool = True) -> CellStats | None:
    if evidence is None:
        return None
    interval = evidence.interval
    return CellStats(interval=(interval["low"], interval["high"]) if interval else None,
                     n=interval.get("n") if interval else None, method=interval.get("method") if interval else None,
                     sd=evidence.sd, seeds=evidence.seeds, tie=ties and evidence.tie,
                     extra={"record_id": evidence.record_id} if evidence.record_id else {})
