"""Leaderboard cells: intervals, seed rows merged, and ties with the best marked (Holm-corrected)."""

from __future__ import annotations

import hashlib
import json

import pytest

from benchmark.core.atomic import append_jsonl
from benchmark.metrics import outcomes
from benchmark.cli import main
from benchmark.data import NLI_LABELS
from benchmark.records import example_log_path, make_record, record_id, write_record

N = 200


def checkpoint(method: str, seed: int = 42, lr: float = 2e-5) -> dict:
    model_id = f"{method}-tiny-snli-s{seed}"
    return {"path": f"checkpoints/{model_id}", "model_id": model_id, "backbone": "tiny", "task": "nli",
            "method": method, "seed": seed, "weights_sha256": hashlib.sha256(model_id.encode()).hexdigest(),
            "label_names": list(NLI_LABELS), "hyperparameters": {"lr": lr, "seed": seed},
            "training_data": {"dataset": "snli-train", "examples_sha256": "d" * 64}}


def evaluate_with_log(results, ckpt: dict, correct: set[int], dataset: str = "snli-test", examples: str = "e" * 64,
                      legacy: bool = False) -> dict:
    """An NLI evaluation record and its per-example log, written as `infobench evaluate` writes them.

    `legacy` writes the record as records were before intervals existed (no "intervals" key)."""
    rid = record_id(ckpt["model_id"], "evaluate", dataset)
    entries = [{"index": i, "id": str(i), "label": "entailment", "correct": i in correct,
                "prediction": "entailment" if i in correct else "neutral", "truncated": False, "seconds": 0.01}
               for i in range(N)]
    example_log_path(results, rid).parent.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        append_jsonl(example_log_path(results, rid), entry)
    metrics, counts = {"accuracy": len(correct) / N}, {"n": N, "correct": len(correct)}
    record = make_record(rid=rid, kind="evaluate", checkpoint=ckpt,
                         evaluation={"dataset": dataset, "examples_sha256": examples, "sample": {"n": N, "seed": 0}},
                         metrics=metrics, counts=counts, wall_time_s=1.0, device="cpu",
                         intervals=None if legacy else outcomes.intervals("evaluate", metrics, counts, entries))
    record["created"] = "2025-01-01T00:00:00+00:00"
    write_record(results, record)
    return record


