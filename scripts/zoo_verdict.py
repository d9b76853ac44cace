"""The zoo verdict of docs/zoo.md ("Does InfoBERT help at this scale?"), from committed records only.

    python scripts/zoo_verdict.py --results results --seeds 1 2 3

For every method against `standard` and every endpoint: per seed, the paired difference in
accuracy on the same examples (Newcombe interval, exact McNemar p); pooled over seeds, the mean
difference with a seed-then-example bootstrap interval and p; Holm over the compared methods.
A difference counts when its Holm-adjusted p is below 0.05 and its sign holds in every seed,
the rule the protocol fixed before the runs. Prints Markdown; a missing record is listed, not
guessed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmark.core import stats
from benchmark.leaderboard.validity_column import checked_outcomes
from benchmark.metrics.outcomes import VALIDITY_FILTERED

BACKBONE, TASK = "minilm-l6", "snli"
METHODS = ("freelb", "infobert", "infobert-std")
PROTOCOL_SEEDS = 3  # docs/zoo.md: seeds 1, 2, 3
# endpoint name -> (the record-id tails after "<model id>__" pooled into it, the per-example rate);
# the primary one first. "validity-filtered": a success a validity flag marks counts as a failed
# attack (docs/validity.md), beside the raw figure as the protocol asks.
TEXTFOOLER, PWWS = ["attack__snli-test__textfooler-n1000-s0"], ["attack__snli-test__pwws-n1000-s0"]
ENDPOINTS = {
    "tf-transfer (primary)": (["evaluate__tf-transfer-snli", "evaluate__tf-transfer-mnli-m",
                               "evaluate__tf-transfer-mnli-mm"], "accuracy"),
    "textfooler AuA (1k SNLI test)": (TEXTFOOLER, "accuracy_under_attack"),
    "textfooler AuA, validity-filtered": (TEXTFOOLER, VALIDITY_FILTERED),
    "pwws AuA (1k SNLI test)": (PWWS, "accuracy_under_attack"),
    "pwws AuA, validity-filtered": (PWWS, VALIDITY_FILTERED),
    "snli-test": (["evaluate__snli-test"], "accuracy"),
}


VERDICT_HEADER = ["### Verdict table", "",
                  "Mean accuracy over the seeds measured (95% interval: seeds, then examples within each seed); "
                  "the difference from standard pooled over every protocol seed, Holm-adjusted p, and whether it "
                  "counts under the protocol's rule.", "",
                  "| endpoint | method | seeds | mean % (95% CI) | difference vs standard (95% CI) | Holm p | counts |",
                  "|---|---|---|---|---|---|---|"]


def correctness(records: Path, model_id: str, tails: list[str], metric: str) -> dict[str, float] | None:
    """Per-example 0/1 outcome of `metric` pooled over the tails' records (None if one is missing)."""
    pooled: dict[str, float] = {}
    for tail in tails:
        path = records / f"{model_id}__{tail}.json"
        if not path.is_file():
            return None
        record = {**json.loads(path.read_text(encoding="utf-8")), "_dir": records}
        found = checked_outcomes(record).get(metric)  # as the leaderboard pairs it
        if found is None or found.values is None:  # no log, or one that does not reproduce the record
            return None
        pooled.update({f"{tail}:{key}": value for key, value in found.values.items()})
    return pooled


def seed_row(base: dict, other: dict) -> tuple[list[float], dict]:
    keys = sorted(base.keys() & other.keys())
    both = sum(1 for k in keys if base[k] and other[k])
    only_other = sum(1 for k in keys if other[k] and not base[k])
    only_base = sum(1 for k in keys if base[k] and not other[k])
    interval = stats.paired_accuracy_difference(both, only_other, only_base, len(keys) - both - only_other - only_base)
    row = {"n": len(keys), "base": 100 * sum(base[k] for k in keys) / len(keys),
           "other": 100 * sum(other[k] for k in keys) / len(keys), "low": 100 * interval.low,
           "high": 100 * interval.high, "p": stats.mcnemar_exact_p(only_other, only_base)}
    row["diff"] = row["other"] - row["base"]
    return [other[k] - base[k] for k in keys], row


def endpoint_outcomes(records: Path, seeds: list[int], tails: list[str], metric: str,
                      methods) -> dict[str, dict[int, dict]]:
    """{method: {seed: per-example outcomes}} for standard and `methods`; a missing record is left out."""
    found = {}
    for method in ("standard", *methods):
        per_seed = {seed: correctness(records, f"{method}-{BACKBONE}-{TASK}-s{seed}", tails, metric) for seed in seeds}
        found[method] = {seed: outcomes for seed, outcomes in per_seed.items() if outcomes is not None}
    return found


def endpoint_table(records: Path, seeds: list[int], name: str, tails: list[str], metric: str,
                   methods=METHODS) -> tuple[list[str], list[str]]:
    """(the endpoint's Markdown section, its rows of the verdict table)."""
    outcomes = endpoint_outcomes(records, seeds, tails, metric, methods)
    lines = [f"### {name}", "", "| method | seed | n | standard % | method % | difference (95% CI) | McNemar p |",
             "|---|---|---|---|---|---|---|"]
    pooled, missing = {}, []
    for method in methods:
        differences = []
        for seed in seeds:
            base, other = outcomes["standard"].get(seed), outcomes[method].get(seed)
            if base is None or other is None:
                missing.append(f"{method} s{seed}")
                continue
            diff, row = seed_row(base, other)
            differences.append(diff)
            lines.append(f"| {method} | {seed} | {row['n']} | {row['base']:.1f} | {row['other']:.1f} | "
                         f"{row['diff']:+.1f} ({row['low']:+.1f} to {row['high']:+.1f}) | {row['p']:.3g} |")
        if len(differences) == len(seeds):
            pooled[method] = stats.seed_then_example_bootstrap(differences)
    provisional = len(seeds) < PROTOCOL_SEEDS or tuple(methods) != METHODS  # Holm over another family
    rows = pooled_rows(pooled, methods, provisional)
    lines += [""] + (pooled_table(rows) if rows else ["(no method has all seeds yet)"])
    lines += [f"\nmissing records: {', '.join(missing)}"] if missing else []
    return lines, verdict_rows(name, outcomes, rows)


