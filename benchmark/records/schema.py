"""The one typed schema of a result record (pydantic), its modes, and the one builder of records.

Every writer (evaluate, QA evaluate, the group total, the attack runner) builds its record with
`make_record`, its evaluation block with `evaluation_of` (a drawn sample) or `group_evaluation`
(a group's total); every reader (`load_record`, the leaderboard, the grid planner) checks a
record with `validate`. Blocks are open (extra keys allowed) so a record keeps every setting
its kind has, but the keys the readers rely on are typed. Records stay plain dicts in memory.
"""

from __future__ import annotations

import hashlib
import json
from typing import Union

from pydantic import BaseModel, ConfigDict, StrictFloat, StrictInt, StrictStr, ValidationError

from benchmark.core.errors import UserError
from benchmark.core.modes import CellStatus, Precision, RecordKind  # noqa: F401 (re-exported)
from benchmark.core.provenance import git_commit, now_iso, package_versions

SCHEMA_VERSION = 1
Number = Union[StrictInt, StrictFloat]  # an int stays an int (no 1 -> 1.0 on the way through)
_UNION_MEMBERS = ("int", "float")


RECORD_KINDS = tuple(kind.value for kind in RecordKind)


class _Block(BaseModel):
    model_config = ConfigDict(extra="allow")


class Sample(_Block):
    n: StrictInt | None = None  # in `unit`s: examples, or original questions with their variants
    seed: StrictInt | None = None
    indices_sha256: StrictStr | None = None
    unit: StrictStr | None = None  # absent: examples


class Evaluation(_Block):
    """What was evaluated: dataset, sample and the settings of the record's kind."""

    dataset: StrictStr
    source: StrictStr | None = None
    n_examples: StrictInt | None = None
    n_available: StrictInt | None = None
    sample: Sample | None = None
    examples_sha256: StrictStr | None = None
    skipped_by_rule: dict[str, StrictInt] | None = None
    max_length: StrictInt | None = None
    members: list[StrictStr] | None = None  # a group's total: the member records
    recipe: dict | None = None  # attack: name, params, paper, attack_repr
    resources: list[dict] | None = None
    shard: dict | None = None


class CheckpointIdentity(_Block):
    model_id: StrictStr
    weights_sha256: StrictStr


class Interval(_Block):
    """A rate's 95% interval (benchmark.metrics.outcomes): its n and bounds, plus how it was computed."""

    n: Number
    low: Number
    high: Number


class Record(_Block):
    schema_version: StrictInt
    record_id: StrictStr
    kind: RecordKind
    created: StrictStr | None = None
    checkpoint: CheckpointIdentity
    evaluation: Evaluation
    metrics: dict[str, Number | None]
    counts: dict
    wall_time_s: Number
    device: StrictStr | None = None
    versions: dict
    git_commit: StrictStr | None = None
    intervals: dict[str, Interval] | None = None  # records written before intervals existed have none


REQUIRED = tuple(name for name, info in Record.model_fields.items() if info.is_required())


def validate(record, where: str = "record") -> Record:
    """The typed record, or UserError naming the first problem in one line."""
    if not isinstance(record, dict):
        raise UserError(f"{where}: a record is a JSON object, got {type(record).__name__}")
    version = record.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version != SCHEMA_VERSION:
        raise UserError(f"{where}: schema_version {version} is not {SCHEMA_VERSION}")
    try:
        return Record.model_validate(record)
    except ValidationError as err:
        raise UserError(f"{where}: {_message(err.errors()[0])}") from None


def _message(error: dict) -> str:
    loc = [str(part) for part in error["loc"]]
    while len(loc) > 1 and loc[-1] in _UNION_MEMBERS:  # pydantic names the union member it tried
        loc.pop()
    got = type(error.get("input")).__name__
    if error["type"] == "missing":
        return f"missing field {'.'.join(loc)!r}"
    if loc[0] == "metrics" and len(loc) > 1:
        return f"metric {loc[1]!r} must be a number, got {error['input']!r}"
    if loc[0] == "intervals":
        return (f"interval of {loc[1]!r} needs numbers n, low and high" if len(loc) > 1
                else "intervals must be an object keyed by metric")
    if loc[0] == "kind":
        return f"kind {error['input']!r} is not one of {RECORD_KINDS}"
    if len(loc) == 1:
        return f"field {loc[0]!r} has the wrong type ({got})"
    return f"{'.'.join(loc[:2])}: {error['msg'].lower()} (got {got})"


def make_record(*, rid: str, kind: RecordKind | str, checkpoint: dict, evaluation: dict, metrics: dict,
                counts: dict, wall_time_s: float, device: str, intervals: dict | None = None) -> dict:
    """The record every writer writes: identity, metrics, counts, timing and provenance, checked.

    `intervals` (benchmark.metrics.outcomes.intervals) gives each rate its n and 95% interval.
    """
    record = {
        "schema_version": SCHEMA_VERSION, "record_id": rid, "kind": kind, "created": now_iso(),
        "checkpoint": checkpoint, "evaluation": evaluation, "metrics": metrics, "counts": counts,
        "wall_time_s": round(float(wall_time_s), 3), "device": device, "versions": package_versions(),
        "git_commit": git_commit(),
    }
    if intervals is not None:
        record["intervals"] = intervals
    return validate(record, where=rid).model_dump(mode="json", exclude_unset=True)


def evaluation_of(loaded, sample, **settings) -> dict:
    """The evaluation block of a record over a drawn sample (benchmark.data.DrawnSample) of `loaded`.

    `settings`: what the record's kind adds (max_length; QA windows and aggregation; attack
    recipe, resources and similarity encoder).
    """
    drawn = {"n": sample.units, "seed": sample.seed, "indices_sha256": sha256_json(sample.indices)}
    if sample.unit != "example":
        drawn["unit"] = sample.unit
    block = {"dataset": loaded.name, "source": loaded.source, **loaded.provenance(), "n_examples": len(sample.indices),
             "n_available": len(loaded), "sample": drawn, "examples_sha256": loaded.fingerprint(sample.indices),
             "skipped_by_rule": loaded.skipped, **settings}
    if loaded.adversarial_source is not None:  # which attack record (by sha256) the set was made from
        block["adversarial_source"] = loaded.adversarial_source
    return block


def group_evaluation(group: str, parts: list[dict]) -> dict:
    """The evaluation block of a group's total (e.g. ANLI R1-R3) over its members' records."""
    return {"dataset": group, "members": [p["record_id"] for p in parts],
            "examples_sha256": sha256_json([p["evaluation"]["examples_sha256"] for p in parts]),
            "sample": {"n": sum(p["counts"]["n"] for p in parts), "seed": parts[0]["evaluation"]["sample"]["seed"]}}


def sha256_json(value) -> str:
    return hashlib.sha256(json.dumps(value).encode()).hexdigest()
