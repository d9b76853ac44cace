"""The defences: pgd, a2t and safer training steps, SAFER's smoothed classifier and its certificate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import loss_before_and_after_steps
from kill_helpers import kill_at_progress_points

REPO = Path(__file__).resolve().parents[1]
DEFENCES = ["pgd", "a2t", "safer"]


def _snli_batch(tokenizer, n=16):
    from benchmark import data
    from models.backbones import TASK_LABELS
    from models.features import collate, nli_features

    features, _ = nli_features(data.load("snli-train").examples[:n], tokenizer, TASK_LABELS["nli"], 64)
    return collate(tokenizer, features)


@pytest.mark.parametrize("method", DEFENCES)
def test_a_few_steps_of_each_defence_lower_the_loss(method, tiny_backbone, data_root):
    import torch

    from models.backbones import build_task_model
    from models.config import resolve_config

    torch.manual_seed(0)
    # The tiny random BERT's token embeddings are ~10x shorter than MiniLM's: so are the perturbation scales.
    scales = {"adv_lr": 4e-3, "adv_init_mag": 8e-3, "adv_max_norm": 1e-2} if method == "pgd" else {}
    cfg = resolve_config(method, "snli", {"batch_size": 16, "lr": 3e-3, "backbone": tiny_backbone, **scales})
    model, tokenizer = build_task_model(tiny_backbone, "nli", 0.1, 0.0)
    before, after, figures = loss_before_and_after_steps(method, cfg, model, _snli_batch(tokenizer), steps=15)
    assert after < before - 0.1
    if method == "a2t":  # adversarial rows were made, within the query budget
        assert figures["adv_examples"] == 4 and 0 < figures["queries"] <= cfg.a2t_query_budget
    if method == "safer":
        assert 0.05 < figures["substituted_share"] < 0.9
    if method == "pgd":
        assert figures["delta_norm"] == pytest.approx(cfg.adv_max_norm, rel=1e-3)  # the ball binds


def test_pgd_update_mixes_the_clean_and_the_worst_case_loss_by_its_weight(tiny_backbone, data_root):
    # Weight 1 is plain fine-tuning's gradient; 0 is the pure worst case (Madry et al.); 0.5 their mean.
    import torch

    from models.backbones import build_task_model
    from models.config import resolve_config
    from models.methods import METHODS, StepContext

    torch.manual_seed(0)
    model, tokenizer = build_task_model(tiny_backbone, "nli", 0.0, 0.0)  # no dropout: passes comparable
    batch = _snli_batch(tokenizer, n=8)

    def gradient(method: str, weight: float) -> torch.Tensor:
        from accelerate import Accelerator

        cfg = resolve_config(method, "snli", {"backbone": tiny_backbone, "pgd_clean_weight": weight,
                                              "adv_max_norm": 1e-2, "adv_init_mag": 8e-3, "adv_lr": 4e-3})
        model.zero_grad(set_to_none=True)
        torch.manual_seed(1)
        figures = METHODS.get(method).step(model, dict(batch), StepContext(hp=cfg, accelerator=Accelerator(cpu=True)))
        assert method == "standard" or ("clean_loss" in figures) == (weight > 0)
        return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])

    clean, worst, mixed = gradient("standard", 1.0), gradient("pgd", 0.0), gradient("pgd", 0.5)
    assert torch.allclose(gradient("pgd", 1.0), clean, atol=1e-6)
    assert not torch.allclose(worst, clean, atol=1e-6)
    assert torch.allclose(mixed, (clean + worst) / 2, atol=1e-6)


def test_a2t_rows_differ_from_the_clean_rows_only_by_allowed_swaps(tiny_backbone, data_root):
    import torch

    from models.backbones import build_task_model
    from models.config import resolve_config
    from models.discrete_at import attack_rows
    from models.smoothing import token_substitutions

    cfg = resolve_config("a2t", "snli", {"backbone": tiny_backbone})
    model, tokenizer = build_task_model(tiny_backbone, "nli", 0.1, 0.0)
    rows = _snli_batch(tokenizer, n=6)
    adversarial, stats = attack_rows(model, rows, cfg)
    again, _ = attack_rows(model, rows, cfg)
    assert torch.equal(adversarial["input_ids"], again["input_ids"])  # no random draws
    changed = adversarial["input_ids"] != rows["input_ids"]
    assert int(changed.sum()) == stats["swaps"] > 0
    assert bool((rows["token_type_ids"][changed] == 1).all())  # premises are never touched
    table = token_substitutions(tiny_backbone, "cpu")
    for old, new in zip(rows["input_ids"][changed].tolist(), adversarial["input_ids"][changed].tolist()):
        assert new in table.ids[old, :int(table.size[old])].tolist()


def _train_cmd(method, backbone, output, *extra):
    return [sys.executable, "-m", "benchmark.cli", "--quiet", "train", "--method", method, "--backbone", backbone,
            "--max-train", "64", "--batch-size", "16", "--epochs", "2", "--max-dev", "16", "--save-every", "2",
            "--max-length", "48", "--output", str(output), *extra]


def _saved_step(output: Path) -> int:
    try:
        return json.loads((output / "train_state" / "state.json").read_text())["progress"]["step"]
    except (OSError, ValueError, KeyError):
        return 0


@pytest.mark.parametrize("method", DEFENCES)
def test_killed_once_resumes_to_the_unbroken_weights(method, tiny_backbone, tmp_path, data_root):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    subprocess.run(_train_cmd(method, tiny_backbone, straight), check=True, env=env, cwd=REPO, timeout=300)
    seen = kill_at_progress_points(_train_cmd(method, tiny_backbone, killed, "--resume"), lambda: _saved_step(killed),
                                   [3], seed=1, env=env, cwd=REPO)
    assert 3 <= seen[0] < 8 and not (killed / "card.json").exists()
    subprocess.run(_train_cmd(method, tiny_backbone, killed, "--resume"), check=True, env=env, cwd=REPO, timeout=300)
    straight_card = json.loads((straight / "card.json").read_text())
    resumed_card = json.loads((killed / "card.json").read_text())
    assert resumed_card["weights_sha256"] == straight_card["weights_sha256"]
    assert resumed_card["method"] == method


# ---- the smoothed classifier and SAFER's certificate ------------------------------------------------


@pytest.fixture(scope="module")
def tiny_checkpoint(tiny_backbone, tmp_path_factory) -> Path:
    """An untrained tiny NLI checkpoint: the smoothing and attack plumbing need a model, not a good one."""
    import torch

    from models.backbones import TASK_LABELS, build_task_model
    from models.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model, tokenizer = build_task_model(tiny_backbone, "nli", 0.1, 0.0)
    out = tmp_path_factory.mktemp("tiny-safer") / "ckpt"
    card = {"model_id": "tiny-safer", "backbone": tiny_backbone, "task": "nli", "label_names": list(TASK_LABELS["nli"]),
            "method": "safer", "seed": 0, "hyperparameters": {"max_length": 64}}
    save_checkpoint(model, tokenizer, card, out)
    return out


def _scorer(checkpoint: Path, samples: int, seed: int):
    from benchmark.attack.model_wrapper import CachedScorer
    from benchmark.attack.smoothed import SmoothedScorer
    from models.checkpoint import load_checkpoint

    model, tokenizer, _ = load_checkpoint(checkpoint)
    model.eval()
    return SmoothedScorer(CachedScorer(model, tokenizer, max_length=64), samples, seed=seed)


def test_the_smoothed_predictor_is_deterministic_for_a_fixed_seed(tiny_checkpoint, data_root):
    pair = ("A big dog runs quickly across the green field.", "An animal is moving fast outside.")
    first, second = _scorer(tiny_checkpoint, 16, seed=3), _scorer(tiny_checkpoint, 16, seed=3)
    assert first.noisy_inputs(pair) == second.noisy_inputs(pair)
    assert len(set(first.noisy_inputs(pair))) > 1  # the draws do substitute words
    assert first([pair]).tolist() == second([pair]).tolist() == first([pair]).tolist()
    assert first.votes([pair]).sum() == 16
    assert _scorer(tiny_checkpoint, 16, seed=4).noisy_inputs(pair) != first.noisy_inputs(pair)


def _hand_set(neighbours: dict):
    from benchmark.resources.substitutions import SubstitutionSet

    return SubstitutionSet({w: tuple(n) for w, n in neighbours.items()}, identity="hand-built")


def _exact_votes(words: list[str], subs, base) -> list[int]:
    """Vote counts over every draw of SAFER's distribution (each combination once: exact shares)."""
    import itertools

    votes = [0, 0]
    for draw in itertools.product(*(subs.members(w) for w in words)):
        votes[base(draw)] += 1
    return votes


