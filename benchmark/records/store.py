"""Result records: one JSON document per (checkpoint, evaluation), with a schema version.

A record holds the checkpoint identity (card subset + weights hash), the evaluation
identity (dataset, sample, recipe and parameters, resources used with substitutes named),
metrics (numbers only), counts, wall time, device and package versions. Records are
written atomically; the per-example JSONL log beside a record is append-only.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from benchmark.core.atomic import append_jsonl, atomic_write_json, read_jsonl_log
from benchmark.core.errors import UserError
from benchmark.records.schema import validate

# Fields that legitimately differ between two runs of the same command.
VOLATILE_FIELDS = ("created", "wall_time_s", "seconds_per_example", "device", "git_commit", "host")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


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


def evaluate_record_id(model_id: str, dataset: str, sample, smoothing: int | None = None) -> str:
    """The id `infobench evaluate` gives its record on `sample` (benchmark.data.DrawnSample) of `dataset`.

    The one rule for evaluation ids: the evaluation, its group total and the grid planner all
    call it. A whole dataset gets no suffix; a sample gets its size (in the unit -n counts)
    and seed. A group's total takes its first member's sample.
    """
    parts = ([] if sample.complete else [f"n{sample.units}-s{sample.seed}"]) + \
        ([f"smooth{smoothing}"] if smoothing is not None else [])  # a smoothed classifier's record is its own
    return record_id(model_id, "evaluate", dataset, "-".join(parts))


def attack_record_id(model_id: str, spec, recipe_name: str) -> str:
    """The id of an attack run (an AttackSpec); shards get their own ids, the grid skips finished cells by it."""
    n = spec.n if spec.n is not None else "all"
    suffix = f"{recipe_name}-n{n}-s{spec.seed}"
    if spec.query_budget is not None:
        suffix += f"-b{spec.query_budget}"
    others = {k: v for k, v in spec.recipe_params.items() if k != "query_budget" and v is not None}
    if others:
        suffix += "-p" + hashlib.sha256(json.dumps(others, sort_keys=True).encode()).hexdigest()[:8]
    if getattr(spec, "smoothing", None) is not None:  # SAFER's smoothed classifier is another model under attack
        suffix += f"-smooth{spec.smoothing}"
    if spec.shard is not None:
        suffix += f"-shard{spec.shard[0]}of{spec.shard[1]}"
    return record_id(model_id, "attack", spec.dataset, suffix)


def record_path(results_dir: Path, rid: str) -> Path:
    return Path(results_dir) / "records" / f"{safe_name(rid)}.json"


def example_log_path(results_dir: Path, rid: str) -> Path:
    return Path(results_dir) / "records" / f"{safe_name(rid)}.examples.jsonl"


def checkpoint_identity(card: dict, path: str | Path) -> dict:
    keys = ("model_id", "backbone", "task", "method", "seed", "weights_sha256", "label_names",
            "hyperparameters", "training_data")
    card_only = ("card_sha256", "source", "architecture", "label_mapping", "weights_files")  # when the card has them
    return {"path": str(path), **{k: card.get(k) for k in keys}, **{k: card[k] for k in card_only if k in card}}


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


def load_record(path: str | Path) -> dict:
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"{path}: not a JSON record ({err})") from None
    except RecursionError:  # json's parser recurses per level: a hostile file must not crash the reader
        raise UserError(f"{path}: not a record (JSON nested too deeply)") from None
    except OSError as err:
        raise UserError(f"{path}: cannot read ({err.strerror})") from None
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
    A log without a header cannot be checked, so it is refused, never reused.
    """
    entries = list(read_jsonl_log(path))
    if not entries:
        path.parent.mkdir(parents=True, exist_ok=True)
        append_jsonl(path, {LOG_HEADER: identity})
        return []
    if LOG_HEADER not in entries[0]:
        raise UserError(f"{path} has no header line, so nothing says which weights and examples it holds; "
                        f"start fresh: `rm {path}` (and its record) and rerun")
    logged = entries[0][LOG_HEADER]
    if logged != identity:
        differ = sorted(k for k in set(logged) | set(identity) if logged.get(k) != identity.get(k))
        raise UserError(f"{path} was written by another run (different {', '.join(differ)}); move it and its "
                        "record away, or write to another --results folder")
    return entries[1:]
