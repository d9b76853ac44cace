"""Evaluate a checkpoint as SAFER's smoothed classifier: empirical accuracy and certified accuracy.

Each example's prediction is the majority vote over N seeded random substitutions
(models.smoothed_classifier.SmoothedScorer); it is certified when SAFER's Theorem 1 holds
(benchmark.metrics.certify): the Clopper-Pearson lower bound on the top class's vote share,
minus q_x, exceeds 1/2. The threat model certified against is infobench's attack threat
model: any words of the hypothesis replaced by members of their counter-fitted perturbation
sets, the premise fixed (the smoothing noise itself covers both texts, as in SAFER).

Records: metrics `accuracy` (smoothed, empirical) and `certified_accuracy` (correct AND
certified), two separate numbers, plus `certified_accuracy_1word` (the certificate when
at most one hypothesis word may change, q_x over the worst single word); `evaluation.smoothing`
names N, the seed, alpha and the perturbation set. The per-example log makes the run resumable like `evaluate`'s.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from benchmark import records
from benchmark.core.atomic import append_jsonl, exclusive_writer

log = logging.getLogger(__name__)
CHUNK = 16  # examples between two log appends (each costs N model inputs)
ALPHA = 0.05  # one-sided Clopper-Pearson level of the certificate


def evaluate_smoothed(model, tokenizer, card, spec, member, quiet: bool) -> dict:
    """Accuracy and certified accuracy of SAFER's smoothed classifier (spec.smoothing votes) on one dataset."""
    from models.smoothed_classifier import LogitScorer, SmoothedScorer

    loaded, indices = member.loaded, member.sample.indices
    max_length = card["hyperparameters"].get("max_length", 128)
    scorer = SmoothedScorer(LogitScorer(model, tokenizer, max_length, spec.batch_size), spec.smoothing, seed=spec.seed)
    smoothing = {**scorer.describe(), "alpha": ALPHA, "certified_against": "hypothesis words (premise fixed)"}
    identity = records.evaluation_log_identity(card, loaded, indices, max_length=max_length, smoothing=smoothing)
    log_path = records.example_log_path(spec.results_dir, member.record_id)
    started = time.perf_counter()
    with exclusive_writer(log_path):  # one writer per run
        done = {e["index"]: e for e in records.read_evaluation_log(log_path, identity)}
        _score_missing(scorer, card, loaded, [i for i in indices if i not in done], done, log_path, quiet)
        chosen = [done[i] for i in indices]
        wall = records.logged_wall_time(chosen, time.perf_counter() - started)
        return _write_record(member, card, spec, chosen, smoothing, wall, model)


def certify_example(scorer, example: dict, votes) -> dict:
    """Theorem 1 against any number of substituted hypothesis words, and against one (q over the worst word)."""
    from benchmark.metrics.certify import certify, total_variation_bound
    from benchmark.resources.substitutions import text_words

    words = text_words(example["hypothesis"])
    verdict = certify([int(v) for v in votes], total_variation_bound(words, scorer.substitutions.members), ALPHA)
    one_word = certify([int(v) for v in votes], total_variation_bound(words, scorer.substitutions.members, 1), ALPHA)
    return {**verdict, "q_1word": one_word["q"], "certified_1word": one_word["certified"]}


def _score_missing(scorer, card, loaded, todo: list[int], done: dict, log_path: Path, quiet: bool) -> None:
    from tqdm.auto import tqdm

    names = card["label_names"]
    with tqdm(total=len(done) + len(todo), initial=len(done), desc=f"smoothed evaluate {loaded.name}",
              unit="ex", disable=quiet) as bar:
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start:start + CHUNK]
            examples = [loaded.examples[i] for i in chunk]
            began = time.perf_counter()
            votes = scorer.votes([(e["premise"], e["hypothesis"]) for e in examples])
            share = (time.perf_counter() - began) / len(chunk)
            for i, example, row in zip(chunk, examples, votes):
                verdict = certify_example(scorer, example, row)
                predicted = names[verdict["prediction"]]
                correct = predicted == example["label"]
                entry = {"index": i, "id": example["id"], "label": example["label"], "prediction": predicted,
                         "correct": correct, "votes": [int(v) for v in row], "p_a_lower": verdict["p_a_lower"],
                         "q": verdict["q"], "certified": verdict["certified"],
                         "certified_correct": correct and verdict["certified"], "q_1word": verdict["q_1word"],
                         "certified_1word_correct": correct and verdict["certified_1word"], "seconds": share}
                done[i] = entry
                append_jsonl(log_path, entry)
            bar.update(len(chunk))


def _write_record(member, card, spec, chosen, smoothing, wall, model) -> dict:
    from benchmark.evaluation.spec import write_evaluation_record
    from benchmark.metrics import outcomes

    correct = sum(e["correct"] for e in chosen)
    certified = sum(e["certified_correct"] for e in chosen)
    metrics = {"accuracy": correct / len(chosen), "certified_accuracy": certified / len(chosen),
               # the same certificate when at most one hypothesis word may change (a weaker threat model)
               "certified_accuracy_1word": sum(e["certified_1word_correct"] for e in chosen) / len(chosen),
               "seconds_per_example": sum(e["seconds"] for e in chosen) / len(chosen)}
    counts = {"n": len(chosen), "correct": correct, "certified_correct": certified,
              "certified_1word_correct": sum(e["certified_1word_correct"] for e in chosen),
              "certified": sum(e["certified"] for e in chosen)}
    record = write_evaluation_record(member, card, spec, chosen, metrics, counts, wall, model,
                                     intervals=outcomes.intervals("evaluate", metrics, counts, chosen),
                                     max_length=card["hyperparameters"].get("max_length", 128), smoothing=smoothing)
    log.info("%s smoothed (N=%d): accuracy %.4f, certified %.4f on %d examples", member.loaded.name,
             smoothing["samples"], metrics["accuracy"], metrics["certified_accuracy"], len(chosen))
    return record
