"""Checkpoints not trained by infobench: saved by plain transformers code, labelled by name, carded in records."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from external_helpers import plain_nli_model, save_qa, save_two_way, save_with_labels

UPPER = ["ENTAILMENT", "NEUTRAL", "CONTRADICTION"]
SAMPLE = ["--dataset", "snli-test", "-n", "40", "--seed", "3"]


@pytest.fixture(scope="module")
def plain(tmp_path_factory, data_root) -> dict:
    """The same trained MiniLM head saved three ways: uppercase names, LABEL_k in another order, two-way."""
    out = tmp_path_factory.mktemp("plain")
    model, tokenizer = plain_nli_model(data_root)
    return {"upper": save_with_labels(model, tokenizer, out / "upper-nli", UPPER),
            "generic": save_with_labels(model, tokenizer, out / "generic-nli", ["LABEL_0", "LABEL_1", "LABEL_2"],
                                        order=("contradiction", "entailment", "neutral")),
            "two_way": save_two_way(out / "two-way")}


def _records(results: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((results / "records").glob("*.json"))]


def test_plain_model_is_evaluated_and_attacked_with_a_synthesized_card(plain, tmp_path, run_cli):
    ckpt = plain["upper"]
    assert not (ckpt / "card.json").exists()
    code, out, err = run_cli("--quiet", "evaluate", str(ckpt), *SAMPLE, "--results", str(tmp_path))
    assert code == 0, err
    code, out, err = run_cli("--quiet", "attack", str(ckpt), "--recipe", "pwws", "--dataset", "snli-test", "-n", "4",
                             "--query-budget", "40", "--results", str(tmp_path))
    assert code == 0, err
    evaluated, attacked = sorted(_records(tmp_path), key=lambda r: r["kind"])[::-1]
    assert attacked["kind"] == "attack" and attacked["counts"]["n"] == 4
    weights = hashlib.sha256((ckpt / "model.safetensors").read_bytes()).hexdigest()
    for record in (evaluated, attacked):
        card = record["checkpoint"]
        assert card["method"] == "external" and card["architecture"] == "BertForSequenceClassification"
        assert card["source"] == {"path": str(ckpt.resolve())}
        assert card["weights_files"] == {"model.safetensors": weights} and card["weights_sha256"] == weights
        assert card["label_mapping"]["model_labels"] == UPPER
        assert card["label_names"] == ["entailment", "neutral", "contradiction"]
        assert card["model_id"].startswith("upper-nli-") and len(card["card_sha256"]) == 64
    assert evaluated["checkpoint"] == attacked["checkpoint"]
    assert 0.3 < evaluated["metrics"]["accuracy"] < 0.8  # a trained head, not chance by construction


def test_label_k_model_needs_labels_and_then_predicts_as_the_named_one(plain, tmp_path, run_cli):
    code, out, err = run_cli("--quiet", "evaluate", str(plain["generic"]), *SAMPLE, "--results", str(tmp_path))
    assert code == 2 and "['LABEL_0', 'LABEL_1', 'LABEL_2']" in err and "--labels" in err
    assert len(err.strip().splitlines()) == 1
    assert run_cli("--quiet", "evaluate", str(plain["generic"]), "--labels", "contradiction,entails,NEUTRAL",
                   *SAMPLE, "--results", str(tmp_path))[0] == 0
    assert run_cli("--quiet", "evaluate", str(plain["upper"]), *SAMPLE, "--results", str(tmp_path))[0] == 0
    by_model = {r["checkpoint"]["model_id"].split("-")[0]: r for r in _records(tmp_path)}
    assert by_model["generic"]["checkpoint"]["label_mapping"]["rule"].startswith("--labels")
    assert by_model["generic"]["metrics"] == by_model["upper"]["metrics"]  # same head, rows permuted, mapped back
    code, _, err = run_cli("--quiet", "evaluate", str(plain["generic"]), "--labels", "entailment,neutral", *SAMPLE)
    assert code == 2 and "names 2 labels but the model has 3" in err


def test_two_way_model_is_refused_on_three_way_sets_with_the_rule(plain, tmp_path, run_cli):
    code, _, err = run_cli("--quiet", "evaluate", str(plain["two_way"]), *SAMPLE, "--results", str(tmp_path))
    assert code == 2 and "two-way (entailment / not_entailment) model is scored only on two-way datasets" in err
    code, _, err = run_cli("--quiet", "attack", str(plain["two_way"]), "--recipe", "pwws", "-n", "2",
                           "--results", str(tmp_path))
    assert code == 2 and "two-way" in err
    assert not (tmp_path / "records").exists() or not list((tmp_path / "records").glob("*.json"))


def test_qa_model_saved_by_transformers_is_evaluated_on_addsent(tmp_path, run_cli, data_root):
    ckpt = save_qa(tmp_path / "plain-qa")
    code, out, err = run_cli("--quiet", "evaluate", str(ckpt), "--dataset", "adv-squad-addsent", "-n", "3",
                             "--results", str(tmp_path / "r"))
    assert code == 0, err
    (record,) = _records(tmp_path / "r")
    assert record["checkpoint"]["task"] == "qa" and record["checkpoint"]["method"] == "external"
    assert record["counts"]["n"] == 3 and record["counts"]["n_variants"] > 0


def test_pickle_only_folder_and_offline_hub_id_are_refused_in_one_line(tmp_path, run_cli):
    folder = tmp_path / "pickled"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"architectures": ["BertForSequenceClassification"]}))
    (folder / "pytorch_model.bin").write_bytes(b"pickle")
    code, _, err = run_cli("--quiet", "evaluate", str(folder), "--dataset", "snli-test", "-n", "2")
    assert code == 2 and "refusing pickle weight files ['pytorch_model.bin']" in err and "safe_serialization" in err
    code, _, err = run_cli("--quiet", "evaluate", "nobody/no-such-model", "--revision", "v1", "--dataset", "snli-test")
    assert code == 2 and "HF_HUB_OFFLINE" in err and "--local-dir" in err and len(err.strip().splitlines()) == 1


def test_infobench_card_is_bound_to_its_weights(tiny_backbone, tmp_path, run_cli, data_root):
    from models.backbones import build_task_model
    from models.checkpoint import save_checkpoint

    model, tokenizer = build_task_model(tiny_backbone, "nli", 0.1, 0.0)
    card = {"model_id": "tiny-nli", "task": "nli", "label_names": ["entailment", "neutral", "contradiction"],
            "method": "standard", "hyperparameters": {"max_length": 64}, "seed": 0, "backbone": tiny_backbone}
    ckpt = tmp_path / "tiny"
    save_checkpoint(model, tokenizer, card, ckpt)
    assert run_cli("--quiet", "evaluate", str(ckpt), "--dataset", "snli-test", "-n", "4",
                   "--results", str(tmp_path / "r"))[0] == 0
    (record,) = _records(tmp_path / "r")
    from models.checkpoint import card_sha256

    saved = json.loads((ckpt / "card.json").read_text())
    assert record["checkpoint"]["card_sha256"] == card_sha256(saved)
    assert card_sha256({**saved, "created": "another time"}) == card_sha256(saved)
    assert card_sha256({**saved, "seed": 1}) != card_sha256(saved)
    saved["label_names"] = ["neutral", "entailment", "contradiction"]
    (ckpt / "card.json").write_text(json.dumps(saved))
    code, _, err = run_cli("--quiet", "evaluate", str(ckpt), "--dataset", "snli-test", "-n", "4",
                           "--results", str(tmp_path / "r2"))
    assert code == 2 and "differ from config.json id2label" in err
    assert not (tmp_path / "r2").exists()


def test_grid_spec_takes_card_less_checkpoints_with_their_labels(plain, tmp_path):
    from benchmark.core.errors import UserError
    from benchmark.grid.spec import load_spec

    spec = tmp_path / "grid.toml"
    spec.write_text(f'checkpoints = ["{plain["upper"]}", {{ path = "{plain["generic"]}", '
                    'labels = ["contradiction", "entailment", "neutral"] }]\n'
                    '[[evaluate]]\ndataset = "snli-test"\nn = 4\n')
    grid = load_spec(spec, tmp_path / "r")
    rules = sorted(card["label_mapping"]["rule"] for card in grid.cards.values())
    assert rules == ["--labels (id order)", "config.id2label by name (case-insensitive, aliases)"]
    assert len(grid.cells) == 2
    spec.write_text(f'checkpoints = ["{plain["generic"]}"]\n[[evaluate]]\ndataset = "snli-test"\n')
    with pytest.raises(UserError, match=r"LABEL_0.*--labels"):
        load_spec(spec)
