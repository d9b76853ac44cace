"""Adversarial sets: the successful examples of a finished attack record, as a dataset (data layer).

`adv:<record id>` names the successful examples of any attack record in the results folder;
the named transfer sets (tf-transfer-*, declared in benchmark/data.py with an AttackSource)
find their source record by what it is (model, recipe, dataset, sample) instead of by id.
Each example is the perturbed premise/hypothesis with the gold label; the set's provenance
(source record id and sha256, source checkpoint and weights hash, recipe and parameters)
goes into every record evaluated on it. Only records and their per-example logs are read:
no checkpoint, no textattack.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from benchmark.core.atomic import read_jsonl_log
from benchmark.core.errors import UserError
from benchmark.data.registry import ADVERSARIAL_PREFIX, DATASETS, LoadedDataset, is_adversarial
from benchmark.data.registry import load as load_registered
from benchmark.records.store import default_results_dir, example_log_path, load_record, record_path

LOG_HEADER = "header"  # the attack runner's log header key


def load_dataset(name: str, results_dir: Path | None = None) -> LoadedDataset:
    """Any dataset name: registered sets from $INFOBENCH_DATA or the hub, adversarial sets from results_dir."""
    return load_adversarial(name, results_dir) if is_adversarial(name) else load_registered(name)


def attack_log_entries(results_dir: Path, record_id: str) -> list[dict] | None:
    """The example entries of a record's per-example log (None when there is no log)."""
    path = example_log_path(results_dir, record_id)
    if not path.is_file():
        return None
    return [line for line in read_jsonl_log(path) if LOG_HEADER not in line]


def load_adversarial(name: str, results_dir: Path | None = None) -> LoadedDataset:
    """The successful examples of the attack record `name` resolves to, in source-index order."""
    results_dir = Path(results_dir) if results_dir is not None else default_results_dir()
    record, path = resolve_source_record(name, results_dir)
    entries = _complete_log(record, example_log_path(results_dir, record["record_id"]))
    examples = [{"id": e["id"], "premise": e.get("perturbed_premise") or e["premise"],
                 "hypothesis": e["perturbed_hypothesis"], "label": e["label"], "source_index": e["index"],
                 "original_premise": e["premise"], "original_hypothesis": e["hypothesis"]}
                for e in entries if e["result"] == "successful"]
    if not examples:
        raise UserError(f"{name}: attack record {record['record_id']} has no successful examples "
                        f"({len(entries)} attacked): there is nothing to evaluate")
    canonical = name if name.startswith(ADVERSARIAL_PREFIX) else DATASETS.canonical(name)
    provenance = source_identity(record, path)
    provenance.update(n_attacked=len(entries), n_successful=len(examples))
    return LoadedDataset(canonical, "nli", examples, f"attack-record:{record['record_id']}", {}, provenance)


def source_identity(record: dict, path: Path) -> dict:
    """What identifies an adversarial set's source: the record (and its sha256), checkpoint, recipe."""
    evaluation, checkpoint = record["evaluation"], record["checkpoint"]
    return {"record_id": record["record_id"], "record_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "model_id": checkpoint["model_id"], "weights_sha256": checkpoint["weights_sha256"],
            "dataset": evaluation["dataset"], "examples_sha256": evaluation.get("examples_sha256"),
            "sample": evaluation.get("sample"),
            "recipe": {"name": evaluation["recipe"]["name"], "params": evaluation["recipe"].get("params")}}


def resolve_source_record(name: str, results_dir: Path) -> tuple[dict, Path]:
    if name.startswith(ADVERSARIAL_PREFIX):
        rid = name[len(ADVERSARIAL_PREFIX):]
        path = record_path(results_dir, rid)
        if not path.is_file():
            raise UserError(f"{name}: no record {path} (is --results right? `ls {results_dir}/records` "
                            "lists the attack records)")
        record = load_record(path)
        if record["kind"] != "attack":
            raise UserError(f"{name}: {rid} is an {record['kind']} record; adversarial sets come from attack records")
        if record["evaluation"].get("shard"):
            raise UserError(f"{name}: {rid} is one shard of a run; merge the shards (`infobench attack ... --merge "
                            "N`) and use the merged record")
        return record, path
    return find_declared_source(name, results_dir)


