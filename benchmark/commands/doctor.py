"""`infobench doctor`: each external resource, where it was looked for, real or substitute, how to get it."""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("doctor", help="show which external resources are found, real or substitute",
                                   description="A report: always exits 0, even when something is missing.")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from tabulate import tabulate

    from benchmark.resources import all_resources

    resources = all_resources()
    rows = [[r.name, r.kind, r.location, r.detail] for r in resources]
    sys.stdout.write(tabulate(rows, headers=["resource", "status", "where", "detail"],
                              maxcolwidths=[None, None, 45, 60]) + "\n\n")
    missing = [r for r in resources if r.kind == "missing"]
    substitutes = [r.name for r in resources if r.kind == "substitute"]
    for r in missing:
        sys.stdout.write(f"MISSING {r.name}: {r.how_to_get}\n")
    if substitutes:
        sys.stdout.write(f"substitutes in use (named as such in every result record): {', '.join(substitutes)}\n")
    if not missing:
        sys.stdout.write("nothing missing\n")
    return 0
