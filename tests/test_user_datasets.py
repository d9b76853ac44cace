"""User datasets without code edits: a TOML declaration in a folder, a file path, refusals that name the line."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

ORDER = ["entailment", "neutral", "contradiction"]


@pytest.fixture(autouse=True)
def own_declarations_path(monkeypatch):
    """--datasets-dir extends INFOBENCH_DATASETS_PATH for the process; restore it after each in-process run."""
    monkeypatch.setenv("INFOBENCH_DATASETS_PATH", "")


@pytest.fixture(scope="module")
def files(tmp_path_factory, data_root) -> Path:
    """SNLI-hard-like JSONL (SNLI columns) and an AdvGLUE-like JSON keyed by task with GLUE integer labels."""
    out = tmp_path_factory.mktemp("user-data")
    with gzip.open(data_root / "snli/snli_1.0_test.jsonl.gz", "rt") as handle:
        rows = [json.loads(next(handle)) for _ in range(30)]
    with (out / "snli_hard.jsonl").open("w") as handle:
        for row in rows:
            handle.write(json.dumps({k: row[k] for k in ("sentence1", "sentence2", "gold_label", "pairID")}) + "\n")
    labelled = [r for r in rows if r["gold_label"] != "-"]
    mnli = [{"premise": r["sentence1"], "hypothesis": r["sentence2"], "label": ORDER.index(r["gold_label"]), "idx": i}
            for i, r in enumerate(labelled)]
    (out / "dev.json").write_text(json.dumps({"sst2": [{"sentence": "fine", "label": 1, "idx": 0}], "mnli": mnli}))
    (out / "decl").mkdir()
    (out / "decl" / "advglue.toml").write_text(
        'name = "advglue-mnli"\ntask = "nli"\nfile = "../dev.json"\njson_key = "mnli"\n'
        'labels = ["entailment", "neutral", "contradiction"]\n[columns]\nid = "idx"\n')
    return out


@pytest.fixture(scope="module")
def tiny_checkpoint(tiny_backbone, tmp_path_factory) -> Path:
    from models.backbones import build_task_model
    from models.checkpoint import save_checkpoint

    model, tokenizer = build_task_model(tiny_backbone, "nli", 0.1, 0.0)
    card = {"model_id": "tiny-nli", "task": "nli", "label_names": ORDER, "method": "standard",
            "hyperparameters": {"max_length": 64}, "seed": 0, "backbone": tiny_backbone}
    out = tmp_path_factory.mktemp("ck") / "tiny"
    save_checkpoint(model, tokenizer, card, out)
    return out


def _record(results: Path, contains: str) -> dict:
    (path,) = [p for p in (results / "records").glob("*.json") if contains in p.name]
    return json.loads(path.read_text())


def test_declared_and_path_datasets_are_evaluated_and_attacked(files, tiny_checkpoint, tmp_path, run_cli):
    results = tmp_path / "r"
    common = ["--datasets-dir", str(files / "decl"), "--results", str(results)]
    code, out, err = run_cli("--quiet", "evaluate", str(tiny_checkpoint), "--dataset", "advglue-mnli",
                             "--dataset", str(files / "snli_hard.jsonl"), *common)
    assert code == 0, err
    for dataset in ("advglue-mnli", str(files / "snli_hard.jsonl")):
        code, out, err = run_cli("--quiet", "attack", str(tiny_checkpoint), "--recipe", "pwws", "--dataset", dataset,
                                 "-n", "2", "--query-budget", "20", *common)
        assert code == 0, err
    labelled = len(json.loads((files / "dev.json").read_text())["mnli"])
    declared = _record(results, "evaluate__advglue-mnli")
    assert declared["counts"]["n"] == labelled
    assert declared["evaluation"]["declaration"]["json_key"] == "mnli"
    assert declared["evaluation"]["declaration"]["file_sha256"] == __import__("hashlib").sha256(
        (files / "dev.json").read_bytes()).hexdigest()
    by_path = _record(results, "evaluate__snli_hard")
    assert by_path["counts"]["n"] == labelled and by_path["evaluation"]["declaration"]["columns"]["premise"] == "sentence1"
    # the same examples, the same labels: integer labels mapped by the declared order, names by name
    assert by_path["evaluation"]["examples_sha256"] != declared["evaluation"]["examples_sha256"]  # ids differ
    assert by_path["metrics"] == declared["metrics"]
    for name in ("attack__advglue-mnli", "attack__snli_hard"):
        attacked = _record(results, name)
        assert attacked["counts"]["n"] == 2 and "declaration" in attacked["evaluation"]
    code, out, _ = run_cli("datasets", "--datasets-dir", str(files / "decl"))
    assert code == 0 and any(line.split()[:3] == ["advglue-mnli", "nli", str(labelled)] for line in out.splitlines())


def test_mislabeled_declaration_is_refused_naming_its_line(files, tiny_checkpoint, tmp_path, run_cli):
    decl = tmp_path / "decl"
    decl.mkdir()
    (decl / "bad.toml").write_text(f'name = "bad"\nfile = "{files / "dev.json"}"\njson_key = "mnli"\n'
                                   'labels = ["entailment", "neutral",\n          "contradicton"]\n')
    code, _, err = run_cli("--quiet", "evaluate", str(tiny_checkpoint), "--dataset", "bad", "--datasets-dir", str(decl))
    assert code == 2 and f"{decl / 'bad.toml'}:5: unknown label name 'contradicton'" in err
    assert len(err.strip().splitlines()) == 1


def test_integer_labels_in_a_path_need_dataset_labels(files, tiny_checkpoint, tmp_path, run_cli):
    rows = json.loads((files / "dev.json").read_text())["mnli"]
    path = tmp_path / "glue_ints.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, _, err = run_cli("--quiet", "evaluate", str(tiny_checkpoint), "--dataset", str(path))
    assert code == 2 and f"{path}:1: integer label" in err and "--dataset-labels" in err
    code, _, err = run_cli("--quiet", "evaluate", str(tiny_checkpoint), "--dataset", str(path), "--dataset-labels",
                           "entailment,neutral,contradiction", "--results", str(tmp_path / "r"))
    assert code == 0, err


def test_two_way_model_scores_a_two_way_dataset(files, tmp_path, run_cli):
    from external_helpers import save_two_way

    model = save_two_way(tmp_path / "rte-like")
    rows = json.loads((files / "dev.json").read_text())["mnli"]
    path = tmp_path / "two_way.jsonl"
    path.write_text("".join(json.dumps({**r, "label": "entailment" if r["label"] == 0 else "not_entailment"}) + "\n"
                            for r in rows))
    code, _, err = run_cli("--quiet", "evaluate", str(model), "--dataset", str(path), "--results", str(tmp_path / "r"))
    assert code == 0, err
    assert _record(tmp_path / "r", "two_way")["checkpoint"]["label_mapping"]["scheme"] == "two-way"


def test_squad_json_path_is_a_qa_set(data_root, tmp_path):
    from benchmark import data
    from benchmark.data.declarations import register_user_dataset

    squad = json.loads((data_root / "squad/dev-v1.1.json").read_text())
    squad["data"] = squad["data"][:1]
    path = tmp_path / "my_squad.json"
    path.write_text(json.dumps(squad))
    name = register_user_dataset(str(path))
    loaded = data.load(name)
    questions = sum(len(p["qas"]) for p in squad["data"][0]["paragraphs"])
    assert (name, loaded.task, len(loaded)) == ("my_squad", "qa", questions)
    assert loaded.declaration["format"] == "squad" and len(loaded.declaration["file_sha256"]) == 64
