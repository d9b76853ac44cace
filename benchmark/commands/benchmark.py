"""`infobench benchmark CKPT`: a whole suite (clean sets, transfer sets, attacks) in one resumable command."""

from __future__ import annotations

import sys

from benchmark.commands._checkpoint import add_checkpoint_arguments


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "benchmark", help="benchmark a checkpoint with a suite (quick, standard, full) and print its leaderboard row",
        description="Run a suite of evaluations and attacks on one checkpoint (an infobench checkpoint, a "
                    "save_pretrained folder or a hub id) through the grid machinery: resumable, one progress bar, "
                    "records in RESULTS/records, the checkpoint's leaderboard row at the end. QA checkpoints get "
                    "the SQuAD suite of the same name. See docs/suites.md.")
    add_checkpoint_arguments(parser)
    parser.add_argument("--suite", default="quick", help="quick (minutes on a laptop CPU), standard (the leaderboard's "
                                                         "sample sizes), full, or a suite .toml file")
    parser.add_argument("--dry-run", action="store_true", help="list what the suite runs and what exists; run nothing")
    parser.add_argument("--address", help="join this Ray cluster (`auto` or HOST:PORT); default: a local Ray")
    parser.add_argument("--workers", type=int, help="worker processes (default: the suite's, else one per core)")
    parser.add_argument("--datasets-dir", action="append", default=[], metavar="DIR",
                        help="folder of dataset declarations a suite file refers to")
    parser.add_argument("--results", default="results", help="results folder (records go to RESULTS/records)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    import os
    from pathlib import Path

    from benchmark.commands._checkpoint import checkpoint_ref
    from benchmark.data.declarations import add_datasets_dirs
    from benchmark.core.errors import UserError
    from benchmark.grid.driver import plan_grid, plan_table, run_grid
    from benchmark.grid.spec import parse_spec
    from benchmark.suites import load_suite
    from models.checkpoint import read_card

    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}")
    add_datasets_dirs(args.datasets_dir)
    ref = checkpoint_ref(args)
    card = read_card(ref)
    tables, path = load_suite(args.suite, card["task"])
    grid = parse_spec({**tables, "checkpoints": [ref]}, path, results_dir=Path(args.results))
    plans = plan_grid(grid)
    sys.stdout.write(f"suite {path.stem} ({path}) for {card['model_id']}\n")
    if args.dry_run:
        sys.stdout.write(plan_table(plans))
        return 0
    address = args.address or os.environ.get("RAY_ADDRESS") or None
    outcome = run_grid(grid, plans, address=address, workers=args.workers, quiet=args.quiet)
    failed = [p for p in plans if p.status == "failed"]
    for plan in failed:
        sys.stdout.write(f"failed: {plan.cell.label}: {plan.error}\n")
    ran = sum(p.status == "ran" for p in plans)
    sys.stdout.write(f"{ran} cells ran, {len(plans) - ran - len(failed)} existed, {len(failed)} failed; "
                     f"wall {outcome.wall_s:.1f}s\n\n")
    sys.stdout.write(leaderboard_row(grid.results_dir, card))
    return 1 if failed else 0


def leaderboard_row(results_dir, card: dict) -> str:
    """The checkpoint's row of the measured leaderboard, one column per line (rows are wide)."""
    from tabulate import tabulate

    from benchmark.leaderboard.tables import load_results, measured_tables
    from benchmark.leaderboard.render import format_cell, shown_columns

    found = load_results(results_dir)
    mine = [r for r in found.records if r["checkpoint"]["weights_sha256"] == card["weights_sha256"]
            and r["checkpoint"]["model_id"] == card["model_id"]]
    if not mine:
        return "no records for this checkpoint yet\n"
    (table,) = measured_tables(mine)
    row = table.frame.iloc[0]
    cells = [[c.header, format_cell(row[c.key], c.unit)] for c in shown_columns(table)]
    return f"leaderboard row ({table.title}):\n" + tabulate(cells, tablefmt="plain", disable_numparse=True) + "\n"
