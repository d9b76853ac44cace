"""Per-example outcomes of a result record, and the 95% intervals every rate in it carries.

A record's rates are means over its per-example log: NLI accuracy over examples, SQuAD EM/F1
over original questions (worst case over each question's variants), attack rates over the
attacked sample. `outcomes_from_log` rebuilds those per-example values keyed by example, so that
intervals, paired tests between two checkpoints (`infobench compare`) and the leaderboard's tie
marks are all computed from the same numbers the record's metrics were. Without a log (or for a
log that does not reproduce the record) the counts still give Wilson intervals for proportions.

Interval methods: Wilson for proportions (accuracy, EM, clean accuracy, accuracy under attack,
success rate); a seeded percentile bootstrap for means (F1, queries, perturbed-word share,
sentence similarity). Intervals are in the metric's own unit (fractions or percent).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

from benchmark.core import stats

log = logging.getLogger(__name__)

PROPORTION, MEAN = "proportion", "mean"
VALIDITY_FILTERED = "accuracy_under_attack_validity_filtered"
QA_PARTS = ("exact_match", "f1")


@dataclass(frozen=True)
class Outcomes:
    """One metric's per-example values (0/1 for proportions); `values` is None without a log."""

    kind: str  # PROPORTION | MEAN
    scale: float  # 1.0 for fractions, 100.0 for percent metrics
    values: dict | None  # example key -> value in [0, 1] (proportion) or raw (mean)
    successes: int | None = None  # proportions: from the record's counts when there is no log
    n: int = 0

    @property
    def paired(self) -> bool:
        return self.values is not None

    def interval(self) -> dict | None:
        if self.kind == PROPORTION:
            found = stats.wilson_interval(self.successes, self.n)
            method = {"method": "wilson"}
        else:
            # Resampled in key order: the interval must not depend on the order examples were run in
            # (a resumed or sharded run logs them in another order than an unbroken one).
            ordered = [self.values[key] for key in sorted(self.values)] if self.values is not None else None
            found = stats.bootstrap_mean_interval(ordered) if ordered is not None else None
            method = {"method": "bootstrap-percentile", "resamples": stats.BOOTSTRAP_RESAMPLES,
                      "seed": stats.BOOTSTRAP_SEED}
        if found is None:
            return None
        return {"n": self.n, "low": found.low * self.scale, "high": found.high * self.scale,
                "confidence": stats.CONFIDENCE, **method}


def _proportion(values: dict, scale: float = 1.0) -> Outcomes:
    return Outcomes(PROPORTION, scale, values, int(round(sum(values.values()))), len(values))


def mean_outcomes(values: dict, scale: float = 1.0) -> Outcomes:
    return Outcomes(MEAN, scale, values, None, len(values))


def outcomes_from_log(kind: str, metrics: dict, entries: list[dict]) -> dict[str, Outcomes]:
    """Per-example outcomes for each rate of a record, from its log entries (header excluded)."""
    if kind == "attack":
        return _attack_outcomes(entries)
    if any(name in metrics for name in QA_PARTS):
        return _qa_outcomes(entries)
    return {"accuracy": _proportion({str(e["index"]): float(bool(e["correct"])) for e in entries})}


def _attack_outcomes(entries: list[dict]) -> dict[str, Outcomes]:
    by_index = {str(e["index"]): e for e in entries}
    attacked = {k: e for k, e in by_index.items() if e["result"] != "skipped"}
    decided = {k: e for k, e in attacked.items() if e["result"] in ("successful", "failed")}
    successful = {k: e for k, e in attacked.items() if e["result"] == "successful"}
    found = {
        "clean_accuracy": _proportion({k: float(e["result"] != "skipped") for k, e in by_index.items()}),
        "accuracy_under_attack": _proportion({k: float(e["result"] == "failed") for k, e in by_index.items()}),
        "attack_success_rate": _proportion({k: float(e["result"] == "successful") for k, e in decided.items()}),
        "avg_queries": mean_outcomes({k: float(e["queries"]) for k, e in attacked.items()}),
        "avg_words_perturbed_pct": mean_outcomes({k: float(e["words_perturbed_pct"]) for k, e in successful.items()
                                          if e.get("words_perturbed_pct") is not None}),
        "avg_sentence_similarity": mean_outcomes({k: float(e["similarity"]) for k, e in successful.items()
                                          if e.get("similarity") is not None}),
    }
    # Logs written with validity flags carry a "validity" key on every entry (None unless successful).
    if any("validity" in e for e in entries) and all(e.get("validity") for e in successful.values()):
        found[VALIDITY_FILTERED] = validity_filtered_outcomes(by_index.values())
    return {name: found[name] for name in found if found[name].n}


def validity_filtered_outcomes(entries) -> Outcomes:
    """Per example: 1 when the attack failed or its success carries a validity flag (flagged
    successes count as failed attacks; see benchmark/metrics/validity.py). Entries need `validity`."""
    def survived(entry: dict) -> bool:
        return entry["result"] == "failed" or (entry["result"] == "successful" and entry["validity"]["flagged"])

    return _proportion({str(e["index"]): float(survived(e)) for e in entries})


