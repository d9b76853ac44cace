"""Check robustness-curve exactness on any checkpoint, recipe and device (docs/transfer.md).

One unbudgeted attack, then real runs with --query-budget at the sharpest budgets the log
offers (just below and at the first budget that succeeds inside an example's last batch) and
one with --max-perturbed-share; prints, per example, the outcome each run gave and the one the
curve predicted, and exits 1 on any mismatch. Worth running where numerics differ (CUDA, bf16):

    python scripts/check_curve_exactness.py CKPT --recipe textfooler -n 20 --results /tmp/exact -- --device cuda
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def attack(base: list[str], *extra: str) -> dict[int, str]:
    import contextlib
    import io

    from benchmark.cli import main
    from benchmark.records.adversarial import attack_log_entries

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([*base, *extra])
    if code:
        sys.exit(code)
    rid = out.getvalue().split("metric", 1)[1].split()[0]  # the record id heads the printed table
    results = Path(base[base.index("--results") + 1])
    return {e["index"]: e for e in attack_log_entries(results, rid)}


def main() -> int:
    from benchmark.metrics.curves import succeeds_within_budget, succeeds_within_share

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--recipe", default="textfooler")
    parser.add_argument("--dataset", default="snli-test")
    parser.add_argument("-n", default="10")
    parser.add_argument("--seed", default="7")
    parser.add_argument("--results", required=True)
    args, attack_flags = parser.parse_known_args()  # the rest (after --) goes to `infobench attack`
    base = ["--quiet", "attack", args.checkpoint, "--recipe", args.recipe, "--dataset", args.dataset, "-n", args.n,
            "--seed", args.seed, "--results", args.results, *[f for f in attack_flags if f != "--"]]
    log = attack(base)
    successful = [e for e in log.values() if e["result"] == "successful"]
    inside = [e for e in successful if e["success_budgets"] and e["success_budgets"][0][0] < e["queries"]]
    budgets = sorted({b for e in (inside or successful)[:2]
                      for b in (e["success_budgets"][0][0] - 1, e["success_budgets"][0][0])})
    checks = [(f"budget {b}", ("--query-budget", str(b)), lambda e, b=b: succeeds_within_budget(e, b))
              for b in budgets]
    share = next((s / 100 for s in range(2, 60) if len({succeeds_within_share(e, s / 100) for e in successful}) == 2),
                 None)
    if share is not None:
        checks.append((f"share {share}", ("--max-perturbed-share", str(share)),
                       lambda e, s=share: succeeds_within_share(e, s)))
    mismatches = 0
    for name, flags, predict in checks:
        got = attack(base, *flags)
        for index, entry in sorted(log.items()):
            same = (got[index]["result"] == "successful") == predict(entry)
            mismatches += not same
            print(f"{name:>12}  example {index:>6}  run: {got[index]['result']:<10}  curve: "
                  f"{'successful' if predict(entry) else 'not':<10}  {'ok' if same else 'MISMATCH'}")
    print(f"{len(checks)} runs x {len(log)} examples, {mismatches} mismatches")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
