"""The validity-filtered after-attack accuracy of every attack record on the leaderboard.

Records written since the validity check (docs/validity.md) carry the figure and their logs carry
the flags. For older records the flags are computed now from the per-example log, the way
`infobench show` does, and the figure with them: (failed + flagged successes) / n. It fills its
own column beside the raw AuA and gets its interval and tie mark from the same per-example
outcomes as every other rate (benchmark/metrics/outcomes.py, benchmark/leaderboard/stats.py).
"""

from __future__ import annotations

import logging
import math

from benchmark.metrics import outcomes as outcome_logs

log = logging.getLogger(__name__)

VALIDITY_FILTERED = outcome_logs.VALIDITY_FILTERED


def checked_entries(record: dict) -> list[dict] | None:
    """The record's log entries in log-index order, every success with its `validity` and
    `validity_computed_now` (True where the log predates the flags); None without a log.

    Memoised on the record: the leaderboard column and the examples page share one computation.
    """
    if "_checked_entries" not in record:
        folder = record.get("_dir")
        entries = outcome_logs.read_log_entries(folder, record["record_id"]) if folder else None
        record["_checked_entries"] = None if entries is None else _with_validity(entries, record["record_id"])
    return record["_checked_entries"]


def checked_outcomes(record: dict) -> dict:
    """A loaded record's per-example outcomes (metrics.outcomes.record_outcomes) with an attack log
    read as checked_entries reads it, and an old log's validity-filtered AuA filled in first: what
    the leaderboard's cells, `infobench compare` and scripts/zoo_verdict.py all pair."""
    if record["kind"] != "attack":
        return outcome_logs.record_outcomes(record["_dir"], record)
    fill_validity_filtered(record)
    return outcome_logs.record_outcomes(record["_dir"], record, checked_entries(record))


def _with_validity(entries: list[dict], record_id: str) -> list[dict]:
    from tqdm.auto import tqdm

    from benchmark.metrics.validity import entry_validity

    ordered = sorted(entries, key=lambda e: e["index"])
    todo = sum(e.get("result") == "successful" and not e.get("validity") for e in ordered)
    checked = []
    with tqdm(total=todo, desc=f"validity flags {record_id}", unit="ex", leave=False,
              disable=todo == 0 or not log.isEnabledFor(logging.INFO)) as bar:
        for entry in ordered:
            validity, computed_now = entry_validity(entry)
            checked.append({**entry, "validity": validity, "validity_computed_now": computed_now})
            bar.update(int(computed_now))
    return checked


def fill_validity_filtered(record: dict) -> None:
    """Give an attack record without the validity-filtered AuA the figure computed from its log
    (and the per-example outcomes behind its interval); records holding it are left as they are."""
    if record["kind"] != "attack" or record["metrics"].get(VALIDITY_FILTERED) is not None:
        return
    entries = checked_entries(record)
    if not entries:
        return
    raw = sum(e["result"] == "failed" for e in entries) / len(entries)
    if not math.isclose(raw, record["metrics"].get("accuracy_under_attack", math.nan), abs_tol=1e-9):
        log.warning("%s: its per-example log does not reproduce its after-attack accuracy; "
                    "no validity-filtered figure for it", record["record_id"])
        return
    found = outcome_logs.validity_filtered_outcomes(entries)
    record["metrics"][VALIDITY_FILTERED] = found.successes / found.n
    record["_computed_outcomes"] = {**record.get("_computed_outcomes", {}), VALIDITY_FILTERED: found}
    log.info("%s: validity-filtered AuA computed from its log (flags computed now)", record["record_id"])
