"""`infobench transfer`: evaluate checkpoints on adversarial sets built from attack records (source x target)."""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "transfer", help="evaluate checkpoints on adversarial sets made by attacks on other models",
        description="Evaluate every --checkpoint on every --set (adv:RECORD_ID, a transfer set such as "
                    "tf-transfer-snli, or the group tf-transfer); one evaluation record per (target, set), "
                    "written by the same path as `infobench evaluate`. Prints the source x target matrix; "
                    "`infobench leaderboard` renders it with a heatmap. See docs/transfer.md.")
    parser.add_argument("--checkpoint", required=True, action="append", help="target checkpoint dir; repeat")
    parser.add_argument("--set", required=True, action="append", dest="sets",
                        help="adv:RECORD_ID, tf-transfer-snli|-mnli-m|-mnli-mm or tf-transfer; repeat")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--results", default="results",
                        help="results folder: attack records are read from and evaluation records written to "
                             "RESULTS/records")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from pathlib import Path

    from benchmark.evaluation.transfer import run_transfer
    from benchmark.leaderboard.transfer import matrix_markdown

    written = run_transfer([Path(c) for c in args.checkpoint], args.sets, Path(args.results), args.batch_size,
                           args.quiet)
    sys.stdout.write(matrix_markdown(written) + "\n")
    return 0
