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

import logging
import time
from pathlib import Path

from benchmark import records
from benchmark.core.atomic import append_jsonl_lines, exclusive_writer
from benchmark.evaluation.spec import write_evaluation_record
from benchmark.metrics.squad import aggregate, original_id, score

log = logging.getLogger(__name__)
CHUNK = 128  # questions predicted between two log appends (about one batch of windows)
WORST_CASE_RULE = "worst case over each original question and its adversarial variants (Jia and Liang 2017)"


def evaluate_qa(model, tokenizer, card, spec, member, quiet) -> dict:
    """EM/F1 of one QA dataset of an evaluation (an EvaluateSpec and its PlannedRecord) -> its record."""
    from models.qa_features import MAX_ANSWER_TOKENS, N_BEST

    loaded, indices = member.loaded, member.sample.indices
    log_path = records.example_log_path(spec.results_dir, member.record_id)
    started = time.perf_counter()
    with exclusive_writer(log_path):  # one writer per run
        entries = _score_missing(model, tokenizer, card, loaded, indices, log_path, spec.batch_size, quiet)
        chosen = [entries[loaded.examples[i]["id"]] for i in indices]
        wall = records.logged_wall_time(chosen, time.perf_counter() - started)
        metrics, counts = aggregate(chosen)
        counts.update(windows=sum(e["windows"] for e in chosen), multi_window=sum(e["windows"] > 1 for e in chosen),
                      empty_predictions=sum(not e["prediction"] for e in chosen))
        max_length, doc_stride = _window_settings(card)
        record = write_evaluation_record(
            member, card, spec, chosen, metrics, counts, wall, model, max_length=max_length, doc_stride=doc_stride,
            n_best=N_BEST, max_answer_tokens=MAX_ANSWER_TOKENS, metric_scale="percent",
            aggregation=WORST_CASE_RULE if counts["n_variants"] else "mean over questions")
    log.info("%s: EM %.2f F1 %.2f on %d questions (%d groups)", loaded.name, metrics["exact_match"],
             metrics["f1"], counts["n_questions"], counts["n"])
    return record


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
    todo = by_length(tokenizer, loaded, [i for i in indices if loaded.examples[i]["id"] not in done])
    with tqdm(total=len(indices), initial=len(indices) - len(todo), desc=f"evaluate {loaded.name}",
              unit="q", disable=quiet) as bar:
        for start in range(0, len(todo), CHUNK):
            examples = [loaded.examples[i] for i in todo[start:start + CHUNK]]
            began = time.perf_counter()
            predictions, windows = predict_answers(model, tokenizer, examples, max_length, doc_stride, batch_size)
            share = (time.perf_counter() - began) / len(examples)
            entries = [{"id": example["id"], "group": original_id(example["id"]), "prediction": predicted,
                        "windows": n_windows, "seconds": share, **score(predicted, example["answers"]["text"])}
                       for example, predicted, n_windows in zip(examples, predictions, windows)]
            append_jsonl_lines(log_path, entries)  # the chunk's lines, one fsync
            done.update((entry["id"], entry) for entry in entries)
            bar.update(len(examples))
    return done


def by_length(tokenizer, loaded, todo: list[int]) -> list[int]:
    """`todo` in one global order by token count (question + context, untruncated), longest last.

    A chunk's windows are then of nearly one length: sorting only inside each chunk padded
    SQuAD windows to ~1.9x their real tokens. The record reads entries by id, so it does not change.
    """
    if not todo:
        return []
    from models.inference import token_lengths

    examples = [loaded.examples[i] for i in todo]
    lengths = dict(zip(todo, token_lengths(tokenizer, [e["question"] for e in examples],
                                           [e["context"] for e in examples])))
    return sorted(todo, key=lengths.__getitem__)
