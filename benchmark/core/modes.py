"""The string modes of records, grid cells and attacks, as enums (str-valued: JSON and CLI keep the words)."""

from __future__ import annotations

from enum import StrEnum


class RecordKind(StrEnum):
    EVALUATE = "evaluate"
    ATTACK = "attack"


class CellStatus(StrEnum):
    """A grid cell: planned as done | partial | todo, then ran | failed after a run."""

    DONE = "done"
    PARTIAL = "partial"
    TODO = "todo"
    RAN = "ran"
    FAILED = "failed"


class Precision(StrEnum):
    """Autocast of the attacked model on CUDA (auto: bf16 where supported); CPU always runs fp32."""

    AUTO = "auto"
    FP32 = "fp32"
    BF16 = "bf16"
    FP16 = "fp16"
