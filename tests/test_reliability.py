"""Crash safety, no unpickling, safe names, reproducible records."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark import records
from benchmark.core.errors import UserError
from kill_helpers import kill_at_progress_points, random_kill_points
from models.checkpoint import load_checkpoint, save_checkpoint

REPO = Path(__file__).resolve().parents[1]
CARD = {"model_id": "tiny-nli", "task": "nli", "label_names": ["entailment", "neutral", "contradiction"],
        "method": "standard", "hyperparameters": {"max_length": 64}, "seed": 0}


@pytest.fixture(scope="module")
def tiny_checkpoint(tiny_backbone, tmp_path_factory) -> Path:
    from models.backbones import build_task_model

    model, tokenizer = build_task_model(tiny_backbone, "nli", 0.1, 0.0)
    out = tmp_path_factory.mktemp("ckpt") / "tiny"
    save_checkpoint(model, tokenizer, {**CARD, "backbone": tiny_backbone}, out)
    return out


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_pickle_weights_are_refused_with_a_conversion_hint(tiny_checkpoint, tmp_path):
    ckpt = _copy(tiny_checkpoint, tmp_path / "c")
    (ckpt / "pytorch_model.bin").write_bytes(b"not even a pickle")
    with pytest.raises(UserError, match=r"refusing pickle weight files \['pytorch_model.bin'\].*safe_serialization"):
        load_checkpoint(ckpt)


def test_truncated_weights_give_a_clear_error(tiny_checkpoint, tmp_path):
    ckpt = _copy(tiny_checkpoint, tmp_path / "c")
    weights = ckpt / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:5000])
    with pytest.raises(UserError, match="does not match the sha256"):
        load_checkpoint(ckpt)
    with pytest.raises(UserError, match="cannot load weights"):
        load_checkpoint(ckpt, verify=False)


def test_corrupt_card_is_named(tiny_checkpoint, tmp_path):
    ckpt = _copy(tiny_checkpoint, tmp_path / "c")
    (ckpt / "card.json").write_text('{"model_id": ')
    with pytest.raises(UserError, match="card.json: not valid JSON"):
        load_checkpoint(ckpt)
    (ckpt / "card.json").write_text('{"model_id": "x"}')
    with pytest.raises(UserError, match="missing fields"):
        load_checkpoint(ckpt)


@pytest.mark.parametrize("hostile", ["../../etc/passwd", "/abs/path", "a/../../b", "..", "x\x00y", "~root"])
def test_names_from_user_input_stay_in_their_folder(hostile, tmp_path):
    if hostile == "..":
        with pytest.raises(UserError):
            records.safe_name(hostile)
        return
    rid = records.record_id(hostile, "attack", hostile, hostile)
    path = records.record_path(tmp_path, rid).resolve()
    assert path.parent == (tmp_path / "records").resolve()


def test_model_id_from_a_path_backbone_is_a_plain_name():
    from models.config import model_id, resolve_config

    cfg = resolve_config("standard", "snli", {"backbone": "../../somewhere/my-encoder"})
    assert model_id(cfg) == "standard-my-encoder-snli-s42"


def _evaluate_cmd(ckpt, results):
    return [sys.executable, "-m", "benchmark.cli", "--quiet", "evaluate", str(ckpt), "--dataset", "snli-test",
            "-n", "1500", "--results", str(results)]


def _logged_lines(log: Path) -> int:
    try:
        return log.read_bytes().count(b"\n")
    except OSError:
        return 0


@pytest.mark.slow
def test_evaluation_killed_three_times_resumes_to_the_same_record(tiny_checkpoint, tmp_path, data_root):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run(_evaluate_cmd(tiny_checkpoint, tmp_path / "straight"), check=True, env=env, timeout=600)
    rid = "tiny-nli__evaluate__snli-test__n1500-s0"
    log = records.example_log_path(tmp_path / "killed", rid)
    points = random_kill_points(seed=6, low=1, high=1400, kills=3)
    seen = kill_at_progress_points(_evaluate_cmd(tiny_checkpoint, tmp_path / "killed"), lambda: _logged_lines(log),
                                   points, seed=6, env=env)
    assert all(logged >= point for logged, point in zip(seen, points)) and seen[-1] < 1500, seen
    with open(log, "a") as handle:  # a torn half line, as a crash mid-append leaves it
        handle.write('{"index": 99999, "corr')
    subprocess.run(_evaluate_cmd(tiny_checkpoint, tmp_path / "killed"), check=True, env=env, timeout=600)
    straight = records.load_record(records.record_path(tmp_path / "straight", rid))
    resumed = records.load_record(records.record_path(tmp_path / "killed", rid))
    assert records.strip_volatile(resumed) == records.strip_volatile(straight)
    header, *entries = [json.loads(line) for line in log.read_text().splitlines()]
    indices = [entry["index"] for entry in entries]
    assert "header" in header and len(indices) == len(set(indices)) == 1500  # nothing lost, nothing done twice


def test_same_train_and_evaluate_command_twice_gives_identical_records(tiny_backbone, tmp_path, data_root):
    from benchmark.cli import main

    import torch

    cards, before = [], torch.get_num_threads()
    try:
        for run, threads_left_by_earlier_work in (("a", 2), ("b", 1)):
            # CPU float sums depend on the thread count: train fixes its own (--threads, default 1)
            # rather than inherit what an earlier command in the process left.
            torch.set_num_threads(threads_left_by_earlier_work)
            out = tmp_path / run
            assert main(["--quiet", "train", "--method", "infobert", "--backbone", tiny_backbone, "--max-train", "48",
                         "--batch-size", "16", "--epochs", "1", "--max-dev", "32", "--max-length", "48",
                         "--output", str(out / "ckpt")]) == 0
            assert main(["--quiet", "evaluate", str(out / "ckpt"), "--dataset", "anli", "-n", "20",
                         "--results", str(out / "results")]) == 0
            cards.append(json.loads((out / "ckpt" / "card.json").read_text()))
    finally:
        torch.set_num_threads(before)
    assert cards[0]["torch_threads"] == cards[1]["torch_threads"] == 1
    assert cards[0]["weights_sha256"] == cards[1]["weights_sha256"]
    names = sorted(p.name for p in (tmp_path / "a" / "results" / "records").glob("*.json"))
    assert len(names) == 4
    for name in names:
        first, second = (records.load_record(tmp_path / r / "results" / "records" / name) for r in ("a", "b"))
        for record in (first, second):
            record["checkpoint"]["path"] = "<masked>"
        assert records.strip_volatile(first) == records.strip_volatile(second)


def test_nli_card_over_qa_weights_is_refused(tiny_backbone, tmp_path):
    from models.backbones import build_task_model

    model, tokenizer = build_task_model(tiny_backbone, "qa", 0.1, 0.0)
    save_checkpoint(model, tokenizer, {**CARD, "backbone": tiny_backbone}, tmp_path / "qa-weights")
    with pytest.raises(UserError, match=r"says task 'nli', but the weights were saved from BertForQuestionAnswering"
                                        r".*missing or mis-shaped: .*classifier.weight"):
        load_checkpoint(tmp_path / "qa-weights")


def test_rerunning_a_finished_evaluation_keeps_its_records_byte_for_byte(tiny_checkpoint, tmp_path, data_root):
    from benchmark.cli import main

    argv = ["--quiet", "evaluate", str(tiny_checkpoint), "--dataset", "anli", "-n", "30", "--results", str(tmp_path)]
    assert main(argv) == 0
    written = {p: p.read_bytes() for p in (tmp_path / "records").glob("*.json")}
    assert len(written) == 4
    assert main(argv) == 0
    assert {p: p.read_bytes() for p in (tmp_path / "records").glob("*.json")} == written
    _, *logged = [json.loads(line) for line in next((tmp_path / "records").glob("*r1*.jsonl")).read_text().splitlines()]
    record = records.load_record(next((tmp_path / "records").glob("*r1-test*.json")))
    assert record["wall_time_s"] == pytest.approx(sum(entry["seconds"] for entry in logged), abs=0.01)


def test_a_log_written_for_other_weights_is_refused_not_reused(tiny_checkpoint, tmp_path, data_root):
    from benchmark.evaluation.evaluate import EvaluateSpec, evaluate

    evaluate(EvaluateSpec(tiny_checkpoint, "anli-r1-test", n=20, seed=0, results_dir=tmp_path), quiet=True)
    log = next((tmp_path / "records").glob("*.examples.jsonl"))
    header, *rest = log.read_text().splitlines()
    retrained = json.loads(header)
    retrained["header"]["weights_sha256"] = "0" * 64  # as if the folder had been retrained since
    log.write_text("\n".join([json.dumps(retrained), *rest]) + "\n")
    with pytest.raises(UserError, match=r"was written by another run \(different weights_sha256\)"):
        evaluate(EvaluateSpec(tiny_checkpoint, "anli-r1-test", n=20, seed=0, results_dir=tmp_path), quiet=True)


def test_evaluate_takes_one_sample_size_per_dataset_or_one_for_all(tiny_checkpoint, tmp_path, run_cli, data_root):
    code, out, err = run_cli("--quiet", "evaluate", str(tiny_checkpoint), "--dataset", "anli-r1-test", "-n", "12",
                             "--dataset", "anli-r2-test", "-n", "7", "--results", str(tmp_path))
    assert code == 0, err
    sizes = {r["evaluation"]["dataset"]: r["counts"]["n"] for r in map(records.load_record,
                                                                        (tmp_path / "records").glob("*.json"))}
    assert sizes == {"anli-r1-test": 12, "anli-r2-test": 7}
    code, _, err = run_cli("--quiet", "evaluate", str(tiny_checkpoint), "--dataset", "anli-r1-test", "-n", "1",
                           "-n", "2", "-n", "3", "--results", str(tmp_path))
    assert code == 2 and "3 -n values for 1 --dataset values" in err


def test_model_commands_default_to_one_torch_thread_and_refuse_negative_counts():
    # One thread is the default for shared machines (docs/performance.md); 0 leaves torch's choice.
    import torch

    from benchmark.cli import build_parser
    from benchmark.commands import use_threads

    for command in (["attack", "ckpt", "--recipe", "pwws"], ["evaluate", "ckpt", "--dataset", "snli-test"],
                    ["train", "--method", "standard"]):
        assert build_parser().parse_args(command).threads == 1
        assert build_parser().parse_args([*command, "--threads", "0"]).threads == 0
    before = torch.get_num_threads()
    try:
        use_threads(1)
        assert torch.get_num_threads() == 1
        use_threads(0)
        assert torch.get_num_threads() == 1  # 0 leaves the count as it is
        with pytest.raises(UserError, match="--threads"):
            use_threads(-1)
    finally:
        torch.set_num_threads(before)
