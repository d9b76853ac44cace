"""`infobench compare` and the intervals in records, on real tiny-checkpoint evaluations."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from benchmark.core import stats
from benchmark.records import example_log_path, load_record


@pytest.fixture(scope="module")
def evaluated(tiny_backbone, tmp_path_factory, data_root):
    """Two tiny random checkpoints evaluated on the same 60 SNLI test pairs (and the same 40 pairs of
    the clean TextFooler sample, asked for by its old name), plus checkpoint B on another sample."""
    import torch

    from benchmark.cli import main
    from models.backbones import build_task_model
    from models.checkpoint import save_checkpoint

    root = tmp_path_factory.mktemp("compare")
    paths = []
    for name, seed in (("a", 1), ("b", 2)):
        torch.manual_seed(seed)
        model, tokenizer = build_task_model(tiny_backbone, "nli", hidden_dropout=0.1, attention_dropout=0.1)
        card = {"model_id": f"test-compare-{name}", "backbone": "tiny-bert", "task": "nli",
                "label_names": ["entailment", "neutral", "contradiction"], "method": "standard",
                "hyperparameters": {"max_length": 64}, "seed": seed}
        save_checkpoint(model, tokenizer, card, root / name)
        paths.append(root / name)
        for dataset, n in (("snli-test", "60"), ("snli-textfooler", "40")):
            assert main(["--quiet", "evaluate", str(root / name), "--dataset", dataset, "-n", n,
                         "--results", str(root / "results")]) == 0
    assert main(["--quiet", "evaluate", str(paths[1]), "--dataset", "snli-test", "-n", "60", "--seed", "1",
                 "--results", str(root / "other")]) == 0
    return root, paths


def _record(root: Path, model: str, dataset: str, n: int, seed: int = 0, folder: str = "results") -> Path:
    return root / folder / "records" / f"test-compare-{model}__evaluate__{dataset}__n{n}-s{seed}.json"


def _log(path: Path) -> dict:
    lines = [json.loads(line) for line in example_log_path(path.parent.parent, path.stem).read_text().splitlines()]
    return {e["index"]: e["correct"] for e in lines if "header" not in e}


def test_records_carry_n_and_a_wilson_interval(evaluated):
    root, _ = evaluated
    record = load_record(_record(root, "a", "snli-test", 60))
    interval = record["intervals"]["accuracy"]
    expected = stats.wilson_interval(record["counts"]["correct"], 60)
    assert interval["n"] == 60 and interval["method"] == "wilson"
    assert (interval["low"], interval["high"]) == (expected.low, expected.high)
    assert interval["low"] <= record["metrics"]["accuracy"] <= interval["high"]


def test_old_dataset_name_writes_under_the_clean_sample_name(evaluated):
    root, _ = evaluated
    record = load_record(_record(root, "a", "snli-tf1k-clean", 40))
    assert record["evaluation"]["dataset"] == "snli-tf1k-clean"


def test_compare_two_checkpoints_matches_the_logs(evaluated, run_cli):
    root, (a, b) = evaluated
    code, out, _ = run_cli("compare", str(a), str(b), "--results", str(root / "results"), "--format", "json")
    assert code == 0
    rows = {row["evaluation"]: row for row in json.loads(out)["rows"]}
    assert set(rows) == {"snli-test", "snli-tf1k-clean"}
    first, second = _log(_record(root, "a", "snli-test", 60)), _log(_record(root, "b", "snli-test", 60))
    only_a = sum(first[i] and not second[i] for i in first)
    only_b = sum(second[i] and not first[i] for i in first)
    row = rows["snli-test"]
    assert (row["only_a"], row["only_b"], row["n"]) == (only_a, only_b, 60)
    assert row["p"] == pytest.approx(stats.mcnemar_exact_p(only_a, only_b))
    assert row["difference"] == pytest.approx(100 * (only_b - only_a) / 60)
    assert row["low"] <= row["difference"] <= row["high"]


def test_compare_table_output(evaluated, run_cli):
    root, (a, b) = evaluated
    code, out, _ = run_cli("compare", "test-compare-a", "test-compare-b", "--results", str(root / "results"))
    assert code == 0
    assert "B - A (95% CI)" in out and "snli-tf1k-clean" in out and "snli-test" in out


def test_compare_refuses_records_on_different_examples(evaluated, run_cli):
    root, _ = evaluated
    code, _, err = run_cli("compare", str(_record(root, "a", "snli-test", 60)),
                           str(_record(root, "b", "snli-test", 60, seed=1, folder="other")))
    assert code == 2
    assert "different examples" in err and len(err.strip().splitlines()) == 1


def test_compare_two_record_files_on_the_same_examples(evaluated, run_cli):
    root, _ = evaluated
    code, out, _ = run_cli("compare", str(_record(root, "a", "snli-test", 60)), str(_record(root, "b", "snli-test", 60)),
                           "--format", "json")
    assert code == 0 and [row["evaluation"] for row in json.loads(out)["rows"]] == ["snli-test"]


def test_compare_unknown_model_is_a_user_error(evaluated, run_cli):
    root, _ = evaluated
    code, _, err = run_cli("compare", "no-such-model", "test-compare-b", "--results", str(root / "results"))
    assert code == 2 and "no records of 'no-such-model'" in err


def test_compare_refuses_one_recipe_under_two_attack_definitions(run_cli):
    # Committed records of TextFooler before and after issue 17's fixes: same name and parameters,
    # a different effective word-cosine threshold and stopword rule. No paired difference between them.
    records = Path(__file__).resolve().parents[1] / "results" / "records"
    before = records / "standard-minilm-l6-snli-s42__attack__snli-test__textfooler-n200-s0.json"
    after = records / "standard-minilm-l6-snli-s1__attack__snli-test__textfooler-n1000-s0.json"
    code, _, err = run_cli("compare", str(before), str(after))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert re.search(r"textfooler/snli-test: the attacks differ in definition \([0-9a-f]{6} vs [0-9a-f]{6}:", err)


def test_compare_pairs_the_validity_filtered_after_attack_accuracy_beside_the_raw_one(run_cli):
    # Committed post-fix TextFooler records of two seed-1 zoo models on the same 1,000 pairs.
    records = Path(__file__).resolve().parents[1] / "results" / "records"
    paths = [records / f"{model}-minilm-l6-snli-s1__attack__snli-test__textfooler-n1000-s0.json"
             for model in ("standard", "freelb")]
    code, out, err = run_cli("compare", *map(str, paths))
    assert code == 0, err
    rows = {line.split()[1]: line.split() for line in out.splitlines() if line.startswith("textfooler/")}
    for metric in ("accuracy_under_attack", "accuracy_under_attack_validity_filtered"):
        expected = [f"{100 * json.loads(p.read_text())['metrics'][metric]:.1f}" for p in paths]
        assert rows[metric][2:5] == ["1000", *expected]


def test_two_named_records_pair_a_smoothed_classifier_with_a_plain_model_and_name_what_differs(run_cli):
    # Committed records on the same 200 SNLI test pairs: standard-s1 and SAFER's 16-vote ensemble.
    records = Path(__file__).resolve().parents[1] / "results" / "records"
    plain = records / "standard-minilm-l6-snli-s1__attack__snli-test__textfooler-n200-s0.json"
    smoothed = records / "safer-minilm-l6-snli-s1__attack__snli-test__textfooler-n200-s0-smooth16.json"
    code, out, err = run_cli("compare", str(plain), str(smoothed))
    assert code == 0, err
    row = next(line for line in out.splitlines() if " accuracy_under_attack " in f"{line} ")
    figures = [f"{100 * json.loads(p.read_text())['metrics']['accuracy_under_attack']:.1f}" for p in (plain, smoothed)]
    assert row.startswith("textfooler/snli-test B smoothed(N=16)") and row.split()[5:7] == figures
    other_recipe = records / "standard-minilm-l6-snli-s1__attack__snli-test__pwws-n200-s0.json"
    code, _, err = run_cli("compare", str(other_recipe), str(plain))
    assert code == 2 and "evaluate different things (" in err and "recipe: pwws vs textfooler" in err
    assert "definition:" not in err and "n:" not in err  # neither is why these two were refused


def test_records_older_than_the_validity_flags_get_a_paired_validity_filtered_row(run_cli):
    # The old zoo's seed-42 TextFooler logs carry no flags; compare computes them as the leaderboard does.
    from benchmark.leaderboard.tables import _load_measured
    from benchmark.leaderboard.validity_column import fill_validity_filtered

    records = Path(__file__).resolve().parents[1] / "results" / "records"
    paths = [records / f"{model}-minilm-l6-snli-s42__attack__snli-test__textfooler-n200-s0.json"
             for model in ("standard", "freelb")]
    code, out, err = run_cli("compare", *map(str, paths))
    assert code == 0, err
    rows = {line.split()[1]: line.split() for line in out.splitlines() if line.startswith("textfooler/")}
    loaded = [_load_measured(path) for path in paths]
    for record in loaded:
        fill_validity_filtered(record)
    filtered = [f"{100 * r['metrics']['accuracy_under_attack_validity_filtered']:.1f}" for r in loaded]
    assert rows["accuracy_under_attack_validity_filtered"][2:5] == ["200", *filtered]
    assert all(float(v) > float(raw) for v, raw in zip(filtered, rows["accuracy_under_attack"][3:5]))


def test_outcomes_from_the_memoised_checked_log_equal_those_of_a_fresh_read():
    from benchmark.leaderboard.tables import _load_measured
    from benchmark.leaderboard.validity_column import checked_entries
    from benchmark.metrics.outcomes import record_outcomes

    path = (Path(__file__).resolve().parents[1] / "results" / "records"
            / "freelb-minilm-l6-snli-s1__attack__snli-test__pwws-n1000-s0.json")
    record = _load_measured(path)
    fresh, memoised = record_outcomes(record["_dir"], record), record_outcomes(record["_dir"], record, checked_entries(record))
    assert fresh.keys() == memoised.keys() and "accuracy_under_attack_validity_filtered" in fresh
    assert all(fresh[name].values == memoised[name].values and fresh[name].values for name in fresh)