def find_declared_source(name: str, results_dir: Path) -> tuple[dict, Path]:
    """The unbudgeted, unsharded attack record a named transfer set declares as its source."""
    source = DATASETS.get(name).attack_source
    wanted = DATASETS.canonical(source.dataset)
    found = []
    for path in sorted((results_dir / "records").glob("*.json")):
        try:
            record = load_record(path)
        except UserError:
            continue  # the leaderboard reports broken files; here they just cannot be a source
        evaluation = record["evaluation"]
        recipe, sample = evaluation.get("recipe") or {}, evaluation.get("sample") or {}
        if (record["kind"] == "attack" and record["checkpoint"]["model_id"] == source.model_id
                and recipe.get("name") == source.recipe and _canonical(evaluation["dataset"]) == wanted
                and sample.get("n") == source.n and sample.get("seed") == source.seed
                and not evaluation.get("shard") and _unlimited(recipe.get("params") or {})):
            found.append((record, path))
    if not found:
        raise UserError(
            f"{name} is built from the {source.recipe} attack of {source.model_id} on {wanted} (n={source.n}, "
            f"seed {source.seed}), and {results_dir}/records has no such record. Build it with: infobench attack "
            f"CHECKPOINT_OF_{source.model_id} --recipe {source.recipe} --dataset {wanted} -n {source.n} --seed "
            f"{source.seed} --results {results_dir}  (or scripts/build_transfer_sets.sh CHECKPOINT {results_dir})")
    if len(found) > 1:
        raise UserError(f"{name}: several records could be its source ({', '.join(p.name for _, p in found)}); "
                        "keep one of them in the results folder")
    return found[0]


def _unlimited(params: dict) -> bool:
    """No query budget and no perturbation cap: the run a transfer set is declared from."""
    return params.get("query_budget") is None and params.get("max_perturbed_share") is None


def _canonical(dataset: str) -> str | None:
    try:
        return DATASETS.canonical(dataset)
    except UserError:
        return None


def _complete_log(record: dict, log_path: Path) -> list[dict]:
    """The log's example entries, checked to be the complete log of exactly this record."""
    if not log_path.is_file():
        raise UserError(f"attack record {record['record_id']} has no per-example log at {log_path}; "
                        "its examples cannot be read")
    lines = list(read_jsonl_log(log_path))
    header = lines[0].get(LOG_HEADER) if lines else None
    if header is None or header.get("record_id") != record["record_id"] \
            or header.get("weights_sha256") != record["checkpoint"]["weights_sha256"]:
        raise UserError(f"{log_path} does not belong to record {record['record_id']} (header differs)")
    entries = lines[1:]
    if len(entries) != record["counts"]["n"]:
        raise UserError(f"{log_path} holds {len(entries)} examples but its record counts {record['counts']['n']}; "
                        "rerun the attack command to finish or rescore it")
    return sorted(entries, key=lambda e: e["index"])


def export_rows(loaded: LoadedDataset) -> list[dict]:
    """One JSON-ready row per adversarial example: texts, gold label, source checkpoint, recipe, index."""
    if loaded.provenance is None:
        raise UserError(f"{loaded.name} is not an adversarial set (export takes adv:<record id> or tf-transfer-*)")
    source = loaded.provenance
    return [{"index": e["source_index"], "id": e["id"], "label": e["label"],
             "premise": e["original_premise"], "hypothesis": e["original_hypothesis"],
             "perturbed_premise": e["premise"], "perturbed_hypothesis": e["hypothesis"],
             "source_checkpoint": source["model_id"], "source_weights_sha256": source["weights_sha256"],
             "source_record_id": source["record_id"], "source_record_sha256": source["record_sha256"],
             "source_dataset": source["dataset"], "recipe": source["recipe"]["name"],
             "recipe_params": source["recipe"]["params"]} for e in loaded.examples]


def export_jsonl(name: str, out: Path, results_dir: Path | None = None) -> int:
    """Write the adversarial set `name` to `out` as JSONL; returns the number of rows."""
    from benchmark.core.atomic import atomic_write_text

    rows = export_rows(load_adversarial(name, results_dir))
    atomic_write_text(Path(out), "".join(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n" for row in rows))
    return len(rows)
