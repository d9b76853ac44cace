"""`infobench attack`: run an attack recipe against a checkpoint on a dataset sample (resumable)."""

from __future__ import annotations

import sys

from benchmark.commands import add_threads_option, use_threads
from benchmark.commands._checkpoint import add_checkpoint_arguments
from benchmark.commands._datasets import add_dataset_arguments
from benchmark.core.modes import Precision
from benchmark.commands import _types


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "attack", help="attack a checkpoint with a recipe (textfooler, pwws, textattack:NAME)",
        description="Attack a seeded sample of a dataset; NLI hypotheses are perturbed, premises kept. Writes a "
                    "per-example log and a record to RESULTS/records. Interrupted? Rerun the same command: it resumes.")
    add_checkpoint_arguments(parser)
    parser.add_argument("--recipe", required=True, help="recipe name (see `infobench recipes`) or textattack:NAME")
    parser.add_argument("--dataset", default="snli-test", help="NLI dataset (see `infobench datasets`) or a data file")
    add_dataset_arguments(parser)
    parser.add_argument("-n", type=_types.positive_int, default=None, help="seeded sample of N examples (default: all)")
    parser.add_argument("--seed", type=_types.seed, default=0, help="sampling seed (also seeds each example's attack)")
    parser.add_argument("--query-budget", type=_types.positive_int, default=None, help="max model queries per example")
    parser.add_argument("--max-perturbed-share", type=float, default=None, metavar="S",
                        help="perturb at most floor(S x words) words of an example (0 < S <= 1; any recipe)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="override a recipe parameter (JSON value), e.g. --param min_cos_sim=0.7")
    parser.add_argument("--shard", help="attack only shard i/N of the sample (0 <= i < N); see --merge")
    parser.add_argument("--merge", type=_types.positive_int, metavar="N",
                        help="combine the complete logs of shards 0..N-1 into the run's record (no attacking)")
    parser.add_argument("--recipes-dir", action="append", default=[], metavar="DIR",
                        help="extra directory of recipe modules (also: INFOBENCH_RECIPES_PATH). Its files are Python "
                             "code that runs: the file declaring the requested recipe is imported; listing recipes "
                             "imports every file. Use only folders you trust")
    parser.add_argument("--batch-size", type=_types.positive_int, default=64, help="model micro-batch size")
    parser.add_argument("--precision", default=Precision.AUTO.value, choices=[p.value for p in Precision],
                        help="autocast on CUDA (auto: bf16 where supported); CPU always runs fp32")
    parser.add_argument("--device", type=_types.device, help="cpu or cuda[:i] (default: cuda when available)")
    add_threads_option(parser)
    parser.add_argument("--smoothing", type=_types.positive_int, metavar="N",
                        help="attack SAFER's smoothed classifier: each query is a majority vote over N random "
                             "synonym substitutions, seeded by the query text (black-box recipes only)")
    parser.add_argument("--results", type=_types.folder, default="results",
                        help="results folder (records go to RESULTS/records)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from pathlib import Path

    from tabulate import tabulate

    from benchmark.commands._checkpoint import checkpoint_ref
    from benchmark.commands._datasets import resolve_datasets
    from benchmark.attack.runner import AttackSpec, merge_attack_logs, parse_shard, run_attack_shard

    use_threads(args.threads)

    spec = AttackSpec(checkpoint=checkpoint_ref(args), recipe=args.recipe,
                      dataset=resolve_datasets(args, [args.dataset])[0], n=args.n,
                      seed=args.seed, query_budget=args.query_budget,
                      recipe_params=_params(args.param, args.max_perturbed_share),
                      shard=parse_shard(args.shard), results_dir=Path(args.results),
                      recipes_dirs=tuple(args.recipes_dir), batch_size=args.batch_size, precision=Precision(args.precision),
                      device=args.device, smoothing=args.smoothing)
    if args.merge is not None:
        from benchmark.core.errors import UserError

        if args.shard is not None:
            raise UserError("--merge combines all shards; leave out --shard")
        record = merge_attack_logs(spec, args.merge)
    else:
        record = run_attack_shard(spec, quiet=args.quiet)
    rows = [[k, round(v, 4) if isinstance(v, float) else v] for k, v in record["metrics"].items()]
    rows += [[k, v] for k, v in record["counts"].items()]
    sys.stdout.write(tabulate(rows, headers=["metric", record["record_id"]]) + "\n")
    return 0


def _params(pairs: list[str], max_perturbed_share: float | None = None) -> dict:
    import json

    from benchmark.core.errors import UserError

    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--param takes KEY=VALUE, got {pair!r}")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value  # a bare word: take it as text
    if max_perturbed_share is not None:
        params["max_perturbed_share"] = max_perturbed_share  # the runner's cap (benchmark/attack/budget.py)
    return params
