"""Dataset registry: real local sets load with names for labels; bad files give file:line errors."""

import gzip
import json

import pytest

from benchmark import data
from benchmark.core.errors import UserError


def test_real_sets_load_with_label_names(data_root):
    snli = data.load("snli-test")
    assert len(snli) == 10000 - 176 and snli.skipped == {"unlabelled (no gold label)": 176}
    assert set(e["label"] for e in snli.examples) == set(data.NLI_LABELS)
    anli = data.load("anli-r3-test")
    assert len(anli) == 1200 and anli.examples[0]["id"]
    tf = data.load("mnli-mm-tf1k-clean")
    assert len(tf) == 1000 and tf.examples[0].keys() >= {"premise", "hypothesis", "label"}
    assert data.expand("anli") == ("anli-r1-test", "anli-r2-test", "anli-r3-test")


def test_tf1k_clean_samples_keep_their_old_names_as_aliases(data_root):
    assert data.expand("textfooler") == data.expand("tf1k-clean") == (
        "snli-tf1k-clean", "mnli-m-tf1k-clean", "mnli-mm-tf1k-clean")
    old = data.load("snli-textfooler")
    assert old.name == "snli-tf1k-clean" and old.fingerprint() == data.load("snli-tf1k-clean").fingerprint()
    assert data.canonical_name("mnli-m-textfooler") == "mnli-m-tf1k-clean"
    for name in data.DATASETS:  # nothing called adversarial is clean, and the clean samples say so
        description = data.DATASETS.get(name).description.lower()
        assert not ("tf1k-clean" in name and "adversarial" in description)
        assert "tf1k-clean" not in name or "clean sample" in description


def test_anli_integer_labels_map_by_name(data_root):
    first = json.loads((data_root / "anli/test_r1.jsonl").open().readline())
    assert data.load("anli-r1-test").examples[0]["label"] == data.NLI_LABELS[first["label"]]


def _local(tmp_path, monkeypatch, relative, payload: bytes):
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    monkeypatch.setenv("INFOBENCH_DATA", str(tmp_path))
    return path


@pytest.mark.parametrize("payload,message", [
    (b'{"premise": "a", "hypothesis": "b", "label": "neutral"}\n{"premise": ', ":2: malformed JSON"),
    (b'{"premise": "a", "hypothesis": "b", "label": "maybe"}\n', ":1: unknown label 'maybe'"),
    (b'{"premise": "a", "hypothesis": " ", "label": "neutral"}\n', ":1: field 'hypothesis' is empty"),
    (b'{"premise": "a", "label": "neutral"}\n', ":1: missing field 'hypothesis'"),
    (b'{"premise": 3, "hypothesis": "b", "label": "neutral"}\n', ":1: field 'premise' must be text"),
    (b'\xff\xfe\n', ":1: not UTF-8"),
    (b'[1, 2]\n', ":1: expected a JSON object"),
])
def test_bad_lines_name_file_and_line(tmp_path, monkeypatch, payload, message):
    path = _local(tmp_path, monkeypatch, "snli/train_subset_18k.jsonl", payload)
    with pytest.raises(UserError) as err:
        data.load("snli-train")
    assert str(path) in str(err.value) and message in str(err.value)


def test_missing_file_and_unlabelled_rows_are_counted(tmp_path, monkeypatch):
    monkeypatch.setenv("INFOBENCH_DATA", str(tmp_path))
    with pytest.raises(UserError, match="file not found"):
        data.load("snli-dev")
    rows = [{"sentence1": "a", "sentence2": "b", "gold_label": g, "pairID": str(i)}
            for i, g in enumerate(["neutral", "-", "entailment"])]
    _local(tmp_path, monkeypatch, "snli/snli_1.0_dev.jsonl.gz",
           gzip.compress("\n".join(json.dumps(r) for r in rows).encode()))
    loaded = data.load("snli-dev")
    assert [e["id"] for e in loaded.examples] == ["0", "2"]
    assert loaded.skipped == {"unlabelled (no gold label)": 1}


def test_tsv_needs_three_fields(tmp_path, monkeypatch):
    _local(tmp_path, monkeypatch, "textfooler_1k/snli.tsv", b"neutral\tonly two\n")
    with pytest.raises(UserError, match=r"snli.tsv:1: expected 3 tab-separated fields"):
        data.load("snli-tf1k-clean")


def test_unknown_names_suggest_close_matches():
    with pytest.raises(UserError, match="Did you mean snli-test"):
        data.expand("snli-tset")


def test_seeded_sample_is_stable_and_sorted():
    first = data.sample_indices(1000, 10, seed=3)
    assert first == data.sample_indices(1000, 10, seed=3) == sorted(first)
    assert first != data.sample_indices(1000, 10, seed=4)
    assert data.sample_indices(5, 10, seed=0) == [0, 1, 2, 3, 4]


def test_unreachable_hub_is_a_clear_error_that_names_the_offline_fix(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "INFOBENCH_DATA"}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    probe = ("from benchmark import data\nfrom benchmark.core.errors import UserError\n"
             "try:\n    data.load('anli-r1-test')\nexcept UserError as err:\n    print(err)")
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=300,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "cannot read facebook/anli from the Hugging Face hub" in done.stdout
    assert "set INFOBENCH_DATA" in done.stdout
