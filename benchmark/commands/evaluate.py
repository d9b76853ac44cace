"""`infobench evaluate`: clean accuracy (NLI) or EM/F1 (QA) of a checkpoint on registered datasets."""

from __future__ import annotations

import sys

from benchmark.commands import add_threads_option, use_threads
from benchmark.commands._checkpoint import add_checkpoint_arguments
from benchmark.commands._datasets import add_dataset_arguments
from benchmark.commands import _types


def register(subparsers) -> None:
    parser = subparsers.add_parser("evaluate", help="evaluate a checkpoint on datasets (accuracy / EM-F1 records)",
                                   description="Score a checkpoint on a registered dataset or group (anli, "
                                               "tf1k-clean); writes one record per set to RESULTS/records.")
    add_checkpoint_arguments(parser)
    parser.add_argument("--dataset", required=True, action="append",
                        help="dataset or group name, or a data file (jsonl, tsv, SQuAD json); repeat for several "
                             "(see `infobench datasets`)")
    add_dataset_arguments(parser)
    parser.add_argument("-n", type=_types.positive_int, action="append", default=None,
                        help="seeded sample of N examples per set (default: all); one -n for every --dataset, "
                             "or one per --dataset in the same order")
    parser.add_argument("--seed", type=_types.seed, default=0, help="sampling seed")
    parser.add_argument("--batch-size", type=_types.positive_int, default=128, help="examples per forward pass")
    add_threads_option(parser)
    parser.add_argument("--smoothing", type=_types.positive_int, metavar="N",
                        help="score the SAFER smoothed classifier: majority vote over N seeded random synonym "
                             "substitutions per input; records certified accuracy beside accuracy")
    parser.add_argument("--results", type=_types.folder, default="results",
                        help="results folder (records go to RESULTS/records)")
    parser.set_defaults(handler=run)


def _sample_sizes(sizes: list[int] | None, datasets: list[str]) -> list[int | None]:
    """-n given once applies to every --dataset; given several times, one per --dataset, in order."""
    from benchmark.core.errors import UserError

    if not sizes:
        return [None] * len(datasets)
    if len(sizes) == 1:
        return sizes * len(datasets)
    if len(sizes) != len(datasets):
        raise UserError(f"{len(sizes)} -n values for {len(datasets)} --dataset values: give one -n for all, "
                        "or one per --dataset")
    return sizes


def run(args) -> int:
    from pathlib import Path

    from tabulate import tabulate

    from benchmark.commands._checkpoint import checkpoint_ref
    from benchmark.commands._datasets import resolve_datasets
    from benchmark.evaluation.evaluate import EvaluateSpec, evaluate

    use_threads(args.threads)
    rows = []
    datasets = resolve_datasets(args, args.dataset)
    for dataset, n in zip(datasets, _sample_sizes(args.n, datasets)):
        spec = EvaluateSpec(checkpoint=checkpoint_ref(args), dataset=dataset, n=n, seed=args.seed,
                            results_dir=Path(args.results), batch_size=args.batch_size,
                            smoothing=args.smoothing)
        for record in evaluate(spec, args.quiet):
            metrics = {k: round(v, 4) for k, v in record["metrics"].items() if not k.startswith("accuracy_")}
            rows.append([record["evaluation"]["dataset"], record["counts"]["n"], metrics, record["record_id"]])
    sys.stdout.write(tabulate(rows, headers=["dataset", "n", "metrics", "record"]) + "\n")
    return 0
