"""Training methods on real models: losses fall, checkpoints round-trip, --resume after kill -9."""

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import loss_before_and_after_steps
from kill_helpers import kill_at_progress_points, random_kill_points
import torch

from models.config import resolve_config

REPO = Path(__file__).resolve().parents[1]


def _snli_batch(tokenizer, n=16):
    from benchmark import data
    from models.backbones import TASK_LABELS
    from models.features import collate, nli_features

    examples = data.load("snli-train").examples[:n]
    features, _ = nli_features(examples, tokenizer, TASK_LABELS["nli"], 64)
    return collate(tokenizer, features)


@pytest.mark.parametrize("method", ["standard", "freelb", pytest.param("infobert", marks=pytest.mark.slow), "infobert-std"])
def test_a_few_steps_of_each_method_lower_the_loss(method, data_root):
    from models.backbones import build_task_model

    torch.manual_seed(0)
    cfg = resolve_config(method, "snli", {"batch_size": 8, "lr": 1e-4})
    model, tokenizer = build_task_model("minilm-l6", "nli", 0.1, 0.0)
    batch = _snli_batch(tokenizer)
    before, after, figures = loss_before_and_after_steps(method, cfg, model, batch)
    assert after < before - 0.05
    if method in ("infobert", "infobert-std"):
        assert figures["ib"] > 0 and figures["af_lower_bound"] != 0
    if method == "freelb":  # no regularizer is on, so no regularizer figure is logged as a 0.0
        assert "ib" not in figures and "af_lower_bound" not in figures


def test_checkpoint_round_trip_reproduces_logits_exactly(tiny_backbone, tmp_path):
    from models.backbones import build_task_model
    from models.checkpoint import load_checkpoint, save_checkpoint

    model, tokenizer = build_task_model(tiny_backbone, "nli", 0.1, 0.0)
    model.eval()
    enc = tokenizer(["A dog runs.", "Two men talk."], ["An animal moves.", "Nobody speaks."],
                    padding=True, return_tensors="pt")
    card = {"model_id": "tiny", "backbone": tiny_backbone, "task": "nli",
            "label_names": ["entailment", "neutral", "contradiction"], "method": "standard",
            "hyperparameters": {"max_length": 64}, "seed": 0}
    save_checkpoint(model, tokenizer, card, tmp_path / "ckpt")
    loaded, _, loaded_card = load_checkpoint(tmp_path / "ckpt", attn_implementation="eager")
    with torch.no_grad():
        assert torch.equal(model(**enc).logits, loaded(**enc).logits)
    assert len(loaded_card["weights_sha256"]) == 64


def _train_cmd(backbone, output, *extra, max_train=96, quiet=True):
    return [sys.executable, "-m", "benchmark.cli", *(["--quiet"] if quiet else []), "train", "--method", "infobert", "--backbone",
            backbone, "--max-train", str(max_train), "--batch-size", "16", "--epochs", "2", "--max-dev", "32",
            "--save-every", "2", "--max-length", "48", "--output", str(output), *extra]


def _saved_step(output: Path) -> int:
    state = output / "train_state" / "state.json"
    try:
        return json.loads(state.read_text())["progress"]["step"]
    except (OSError, ValueError, KeyError):
        return 0


# The sampled IB estimator is killed three times over 12 steps. The CLUB estimator steps its own
# Adam inside every training step, so one kill over 8 steps already proves that Adam's state
# (moments and step count) is saved and restored with the rest.
KILL_CASES = [pytest.param("sampled", 96, 3, id="sampled-3-kills"), pytest.param("club", 64, 1, id="club-1-kill")]


