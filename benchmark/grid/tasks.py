"""What a grid worker runs: the single commands' own code, with the worker's loaded model.

An attack task is `run_attack_shard` (one shard, or the whole sample when the cell is not
sharded); an evaluation task is what `infobench evaluate` does for one dataset or group.
Both write their per-example log and record under the results folder exactly as the
commands do; the task returns the text of those files so the driver can keep them too.
"""

from __future__ import annotations

from pathlib import Path

from benchmark import records


def run_payload(payload: dict, load) -> dict:
    """Run one task; `load(checkpoint)` gives the worker's (model, tokenizer, card)."""
    loaded = load(payload["checkpoint"])
    if payload["kind"] == "attack":
        return _run_attack(payload, loaded)
    return _run_evaluate(payload, loaded)


def _run_attack(payload: dict, loaded) -> dict:
    from benchmark.attack.runner import run_attack_shard

    spec = payload["spec"]
    record = run_attack_shard(spec, quiet=True, loaded=loaded)
    rid = record["record_id"]
    return {"files": _files(spec.results_dir, [rid], logged=[rid]), "record_ids": [rid]}


def _run_evaluate(payload: dict, loaded) -> dict:
    """`infobench evaluate CKPT --dataset D -n N --seed S` for one dataset or group, on a loaded model."""
    from benchmark import data
    from benchmark.evaluation import evaluate

    model, tokenizer, card = loaded
    ckpt, results = Path(payload["checkpoint"]), Path(payload["results_dir"])
    names = data.expand(payload["dataset"])
    written = [evaluate.evaluate_one(model, tokenizer, card, ckpt, name, payload["n"], payload["seed"], results,
                                     payload["batch_size"], True) for name in names]
    logged = [record["record_id"] for record in written]
    if len(names) > 1:  # a group ("anli"): the combined record `evaluate` writes after its members
        written.append(evaluate.combined_record(payload["dataset"], written, card, ckpt, results))
    rids = [record["record_id"] for record in written]
    return {"files": _files(results, rids, logged=logged), "record_ids": rids}


def _files(results_dir: Path, rids: list[str], logged: list[str]) -> dict[str, str]:
    """{path relative to the results folder: text} of the records and logs a task wrote."""
    out = {}
    for rid in rids:
        out[_relative(records.record_path(results_dir, rid), results_dir)] = \
            records.record_path(results_dir, rid).read_text(encoding="utf-8")
    for rid in logged:
        path = records.example_log_path(results_dir, rid)
        out[_relative(path, results_dir)] = path.read_text(encoding="utf-8")
    return out


def _relative(path: Path, results_dir: Path) -> str:
    return str(Path(path).relative_to(results_dir))
