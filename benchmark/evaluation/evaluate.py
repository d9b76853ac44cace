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
from benchmark.core.atomic import append_jsonl_lines, exclusive_writer
from benchmark.core.errors import UserError
from benchmark.core.modes import RecordKind
from benchmark.metrics import outcomes
from benchmark.evaluation.spec import EvaluateSpec, PlannedRecord, plan_records, write_evaluation_record
from benchmark.records.adversarial import load_dataset

log = logging.getLogger(__name__)
CHUNK = 256  # examples scored between two log appends


def evaluate(spec: EvaluateSpec, quiet: bool = False, loaded=None) -> list[dict]:
    """Evaluate on a dataset or a group ("anli"); returns the records written (group total last).

    `loaded`: (model, tokenizer, card) already loaded from spec.checkpoint (a grid worker's); None loads it.
    """
    from models.checkpoint import load_checkpoint

    model, tokenizer, card = loaded or load_checkpoint(spec.checkpoint)
    # adversarial sets (adv:<record id>, tf-transfer-*) are made from records in the results folder
    planned, group_id = plan_records(card, spec, load=lambda name: load_dataset(name, spec.results_dir))
    written = [evaluate_one(model, tokenizer, card, spec, member, quiet) for member in planned]
    if group_id is not None:
        written.append(combined_record(group_id, spec, written, card))
    return written


def _check_task(card: dict, loaded) -> None:
    if card["task"] != loaded.task:
        words = {"nli": "an NLI (3-way classification)", "qa": "an extractive QA (SQuAD span)"}
        raise UserError(f"checkpoint {card['model_id']} is {words.get(card['task'], card['task'])} model, but "
                        f"{loaded.name} is {words.get(loaded.task, loaded.task)} dataset: evaluate it on a "
                        f"{card['task']} dataset (see `infobench datasets`), or train a {loaded.task} checkpoint "
                        f"(`infobench train --task {loaded.task}`)")
    if loaded.task == "nli":
        from models.external import two_way_hint

        missing = sorted({e["label"] for e in loaded.examples} - set(card["label_names"]))
        if missing:
            raise UserError(f"{loaded.name} has labels {missing} that checkpoint {card['model_id']} does not "
                            f"know (its labels: {card['label_names']}){two_way_hint(card)}")


def evaluate_one(model, tokenizer, card, spec: EvaluateSpec, member: PlannedRecord, quiet: bool) -> dict:
    if spec.batch_size < 1:  # a non-positive batch size would score nothing and log label 0 everywhere
        raise UserError(f"batch size must be at least 1, got {spec.batch_size}")
    _check_task(card, member.loaded)
    if spec.smoothing is not None:
        if member.loaded.task != "nli":
            raise UserError("--smoothing applies to NLI classifiers only (SAFER votes over class predictions)")
        from benchmark.evaluation.smoothed import evaluate_smoothed
        return evaluate_smoothed(model, tokenizer, card, spec, member, quiet)
    if member.loaded.task == "qa":
        from benchmark.evaluation.qa import evaluate_qa
        return evaluate_qa(model, tokenizer, card, spec, member, quiet)
    indices = member.sample.indices
    log_path = records.example_log_path(spec.results_dir, member.record_id)
    started = time.perf_counter()
    with exclusive_writer(log_path):  # one writer per run: a second identical command stops here
        entries = _score_missing(model, tokenizer, card, member.loaded, indices, log_path, spec.batch_size, quiet)
        chosen = [entries[i] for i in indices]
        wall = records.logged_wall_time(chosen, time.perf_counter() - started)
        correct = sum(e["correct"] for e in chosen)
        max_length = card["hyperparameters"].get("max_length", 128)
        metrics = {"accuracy": correct / len(chosen)}
        counts = {"n": len(chosen), "correct": correct, "truncated": sum(e["truncated"] for e in chosen)}
        record = write_evaluation_record(member, card, spec, chosen, metrics, counts, wall, model,
                                         max_length=max_length)
    log.info("%s: accuracy %.4f on %d examples", member.loaded.name, metrics["accuracy"], len(chosen))
    return record


def _score_missing(model, tokenizer, card, loaded, indices, log_path: Path, batch_size, quiet) -> dict:
    from tqdm.auto import tqdm

    from models.evaluation import nli_accuracy

    max_length = card["hyperparameters"].get("max_length", 128)
    identity = records.evaluation_log_identity(card, loaded, indices, max_length=max_length)
    done = {entry["index"]: entry for entry in records.read_evaluation_log(log_path, identity)}
    todo, lengths = _by_length(tokenizer, loaded, [i for i in indices if i not in done])
    with tqdm(total=len(indices), initial=len(indices) - len(todo), desc=f"evaluate {loaded.name}",
              unit="ex", disable=quiet) as bar:
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start:start + CHUNK]
            examples = [loaded.examples[i] for i in chunk]
            began = time.perf_counter()
            result = nli_accuracy(model, tokenizer, examples, card["label_names"], max_length, batch_size)
            share = (time.perf_counter() - began) / len(chunk)
            entries = [{"index": i, "id": example["id"], "label": example["label"], "prediction": predicted,
                        "correct": predicted == example["label"], "truncated": lengths[i] > max_length,
                        "seconds": share}
                       for i, example, predicted in zip(chunk, examples, result["predictions"])]
            append_jsonl_lines(log_path, entries)  # the chunk's lines, one fsync
            done.update((entry["index"], entry) for entry in entries)
            bar.update(len(chunk))
    return done


def _by_length(tokenizer, loaded, todo: list[int]) -> tuple[list[int], dict[int, int]]:
    """`todo` sorted by token length (untruncated), and those lengths.

    One global sort, so each chunk (and each batch in it) holds inputs of nearly one length:
    sorting only inside chunks of 256 padded SNLI to ~1.5x its real tokens. The log's lines
    come in length order; the record reads them by index, so it does not change.
    """
    if not todo:
        return [], {}
    from models.inference import token_lengths

    examples = [loaded.examples[i] for i in todo]
    lengths = dict(zip(todo, token_lengths(tokenizer, [e["premise"] for e in examples],
                                           [e["hypothesis"] for e in examples])))
    return sorted(todo, key=lengths.__getitem__), lengths


def combined_record(group_id: str, spec: EvaluateSpec, parts: list[dict], card) -> dict:
    """One record over all members of a group (e.g. ANLI R1-R3), with each member's accuracy too."""
    n = sum(p["counts"]["n"] for p in parts)
    correct = sum(p["counts"]["correct"] for p in parts)
    metrics = {"accuracy": correct / n}
    metrics.update({f"accuracy_{p['evaluation']['dataset']}": p["metrics"]["accuracy"] for p in parts})
    counts = {"n": n, "correct": correct}
    evaluation = records.group_evaluation(data_registry.canonical_name(spec.dataset), parts)
    if "smoothing" in parts[0]["evaluation"]:  # the certified share is its own number, never folded into accuracy
        evaluation["smoothing"] = parts[0]["evaluation"]["smoothing"]
        counts["certified_correct"] = sum(p["counts"]["certified_correct"] for p in parts)
        metrics["certified_accuracy"] = counts["certified_correct"] / n
    record = records.make_record(rid=group_id, kind=RecordKind.EVALUATE,
                                 checkpoint=records.checkpoint_identity(card, spec.checkpoint),
                                 evaluation=evaluation, metrics=metrics, counts=counts,
                                 wall_time_s=sum(p["wall_time_s"] for p in parts), device=parts[0]["device"],
                                 intervals=outcomes.intervals(RecordKind.EVALUATE, metrics, counts))
    records.write_record(spec.results_dir, record)
    return record
