"""`infobench evaluate` (NLI) against its forward-pass limit, in one process, on the same examples.

(a) limit: token lengths of every pair, one global length sort, then per batch tokenize padded to
    its longest member and forward: nothing but what any evaluation must do;
(b) evaluate: `benchmark.evaluation.evaluate.evaluate_one` into a fresh results folder (sampling, log header,
    per-example log with fsync, record), exactly what `infobench evaluate CKPT --dataset D -n N` runs.

The two alternate (a, b, b, a, ...) for --repeats rounds so load drift on a shared machine hits
both alike; prints each side's examples/s, the ratio, padded/real tokens for global vs per-chunk
sorting, and whether evaluate's predictions equal the limit pass's argmax on every example.

    python scripts/bench_evaluate.py CKPT --dataset snli-test -n 2000 --threads 1
    python scripts/bench_evaluate.py CKPT --dataset squad-dev -n 2000      # QA: padding of each order only
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--dataset", default="snli-test")
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=128, help="as `infobench evaluate --batch-size`")
    parser.add_argument("--repeats", type=int, default=2, help="rounds of (limit, evaluate)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    return parser.parse_args(argv)


def limit_pass(model, tokenizer, pairs, max_length: int, batch_size: int):
    """(seconds, predicted label ids, padded tokens, real tokens) for tokenize + sorted forward."""
    import numpy as np
    import torch

    from models.inference import length_sorted_batches

    started = time.perf_counter()
    lengths = [len(ids) for ids in tokenizer([p for p, _ in pairs], [h for _, h in pairs],
                                             truncation="longest_first", max_length=max_length)["input_ids"]]
    predicted = np.empty(len(pairs), dtype=np.int64)
    padded_tokens = 0
    with torch.inference_mode():
        for batch in length_sorted_batches(lengths, batch_size):
            encoded = tokenizer([pairs[i][0] for i in batch], [pairs[i][1] for i in batch], truncation="longest_first",
                                max_length=max_length, padding=True, return_tensors="pt")
            padded_tokens += encoded["input_ids"].numel()
            predicted[batch] = model(**encoded).logits.argmax(-1).numpy()
    return time.perf_counter() - started, predicted, padded_tokens, sum(lengths)


def chunked_padding(lengths: list[int], chunk: int, batch_size: int) -> int:
    """Padded tokens when sorting only inside chunks of `chunk` (the old evaluate order)."""
    total = 0
    for start in range(0, len(lengths), chunk):
        part = sorted(lengths[start:start + chunk])
        total += sum(max(part[i:i + batch_size]) * len(part[i:i + batch_size]) for i in range(0, len(part), batch_size))
    return total


def evaluate_pass(model, tokenizer, card, ckpt, args, results: Path):
    from benchmark import records
    from benchmark.evaluation.evaluate import EvaluateSpec, evaluate

    started = time.perf_counter()
    spec = EvaluateSpec(checkpoint=ckpt, dataset=args.dataset, n=args.n, seed=args.seed, results_dir=results,
                        batch_size=args.batch_size)
    record = evaluate(spec, quiet=True, loaded=(model, tokenizer, card))[-1]
    seconds = time.perf_counter() - started
    log = records.example_log_path(results, record["record_id"])
    entries = [json.loads(line) for line in log.read_text().splitlines()[1:]]
    return seconds, {entry["index"]: entry["prediction"] for entry in entries}


def qa_padding(tokenizer, loaded, indices: list[int], batch_size: int) -> None:
    """QA: padded/real window tokens for the old order (chunks of 64 questions in sample order) and
    the new one (one global sort by question + context tokens, chunks of 128). Model-free."""
    from benchmark.evaluation.qa import CHUNK, by_length
    from models.inference import length_sorted_batches
    from models.qa_features import make_windows

    def padding(order: list[int], chunk: int) -> tuple[int, int]:
        padded = real = 0
        for start in range(0, len(order), chunk):
            windows, _ = make_windows(tokenizer, [loaded.examples[i] for i in order[start:start + chunk]], 384, 128)
            lengths = [len(w.inputs["input_ids"]) for w in windows]
            real += sum(lengths)
            padded += sum(max(lengths[i] for i in b) * len(b) for b in length_sorted_batches(lengths, batch_size))
        return padded, real

    old, real = padding(indices, 64)
    new, _ = padding(by_length(tokenizer, loaded, indices), CHUNK)
    print(f"{loaded.name}, {len(indices)} questions, batch {batch_size}: padded/real window tokens "
          f"{old / real:.3f}x sorted within chunks of 64 (before), {new / real:.3f}x one global sort, chunks of {CHUNK}")


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    from benchmark import data as data_registry
    from models.checkpoint import load_checkpoint

    torch.set_num_threads(args.threads)
    model, tokenizer, card = load_checkpoint(args.checkpoint)
    model.eval()
    loaded = data_registry.load(args.dataset)
    indices = data_registry.sample_indices(len(loaded), args.n, args.seed)
    if loaded.task == "qa":  # no QA checkpoint needed: how much padding each order costs
        qa_padding(tokenizer, loaded, data_registry.draw_sample(loaded, args.n, args.seed).indices, args.batch_size)
        return 0
    pairs = [(loaded.examples[i]["premise"], loaded.examples[i]["hypothesis"]) for i in indices]
    max_length = card["hyperparameters"].get("max_length", 128)
    times = {"limit": [], "evaluate": []}
    cpu = {"limit": [], "evaluate": []}
    for round_ in range(args.repeats):
        for side in (("limit", "evaluate") if round_ % 2 == 0 else ("evaluate", "limit")):
            cpu_started = time.process_time()
            if side == "limit":
                seconds, predicted, padded, real = limit_pass(model, tokenizer, pairs, max_length, args.batch_size)
                limit_predictions = [card["label_names"][k] for k in predicted]
            else:
                with tempfile.TemporaryDirectory() as folder:
                    seconds, logged = evaluate_pass(model, tokenizer, card, args.checkpoint, args, Path(folder))
            times[side].append(seconds)
            cpu[side].append(time.process_time() - cpu_started)
    agree = all(logged[i] == p for i, p in zip(indices, limit_predictions))
    lengths = [len(ids) for ids in tokenizer([p for p, _ in pairs], [h for _, h in pairs], truncation="longest_first",
                                             max_length=max_length)["input_ids"]]
    report(args, times, cpu, padded, real, chunked_padding(lengths, 256, args.batch_size), agree)
    return 0 if agree else 1


def report(args, times: dict, cpu: dict, padded: int, real: int, chunked: int, agree: bool) -> None:
    import os

    best = {side: min(values) for side, values in times.items()}
    print(f"{args.dataset}, n={args.n}, batch {args.batch_size}, {args.threads} torch thread(s), "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for side in ("limit", "evaluate"):
        print(f"  {side:9s} wall " + "  ".join(f"{s:.2f}s" for s in times[side])
              + f" (best {args.n / best[side]:.1f} examples/s);  CPU " + "  ".join(f"{s:.2f}s" for s in cpu[side])
              + f" ({args.n / min(cpu[side]):.1f} examples per CPU-second)")
    print(f"evaluate / limit, wall (best of each): {best['evaluate'] / best['limit']:.3f}x;  "
          f"wall (total of each): {sum(times['evaluate']) / sum(times['limit']):.3f}x;  "
          f"CPU time (total of each, the figure to trust on a loaded machine): "
          f"{sum(cpu['evaluate']) / sum(cpu['limit']):.3f}x")
    print(f"padded/real tokens: global sort {padded / real:.3f}x, sorted only within chunks of 256 {chunked / real:.3f}x")
    print("evaluate's predictions equal the limit pass's argmax on every example" if agree
          else "PREDICTIONS DIFFER between evaluate and the limit pass")


if __name__ == "__main__":
    sys.exit(main())
