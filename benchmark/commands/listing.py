"""`infobench datasets` and `infobench methods`: what the registries hold."""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    datasets = subparsers.add_parser("datasets", help="list registered datasets and groups")
    datasets.set_defaults(handler=list_datasets)
    methods = subparsers.add_parser("methods", help="list training methods")
    methods.set_defaults(handler=list_methods)


def list_datasets(args) -> int:
    from tabulate import tabulate

    from benchmark.data import DATASET_GROUPS, DATASETS, GROUP_ALIASES, data_root

    root = data_root()
    rows = []
    for name in DATASETS:
        spec = DATASETS.get(name)
        local = "-" if spec.local_path is None else ("yes" if root and (root / spec.local_path).is_file() else "no")
        hub = "/".join(x for x in (spec.hub_id, spec.hub_config, spec.hub_split) if x) or "-"
        rows.append([name, spec.task, local, hub, spec.description])
    rows += [[group, "group", "", "", " + ".join(members)] for group, members in DATASET_GROUPS.items()]
    rows += [[old, "alias", "", "", f"earlier name of {new}"] for old, new in GROUP_ALIASES.items()]
    sys.stdout.write(tabulate(rows, headers=["name", "task", "local copy", "hub", "description"]) + "\n")
    sys.stdout.write(f"\nlocal root (INFOBENCH_DATA): {root or 'not set: datasets come from the hub'}\n")
    return 0


def list_methods(args) -> int:
    from tabulate import tabulate

    from models.methods import METHODS

    rows = [[name, METHODS.get(name).description] for name in METHODS]
    sys.stdout.write(tabulate(rows, headers=["method", "description"]) + "\n")
    return 0