def pooled_rows(pooled: dict, methods, provisional: bool) -> dict[str, dict]:
    """Per method with all seeds: the pooled difference's cells. Holm runs over the whole family
    `methods`; one without all seeds yet enters with p = 1, which can only make the others'
    adjusted p larger (conservative), never smaller."""
    adjusted = dict(zip(methods, stats.holm([pooled[m].p_value if m in pooled else 1.0 for m in methods])))
    rows = {}
    for method, found in pooled.items():
        counts = adjusted[method] < 0.05 and found.sign_holds_in_every_seed
        rows[method] = {"difference": f"{100 * found.mean:+.1f} ({100 * found.interval.low:+.1f} to "
                                      f"{100 * found.interval.high:+.1f})",
                        "p": _bootstrap_p(found.p_value), "holm": _bootstrap_p(adjusted[method]),
                        "sign": "yes" if found.sign_holds_in_every_seed else "no",
                        "counts": ("so far" if provisional else "YES") if counts else "no"}
    return rows


def pooled_table(rows: dict[str, dict]) -> list[str]:
    lines = ["| method | pooled difference (95% CI) | bootstrap p | Holm p | sign in every seed | counts |",
             "|---|---|---|---|---|---|"]
    return lines + [f"| {method} | {row['difference']} | {row['p']} | {row['holm']} | {row['sign']} | {row['counts']} |"
                    for method, row in rows.items()]


def verdict_rows(name: str, outcomes: dict[str, dict[int, dict]], pooled: dict[str, dict]) -> list[str]:
    """One row per method of the closing table: the mean over its seeds with the seed-then-example
    interval, and its pooled difference from standard where every seed is in."""
    rows = []
    for method, per_seed in outcomes.items():
        if not per_seed:
            continue
        values = [list(found.values()) for found in per_seed.values()]
        mean = 100 * sum(sum(v) / len(v) for v in values) / len(values)
        interval = stats.seed_then_example_mean_interval(values)
        row = pooled.get(method, {"difference": "–" if method == "standard" else "(seeds missing)",
                                  "holm": "–", "counts": "–"})
        rows.append(f"| {name} | {method} | {len(per_seed)} | {mean:.1f} ({100 * interval.low:.1f} to "
                    f"{100 * interval.high:.1f}) | {row['difference']} | {row['holm']} | {row['counts']} |")
    return rows


def _bootstrap_p(p: float) -> str:
    """A bootstrap p of 0 means no resample crossed 0: it is below 1 / resamples, not 0."""
    floor = 1 / stats.BOOTSTRAP_RESAMPLES
    return f"<{floor:.1g}" if p < floor else f"{p:.3g}"


def compute_spent(results: Path, seeds: list[int], methods) -> str:
    """Training seconds from the compared models' cards plus measuring seconds from their records.
    A group record (its evaluation lists `members`) sums its members' time and a shard record is
    part of a merged one, so neither counts again; the leaderboard reads the same fields."""
    models = [f"{method}-{BACKBONE}-{TASK}-s{seed}" for seed in seeds for method in ("standard", *methods)]
    train = [json.loads(card.read_text())["train_time_s"] for model in models
             if (card := results / "cards" / f"{model}.json").is_file()]
    records = [json.loads(path.read_text()) for model in models for path in (results / "records").glob(f"{model}__*.json")]
    measured = [record.get("wall_time_s") or 0.0 for record in records
                if not record["evaluation"].get("members") and not record["evaluation"].get("shard")]
    return (f"Compute, from {len(train)} cards and {len(measured)} records: training {sum(train) / 3600:.1f} h, "
            f"measuring (every record of these models) {sum(measured) / 3600:.1f} h, {(sum(train) + sum(measured)) / 3600:.1f} CPU hours "
            "(one torch thread each; the seed-7 source and the transfer sets' generation not included).")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--methods", nargs="+", default=list(METHODS),
                        help="methods paired against standard (default: the zoo's; e.g. pgd a2t safer)")
    args = parser.parse_args(argv)
    if len(args.seeds) < PROTOCOL_SEEDS:
        print(f"**Provisional: {len(args.seeds)} of the protocol's {PROTOCOL_SEEDS} seeds.** The verdict rule "
              "(Holm-adjusted p < 0.05 and the same sign in every seed) is only applied with all of them.\n")
    if tuple(args.methods) != METHODS:
        print(f"**Not the protocol's comparison:** Holm runs over {', '.join(args.methods)}, not the "
              f"protocol's family ({', '.join(METHODS)}), so a difference reads \"so far\", never YES.\n")
    summary = []
    for name, (tails, metric) in ENDPOINTS.items():
        section, rows = endpoint_table(args.results / "records", args.seeds, name, tails, metric, args.methods)
        print("\n".join(section) + "\n")
        summary += rows
    print("\n".join(VERDICT_HEADER + summary))
    print("\n" + compute_spent(args.results, args.seeds, args.methods))
    return 0


if __name__ == "__main__":
    sys.exit(main())
