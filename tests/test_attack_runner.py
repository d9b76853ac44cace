"""The attack runner: resume after SIGKILL, shard merge, metrics from the log, clear errors for bad input."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from attack_helpers import finetuned_checkpoint, untrained_checkpoint
from kill_helpers import kill_at_progress_points, random_kill_points

REPO = Path(__file__).resolve().parents[1]
ARGS = ["--recipe", "pwws", "--dataset", "snli-test", "-n", "5", "--seed", "7", "--query-budget", "40"]


@pytest.fixture(scope="session")
def finetuned(tmp_path_factory, data_root) -> Path:
    return finetuned_checkpoint(tmp_path_factory.getbasetemp() / "attack-finetuned-minilm")


@pytest.fixture(scope="module")
def uninterrupted(finetuned, tmp_path_factory):
    """One unbroken run (in-process): the reference the other runs must reproduce."""
    from benchmark.cli import main

    results = tmp_path_factory.mktemp("uninterrupted")
    assert main(["--quiet", "attack", str(finetuned), *ARGS, "--results", str(results)]) == 0
    return _only_record(results), results


def _only_record(results: Path) -> dict:
    from benchmark.records import load_record

    paths = sorted((results / "records").glob("*.json"))
    assert len(paths) == 1, paths
    return load_record(paths[0])


def _log_lines(results: Path, record: dict) -> list[dict]:
    from benchmark.records import example_log_path

    return [json.loads(line) for line in example_log_path(results, record["record_id"]).read_text().splitlines()]


def _without_seconds(lines: list[dict]) -> list[dict]:
    return [{k: v for k, v in line.items() if k not in ("seconds", "header")} for line in lines]


def _attacked_examples(log: Path) -> int:
    try:
        return max(log.read_bytes().count(b"\n") - 1, 0)  # the first line is the header
    except OSError:
        return 0


def test_killed_three_times_resumes_to_the_uninterrupted_run(finetuned, uninterrupted, tmp_path, run_cli):
    from benchmark.records import strip_volatile

    reference, reference_results = uninterrupted
    results = tmp_path / "results"
    log = results / "records" / (reference["record_id"] + ".examples.jsonl")
    command = [sys.executable, "-m", "benchmark.cli", "--quiet", "attack", str(finetuned), *ARGS,
               "--results", str(results)]
    points = random_kill_points(seed=3, low=1, high=5, kills=3)
    seen = kill_at_progress_points(command, lambda: _attacked_examples(log), points, seed=3, cwd=REPO,
                                   env=os.environ.copy())
    assert all(done >= point for done, point in zip(seen, points)) and seen[-1] < 5, seen
    with open(log, "ab") as handle:  # and a line torn by the crash, as a kill mid-write leaves it
        handle.write(b'{"index": 99, "id": "torn')

    code, _, err = run_cli("--quiet", "attack", str(finetuned), *ARGS, "--results", str(results))
    assert code == 0, err
    resumed = _only_record(results)
    assert strip_volatile(resumed) == strip_volatile(reference)
    lines = _log_lines(results, resumed)
    assert len(lines) == 6 and sorted(line["index"] for line in lines[1:]) == sorted(
        line["index"] for line in _log_lines(reference_results, reference)[1:])
    assert _without_seconds(lines) == _without_seconds(_log_lines(reference_results, reference))


def test_rerunning_a_finished_run_attacks_nothing(finetuned, uninterrupted, run_cli):
    from benchmark.records import strip_volatile

    reference, results = uninterrupted
    before = _log_lines(results, reference)
    code, _, err = run_cli("--quiet", "attack", str(finetuned), *ARGS, "--results", str(results))
    assert code == 0, err
    assert _log_lines(results, reference) == before
    assert strip_volatile(_only_record(results)) == strip_volatile(reference)


def test_record_metrics_recomputed_from_the_log(uninterrupted, data_root):
    from benchmark.data import load, sample_indices

    record, results = uninterrupted
    header, *entries = _log_lines(results, record)
    n = len(entries)
    correct = [e for e in entries if e["prediction"] == e["label"]]
    won = [e for e in entries if e["result"] == "successful"]
    lost = [e for e in entries if e["result"] == "failed"]
    assert len(correct) == len(won) + len(lost)
    metrics = record["metrics"]
    assert metrics["clean_accuracy"] == pytest.approx(len(correct) / n)
    assert metrics["accuracy_under_attack"] == pytest.approx(len(lost) / n)
    if won or lost:
        assert metrics["attack_success_rate"] == pytest.approx(len(won) / (len(won) + len(lost)))
        assert metrics["avg_queries"] == pytest.approx(sum(e["queries"] for e in correct) / len(correct))
    if won:
        pct = [100 * e["words_perturbed"] / e["words"] for e in won]
        assert metrics["avg_words_perturbed_pct"] == pytest.approx(sum(pct) / len(pct))
        assert metrics["avg_sentence_similarity"] == pytest.approx(sum(e["similarity"] for e in won) / len(won))
    outcome_counts = {k: v for k, v in record["counts"].items() if not k.startswith("validity_")}
    assert outcome_counts == {"n": 5, "skipped": n - len(correct), "successful": len(won), "failed": len(lost),
                              "maximized": 0, "budget_exhausted": sum(e["budget_exhausted"] for e in entries),
                              "truncated": sum(e["truncated"] for e in entries)}
    # Validity: every success checked; flagged successes count as failed attacks in the filtered figure.
    flagged = sum(e["validity"]["flagged"] for e in won)
    assert record["counts"]["validity_checked"] == len(won) and record["counts"]["validity_flagged"] == flagged
    assert metrics["accuracy_under_attack_validity_filtered"] == pytest.approx((len(lost) + flagged) / n)
    # The sample is the seeded one, and the record says which examples it holds.
    loaded = load("snli-test")
    indices = sample_indices(len(loaded), 5, 7)
    assert [e["index"] for e in entries] == indices
    assert record["evaluation"]["examples_sha256"] == loaded.fingerprint(indices)
    assert record["evaluation"]["sample"]["n"] == 5 and record["evaluation"]["sample"]["seed"] == 7
    assert record["evaluation"]["similarity"]["metric"] == "cosine"


def test_shards_merge_into_the_single_process_record(finetuned, uninterrupted, tmp_path, run_cli):
    from benchmark.records import strip_volatile

    reference, reference_results = uninterrupted
    for shard in ("0/2", "1/2"):
        code, _, err = run_cli("--quiet", "attack", str(finetuned), *ARGS, "--shard", shard, "--results",
                               str(tmp_path))
        assert code == 0, err
    shard_records = sorted((tmp_path / "records").glob("*shard*.json"))
    assert [p.name.split("-shard")[1] for p in shard_records] == ["0of2.json", "1of2.json"]
    code, _, err = run_cli("--quiet", "attack", str(finetuned), *ARGS, "--merge", "2", "--results", str(tmp_path))
    assert code == 0, err
    merged = json.loads((tmp_path / "records" / f"{reference['record_id']}.json").read_text())
    assert strip_volatile(merged) == strip_volatile(reference)
    assert _without_seconds(_log_lines(tmp_path, merged)) == _without_seconds(_log_lines(reference_results, reference))


@pytest.mark.parametrize("args, message", [
    (["--recipe", "textfoolr"], "unknown recipe 'textfoolr'. Did you mean textfooler"),
    (["--recipe", "pwws", "--dataset", "snli-tset"], "unknown dataset 'snli-tset'"),
    (["--recipe", "pwws", "--shard", "2/2"], "0 <= i < N"),
    (["--recipe", "pwws", "--param", "window=3"], "no parameter window"),
    (["--recipe", "textfooler", "--param", "min_cos_sim=high"], "takes a value like 0.5, got 'high'"),
])
def test_bad_input_is_one_clear_message_and_exit_2(finetuned, tmp_path, run_cli, args, message):
    code, out, err = run_cli("attack", str(finetuned), *args, "-n", "2", "--results", str(tmp_path))
    assert code == 2 and message in err and "Traceback" not in err


def test_label_names_must_cover_the_dataset(tmp_path, run_cli, data_root):
    ckpt = untrained_checkpoint(tmp_path / "sentiment", label_names=["negative", "positive"],
                                model_id="test-sentiment")
    code, _, err = run_cli("attack", str(ckpt), "--recipe", "pwws", "-n", "2", "--results", str(tmp_path))
    assert code == 2 and "does not know" in err and "negative" in err


def test_missing_resource_names_the_fix(finetuned, tmp_path, monkeypatch, run_cli):
    monkeypatch.setenv("INFOBENCH_HOME", str(tmp_path / "empty-home"))
    monkeypatch.setenv("TA_CACHE_DIR", str(tmp_path / "empty-ta-cache"))
    code, _, err = run_cli("attack", str(finetuned), "--recipe", "textfooler", "-n", "2", "--results",
                           str(tmp_path))
    assert code == 2 and "infobench resources build-embedding" in err