def test_certificate_holds_where_every_substitution_keeps_the_margin_and_fails_where_one_flips():
    import itertools

    from benchmark.metrics.certify import certify, total_variation_bound

    def base(words) -> int:  # a hand-built classifier: class 1 exactly when "awful" appears
        return int("awful" in words)

    # Symmetric sets without the trigger word: every x' in the neighbourhood votes as x does.
    kind = _hand_set({"good": ["fine", "nice"], "fine": ["good", "nice"], "nice": ["good", "fine"]})
    sentence = ["good", "film"]
    q = total_variation_bound(sentence, kind.members)
    assert q == 0.0
    verdict = certify([v * 40 for v in _exact_votes(sentence, kind, base)], q)  # 120 votes, all for class 0
    assert verdict["prediction"] == 0 and verdict["certified"]
    for neighbour in itertools.product(*(kind.members(w) for w in sentence)):
        votes = _exact_votes(list(neighbour), kind, base)
        assert votes[0] > votes[1]  # the certified prediction indeed holds at every x'

    # "good" may become "awful", whose set is {awful}: at x' = "awful film" the vote flips.
    trap = _hand_set({"good": ["nice", "awful"], "nice": ["good", "awful"]})
    q = total_variation_bound(sentence, trap.members)
    assert q == pytest.approx(2 / 3)  # 1 - |T(good) n T(awful)| / |T(good)| = 1 - 1/3
    votes = _exact_votes(sentence, trap, base)
    assert votes == [2, 1]
    assert not certify([v * 1000 for v in votes], q)["certified"]
    flipped = _exact_votes(["awful", "film"], trap, base)
    assert flipped[1] > flipped[0]


