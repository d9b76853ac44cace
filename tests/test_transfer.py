"""Adversarial sets from attack records, transfer runs and robustness curves, on a real attack.

One unbudgeted PWWS run of a small fine-tuned MiniLM on 8 SNLI test pairs feeds every test:
- its successful examples as `adv:<record id>`: the attacked model scores 0 on them, the
  evaluation record names the source record's sha256, and export writes every field;
- `infobench transfer` over two checkpoints, and the leaderboard's matrix and heatmap;
- curve exactness: real runs with --query-budget B and --max-perturbed-share S give, example
  by example, the outcomes the curve derived from the unbudgeted log predicts.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from attack_helpers import finetuned_checkpoint, untrained_checkpoint

SAMPLE = ["--recipe", "pwws", "--dataset", "snli-test", "-n", "8", "--seed", "7", "--threads", "1"]


@pytest.fixture(scope="module")
def finetuned(tmp_path_factory, data_root) -> Path:
    return finetuned_checkpoint(tmp_path_factory.getbasetemp() / "attack-finetuned-minilm")


@pytest.fixture(scope="module")
def unbudgeted(finetuned, tmp_path_factory):
    """(record, log entries, results folder) of the unbudgeted run."""
    from benchmark.cli import main
    from benchmark.records.adversarial import attack_log_entries as read_log_entries
    from benchmark.records import load_record

    results = tmp_path_factory.mktemp("transfer-results")
    assert main(["--quiet", "attack", str(finetuned), *SAMPLE, "--results", str(results)]) == 0
    (path,) = (results / "records").glob("*__attack__*.json")
    record = load_record(path)
    return record, read_log_entries(results, record["record_id"]), results


def _outcomes(results: Path, rid: str) -> dict[int, str]:
    from benchmark.records.adversarial import attack_log_entries as read_log_entries

    return {e["index"]: e["result"] for e in read_log_entries(results, rid)}


def _attack(run_cli, finetuned, results, *extra) -> dict[int, str]:
    code, out, err = run_cli("--quiet", "attack", str(finetuned), *SAMPLE, *extra, "--results", str(results))
    assert code == 0, err
    rid = out.split("metric", 1)[1].split()[0]  # the record id heads the printed table
    return _outcomes(results, rid)


# ---- adversarial sets and transfer ------------------------------------------------------------

def test_attacked_model_scores_zero_on_its_own_successful_examples(finetuned, unbudgeted, run_cli):
    record, entries, results = unbudgeted
    successful = [e for e in entries if e["result"] == "successful"]
    assert len(successful) >= 3, "the fixture run needs successes to test anything"
    code, _, err = run_cli("--quiet", "evaluate", str(finetuned), "--dataset", f"adv:{record['record_id']}",
                           "--results", str(results))
    assert code == 0, err
    (path,) = (results / "records").glob("*__evaluate__adv-*.json")
    evaluated = json.loads(path.read_text())
    assert evaluated["counts"]["n"] == len(successful)
    assert evaluated["metrics"]["accuracy"] == 0.0
    source = evaluated["evaluation"]["adversarial_source"]
    record_file = results / "records" / f"{record['record_id']}.json"
    assert source["record_sha256"] == hashlib.sha256(record_file.read_bytes()).hexdigest()
    assert source["weights_sha256"] == record["checkpoint"]["weights_sha256"]
    assert source["recipe"]["name"] == "pwws"


def test_export_writes_one_row_per_successful_example(unbudgeted, run_cli, tmp_path):
    record, entries, results = unbudgeted
    out = tmp_path / "adv.jsonl"
    code, _, err = run_cli("export", f"adv:{record['record_id']}", "-o", str(out), "--results", str(results))
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    by_index = {e["index"]: e for e in entries if e["result"] == "successful"}
    assert [row["index"] for row in rows] == sorted(by_index)
    for row in rows:
        entry = by_index[row["index"]]
        assert (row["premise"], row["hypothesis"], row["label"]) == (entry["premise"], entry["hypothesis"],
                                                                      entry["label"])
        assert row["perturbed_hypothesis"] == entry["perturbed_hypothesis"] != row["hypothesis"]
        assert row["perturbed_premise"] == row["premise"]  # NLI attacks keep the premise
        assert row["source_checkpoint"] == record["checkpoint"]["model_id"]
        assert row["source_weights_sha256"] == record["checkpoint"]["weights_sha256"]
        assert row["source_record_id"] == record["record_id"] and len(row["source_record_sha256"]) == 64
        assert row["recipe"] == "pwws" and row["recipe_params"] == record["evaluation"]["recipe"]["params"]
        assert row["source_dataset"] == "snli-test"


def test_transfer_matrix_marks_the_white_box_cell(finetuned, unbudgeted, run_cli, tmp_path_factory):
    record, entries, results = unbudgeted
    other = untrained_checkpoint(tmp_path_factory.getbasetemp() / "transfer-untrained")
    code, out, err = run_cli("--quiet", "transfer", "--checkpoint", str(finetuned), "--checkpoint", str(other),
                             "--set", f"adv:{record['record_id']}", "--results", str(results))
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("| test-minilm-l6-snli-attack"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    targets = [cell.strip() for cell in next(line for line in out.splitlines() if "source \\ target" in line)
               .strip("|").split("|")][1:]
    white = cells[1 + targets.index("test-minilm-l6-snli-attack")]
    black = cells[1 + targets.index("test-minilm-l6-untrained")]
    n = sum(e["result"] == "successful" for e in entries)
    assert white.startswith("0.0 [0.0, ") and white.endswith(f"n={n} ◆")
    assert black.endswith(f"n={n}") and "◆" not in black

    stale = results / "plots" / "curves-pwws-snli-test-n7-dabcdef.png"  # a grouping no record has any more
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"old")
    code, _, err = run_cli("--quiet", "leaderboard", "--results", str(results), "--readme", str(results / "R.md"))
    assert code == 0, err
    assert not stale.exists()
    page = (results / "leaderboard.md").read_text()
    assert "pwws on snli-test" in page and white in page
    assert (results / "plots" / "transfer-pwws-snli-test.png").stat().st_size > 0
    assert (results / "plots" / "curves-pwws-snli-test.png").stat().st_size > 0
    assert "pwws/snli-test AuA-AUC%" in page
    # In the main table the diagonal is no transfer number: only the other target has an adv: cell.
    import csv

    table = {r["checkpoint"]: r for r in csv.DictReader((results / "leaderboard.csv").open())}
    # AuA-AUC: a metric of the attack record itself (CSV column, interval), the curve's mean.
    from benchmark.metrics.curves import AUC_BUDGETS, query_auc_per_example, query_curve

    auc = sum(query_curve(entries, AUC_BUDGETS)) / len(AUC_BUDGETS)
    assert float(table["test-minilm-l6-snli-attack"]["pwws@snli-test.auc_queries"]) == pytest.approx(auc)
    per_example = query_auc_per_example(entries)
    assert sum(per_example.values()) / len(per_example) == pytest.approx(auc)
    assert re.search(rf"\| {auc * 100:.1f} \(\d+\.\d–\d+\.\d\)", page), "the AUC cell carries its interval"
    adv_column = next(key for key in table["test-minilm-l6-untrained"] if key.startswith("adv:"))
    assert table["test-minilm-l6-untrained"][adv_column] != "" and table["test-minilm-l6-snli-attack"][adv_column] == ""


def test_named_transfer_set_without_its_source_names_the_command(unbudgeted, run_cli, tmp_path):
    _, _, results = unbudgeted
    code, _, err = run_cli("export", "tf-transfer-mnli-m", "-o", str(tmp_path / "x.jsonl"), "--results", str(results))
    assert code == 2
    assert "standard-minilm-l6-snli-s7" in err and "--recipe textfooler --dataset" in err and "-n 1000" in err


# ---- curves -----------------------------------------------------------------------------------

def test_budgeted_runs_match_the_curve_example_by_example(finetuned, unbudgeted, run_cli):
    from benchmark.metrics.curves import exactness, query_curve, search_of, succeeds_within_budget

    record, entries, results = unbudgeted
    assert exactness(entries, search_of(record))["queries"] == "exact"
    # An example whose success needs fewer queries than its unbudgeted run spent: a budget that cuts
    # its last batch early still wins. The budgets just below and at that point are the sharp test.
    inside = next(e for e in entries if e["result"] == "successful" and e["success_budgets"][0][0] < e["queries"])
    low = inside["success_budgets"][0][0]
    for budget in (low - 1, low):
        outcomes = _attack(run_cli, finetuned, results, "--query-budget", str(budget))
        for entry in entries:
            predicted = succeeds_within_budget(entry, budget)
            assert (outcomes[entry["index"]] == "successful") == predicted, (entry["index"], budget)
            if entry["result"] == "skipped":
                assert outcomes[entry["index"]] == "skipped"
        robust = sum(outcomes[e["index"]] == "failed" for e in entries) / len(entries)
        assert query_curve(entries, [budget]) == [robust]
    # Without the trace the curve would call the example failed at `low` (it spent more than that).
    assert not succeeds_within_budget({**inside, "success_budgets": None}, low)


def test_perturbation_cap_run_matches_the_share_curve(finetuned, unbudgeted, run_cli):
    from benchmark.metrics.curves import succeeds_within_share

    _, entries, results = unbudgeted
    successful = [e for e in entries if e["result"] == "successful"]
    share = next(s / 100 for s in range(2, 30)  # a cap that stops some successes and not others
                 if len({succeeds_within_share(e, s / 100) for e in successful}) == 2)
    outcomes = _attack(run_cli, finetuned, results, "--max-perturbed-share", str(share))
    for entry in entries:
        assert (outcomes[entry["index"]] == "successful") == succeeds_within_share(entry, share), entry["index"]


def test_bad_cap_is_a_user_error(finetuned, tmp_path, run_cli):
    code, _, err = run_cli("attack", str(finetuned), *SAMPLE, "--max-perturbed-share", "1.5",
                           "--results", str(tmp_path))
    assert code == 2 and "max_perturbed_share" in err


def test_a_declared_transfer_set_finds_its_source_record(finetuned, unbudgeted, run_cli, monkeypatch):
    """The tf-transfer-* mechanism on the fixture's record: a declaration, not an id, picks the source."""
    from benchmark.data import DATASETS, AttackSource, DatasetSpec

    record, entries, results = unbudgeted
    source = AttackSource(record["checkpoint"]["model_id"], "pwws", "snli-test", n=8, seed=7)
    monkeypatch.setitem(DATASETS._entries, "test-transfer-pwws",
                        DatasetSpec("test-transfer-pwws", task="nli", description="test", attack_source=source))
    code, _, err = run_cli("--quiet", "evaluate", str(finetuned), "--dataset", "test-transfer-pwws",
                           "--results", str(results))
    assert code == 0, err
    evaluated = json.loads((results / "records" / "test-minilm-l6-snli-attack__evaluate__test-transfer-pwws.json")
                           .read_text())
    assert evaluated["evaluation"]["adversarial_source"]["record_id"] == record["record_id"]
    assert evaluated["counts"]["n"] == sum(e["result"] == "successful" for e in entries)
    # The budgeted and capped runs of the other tests are not sources: only the unbudgeted run matches.
    monkeypatch.setitem(DATASETS._entries, "test-transfer-other",
                        DatasetSpec("test-transfer-other", task="nli", description="test",
                                    attack_source=AttackSource("no-such-model", "pwws", "snli-test", n=8, seed=7)))
    code, _, err = run_cli("--quiet", "evaluate", str(finetuned), "--dataset", "test-transfer-other",
                           "--results", str(results))
    assert code == 2 and "infobench attack CHECKPOINT_OF_no-such-model --recipe pwws --dataset snli-test -n 8" in err
