"""The training curve: one JSON line per optimizer step beside the checkpoint (train_log.jsonl).

Each line holds the step, the learning rate and every loss figure the method's step returned
(task loss; for InfoBERT the IB term and the AF lower bound, whose negation is the critic's
loss). A reader must be able to see that the regularizers did something, so the log survives
into the finished checkpoint and a summary of it goes into the card.

Kill-safe without an fsync per step: lines past the last saved train state belong to steps
that a resumed run redoes, so `resume_at(step)` drops them (and a torn last line) before the
run appends again. The finished log therefore equals an unbroken run's.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from benchmark.core.atomic import atomic_write_text

LOG_FILE = "train_log.jsonl"
CURVE_POINTS = 100  # the card's summary: at most this many averaged points


class TrainLog:
    def __init__(self, out_dir: Path):
        self.path = Path(out_dir) / LOG_FILE

    def start_fresh(self) -> None:
        self.path.unlink(missing_ok=True)

    def resume_at(self, step: int) -> None:
        """Keep the lines of steps 1..step: later ones are redone by the resumed run."""
        kept = [row for row in self.rows() if row["step"] <= step]
        atomic_write_text(self.path, "".join(json.dumps(row) + "\n" for row in kept))

    def append(self, step: int, lr: float, losses: dict) -> None:
        row = {"step": step, "lr": lr, **{k: round(float(v), 6) for k, v in losses.items()}}
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")

    def rows(self) -> list[dict]:
        return read_rows(self.path)


def read_rows(path: Path) -> list[dict]:
    """The steps a training log holds (none if it is absent), up to a line torn by a kill."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a line torn by a kill: it and anything after it are redone
    return rows


def curve_summary(rows: list[dict], points: int = CURVE_POINTS) -> list[dict]:
    """Mean of each figure over consecutive windows of steps, at most `points` windows."""
    if not rows:
        return []
    window = max(1, math.ceil(len(rows) / points))
    summary = []
    for start in range(0, len(rows), window):
        chunk = rows[start:start + window]
        keys = [k for k in chunk[0] if k not in ("step", "lr")]
        summary.append({"step": chunk[-1]["step"],
                        **{k: round(sum(r.get(k, 0.0) for r in chunk) / len(chunk), 6) for k in keys}})
    return summary
