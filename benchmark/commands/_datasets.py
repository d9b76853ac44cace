"""Dataset arguments shared by the scoring commands: user files and declaration folders."""

from __future__ import annotations


def add_dataset_arguments(parser) -> None:
    parser.add_argument("--dataset-labels", metavar="NAMES",
                        help="for --dataset PATH: the names of integer labels in order (entailment,neutral,"
                             "contradiction) or a map of the file's labels (yes=entailment,no=not_entailment)")
    parser.add_argument("--datasets-dir", action="append", default=[], metavar="DIR",
                        help="folder of dataset declarations (*.toml; also INFOBENCH_DATASETS_PATH); see "
                             "docs/adding-a-dataset.md")


def resolve_datasets(args, names: list[str]) -> list[str]:
    """Register --datasets-dir and data file paths; the names the registry knows them by."""
    from pathlib import Path

    from benchmark.data.declarations import add_datasets_dirs, register_user_dataset
    from benchmark.core.errors import UserError

    add_datasets_dirs(args.datasets_dir)
    files = [name for name in names if Path(name).is_file()]
    if args.dataset_labels and not files:
        raise UserError("--dataset-labels applies to a data file given as --dataset PATH; a declared dataset "
                        "carries its labels in its declaration")
    return [register_user_dataset(name, args.dataset_labels) if name in files else name for name in names]
