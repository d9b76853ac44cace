"""The sample an evaluation draws from a dataset, and what its -n counts.

On NLI sets -n counts examples. On QA sets it counts original questions, each drawn with all
its adversarial variants (Jia and Liang's ids "<original>-<suffix>"), so the worst-case rule
always sees whole groups: `-n 500` on Adversarial SQuAD draws 500 groups, 1,746 questions.
Evaluation, its record id and the grid planner all use this one draw, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmark.data.registry import sample_indices
from benchmark.data.squad_format import original_id

EXAMPLE_UNIT = "example"
GROUP_UNIT = "original question with its variants"


@dataclass(frozen=True)
class DrawnSample:
    """Positions of the chosen examples, and the sample's size in the unit that -n counts."""

    indices: list[int]  # positions in the dataset's examples: one per logged line
    units: int  # examples (NLI) or original questions with their variants (QA) chosen
    available: int  # the same unit, in the whole dataset
    seed: int
    unit: str = EXAMPLE_UNIT

    @property
    def complete(self) -> bool:
        """The whole dataset was drawn (its record id then carries no n/seed suffix)."""
        return self.units >= self.available


def draw_sample(loaded, n: int | None, seed: int) -> DrawnSample:
    """The seeded sample `infobench evaluate -n N --seed S` evaluates on `loaded`."""
    if loaded.task != "qa":
        indices = sample_indices(len(loaded), n, seed)
        return DrawnSample(indices, len(indices), len(loaded), seed)
    indices, chosen, available = sample_groups(loaded.examples, n, seed)
    return DrawnSample(indices, chosen, available, seed, GROUP_UNIT)


def sample_groups(examples: list[dict], n: int | None, seed: int) -> tuple[list[int], int, int]:
    """(question indices, groups chosen, groups available): a seeded sample of n original questions."""
    groups: dict[str, list[int]] = {}
    for i, example in enumerate(examples):
        groups.setdefault(original_id(example["id"]), []).append(i)
    keys = list(groups)
    chosen = sample_indices(len(keys), n, seed)
    return sorted(i for g in chosen for i in groups[keys[g]]), len(chosen), len(keys)
