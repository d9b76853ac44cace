"""Issue 17's human check: sample successful attacks for hand judgement, then score the judgements.

    python scripts/human_check.py sample RECORD_LOG... --per-log 50 --seed 0 > sample.jsonl
    python scripts/human_check.py score results/human_check/judgements.jsonl

`sample` draws a fixed-seed random sample of successful examples from each per-example attack
log and prints one JSON line per example (what a judge reads). The judgements themselves are
data written by a person (results/human_check/judgements.jsonl, each line labelled
`"judged_by": "hand"`), not produced by code. `score` reports the share judged valid per
recipe and how the automatic validity flags (benchmark/metrics/validity.py) agree with the
hand labels: a flagged example should be one judged invalid.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path


def successes(log: Path) -> list[dict]:
    rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    return [r for r in rows if r.get("result") == "successful"]


def sample(logs: list[Path], per_log: int, seed: int) -> None:
    for log in logs:
        found = sorted(successes(log), key=lambda r: r["index"])
        chosen = sorted(random.Random(seed).sample(found, min(per_log, len(found))), key=lambda r: r["index"])
        for row in chosen:
            print(json.dumps({"log": log.name, "index": row["index"], "label": row["label"],
                              "premise": row["premise"], "hypothesis": row["hypothesis"],
                              "perturbed_hypothesis": row["perturbed_hypothesis"],
                              "perturbed_prediction": row["perturbed_prediction"],
                              "similarity": row.get("similarity")}))


def score(judgements: Path) -> None:
    from benchmark.metrics.validity import example_flags

    table = defaultdict(lambda: defaultdict(int))
    for line in judgements.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        flags = example_flags(row["hypothesis"], row["perturbed_hypothesis"], row.get("similarity"))
        flagged = flags["flagged"]
        cell = table[row["recipe"]]
        cell["n"] += 1
        cell["valid"] += row["valid"]
        cell[("flagged" if flagged else "clean") + ("_valid" if row["valid"] else "_invalid")] += 1
    print("| recipe | n | judged valid | flagged & invalid | clean & valid | flagged & valid | clean & invalid | agreement |")
    print("|---|---|---|---|---|---|---|---|")
    for recipe, c in sorted(table.items()):
        agree = c["flagged_invalid"] + c["clean_valid"]
        print(f"| {recipe} | {c['n']} | {c['valid']} ({100 * c['valid'] / c['n']:.0f}%) | {c['flagged_invalid']} | "
              f"{c['clean_valid']} | {c['flagged_valid']} | {c['clean_invalid']} | {100 * agree / c['n']:.0f}% |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    draw = sub.add_parser("sample")
    draw.add_argument("logs", nargs="+", type=Path)
    draw.add_argument("--per-log", type=int, default=50)
    draw.add_argument("--seed", type=int, default=0)
    judged = sub.add_parser("score")
    judged.add_argument("judgements", type=Path)
    args = parser.parse_args(argv)
    if args.command == "sample":
        sample(args.logs, args.per_log, args.seed)
    else:
        score(args.judgements)
    return 0


if __name__ == "__main__":
    sys.exit(main())
