"""Plot the training curves (task loss, IB, AF lower bound) of finished checkpoints.

    python scripts/plot_training.py checkpoints/*-minilm-l6-snli-s* --out results/plots/training-curves.png
    python scripts/plot_training.py results/cards/*-minilm-l6-snli-s[123].json  # from a clean clone

Reads each run's train_log.jsonl (written by `infobench train` beside its card; a committed card
`results/cards/<id>.json` keeps it as `<id>.train_log.jsonl`), smooths every figure with a moving
average over `--window` steps and draws one panel per figure, one colour per method and one line
style per seed, so a reader sees whether the regularizers did something.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

FIGURES = ("task_loss", "ib", "af_lower_bound")
# the hyper-parameter that switches a regularizer's figure on: FreeLB shares InfoBERT's step with
# both at 0, and logs written before that was told apart record 0.0 for terms never computed
SWITCHED_BY = {"ib": "beta", "af_lower_bound": "alpha"}


def log_files(run: Path) -> tuple[Path, Path]:
    """(card, training log) of a checkpoint folder or of a committed card file."""
    if run.is_dir():
        return run / "card.json", run / "train_log.jsonl"
    return run, run.with_name(run.name.removesuffix(".json") + ".train_log.jsonl")


def read_log(run: Path) -> tuple[dict, list[dict]]:
    from models.train_log import read_rows

    card_path, log_path = log_files(run)
    return json.loads(card_path.read_text()), read_rows(log_path)


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
    methods = sorted({card["method"] for card, _ in logs})
    seeds = sorted({card["seed"] for card, _ in logs})
    for axis, figure in zip(axes, FIGURES):
        for card, rows in logs:
            if card["hyperparameters"].get(SWITCHED_BY.get(figure), 1) == 0:
                continue
            points = [(r["step"], r[figure]) for r in rows if r.get(figure) is not None]  # 0.0 is a value
            if points:
                steps, values = zip(*points)
                axis.plot(steps, moving_average(list(values), window), label=card["model_id"], linewidth=1,
                          color=f"C{methods.index(card['method'])}",
                          linestyle=("-", "--", ":", "-.")[seeds.index(card["seed"]) % 4])
        axis.set_title(f"{figure} ({window}-step mean)")
        axis.set_xlabel("optimizer step")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="checkpoint folders or committed card files")
    parser.add_argument("--out", type=Path, default=Path("results/plots/training-curves.png"))
    parser.add_argument("--window", type=int, default=20)
    args = parser.parse_args()
    finished = [run for run in args.runs if all(path.is_file() for path in log_files(run))]
    for run in sorted(set(args.runs) - set(finished)):
        print(f"skipped {run}: no card and training log (training not finished)")
    if not finished:
        raise SystemExit("no finished checkpoint to plot")
    plot([read_log(ckpt) for ckpt in finished], args.out, args.window)
    print(args.out)


if __name__ == "__main__":
    main()
