"""Extractive QA evaluation (SQuAD, Adversarial SQuAD) of a checkpoint -> result records.

Answers are predicted over sliding windows (models/qa_features.py) and scored with the
official SQuAD v1.1 EM/F1. On the adversarial sets the headline exact_match / f1 follow
Jia and Liang's rule: each original question id scores the worst over the original and
all its variants; the breakdown on originals and on variants alone is recorded too.

Sampling (-n) draws original questions, each with all its variants, so the rule always
sees whole groups. As with NLI, per-question results go to an append-only JSONL log; a
rerun skips the ids already logged and the record is computed from the log alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

from benchmark import data as data_registry
from benchmark import records
from benchmark.core.atomic import append_jsonl
from benchmark.core.errors import UserError
from benchmark.metrics import outcomes
from benchmark.metrics.squad import aggregate, original_id, score

log = logging.getLogger(__name__)
CHUNK = 64  # questions predicted between two log appends
WORST_CASE_RULE = "worst case over each original question and its adversarial variants (Jia and Liang 2017)"


def sample_groups(examples: list[dict], n: int | None, seed: int) -> tuple[list[int], int, int]:
    """(question indices, groups chosen, groups available): a seeded sample of n original questions."""
    groups: dict[str, list[int]] = {}
    for i, example in enumerate(examples):
        groups.setdefault(original_id(example["id"]), []).append(i)
    keys = list(groups)
    chosen = data_registry.sample_indices(len(keys), n, seed)
    return sorted(i for g in chosen for i in groups[keys[g]]), len(chosen), len(keys)


def evaluate_qa(model, tokenizer, card, ckpt, loaded, n, seed, results_dir, batch_size, quiet) -> dict:
    indices, n_groups, total_groups = sample_groups(loaded.examples, n, seed)
    suffix = f"n{n_groups}-s{seed}" if n_groups < total_groups else ""
    rid = records.record_id(card["model_id"], "evaluate", loaded.name, suffix)
    log_path = records.example_log_path(results_dir, rid)
    started = time.perf_counter()
    entries = _score_missing(model, tokenizer, card, loaded, indices, log_path, batch_size, quiet)
    chosen = [entries[loaded.examples[i]["id"]] for i in indices]
    return _write_record(rid, card, ckpt, loaded, indices, seed, chosen,
                         records.logged_wall_time(chosen, time.perf_counter() - started), results_dir, model)


def _window_settings(card: dict) -> tuple[int, int]:
    hyper = card["hyperparameters"]
    return hyper.get("max_length", 384), hyper.get("doc_stride", 128)


def _score_missing(model, tokenizer, card, loaded, indices, log_path: Path, batch_size, quiet) -> dict:
    from tqdm.auto import tqdm

    from models.qa_features import predict_answers

    max_length, doc_stride = _window_settings(card)
    identity = records.evaluation_log_identity(card, loaded, indices, max_length=max_length,
                                                doc_stride=doc_stride)
    done = {entry["id"]: entry for entry in records.read_evaluation_log(log_path, identity)}
    todo = [i for i in indices if loaded.examples[i]["id"] not in done]
    with tqdm(total=len(indices), initial=len(indices) - len(todo), desc=f"evaluate {loaded.name}",
              unit="q", disable=quiet) as bar:
        for start in range(0, len(todo), CHUNK):
            examples = [loaded.examples[i] for i in todo[start:start + CHUNK]]
            began = time.perf_counter()
            predictions, windows = predict_answers(model, tokenizer, examples, max_length, doc_stride, batch_size)
            share = (time.perf_counter() - began) / len(examples)
            for example, predicted, n_windows in zip(examples, predictions, windows):
                entry = {"id": example["id"], "group": original_id(example["id"]), "prediction": predicted,
                         "windows": n_windows, "seconds": share, **score(predicted, example["answers"]["text"])}
                done[example["id"]] = entry
                append_jsonl(log_path, entry)
            bar.update(len(examples))
    return done


def _write_record(rid, card, ckpt, loaded, indices, seed, chosen, wall, results_dir, model) -> dict:
    from models.qa_features import MAX_ANSWER_TOKENS, N_BEST

    metrics, counts = aggregate(chosen)
    counts.update(windows=sum(e["windows"] for e in chosen), multi_window=sum(e["windows"] > 1 for e in chosen),
                  empty_predictions=sum(not e["prediction"] for e in chosen))
    max_length, doc_stride = _window_settings(card)
    evaluation = {
        "dataset": loaded.name, "source": loaded.source, "n_examples": len(indices), "n_available": len(loaded),
        "sample": {"n": counts["n"], "unit": "original question with its variants", "seed": seed,
                   "indices_sha256": hashlib.sha256(json.dumps(indices).encode()).hexdigest()},
        "examples_sha256": loaded.fingerprint(indices), "skipped_by_rule": loaded.skipped,
        "max_length": max_length, "doc_stride": doc_stride, "n_best": N_BEST, "max_answer_tokens": MAX_ANSWER_TOKENS,
        "aggregation": WORST_CASE_RULE if counts["n_variants"] else "mean over questions",
        "metric_scale": "percent",
    }
    record = records.make_record(rid=rid, kind="evaluate", checkpoint=records.checkpoint_identity(card, ckpt),
                                 evaluation=evaluation, metrics=metrics, counts=counts, wall_time_s=wall,
                                 device=str(next(model.parameters()).device),
                                 intervals=outcomes.intervals("evaluate", metrics, counts, chosen))
    records.write_record(results_dir, record)
    log.info("%s: EM %.2f F1 %.2f on %d questions (%d groups)", loaded.name, metrics["exact_match"],
             metrics["f1"], counts["n_questions"], counts["n"])
    return record
