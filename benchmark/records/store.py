"""Result records: one JSON document per (checkpoint, evaluation), with a schema version.

A record holds the checkpoint identity (card subset + weights hash), the evaluation
identity (dataset, sample, recipe and parameters, resources used with substitutes named),
metrics (numbers only), counts, wall time, device and package versions. Records are
written atomically; the per-example JSONL log beside a record is append-only.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from benchmark.core.atomic import append_jsonl, atomic_write_json, read_jsonl_log
from benchmark.core.errors import UserError
from benchmark.core.provenance import git_commit, now_iso, package_versions

SCHEMA_VERSION = 1
RECORD_KINDS = ("evaluate", "attack")
# Fields that legitimately differ between two runs of the same command.
VOLATILE_FIELDS = ("created", "wall_time_s", "seconds_per_example", "device", "git_commit", "host")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

REQUIRED = {
    "schema_version": int, "record_id": str, "kind": str, "checkpoint": dict, "evaluation": dict,
    "metrics": dict, "counts": dict, "wall_time_s": (int, float), "versions": dict,
}


def default_results_dir() -> Path:
    return Path("results")


def safe_name(text: str) -> str:
    """A file-name-safe form of user-derived text: it can never leave its folder."""
    cleaned = _SAFE_NAME.sub("-", text).strip(".-")
    if not cleaned:
        raise UserError(f"cannot derive a file name from {text!r}")
    return cleaned[:180]


def record_id(checkpoint_id: str, kind: str, dataset: str, suffix: str = "") -> str:
    parts = [checkpoint_id, kind, dataset] + ([suffix] if suffix else [])
    return safe_name("__".join(parts))


def record_path(results_dir: Path, rid: str) -> Path:
    return Path(results_dir) / "records" / f"{safe_name(rid)}.json"


def example_log_path(results_dir: Path, rid: str) -> Path:
    return Path(results_dir) / "records" / f"{safe_name(rid)}.examples.jsonl"


def checkpoint_identity(card: dict, path: str | Path) -> dict:
    keys = ("model_id", "backbone", "task", "method", "seed", "weights_sha256", "label_names",
            "hyperparameters", "training_data")
    return {"path": str(path), **{k: card.get(k) for k in keys}}


def make_record(*, rid: str, kind: str, checkpoint: dict, evaluation: dict, metrics: dict, counts: dict,
                wall_time_s: float, device: str, intervals: dict | None = None) -> dict:
    """A validated record; `intervals` (benchmark.outcomes.intervals) gives each rate its n and 95% interval."""
    record = {
        "schema_version": SCHEMA_VERSION, "record_id": rid, "kind": kind, "created": now_iso(),
        "checkpoint": checkpoint, "evaluation": evaluation, "metrics": metrics, "counts": counts,
        "wall_time_s": round(float(wall_time_s), 3), "device": device, "versions": package_versions(),
        "git_commit": git_commit(),
    }
    if intervals is not None:
        record["intervals"] = intervals
    validate(record, where=rid)
    return record


def write_record(results_dir: Path, record: dict) -> Path:
    """Write atomically, unless the file already holds this record but for its volatile fields.

    A rerun that changed nothing (every example already logged) then keeps the record as it
    was first written, with the wall time and timestamp that were really measured.
    """
    path = record_path(results_dir, record["record_id"])
    if not _same_as_on_disk(path, record):
        atomic_write_json(path, record)
    return path


def _same_as_on_disk(path: Path, record: dict) -> bool:
    if not path.is_file():
        return False
    try:
        return strip_volatile(load_record(path)) == strip_volatile(record)
    except UserError:
        return False  # an unreadable record is replaced


def validate(record, where: str = "record") -> None:
    """Raise UserError naming the problem when `record` does not follow the schema."""
    if not isinstance(record, dict):
        raise UserError(f"{where}: a record is a JSON object, got {type(record).__name__}")
    for key, kind in REQUIRED.items():
        if key not in record:
            raise UserError(f"{where}: missing field {key!r}")
        if not isinstance(record[key], kind) or isinstance(record[key], bool):
            raise UserError(f"{where}: field {key!r} has the wrong type ({type(record[key]).__name__})")
    if record["schema_version"] != SCHEMA_VERSION:
        raise UserError(f"{where}: schema_version {record['schema_version']} is not {SCHEMA_VERSION}")
    if record["kind"] not in RECORD_KINDS:
        raise UserError(f"{where}: kind {record['kind']!r} is not one of {RECORD_KINDS}")
    for name, value in record["metrics"].items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise UserError(f"{where}: metric {name!r} must be a number, got {value!r}")
    for key in ("model_id", "weights_sha256"):
        if not isinstance(record["checkpoint"].get(key), str):
            raise UserError(f"{where}: checkpoint.{key} must be a string")
    if not isinstance(record["evaluation"].get("dataset"), str):
        raise UserError(f"{where}: evaluation.dataset must be a string")
    _validate_intervals(record.get("intervals", {}), where)


def _validate_intervals(intervals, where: str) -> None:
    """Optional (records written before intervals existed have none): {metric: {n, low, high, ...}}."""
    if not isinstance(intervals, dict):
        raise UserError(f"{where}: intervals must be an object keyed by metric")
    for name, interval in intervals.items():
        numbers = [interval.get(k) for k in ("n", "low", "high")] if isinstance(interval, dict) else [None]
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in numbers):
            raise UserError(f"{where}: interval of {name!r} needs numbers n, low and high")


def load_record(path: str | Path) -> dict:
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"{path}: not a JSON record ({err})") from None
    validate(record, where=str(path))
    return record


def strip_volatile(record: dict) -> dict:
    """A copy without the fields that differ between identical runs (for comparisons)."""
    if isinstance(record, dict):
        return {k: strip_volatile(v) for k, v in record.items() if k not in VOLATILE_FIELDS}
    if isinstance(record, list):
        return [strip_volatile(v) for v in record]
    return record


def logged_wall_time(chosen: list[dict], elapsed: float) -> float:
    """Scoring time summed over the log's entries, so a resumed run reports its whole cost.

    Logs written before entries carried "seconds" fall back to this invocation's time.
    """
    if all("seconds" in entry for entry in chosen):
        return sum(entry["seconds"] for entry in chosen)
    return elapsed


LOG_HEADER = "header"


def evaluation_log_identity(card: dict, loaded, indices: list[int], **settings) -> dict:
    """What a per-example evaluation log must match to be resumed: weights, examples, settings."""
    return {"model_id": card["model_id"], "weights_sha256": card.get("weights_sha256"), "dataset": loaded.name,
            "examples_sha256": loaded.fingerprint(indices), **settings}


def read_evaluation_log(path: Path, identity: dict) -> list[dict]:
    """The entries of an evaluation's per-example log, after checking that it belongs to this run.

    A new log starts with a header line holding `identity` (checkpoint weights, examples,
    settings). A rerun against other weights under the same record id (say, a model retrained
    into the same folder) would otherwise reuse stale predictions and report wrong numbers.
    Logs from before headers existed are read as they are.
    """
    entries = list(read_jsonl_log(path))
    if not entries:
        path.parent.mkdir(parents=True, exist_ok=True)
        append_jsonl(path, {LOG_HEADER: identity})
        return []
    if LOG_HEADER not in entries[0]:
        return entries
    logged = entries[0][LOG_HEADER]
    if logged != identity:
        differ = sorted(k for k in set(logged) | set(identity) if logged.get(k) != identity.get(k))
        raise UserError(f"{path} was written by another run (different {', '.join(differ)}); move it and its "
                        "record away, or write to another --results folder")
    return entries[1:]
