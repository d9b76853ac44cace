"""scripts/zoo_verdict.py on records written as `infobench evaluate` writes them: a method better
than standard in every seed counts, one that only matches it does not, a missing seed is listed."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from test_leaderboard_stats import checkpoint, evaluate_with_log

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "zoo_verdict.py"
TRANSFER = ("tf-transfer-snli", "tf-transfer-mnli-m", "tf-transfer-mnli-mm")


def verdict_module():
    spec = importlib.util.spec_from_file_location("zoo_verdict", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def zoo_checkpoint(method: str, seed: int) -> dict:
    found = checkpoint(method, seed=seed)
    found["model_id"] = f"{method}-minilm-l6-snli-s{seed}"
    return found


def write_transfer(results: Path, method: str, seed: int, correct: set[int]) -> None:
    for dataset in TRANSFER:
        evaluate_with_log(results, zoo_checkpoint(method, seed), correct, dataset=dataset)


def test_a_gain_in_every_seed_counts_and_a_tie_does_not(tmp_path, capsys):
    results = tmp_path / "results"
    for seed in (1, 2, 3):
        base = set(range(60 + seed))  # about 31% of each 200-example set
        write_transfer(results, "standard", seed, base)
        write_transfer(results, "infobert", seed, base | set(range(100, 130)))  # +15 points in every seed
        write_transfer(results, "freelb", seed, base - {0} | {150})  # one discordant pair each way
    write_transfer(results, "infobert-std", 1, set(range(61)))  # seeds 2 and 3 never ran
    assert verdict_module().main(["--results", str(results), "--seeds", "1", "2", "3"]) == 0
    out = capsys.readouterr().out
    primary = out.split("### ")[1]
    pooled = {line.split("|")[1].strip(): [c.strip() for c in line.strip("|").split("|")]
              for line in primary.splitlines() if line.startswith("| ") and "(" in line and "|" in line[2:]
              and line.count("|") == 7}
    assert pooled["infobert"][1].startswith("+15.0") and pooled["infobert"][-1] == "YES"
    assert pooled["freelb"][1].startswith("+0.0") and pooled["freelb"][-1] == "no"
    assert "missing records: infobert-std s2, infobert-std s3" in primary
    assert "| infobert | 2 | 600 | 31.0 | 46.0 | +15.0" in primary  # per seed: the three sets pooled
    verdict = {tuple(c.strip() for c in line.strip("|").split("|")[:3]): line
               for line in out.split("### Verdict table")[1].splitlines() if line.startswith("| tf-transfer")}
    assert "| 31.0 (" in verdict[("tf-transfer (primary)", "standard", "3")]  # (61 + 62 + 63) / 600 a seed
    assert "| 46.0 (" in verdict[("tf-transfer (primary)", "infobert", "3")]
    assert verdict[("tf-transfer (primary)", "infobert", "3")].endswith(") | <0.0005 | YES |")
    assert "(seeds missing)" in verdict[("tf-transfer (primary)", "infobert-std", "1")]
    assert "Compute, from 0 cards and 30 records: training 0.0 h" in out  # 9 models x 3 sets, 1 x 3


def test_attack_endpoints_pair_the_validity_filtered_figure_beside_the_raw_one(capsys):
    # The committed seed-1 TextFooler records of standard and FreeLB (1,000 SNLI test pairs each).
    results = SCRIPT.parents[1] / "results"
    assert verdict_module().main(["--results", str(results), "--seeds", "1", "--methods", "freelb"]) == 0
    out = capsys.readouterr().out
    assert "Not the protocol's comparison" in out and "| YES |" not in out  # Holm over one method only
    sections = {part.split("\n", 1)[0]: part for part in out.split("### ")[1:]}
    for name, metric in (("textfooler AuA (1k SNLI test)", "accuracy_under_attack"),
                         ("textfooler AuA, validity-filtered", "accuracy_under_attack_validity_filtered")):
        figures = [json.loads((results / "records" / f"{model}-minilm-l6-snli-s1__attack__snli-test__"
                                                      "textfooler-n1000-s0.json").read_text())["metrics"][metric]
                   for model in ("standard", "freelb")]
        assert f"| freelb | 1 | 1000 | {100 * figures[0]:.1f} | {100 * figures[1]:.1f} |" in sections[name]
