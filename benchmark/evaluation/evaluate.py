"""Clean-accuracy evaluation of a checkpoint on registered datasets -> result records.

Per-example predictions go to an append-only JSONL log, one batch at a time; a rerun
skips what the log already holds, and the record is computed from the log alone, so an
interrupted evaluation resumes and ends with the same record as an unbroken one.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from benchmark import data as data_registry
from benchmark import records
from benchmark.core.atomic import append_jsonl
from benchmark.core.errors import UserError
from benchmark.metrics import outcomes
from benchmark.records.adversarial import load_dataset

log = logging.getLogger(__name__)
CHUNK = 256  # examples scored between two log appends


def evaluate(ckpt: Path, dataset: str, n: int | None, seed: int, results_dir: Path, batch_size: int = 128,
             quiet: bool = False, smoothing: int | None = None) -> list[dict]:
    """Evaluate on a dataset or a group ("anli"); returns the records written (group total last).

    `smoothing` = N: score the checkpoint as SAFER's smoothed classifier with N samples
    (benchmark/evaluation/smoothed.py), certified accuracy beside the empirical one.
    """
    from models.checkpoint import load_checkpoint

    names = data_registry.expand(dataset)
    model, tokenizer, card = load_checkpoint(ckpt)
    written = [evaluate_one(model, tokenizer, card, ckpt, name, n, seed, results_dir, batch_size, quiet, smoothing)
               for name in names]
    if len(names) > 1:
        group = data_registry.canonical_name(dataset)  # "textfooler" is recorded as "tf1k-clean"
        written.append(combined_record(group, written, card, ckpt, results_dir))
    return written


def _check_task(card: dict, loaded) -> None:
    if card["task"] != loaded.task:
        words = {"nli": "an NLI (3-way classification)", "qa": "an extractive QA (SQuAD span)"}
        raise UserError(f"checkpoint {card['model_id']} is {words.get(card['task'], card['task'])} model, but "
                        f"{loaded.name} is {words.get(loaded.task, loaded.task)} dataset: evaluate it on a "
                        f"{card['task']} dataset (see `infobench datasets`), or train a {loaded.task} checkpoint "
                        f"(`infobench train --task {loaded.task}`)")
    if loaded.task == "nli":
        missing = sorted({e["label"] for e in loaded.examples} - set(card["label_names"]))
        if missing:
            raise UserError(f"{loaded.name} has labels {missing} that checkpoint {card['model_id']} does not "
                            f"know (its labels: {card['label_names']})")


def evaluate_one(model, tokenizer, card, ckpt, name, n, seed, results_dir, batch_size, quiet,
                 smoothing: int | None = None) -> dict:
    loaded = load_dataset(name, results_dir)  # adversarial sets come from the results folder
    _check_task(card, loaded)
    if smoothing is not None:
        from benchmark.evaluation.smoothed import evaluate_smoothed
        if loaded.task != "nli":
            raise UserError("--smoothing applies to NLI classifiers only (SAFER votes over class predictions)")
        return evaluate_smoothed(model, tokenizer, card, ckpt, loaded, n, seed, results_dir, batch_size, quiet,
                                 smoothing)
    if loaded.task == "qa":
        from benchmark.evaluation.qa import evaluate_qa
        return evaluate_qa(model, tokenizer, card, ckpt, loaded, n, seed, results_dir, batch_size, quiet)
    indices = data_registry.sample_indices(len(loaded), n, seed)
    suffix = f"n{len(indices)}-s{seed}" if len(indices) < len(loaded) else ""
    rid = records.record_id(card["model_id"], "evaluate", loaded.name, suffix)
    log_path = records.example_log_path(results_dir, rid)
    started = time.perf_counter()
    entries = _score_missing(model, tokenizer, card, loaded, indices, log_path, batch_size, quiet)
    chosen = [entries[i] for i in indices]
    return _write_nli_record(rid, card, ckpt, loaded, indices, seed, chosen,
                             records.logged_wall_time(chosen, time.perf_counter() - started), results_dir, model)


def _score_missing(model, tokenizer, card, loaded, indices, log_path: Path, batch_size, quiet) -> dict:
    from tqdm.auto import tqdm

    from models.evaluation import nli_accuracy
    from models.inference import truncated_flags

    max_length = card["hyperparameters"].get("max_length", 128)
    identity = records.evaluation_log_identity(card, loaded, indices, max_length=max_length)
    done = {entry["index"]: entry for entry in records.read_evaluation_log(log_path, identity)}
    todo = [i for i in indices if i not in done]
    with tqdm(total=len(indices), initial=len(indices) - len(todo), desc=f"evaluate {loaded.name}",
              unit="ex", disable=quiet) as bar:
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start:start + CHUNK]
            examples = [loaded.examples[i] for i in chunk]
            began = time.perf_counter()
            result = nli_accuracy(model, tokenizer, examples, card["label_names"], max_length, batch_size)
            cut = truncated_flags(tokenizer, [(e["premise"], e["hypothesis"]) for e in examples], max_length)
            share = (time.perf_counter() - began) / len(chunk)
            for i, example, predicted, was_cut in zip(chunk, examples, result["predictions"], cut):
                entry = {"index": i, "id": example["id"], "label": example["label"], "prediction": predicted,
                         "correct": predicted == example["label"], "truncated": was_cut, "seconds": share}
                done[i] = entry
                append_jsonl(log_path, entry)
            bar.update(len(chunk))
    return done


def _write_nli_record(rid, card, ckpt, loaded, indices, seed, chosen, wall, results_dir, model) -> dict:
    correct = sum(e["correct"] for e in chosen)
    max_length = card["hyperparameters"].get("max_length", 128)
    evaluation = {
        "dataset": loaded.name, "source": loaded.source, "n_examples": len(indices), "n_available": len(loaded),
        "sample": {"n": len(indices), "seed": seed, "indices_sha256": _indices_hash(indices)},
        "examples_sha256": loaded.fingerprint(indices), "skipped_by_rule": loaded.skipped, "max_length": max_length,
    }
    if loaded.provenance is not None:  # an adversarial set: which attack record (by sha256) it comes from
        evaluation["adversarial_source"] = loaded.provenance
    metrics = {"accuracy": correct / len(chosen)}
    counts = {"n": len(chosen), "correct": correct, "truncated": sum(e["truncated"] for e in chosen)}
    record = records.make_record(rid=rid, kind="evaluate", checkpoint=records.checkpoint_identity(card, ckpt),
                                 evaluation=evaluation, metrics=metrics, counts=counts, wall_time_s=wall,
                                 device=str(next(model.parameters()).device),
                                 intervals=outcomes.intervals("evaluate", metrics, counts, chosen))
    records.write_record(results_dir, record)
    log.info("%s: accuracy %.4f on %d examples", loaded.name, metrics["accuracy"], len(chosen))
    return record


def _indices_hash(indices: list[int]) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(indices).encode()).hexdigest()


def combined_record(group: str, parts: list[dict], card, ckpt, results_dir: Path) -> dict:
    """One record over all members of a group (e.g. ANLI R1-R3), with each member's accuracy too."""
    n = sum(p["counts"]["n"] for p in parts)
    correct = sum(p["counts"]["correct"] for p in parts)
    metrics = {"accuracy": correct / n}
    metrics.update({f"accuracy_{p['evaluation']['dataset']}": p["metrics"]["accuracy"] for p in parts})
    evaluation = {"dataset": group, "members": [p["record_id"] for p in parts],
                  "examples_sha256": _indices_hash([p["evaluation"]["examples_sha256"] for p in parts]),
                  "sample": {"n": n, "seed": parts[0]["evaluation"]["sample"]["seed"]}}
    smoothed = "smoothing" in parts[0]["evaluation"]
    if smoothed:  # the certified share is its own number, never folded into accuracy
        evaluation["smoothing"] = parts[0]["evaluation"]["smoothing"]
        metrics["certified_accuracy"] = sum(p["counts"]["certified_correct"] for p in parts) / n
    sampled = parts[0]["evaluation"]["n_examples"] < parts[0]["evaluation"]["n_available"]
    rid = records.record_id(card["model_id"], "evaluate", group,
                            parts[0]["record_id"].rsplit("__", 1)[-1] if sampled or smoothed else "")
    record = records.make_record(rid=rid, kind="evaluate", checkpoint=records.checkpoint_identity(card, ckpt),
                                 evaluation=evaluation, metrics=metrics, counts={"n": n, "correct": correct},
                                 wall_time_s=sum(p["wall_time_s"] for p in parts), device=parts[0]["device"],
                                 intervals=outcomes.intervals("evaluate", metrics, {"n": n, "correct": correct}))
    records.write_record(results_dir, record)
    return record
