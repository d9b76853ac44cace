"""`infobench grid SPEC`: checkpoints x evaluations on Ray, on this machine or a cluster."""

from __future__ import annotations

import sys

from benchmark.commands import _types


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "grid", help="run a grid of checkpoints x evaluations/attacks on Ray (this machine or a cluster)",
        description="Run every cell of a grid spec (TOML: checkpoints, [[evaluate]] and [[attack]] tables, "
                    "[execution] settings; see docs/grid.md). Each cell writes the record `infobench evaluate` or "
                    "`infobench attack` would; existing records are skipped, so rerunning continues where a run "
                    "stopped. Without --address a local Ray is started on this machine's cores.")
    parser.add_argument("spec", help="grid spec file (TOML)")
    parser.add_argument("--address", help="join this Ray cluster (`auto` on a cluster node, or HOST:PORT); "
                                          "default: RAY_ADDRESS if set, else a local Ray started for the run")
    parser.add_argument("--workers", type=_types.positive_int, help="worker actors (default: the spec's execution.workers, else "
                                                    "one per core here, or per free CPU of the cluster)")
    parser.add_argument("--results", type=_types.folder, help="results folder (default: the spec's `results`, else results)")
    parser.add_argument("--dry-run", action="store_true", help="list the cells and what already exists; run nothing")
    parser.set_defaults(handler=run)


def run(args) -> int:
    import os

    from benchmark.core.errors import UserError
    from benchmark.grid.driver import load_grid, plan_table, run_grid, summary_table
    from benchmark.core.modes import CellStatus

    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}")
    grid, plans = load_grid(args.spec, args.results)
    if args.dry_run:
        sys.stdout.write(plan_table(plans))
        return 0
    address = args.address or os.environ.get("RAY_ADDRESS") or None
    outcome = run_grid(grid, plans, address=address, workers=args.workers, quiet=args.quiet)
    sys.stdout.write(summary_table(outcome, grid.results_dir))
    return 1 if any(plan.status == CellStatus.FAILED for plan in plans) else 0
