"""Plot the training curves (task loss, IB, AF lower bound) of finished checkpoints.

    python scripts/plot_training.py checkpoints/*-minilm-l6-snli-s* --out results/plots/training-curves.png

Reads each checkpoint's train_log.jsonl (written by `infobench train`), smooths every figure
with a moving average over `--window` steps and draws one panel per figure, one line per
checkpoint, so a reader sees whether the regularizers did something.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

FIGURES = ("task_loss", "ib", "af_lower_bound")


def read_log(ckpt: Path) -> tuple[str, list[dict]]:
    card = json.loads((ckpt / "card.json").read_text())
    rows = [json.loads(line) for line in (ckpt / "train_log.jsonl").read_text().splitlines()]
    return card["model_id"], rows


def moving_average(values: list[float], window: int) -> list[float]:
    out, total = [], 0.0
    for i, value in enumerate(values):
        total += value - (values[i - window] if i >= window else 0.0)
        out.append(total / min(i + 1, window))
    return out


def plot(logs: list[tuple[str, list[dict]]], out: Path, window: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(FIGURES), figsize=(5 * len(FIGURES), 3.6))
    for axis, figure in zip(axes, FIGURES):
        for model_id, rows in logs:
            points = [(r["step"], r[figure]) for r in rows if r.get(figure) is not None]  # 0.0 is a value
            if points:
                steps, values = zip(*points)
                axis.plot(steps, moving_average(list(values), window), label=model_id, linewidth=1)
        axis.set_title(f"{figure} ({window}-step mean)")
        axis.set_xlabel("optimizer step")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("results/plots/training-curves.png"))
    parser.add_argument("--window", type=int, default=20)
    args = parser.parse_args()
    finished = [ckpt for ckpt in args.checkpoints if (ckpt / "card.json").is_file()]
    for ckpt in sorted(set(args.checkpoints) - set(finished)):
        print(f"skipped {ckpt}: no card.json (training not finished)")
    if not finished:
        raise SystemExit("no finished checkpoint to plot")
    plot([read_log(ckpt) for ckpt in finished], args.out, args.window)
    print(args.out)


if __name__ == "__main__":
    main()