def _qa_outcomes(entries: list[dict]) -> dict[str, Outcomes]:
    from benchmark.metrics.squad import original_id

    worst: dict[str, dict] = {}
    for entry in entries:
        group = worst.setdefault(original_id(entry["id"]), {name: 1.0 for name in QA_PARTS})
        for name in QA_PARTS:
            group[name] = min(group[name], float(entry[name]))
    found = {"exact_match": _proportion({g: v["exact_match"] for g, v in worst.items()}, 100.0),
             "f1": mean_outcomes({g: v["f1"] for g, v in worst.items()}, 100.0)}
    originals = [e for e in entries if original_id(e["id"]) == e["id"]]
    variants = [e for e in entries if original_id(e["id"]) != e["id"]]
    if variants:
        for prefix, part in (("original", originals), ("variants", variants)):
            if part:
                found[f"{prefix}_exact_match"] = _proportion({e["id"]: float(e["exact_match"]) for e in part}, 100.0)
                found[f"{prefix}_f1"] = mean_outcomes({e["id"]: float(e["f1"]) for e in part}, 100.0)
    return found


def outcomes_from_counts(kind: str, metrics: dict, counts: dict) -> dict[str, Outcomes]:
    """The proportions a record's counts alone determine (old records, records without a log)."""
    n = counts.get("n") or 0
    if kind == "attack":
        decided = counts.get("successful", 0) + counts.get("failed", 0)
        found = {"clean_accuracy": (n - counts.get("skipped", 0), n),
                 "accuracy_under_attack": (counts.get("failed", 0), n),
                 "attack_success_rate": (counts.get("successful", 0), decided)}
        if "validity_flagged" in counts:  # records whose log carried validity flags
            found[VALIDITY_FILTERED] = (counts.get("failed", 0) + counts["validity_flagged"], n)
    elif "accuracy" in metrics and "correct" in counts:
        found = {"accuracy": (counts["correct"], n)}
        # SAFER's smoothed runs: the certified shares are rates of their own over the same n.
        for name, key in (("certified_accuracy", "certified_correct"),
                          ("certified_accuracy_1word", "certified_1word_correct")):
            if name in metrics and key in counts:
                found[name] = (counts[key], n)
    else:
        found = {}
    return {name: Outcomes(PROPORTION, 1.0, None, k, total) for name, (k, total) in found.items() if total}


def intervals(kind: str, metrics: dict, counts: dict, entries: list[dict] | None = None) -> dict:
    """{metric: {n, low, high, confidence, method...}} for every rate the record reports."""
    found = outcomes_from_counts(kind, metrics, counts)
    if entries is not None:
        found.update(outcomes_from_log(kind, metrics, entries))
    out = {}
    for name, outcomes in sorted(found.items()):
        interval = outcomes.interval() if metrics.get(name) is not None else None
        if interval is not None:
            out[name] = interval
    return out


# ---------------------------------------------------------------- reading logs beside records


def read_log_entries(records_dir: Path, record_id: str) -> list[dict] | None:
    """The per-example entries of a record's log (header dropped, last entry per example), or None."""
    from benchmark.core.atomic import read_jsonl_log

    # Record ids are file-name-safe already (records.record_id): the log is "<id>.examples.jsonl".
    path = Path(records_dir) / f"{record_id}.examples.jsonl"
    if not path.is_file():
        return None
    latest: dict = {}
    for entry in read_jsonl_log(path):
        if "header" in entry:
            continue
        latest[entry.get("index", entry.get("id"))] = entry
    return list(latest.values())


def record_outcomes(records_dir: Path, record: dict, entries: list[dict] | None = None) -> dict[str, Outcomes]:
    """Outcomes of a record: from its log (or its group members' logs) when they reproduce its
    metrics, else from its counts alone (no pairing then). `entries`: the log already read."""
    found = outcomes_from_counts(record["kind"], record["metrics"], record["counts"])
    entries = _entries_for(records_dir, record) if entries is None else entries
    if entries is None:
        return found
    from_log = outcomes_from_log(record["kind"], record["metrics"], entries)
    if not _reproduces(record, from_log):
        log.warning("%s: its per-example log does not reproduce its metrics; intervals from counts only",
                    record["record_id"])
        return found
    found.update(from_log)
    return found


def _entries_for(records_dir: Path, record: dict) -> list[dict] | None:
    members = record["evaluation"].get("members")
    if not members:
        return read_log_entries(records_dir, record["record_id"])
    combined = []
    for member in members:  # a group record (all ANLI rounds): its members' logs, keys kept apart
        entries = read_log_entries(records_dir, member)
        if entries is None:
            return None
        part = member.split("__", 1)[-1]  # "evaluate__anli-r1-test": the same for every checkpoint
        combined += [{**e, "index": f"{part}:{e['index']}"} for e in entries]
    return combined


def _reproduces(record: dict, found: dict[str, Outcomes]) -> bool:
    for name, outcomes in found.items():
        expected = record["metrics"].get(name)
        if expected is None or not outcomes.values:
            continue
        mean = sum(outcomes.values.values()) / len(outcomes.values) * outcomes.scale
        if not math.isclose(mean, expected, rel_tol=1e-9, abs_tol=1e-9):
            return False
    return True


def stored_or_computed_intervals(records_dir: Path, record: dict, found: dict[str, Outcomes] | None = None) -> dict:
    """The record's own intervals; for records written before intervals existed, computed now."""
    if isinstance(record.get("intervals"), dict):
        return record["intervals"]
    found = record_outcomes(records_dir, record) if found is None else found
    return {name: interval for name, o in found.items()
            if record["metrics"].get(name) is not None and (interval := o.interval()) is not None}
