"""Training throughput of the methods on identical batches, measured in one run.

Prints per-method step time, examples/s and each method's ratio to standard (goal for
infobert at K = 3: <= 3.3x; the defences pgd, a2t and safer are measured the same way). Methods are interleaved
round by round so drift in machine load hits all of them alike. On CUDA it also
prints model FLOPs utilisation from an analytic FLOP count (6 * params * tokens per
forward+backward pass; K passes for the adversarial methods).

    python scripts/bench_training.py --batch-size 32 --rounds 5 [--backbone minilm-l6] [--mixed-precision bf16]
        [--methods standard,freelb,infobert,pgd,a2t,safer] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch


def build(method: str, args):
    from accelerate import Accelerator

    from models.backbones import build_task_model
    from models.config import resolve_config
    from models.methods import METHODS, StepContext
    from models.training import build_regularizers

    cfg = resolve_config(method, "snli", {"batch_size": args.batch_size, "mixed_precision": args.mixed_precision})
    torch.manual_seed(0)
    model, tokenizer = build_task_model(args.backbone, "nli", cfg.hidden_dropout, cfg.attention_dropout)
    accelerator = Accelerator(mixed_precision=cfg.mixed_precision, cpu=not torch.cuda.is_available())
    regs = {k: v.to(accelerator.device) for k, v in build_regularizers(cfg, model).items()}
    params = list(model.parameters()) + [p for r in regs.values() for p in r.parameters()]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr)
    model, optimizer = accelerator.prepare(model, optimizer)
    ctx = StepContext(hp=cfg, accelerator=accelerator, **regs)
    return model, tokenizer, optimizer, ctx, METHODS.get(method).step


def batches(tokenizer, args, device):
    from benchmark import data
    from models.backbones import TASK_LABELS
    from models.features import collate, nli_features

    examples = data.load("snli-train").examples[: args.batch_size * args.rounds]
    features, _ = nli_features(examples, tokenizer, TASK_LABELS["nli"], 128)
    chunks = [features[i:i + args.batch_size] for i in range(0, len(features), args.batch_size)]
    return [{k: v.to(device) for k, v in collate(tokenizer, c).items()} for c in chunks]


def timed_step(model, batch, optimizer, ctx, step) -> float:
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    sync()
    start = time.perf_counter()
    with ctx.accelerator.autocast():
        step(model, batch, ctx)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    sync()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", default="minilm-l6")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mixed-precision", default="no")
    parser.add_argument("--methods", default="standard,freelb,infobert,pgd,a2t,safer",
                        help="comma-separated methods; standard is always measured (the ratios' base)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads, as `infobench train --threads`")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    methods = tuple(dict.fromkeys(["standard", *args.methods.split(",")]))
    runs = {m: build(m, args) for m in methods}
    device = runs["standard"][3].accelerator.device
    data = batches(runs["standard"][1], args, device)
    times = {m: [] for m in methods}
    for name in methods:  # warm-up, untimed
        model, _, optimizer, ctx, step = runs[name]
        timed_step(model, data[0], optimizer, ctx, step)
    for batch in data:
        for name in methods:
            model, _, optimizer, ctx, step = runs[name]
            times[name].append(timed_step(model, batch, optimizer, ctx, step))
    report(times, args, data, runs)
    if "infobert" in runs:
        report_floor(runs["standard"][0], data[0], runs["infobert"][3].hp.adv_steps)


def pass_seconds(model, batch, backward: str, repeats: int = 3) -> float:
    """Median seconds of one forward on (embeddings + delta), then no / input-only / full backward."""
    batch = dict(batch)
    input_ids = batch.pop("input_ids")
    embed = model.get_input_embeddings()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        delta = torch.zeros_like(embed(input_ids)).requires_grad_()
        loss = model(inputs_embeds=embed(input_ids) + delta, **batch).loss
        if backward == "input":
            torch.autograd.grad(loss, delta)
        elif backward == "full":
            loss.backward()
            model.zero_grad(set_to_none=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def report_floor(model, batch, adv_steps: int) -> None:
    """The exact InfoBERT step needs, per ascent step, a forward, an input-gradient pass (g_k must
    exist before the AF term does) and a full backward; standard needs a forward and a full backward."""
    forward = pass_seconds(model, batch, "none")
    input_grad = pass_seconds(model, batch, "input") - forward
    full = pass_seconds(model, batch, "full") - forward
    floor = adv_steps * (forward + input_grad + full) / (forward + full)
    print(f"pass costs (forward = 1): input-gradient pass {input_grad / forward:.2f}, full backward "
          f"{full / forward:.2f}; compute floor of the exact infobert step at K = {adv_steps}: {floor:.2f}x standard, "
          f"freelb {adv_steps:.2f}x (optimizer and data costs make measured ratios a little lower)")


def report(times, args, data, runs) -> None:
    base = statistics.median(times["standard"])
    tokens = statistics.mean(int(b["attention_mask"].sum()) for b in data)
    print(f"device {runs['standard'][3].accelerator.device}, backbone {args.backbone}, batch {args.batch_size}, "
          f"{args.rounds} rounds, mean {tokens:.0f} tokens/batch, torch threads {torch.get_num_threads()}")
    for name, values in times.items():
        median = statistics.median(values)
        line = (f"{name:9s} step {median * 1000:8.1f} ms (median)  {args.batch_size / median:7.1f} examples/s  "
                f"ratio to standard {median / base:5.2f}x")
        if torch.cuda.is_available() and name in ("standard", "freelb", "infobert"):  # K passes: FreeLB family only
            params = sum(p.numel() for p in runs[name][0].parameters())
            passes = max(runs[name][3].hp.adv_steps, 1)
            flops = 6 * params * tokens * passes / median
            peak = 989e12 if "H100" in torch.cuda.get_device_name() else float("nan")
            line += f"  MFU {flops / peak:6.1%}"
        print(line)


if __name__ == "__main__":
    main()
