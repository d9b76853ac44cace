"""Inference cost of SAFER's smoothed classifier per example, against the plain model.

Scores the same SNLI-test pairs once with the plain model (CachedScorer, cache cleared) and
once as the smoothed classifier with N samples per input (SmoothedScorer: N seeded random
synonym substitutions, majority vote), and prints seconds per example, the ratio, the
share of the smoothed time spent drawing substitutions, and the unique model inputs per
example (short inputs sometimes draw the same text twice). Optionally adds SAFER's
certificate cost (the q_x bound per example).

    python scripts/bench_smoothing.py [--checkpoint DIR | --backbone minilm-l6] [-n 32] [--samples 16,64]
"""

from __future__ import annotations

import argparse
import time


def load(args):
    from models.backbones import build_task_model
    from models.checkpoint import load_checkpoint

    if args.checkpoint:
        model, tokenizer, _ = load_checkpoint(args.checkpoint)
    else:  # the cost does not depend on the weights: an untrained head on the backbone will do
        model, tokenizer = build_task_model(args.backbone, "nli", 0.1, 0.0)
    import torch

    model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
    return model, tokenizer


def main() -> None:
    from benchmark import data
    from benchmark.attack.model_wrapper import CachedScorer
    from benchmark.attack.smoothed import SmoothedScorer
    from benchmark.evaluation.smoothed import certify_example

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint")
    parser.add_argument("--backbone", default="minilm-l6")
    parser.add_argument("-n", type=int, default=32, help="SNLI-test examples")
    parser.add_argument("--samples", default="16,64", help="comma-separated N values")
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    model, tokenizer = load(args)
    examples = data.load("snli-test").examples[:args.n]
    pairs = [(e["premise"], e["hypothesis"]) for e in examples]
    base = CachedScorer(model, tokenizer, max_length=128, batch_size=args.batch_size)
    base.score(pairs[:4])  # warm-up
    started = time.perf_counter()
    base.score(pairs)
    plain = (time.perf_counter() - started) / len(pairs)
    print(f"device {base.device}, {len(pairs)} SNLI-test pairs, plain model {plain * 1000:.1f} ms/example")
    for samples in (int(s) for s in args.samples.split(",")):
        smoothed = SmoothedScorer(CachedScorer(model, tokenizer, max_length=128, batch_size=args.batch_size), samples)
        started = time.perf_counter()
        draws = [smoothed.noisy_inputs(p) for p in pairs]
        drawing = time.perf_counter() - started
        started = time.perf_counter()
        votes = smoothed.votes(pairs)
        total = (time.perf_counter() - started) / len(pairs)
        started = time.perf_counter()
        for example, row in zip(examples, votes):
            certify_example(smoothed, example, row)
        certificate = (time.perf_counter() - started) / len(pairs)
        unique = sum(len(set(d)) for d in draws) / len(pairs)
        print(f"N={samples:4d}: {total * 1000:8.1f} ms/example ({total / plain:6.1f}x plain), drawing "
              f"{drawing / len(pairs) * 1000:.2f} ms, {unique:.1f} unique inputs/example, certificate "
              f"{certificate * 1000:.2f} ms/example")


if __name__ == "__main__":
    main()
