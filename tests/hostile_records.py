"""A hostile record planted in a results folder: shared by tests/test_hostile.py and the hostile
pass (scripts/hostile_cases.py), so both attack the leaderboard with the same forgery."""

from __future__ import annotations

import json
from pathlib import Path


def plant_hostile_record(results: Path, **changes) -> Path:
    """Copy the folder's first record to records/hostile.json with `changes` applied; a key names a
    nested field with "__" ("checkpoint__model_id"). Returns `results`."""
    record = json.loads(next((results / "records").glob("*.json")).read_text())
    for dotted, value in changes.items():
        node = record
        *parents, leaf = dotted.split("__")
        for key in parents:
            node = node[key]
        node[leaf] = value
    record["record_id"] = "hostile"
    (results / "records" / "hostile.json").write_text(json.dumps(record))
    return results
