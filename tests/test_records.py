"""The one record schema: committed records load through it, builders write words not enum names,
and malformed records are refused in one line naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmark import records
from benchmark.core.errors import UserError
from benchmark.records import RecordKind

REPO = Path(__file__).resolve().parents[1]
COMMITTED = sorted((REPO / "results" / "records").glob("*.json"))


def test_every_committed_record_loads_through_the_schema():
    assert len(COMMITTED) >= 30
    kinds = {records.validate(records.load_record(path), str(path)).kind for path in COMMITTED}
    assert kinds == {RecordKind.EVALUATE, RecordKind.ATTACK}


def _record(**changes) -> dict:
    record = json.loads(COMMITTED[0].read_text())
    record.update(changes)
    return record


def test_the_builder_writes_modes_as_words_and_keeps_ints_as_ints(tmp_path):
    source = _record()
    built = records.make_record(rid="r", kind=RecordKind.ATTACK, checkpoint=source["checkpoint"],
                                evaluation=source["evaluation"], metrics={"accuracy": 1, "f1": 0.5},
                                counts={"n": 2}, wall_time_s=1, device="cpu")
    path = records.write_record(tmp_path, built)
    on_disk = json.loads(path.read_text())
    assert on_disk["kind"] == "attack" and on_disk["metrics"] == {"accuracy": 1, "f1": 0.5}
    assert isinstance(on_disk["metrics"]["accuracy"], int) and on_disk["evaluation"] == source["evaluation"]


@pytest.mark.parametrize("changes,message", [
    ({"metrics": {"accuracy": True}}, "metric 'accuracy' must be a number, got True"),
    ({"metrics": {"accuracy": "0.8"}}, "metric 'accuracy' must be a number, got '0.8'"),
    ({"kind": "train"}, "kind 'train' is not one of ('evaluate', 'attack')"),
    ({"schema_version": 2}, "schema_version 2 is not 1"),
    ({"wall_time_s": "3"}, "field 'wall_time_s' has the wrong type (str)"),
    ({"checkpoint": {"model_id": "m"}}, "missing field 'checkpoint.weights_sha256'"),
    ({"evaluation": {"dataset": 3}}, "evaluation.dataset: input should be a valid string (got int)"),
])
def test_malformed_records_are_one_line_errors(changes, message):
    with pytest.raises(UserError) as err:
        records.validate(_record(**changes), where="r.json")
    assert str(err.value) == f"r.json: {message}"
