"""`infobench benchmark`: a suite end to end on a checkpoint saved by plain transformers, resumable, QA suites."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SUITE = """description = "a tiny suite for the test"
task = "nli"
[execution]
workers = 1
shard_size = 2
[[evaluate]]
dataset = ["snli-test", "textfooler"]
n = 6
[[attack]]
recipe = "pwws"
dataset = "snli-test"
n = 3
query_budget = 20
"""


@pytest.fixture(scope="module")
def tiny_plain(tmp_path_factory) -> Path:
    """A 2-layer random BERT classifier with uppercase labels, saved with plain transformers code."""
    import torch
    import transformers

    from external_helpers import minilm_location

    out = tmp_path_factory.mktemp("plain") / "tiny-upper"
    torch.manual_seed(0)
    config = transformers.BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=128, num_labels=3,
                                     id2label={0: "ENTAILMENT", 1: "NEUTRAL", 2: "CONTRADICTION"})
    transformers.BertForSequenceClassification(config).save_pretrained(out)
    transformers.AutoTokenizer.from_pretrained(minilm_location()).save_pretrained(out)
    return out


def test_suite_runs_end_to_end_and_its_rerun_does_nothing(tiny_plain, tmp_path, run_cli, data_root):
    suite = tmp_path / "tiny.toml"
    suite.write_text(SUITE)
    args = ["benchmark", str(tiny_plain), "--suite", str(suite), "--results", str(tmp_path / "r")]
    code, out, err = run_cli("--quiet", *args, "--dry-run")
    assert code == 0 and "3 cells: 0 done, 3 to run" in out
    code, out, err = run_cli("--quiet", *args)
    assert code == 0, err
    assert "3 cells ran, 0 existed, 0 failed" in out
    assert re.search(r"^method\s+external$", out, re.M) and re.search(r"^pwws/snli-test AuA%\s+\d", out, re.M)
    assert "tf1k-clean acc%" in out  # the clean TextFooler samples, under their clean-sample name
    records = sorted((tmp_path / "r" / "records").glob("*.json"))
    assert len(records) == 1 + 4 + 1  # snli-test, the textfooler group and its three members, the attack
    before = {p.name: p.read_bytes() for p in records}
    code, out, err = run_cli("--quiet", *args)
    assert code == 0 and "0 cells ran, 3 existed" in out
    assert {p.name: p.read_bytes() for p in sorted((tmp_path / "r" / "records").glob("*.json"))} == before


def test_qa_checkpoint_gets_the_squad_suite_and_unknown_suites_are_named(tmp_path, run_cli, data_root):
    from external_helpers import save_qa

    ckpt = save_qa(tmp_path / "plain-qa")
    code, out, err = run_cli("--quiet", "benchmark", str(ckpt), "--dry-run", "--results", str(tmp_path / "r"))
    assert code == 0, err
    assert "suite squad-quick" in out and "adv-squad-addsent" in out and "snli-test" not in out
    code, _, err = run_cli("--quiet", "benchmark", str(ckpt), "--suite", "quik")
    assert code == 2 and "unknown suite 'quik'" in err and "quick" in err
