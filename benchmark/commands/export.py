"""`infobench export`: an adversarial set (adv:<record id>, tf-transfer-*) as JSONL."""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "export", help="write an adversarial set (adv:RECORD_ID, tf-transfer-*) to JSONL",
        description="One line per successful adversarial example of an attack record: original and perturbed "
                    "premise/hypothesis, gold label, the example's index in the attacked dataset, the source "
                    "checkpoint id and weights sha256, the source record id and sha256, recipe and parameters.")
    parser.add_argument("dataset", help="adv:RECORD_ID (an attack record in RESULTS/records) or a transfer set name")
    parser.add_argument("-o", "--output", required=True, help="JSONL file to write")
    parser.add_argument("--results", default="results", help="results folder holding the attack record")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from pathlib import Path

    from benchmark.records.adversarial import export_jsonl

    count = export_jsonl(args.dataset, Path(args.output), Path(args.results))
    sys.stdout.write(f"wrote {count} adversarial examples of {args.dataset} to {args.output}\n")
    return 0