def test_total_variation_bound_with_a_change_budget():
    from benchmark.metrics.certify import total_variation_bound, word_factor

    subs = _hand_set({"a": ["b", "c", "d"], "b": ["a"], "x": ["y"], "y": ["x"]})
    # T(a) = {a, b, c, d}; T(b) = {b, a} shares 2 of them, T(c) = {c} (no entry) only 1: the min is 1/4.
    assert word_factor("a", subs.members) == pytest.approx(0.25)
    assert word_factor("x", subs.members) == 1.0 and word_factor("unknown", subs.members) == 1.0
    assert total_variation_bound(["a", "a", "x"], subs.members) == pytest.approx(1 - 0.25 * 0.25)
    assert total_variation_bound(["a", "a", "x"], subs.members, max_changed=1) == pytest.approx(0.75)


def test_smoothed_evaluation_records_certified_accuracy_in_its_own_column(tiny_checkpoint, tmp_path, run_cli,
                                                                           data_root):
    from benchmark.leaderboard.tables import load_results, measured_tables
    from benchmark.records import load_record

    results = tmp_path / "results"
    for extra in ([], ["--smoothing", "8"]):
        code, _, err = run_cli("--quiet", "evaluate", str(tiny_checkpoint), "--dataset", "snli-test", "-n", "6",
                               "--results", str(results), *extra)
        assert code == 0, err
    paths = sorted((results / "records").glob("*smooth8.json"))
    assert len(paths) == 1
    record = load_record(paths[0])
    assert record["evaluation"]["smoothing"]["samples"] == 8
    metrics = record["metrics"]
    assert 0 <= metrics["certified_accuracy"] <= metrics["certified_accuracy_1word"] <= metrics["accuracy"]
    table = measured_tables(load_results(results).records)[0]
    keys = [c.key for c in table.columns]
    assert "snli-test+n6.accuracy" not in keys and "snli-test.accuracy" in keys  # the plain run
    assert "snli-test+smooth8.accuracy" in keys and "snli-test+smooth8.certified_accuracy" in keys
    assert "snli-test.certified_accuracy" not in keys


def test_an_attack_on_the_smoothed_model_runs_and_says_so(tiny_checkpoint, tmp_path, run_cli, data_root):
    from benchmark.records import load_record

    results = tmp_path / "results"
    code, _, err = run_cli("--quiet", "attack", str(tiny_checkpoint), "--recipe", "pwws", "-n", "2", "--seed", "1",
                           "--query-budget", "30", "--smoothing", "4", "--results", str(results))
    assert code == 0, err
    (path,) = sorted((results / "records").glob("*.json"))
    record = load_record(path)
    assert record["record_id"].endswith("-smooth4")
    assert record["evaluation"]["smoothing"]["samples"] == 4
    assert record["counts"]["n"] == 2


def test_certified_accuracy_gets_its_interval_from_counts_alone():
    # A group record (e.g. tf-transfer over its three sets) has no log of its own: its certified
    # share must still carry a Wilson interval, like its empirical accuracy.
    from benchmark.core import stats
    from benchmark.metrics import outcomes

    found = outcomes.intervals("evaluate", {"accuracy": 0.5, "certified_accuracy": 0.1},
                               {"n": 40, "correct": 20, "certified_correct": 4})
    expected = stats.wilson_interval(4, 40)
    assert set(found) == {"accuracy", "certified_accuracy"}
    assert (found["certified_accuracy"]["low"], found["certified_accuracy"]["high"]) == (expected.low, expected.high)
