"""What an evaluation is: the user's choices (EvaluateSpec), and the records they lead to.

`plan_records` is the one place that turns a spec into datasets, samples and record ids: the
evaluation writes exactly those records and the grid planner looks for exactly those.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchmark import data as data_registry
from benchmark import records
from benchmark.core.modes import RecordKind
from benchmark.data import DrawnSample, LoadedDataset, draw_sample
from benchmark.metrics import outcomes


@dataclass(frozen=True)
class EvaluateSpec:
    """Everything a user chooses for one `infobench evaluate --dataset D` (D: a dataset or a group)."""

    checkpoint: Path
    dataset: str
    n: int | None = None  # examples (NLI) or original questions with their variants (QA); None: all
    seed: int = 0
    results_dir: Path = Path("results")
    batch_size: int = 128
    smoothing: int | None = None  # N: score SAFER's smoothed classifier (N votes), certified accuracy beside


@dataclass(frozen=True)
class PlannedRecord:
    """One dataset of an evaluation: its sample and the id of the record it gets."""

    loaded: LoadedDataset
    sample: DrawnSample
    record_id: str


def plan_records(card: dict, spec: EvaluateSpec, load=data_registry.load) -> tuple[list[PlannedRecord], str | None]:
    """The records `evaluate` writes for `spec`: one per dataset, and the group total's id (None: no group).

    The grid planner calls this too, so a cell is marked done by exactly the ids evaluate writes.
    """
    planned = []
    for name in data_registry.expand(spec.dataset):
        loaded = load(name)
        sample = draw_sample(loaded, spec.n, spec.seed)
        planned.append(PlannedRecord(loaded, sample, records.evaluate_record_id(card["model_id"], loaded.name, sample,
                                                                               spec.smoothing)))
    group_id = None
    if len(planned) > 1:  # a group is recorded under its canonical name ("textfooler" as "tf1k-clean")
        group = data_registry.canonical_name(spec.dataset)
        group_id = records.evaluate_record_id(card["model_id"], group, planned[0].sample, spec.smoothing)
    return planned, group_id


def write_evaluation_record(member: PlannedRecord, card, spec: EvaluateSpec, chosen: list[dict], metrics, counts,
                            wall, model, intervals: dict | None = None, **settings) -> dict:
    """Build (the one schema's builders) and write the record of one dataset of an evaluation.

    `chosen`: the sample's log entries, from which each rate's 95% interval is computed.
    """
    record = records.make_record(rid=member.record_id, kind=RecordKind.EVALUATE,
                                 checkpoint=records.checkpoint_identity(card, spec.checkpoint),
                                 evaluation=records.evaluation_of(member.loaded, member.sample, **settings),
                                 metrics=metrics, counts=counts, wall_time_s=wall,
                                 device=str(next(model.parameters()).device),
                                 intervals=intervals or outcomes.intervals(RecordKind.EVALUATE, metrics, counts, chosen))
    records.write_record(spec.results_dir, record)
    return record
