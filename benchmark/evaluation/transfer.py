"""Transfer runs: every target checkpoint evaluated on every adversarial set (benchmark/records/adversarial.py).

One evaluation record per (target, set), written by the ordinary evaluate path, so a transfer
cell resumes, is skipped when done, and carries the set's source identity like any other
evaluation on an adversarial set. The source x target matrix is rendered from these records by
benchmark/leaderboard/transfer.py.
"""

from __future__ import annotations

from pathlib import Path

from benchmark import data as data_registry
from benchmark.core.errors import UserError
from benchmark.records.adversarial import load_dataset


def run_transfer(checkpoints: list[Path], sets: list[str], results_dir: Path, batch_size: int = 128,
                 quiet: bool = False) -> list[dict]:
    """Evaluate each checkpoint on each set (groups such as tf-transfer expand); returns the records."""
    from benchmark.evaluation.evaluate import evaluate
    from benchmark.evaluation.spec import EvaluateSpec

    for name in sets:  # every name is checked (and every source found) before any model is loaded
        for member in data_registry.expand(name):
            if load_dataset(member, results_dir).adversarial_source is None:
                raise UserError(f"{member} is not an adversarial set: transfer takes adv:<record id>, "
                                "tf-transfer-* or tf-transfer")
    written = []
    for checkpoint in checkpoints:
        for name in sets:
            spec = EvaluateSpec(checkpoint=Path(checkpoint), dataset=name, results_dir=Path(results_dir),
                                batch_size=batch_size)
            written += evaluate(spec, quiet)
    return written
