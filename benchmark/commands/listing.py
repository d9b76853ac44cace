"""`infobench datasets` and `infobench methods`: what the registries hold."""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    datasets = subparsers.add_parser("datasets", help="list datasets (built-in, declared, groups) with size and source",
                                     description="Every dataset a command accepts: built-in ones, user declarations "
                                                 "(--datasets-dir, INFOBENCH_DATASETS_PATH, the infobench.datasets "
                                                 "entry point) and groups; see docs/adding-a-dataset.md.")
    datasets.add_argument("--datasets-dir", action="append", default=[], metavar="DIR",
                          help="folder of dataset declarations (*.toml)")
    datasets.add_argument("--no-sizes", action="store_true", help="do not read the files to count examples")
    datasets.set_defaults(handler=list_datasets)
    methods = subparsers.add_parser("methods", help="list training methods")
    methods.set_defaults(handler=list_methods)


def list_datasets(args) -> int:
    from tabulate import tabulate

    from benchmark.data import DATASET_GROUPS, DATASETS, GROUP_ALIASES, data_root
    from benchmark.data.declarations import add_datasets_dirs, discover

    add_datasets_dirs(args.datasets_dir)
    discover()
    root = data_root()
    rows = []
    for name in DATASETS:
        spec = DATASETS.get(name)
        rows.append([name, spec.task, "-" if args.no_sizes else _size(name, spec, root), _source(spec, root),
                     spec.description])
    rows += [[group, "group", "", "", " + ".join(members)] for group, members in DATASET_GROUPS.items()]
    rows += [[old, "alias", "", "", f"earlier name of {new}"] for old, new in GROUP_ALIASES.items()]
    sys.stdout.write(tabulate(rows, headers=["name", "task", "size", "source", "description"]) + "\n")
    sys.stdout.write(f"\nlocal root (INFOBENCH_DATA): {root or 'not set: datasets come from the hub'}\n")
    return 0


def _source(spec, root) -> str:
    if spec.file_path is not None:
        return f"file {spec.file_path}" + (f" [{spec.json_key}]" if spec.json_key else "")
    if root and spec.local_path and (root / spec.local_path).is_file():
        return f"local {spec.local_path}"
    hub = "/".join(x for x in (spec.hub_id, spec.hub_config, spec.hub_split) if x)
    return f"hub {hub}" if hub else f"missing: {spec.local_path} under INFOBENCH_DATA"


def _size(name, spec, root) -> str:
    """Examples after the loader's rules, for sets on this machine; hub-only sets are not downloaded."""
    import logging

    from benchmark.data import load
    from benchmark.core.errors import UserError

    local = spec.file_path is not None or (root and spec.local_path and (root / spec.local_path).is_file())
    if not local:
        return "-"
    logging.getLogger("benchmark.data").setLevel(logging.WARNING)
    try:
        return str(len(load(name)))
    except UserError as err:
        return f"error: {str(err)[:60]}"


def list_methods(args) -> int:
    from tabulate import tabulate

    from models.methods import METHODS

    rows = [[name, METHODS.get(name).description] for name in METHODS]
    sys.stdout.write(tabulate(rows, headers=["method", "description"]) + "\n")
    return 0