@pytest.mark.slow
@pytest.mark.parametrize("estimator,max_train,kills", KILL_CASES)
def test_killed_at_random_steps_resumes_to_the_unbroken_result(estimator, max_train, kills, tiny_backbone,
                                                                tmp_path, data_root):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    total = 2 * max_train // 16
    command = functools.partial(_train_cmd, tiny_backbone, max_train=max_train)
    extra = ("--ib-estimator", estimator)
    straight = tmp_path / "straight"
    subprocess.run(command(straight, *extra), check=True, env=env, cwd=REPO, timeout=300)
    killed = tmp_path / "killed"
    points = random_kill_points(seed=2, low=1, high=total - 1, kills=kills)
    seen = kill_at_progress_points(command(killed, *extra, "--resume"), lambda: _saved_step(killed),
                                   points, seed=2, env=env, cwd=REPO)
    assert all(saved >= point for saved, point in zip(seen, points)) and seen[-1] < total
    assert not (killed / "card.json").exists()
    done = subprocess.run(command(killed, *extra, "--resume", quiet=False), env=env, cwd=REPO, timeout=300,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"resuming {killed} at step {seen[-1]} of {total}" in done.stderr
    straight_card = json.loads((straight / "card.json").read_text())
    resumed_card = json.loads((killed / "card.json").read_text())
    assert resumed_card["hyperparameters"]["ib_estimator"] == estimator
    assert resumed_card["weights_sha256"] == straight_card["weights_sha256"]
    assert resumed_card["dev_metrics"] == straight_card["dev_metrics"]
    _assert_same_training_curve(straight, killed, steps=total, positive_ib=estimator == "sampled")
    assert (killed / "critic.safetensors").is_file() and not (killed / "train_state").exists()
    if estimator == "club":  # the learned q(t|x) itself must match too
        assert (killed / "club.safetensors").read_bytes() == (straight / "club.safetensors").read_bytes()


def _assert_same_training_curve(straight: Path, resumed: Path, steps: int, positive_ib: bool) -> None:
    """The per-step log of a killed-and-resumed run equals the unbroken run's, step for step.

    The sampled IB is a mean of squares (> 0); CLUB's bound is an estimate of either sign.
    """
    from models.train_log import LOG_FILE

    straight_log = (straight / LOG_FILE).read_text()
    rows = [json.loads(line) for line in straight_log.splitlines()]
    assert [row["step"] for row in rows] == list(range(1, steps + 1))
    assert all((row["ib"] > 0 if positive_ib else row["ib"] != 0) and row["af_lower_bound"] != 0 for row in rows)
    assert (resumed / LOG_FILE).read_text() == straight_log
    card = json.loads((resumed / "card.json").read_text())
    assert card["training_curve"] and card["training_curve"][-1]["step"] == steps


@pytest.mark.parametrize("argv,message", [
    (["train", "--method", "freelbb"], "unknown training method 'freelbb'. Did you mean freelb"),
    (["train", "--method", "standard", "--epochs", "-1"], "argument --epochs: must be positive, got -1"),
    (["train", "--method", "standard", "--task", "sts"], "unknown task 'sts'"),
    (["train", "--method", "standard", "--c-low", "0.9", "--c-high", "0.5"], "need 0 <= c_low <= c_high <= 1"),
    (["train", "--method", "infobert-std", "--adv-steps", "3"], "infobert-std trains without adversarial steps"),
    (["train", "--method", "standard", "--batch-size", "x"], "argument --batch-size: 'x' is not a whole number"),
])
def test_bad_training_flags_exit_2_with_a_clear_message(run_cli, argv, message):
    code, _, err = run_cli(*argv)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_finished_checkpoint_is_not_overwritten(tmp_path, run_cli):
    (tmp_path / "card.json").write_text("{}")
    code, _, err = run_cli("train", "--method", "standard", "--output", str(tmp_path))
    assert code == 2 and "already holds a finished checkpoint" in err


@pytest.mark.parametrize("argv", [["methods"], ["--help"], ["train", "--help"]])
def test_listing_methods_and_help_import_no_torch(argv):
    """`infobench methods` paid ~3 s for a module-level `import torch` in models/methods.py."""
    code = ("import sys\nfrom benchmark.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "heavy = sorted(m for m in ('torch', 'transformers', 'accelerate') if m in sys.modules)\n"
            "sys.stderr.write(f'HEAVY {heavy}')\n")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "HEAVY []" in done.stderr
    if argv == ["methods"]:
        assert "infobert" in done.stdout and "freelb" in done.stdout
