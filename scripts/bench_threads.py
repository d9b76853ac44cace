"""Torch CPU threads: seconds per scored query at each thread count, alternating in one process.

Scores the same SNLI pairs (an attack-sized batch and an evaluate-sized batch) with the attack
wrapper's scoring path, switching torch's thread count between rounds so that load on a shared
machine hits every setting alike. Prints wall and CPU milliseconds per query and each setting's
wall time relative to one thread. This is what chose infobench's default of one thread.

    python scripts/bench_threads.py CKPT --threads 1 2 --rounds 6
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--pairs", type=int, default=256, help="SNLI test pairs scored per round")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    from benchmark import data as data_registry
    from benchmark.attack.model_wrapper import CachedScorer
    from models.checkpoint import load_checkpoint

    model, tokenizer, card = load_checkpoint(args.checkpoint)
    model.eval()
    examples = data_registry.load("snli-test").examples[:args.pairs]
    keys = [(e["premise"], e["hypothesis"]) for e in examples]
    scorers = {"attack batches (64)": CachedScorer(model, tokenizer, batch_size=64),
               "evaluate batches (128)": CachedScorer(model, tokenizer, batch_size=128)}
    wall = {(name, t): [] for name in scorers for t in args.threads}
    cpu = {(name, t): [] for name in scorers for t in args.threads}
    load = [os.getloadavg()[0]]
    for round_ in range(args.rounds):
        order = args.threads if round_ % 2 == 0 else args.threads[::-1]
        for threads in order:
            torch.set_num_threads(threads)
            for name, scorer in scorers.items():
                started, cpu_started = time.perf_counter(), time.process_time()
                scorer.score(keys)
                wall[name, threads].append((time.perf_counter() - started) / len(keys))
                cpu[name, threads].append((time.process_time() - cpu_started) / len(keys))
    load.append(os.getloadavg()[0])
    print(f"{len(keys)} SNLI pairs x {args.rounds} rounds, load average {load[0]:.1f} -> {load[1]:.1f} "
          f"on {os.cpu_count()} cores (ms per query: median wall, median CPU; wall vs 1 thread)")
    for name in scorers:
        base = statistics.median(wall[name, args.threads[0]])
        for threads in args.threads:
            median = statistics.median(wall[name, threads])
            print(f"  {name:24s} {threads} thread(s): {1000 * median:7.2f} wall  "
                  f"{1000 * statistics.median(cpu[name, threads]):7.2f} CPU  {median / base:5.2f}x  "
                  f"(rounds: {', '.join(f'{1000 * w:.1f}' for w in wall[name, threads])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
