"""Score attack results: one log entry per example, and the record's metrics from the log alone.

Metric definitions follow TextAttack's attack summary so numbers are comparable:
- clean_accuracy: share of examples the model gets right before the attack (the others are
  "skipped": there is nothing to attack);
- accuracy_under_attack: share of all examples still right after the attack (failed attacks);
- attack_success_rate: successful / (successful + failed), i.e. among originally correct;
- avg_words_perturbed_pct: over successful attacks, words changed / words in the whole input
  (premise and hypothesis, as TextAttack counts them);
- avg_queries: over attacked (not skipped) examples, the query count when the final result
  was found (TextAttack's `num_queries`); the log also keeps every query made (`queries_total`);
- avg_sentence_similarity: over successful attacks, cosine similarity of the original and the
  perturbed hypothesis under the sentence encoder named in the record;
- accuracy_under_attack_validity_filtered (and attack_success_rate_validity_filtered): the same
  with every success that an offline validity flag marks counted as a failed attack
  (benchmark/metrics/validity.py); beside the raw figures, never in their place.
"""

from __future__ import annotations

import numpy as np

RESULT_TYPES = {"SuccessfulAttackResult": "successful", "FailedAttackResult": "failed",
                "SkippedAttackResult": "skipped", "MaximizedAttackResult": "maximized"}


def example_entry(index: int, example: dict, label_names, result, goal_function, query_budget,
                  similarity, truncated: bool, seconds: float, validity: dict | None = None) -> dict:
    """The per-example log line: texts, outcome, queries, words perturbed, similarity, validity, time."""
    kind = RESULT_TYPES[type(result).__name__]
    original = result.original_result.attacked_text
    perturbed = result.perturbed_result.attacked_text
    changed = len(original.all_words_diff(perturbed)) if kind == "successful" else 0
    words = len(original.words)
    queries_total = int(goal_function.num_queries)
    return {
        "index": index, "id": example["id"], "label": example["label"],
        "prediction": label_names[int(result.original_result.output)],
        "perturbed_prediction": label_names[int(result.perturbed_result.output)],
        "result": kind,
        "premise": example["premise"], "hypothesis": example["hypothesis"],
        # For failed attacks: the best-scoring text the search reached (it did not flip the label).
        "perturbed_premise": columns(perturbed)["premise"] if kind != "skipped" else None,
        "perturbed_hypothesis": columns(perturbed)["hypothesis"] if kind != "skipped" else None,
        "queries": int(result.perturbed_result.num_queries) if kind != "skipped" else 0,
        "queries_total": queries_total,
        "budget_exhausted": bool(query_budget is not None and kind == "failed" and queries_total >= query_budget),
        "words": words, "words_perturbed": changed,
        "words_perturbed_pct": 100.0 * changed / words if kind == "successful" and words else None,
        "similarity": similarity, "truncated": bool(truncated), "seconds": round(seconds, 3),
        # Offline validity flags of a successful attack (None otherwise).
        "validity": validity,
    }


def columns(attacked_text) -> dict:
    """{"premise": ..., "hypothesis": ...} of a textattack AttackedText."""
    texts = attacked_text.tokenizer_input
    return dict(zip(attacked_text.column_labels, (texts,) if isinstance(texts, str) else texts))


def counts_from_log(entries: list[dict]) -> dict:
    from benchmark.metrics.validity import validity_counts

    kinds = [e["result"] for e in entries]
    validity = validity_counts(entries) if _has_validity(entries) else {}
    return {
        "n": len(entries),
        "skipped": kinds.count("skipped"),  # misclassified before any perturbation
        "successful": kinds.count("successful"),
        "failed": kinds.count("failed"),
        "maximized": kinds.count("maximized"),
        "budget_exhausted": sum(bool(e["budget_exhausted"]) for e in entries),
        "truncated": sum(bool(e["truncated"]) for e in entries),
        **validity,
    }


def _has_validity(entries: list[dict]) -> bool:
    """Logs written before the validity check existed have no "validity" field: no validity figures."""
    return any("validity" in e for e in entries)


def metrics_from_log(entries: list[dict]) -> dict:
    """The record's metrics, computed from log entries only (so a resumed run scores the same)."""
    from benchmark.metrics.validity import validity_metrics

    counts = counts_from_log(entries)
    n = counts["n"]
    attacked = [e for e in entries if e["result"] != "skipped"]
    successful = [e for e in entries if e["result"] == "successful"]
    similarities = [e["similarity"] for e in successful if e["similarity"] is not None]
    decided = counts["successful"] + counts["failed"]
    return {
        "clean_accuracy": (n - counts["skipped"]) / n,
        "accuracy_under_attack": counts["failed"] / n,
        "attack_success_rate": counts["successful"] / decided if decided else None,
        "avg_words_perturbed_pct": _mean([e["words_perturbed_pct"] for e in successful]),
        "avg_queries": _mean([e["queries"] for e in attacked]),
        "avg_sentence_similarity": _mean(similarities),
        "seconds_per_example": _mean([e["seconds"] for e in entries]),
        **(validity_metrics(entries) if _has_validity(entries) else {}),
    }


def _mean(values: list) -> float | None:
    return float(np.mean(values)) if values else None


def cosine_similarity(encoder, first: str, second: str) -> float:
    """Cosine similarity of two texts under a textattack SentenceEncoder's `encode`."""
    vectors = np.asarray(encoder.encode([first, second]), dtype=np.float64)
    a, b = vectors[0], vectors[1]
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