def board(capsys, results) -> dict:
    assert main(["leaderboard", "--results", str(results), "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_ties_with_the_best_are_marked_and_a_clear_loss_is_not(capsys, tmp_path):
    results = tmp_path / "results"
    best = set(range(150))
    evaluate_with_log(results, checkpoint("standard"), best)
    evaluate_with_log(results, checkpoint("freelb"), best - {0, 1, 2} | {190})  # 148/200: 3 vs 1 discordant
    evaluate_with_log(results, checkpoint("infobert"), set(range(100)))  # 100/200: 50 vs 0 discordant
    table = board(capsys, results)["measured"][0]
    ties = {row["method"]: cells["snli-test.accuracy"]["tie"] for row, cells in zip(table["rows"], table["cells"])}
    assert ties == {"standard": True, "freelb": True, "infobert": False}
    cell = table["cells"][0]["snli-test.accuracy"]
    assert cell["n"] == N and cell["method"] == "wilson" and cell["low"] < 0.75 < cell["high"]


def test_markdown_cells_show_interval_and_bold_ties(capsys, tmp_path):
    results = tmp_path / "results"
    evaluate_with_log(results, checkpoint("standard"), set(range(150)))
    evaluate_with_log(results, checkpoint("infobert"), set(range(100)))
    assert main(["leaderboard", "--results", str(results), "--format", "md"]) == 0
    out = capsys.readouterr().out
    assert "| **75.0** (68.6–80.5) " in out  # Wilson 150/200: 0.6857-0.8049
    assert "| 50.0 (43.1–56.9) " in out and "**50.0**" not in out


def test_unpaired_rows_fall_back_to_fisher(capsys, tmp_path):
    """Different examples under one column (a data file changed between runs): no McNemar pairing."""
    results = tmp_path / "results"
    evaluate_with_log(results, checkpoint("standard"), set(range(150)))
    evaluate_with_log(results, checkpoint("freelb"), set(range(50, 195)), examples="f" * 64)  # 145/200
    table = board(capsys, results)["measured"][0]
    assert all(cells["snli-test.accuracy"]["tie"] for cells in table["cells"])


def test_legacy_records_get_intervals_from_their_log(capsys, tmp_path):
    results = tmp_path / "results"
    record = evaluate_with_log(results, checkpoint("standard"), set(range(150)), legacy=True)
    assert "intervals" not in record
    cell = board(capsys, results)["measured"][0]["cells"][0]["snli-test.accuracy"]
    assert (cell["n"], round(cell["low"], 4), round(cell["high"], 4)) == (N, 0.6857, 0.8049)


def test_a_cell_one_seed_measured_keeps_its_interval_and_an_older_card_joins_its_seeds(capsys, tmp_path):
    results = tmp_path / "results"
    newer = checkpoint("standard", seed=1)
    newer["hyperparameters"]["a2t_share"] = 0.25  # the trainer's default, written out by newer cards
    evaluate_with_log(results, newer, set(range(150)))
    older = checkpoint("standard", seed=2)  # written before the trainer had a2t_share: counts at its default
    evaluate_with_log(results, older, set(range(140)), dataset="snli-tf1k-clean")
    table = board(capsys, results)["measured"][0]
    assert [row["seed"] for row in table["rows"]] == ["1, 2"]
    cell = table["cells"][0]["snli-tf1k-clean.accuracy"]
    assert cell["seeds"] == 1 and cell["method"] == "wilson" and cell["n"] == N
    assert (round(cell["low"], 4), round(cell["high"], 4)) == (0.6332, 0.7593)  # Wilson 140/200, z = 1.96


def test_old_dataset_names_land_in_the_clean_sample_column(capsys, tmp_path):
    results = tmp_path / "results"
    evaluate_with_log(results, checkpoint("standard"), set(range(150)), dataset="snli-textfooler", legacy=True)
    table = board(capsys, results)["measured"][0]
    headers = [c["header"] for c in table["columns"]]
    assert "snli-tf1k-clean acc%" in headers and not any("textfooler" in h for h in headers)
    assert table["rows"][0]["snli-tf1k-clean.accuracy"] == 0.75


def test_seeds_of_one_configuration_merge_into_one_row(capsys, tmp_path):
    results = tmp_path / "results"
    for seed, correct in ((1, 150), (2, 140), (3, 146)):
        evaluate_with_log(results, checkpoint("standard", seed=seed), set(range(correct)))
    evaluate_with_log(results, checkpoint("standard", seed=4, lr=1e-4), set(range(100)))  # another configuration
    table = board(capsys, results)["measured"][0]
    merged = next(row for row in table["rows"] if row["checkpoint"] == "standard-tiny-snli-s*")
    assert merged["seed"] == "1, 2, 3" and merged["snli-test.accuracy"] == pytest.approx(436 / 3 / N)
    position = table["rows"].index(merged)
    cell = table["cells"][position]["snli-test.accuracy"]
    assert cell["seeds"] == 3 and cell["sd"] == pytest.approx(0.025166, abs=1e-6)  # sd of 0.75, 0.70, 0.73
    # two-stage bootstrap: wider than the spread of the seed means alone (0.70-0.75), and than one
    # seed's Wilson interval at n=200 (about +-6 points around 0.727 would be 0.66-0.79 only at 3x n)
    assert cell["method"] == "seed-then-example-bootstrap" and cell["low"] < 0.70 and cell["high"] > 0.75
    assert cell["high"] - cell["low"] < 0.12  # but it pools 3 x 200 examples: narrower than one seed's 0.125
    assert len(table["rows"]) == 2 and len(table["single_seeds"]["rows"]) == 4
    assert main(["leaderboard", "--results", str(results), "--format", "md"]) == 0
    shown = f"**72.7** ± 2.5 sd ({cell['low'] * 100:.1f}–{cell['high'] * 100:.1f}; 3 seeds)"
    assert shown in capsys.readouterr().out  # pooled seeds vs 100/200: Fisher
    assert main(["leaderboard", "--results", str(results), "--format", "html"]) == 0
    page = capsys.readouterr().out
    assert 'href="#seeds-nli"' in page and 'id="seeds-nli"' in page


def test_a_retrained_checkpoint_with_the_same_seed_is_not_merged(capsys, tmp_path):
    results = tmp_path / "results"
    first, second = checkpoint("standard"), {**checkpoint("standard"), "weights_sha256": "0" * 64}
    evaluate_with_log(results, first, set(range(150)))
    evaluate_with_log(results, second, set(range(140)), dataset="anli-r1-test")
    rows = board(capsys, results)["measured"][0]["rows"]
    assert len(rows) == 2 and all("s*" not in row["checkpoint"] for row in rows)


def test_leaderboard_module_imports_stay_light():
    import subprocess
    import sys

    code = "import sys, benchmark.leaderboard.stats, benchmark.metrics.outcomes, benchmark.core.stats; " \
           "print(sorted(m for m in ('scipy', 'numpy', 'pandas', 'torch') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
