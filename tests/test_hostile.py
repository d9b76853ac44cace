"""The hostile-user pass (issue 14): each case a careless or unlucky user hits, through the real CLI.

Every test asserts the exit code, the one-line message, and that no record changed. One tiny
random BERT checkpoint (session fixture) serves them all; a few cases start real processes
(two writers at once, SIGKILL of a lock holder, an interrupted training run).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmark import records

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
CARD = {"model_id": "tiny-hostile", "task": "nli", "label_names": ["entailment", "neutral", "contradiction"],
        "method": "standard", "hyperparameters": {"max_length": 48}, "seed": 0}
ATTACK = ["--recipe", "pwws", "--dataset", "snli-test", "-n", "2", "--seed", "0", "--query-budget", "15"]


def _save_tiny(tiny_backbone: str, out: Path, torch_seed: int) -> Path:
    import torch

    from models.backbones import build_task_model
    from models.checkpoint import save_checkpoint

    torch.manual_seed(torch_seed)
    model, tokenizer = build_task_model(tiny_backbone, "nli", 0.1, 0.0)
    save_checkpoint(model, tokenizer, {**CARD, "backbone": tiny_backbone}, out)
    return out


@pytest.fixture(scope="session")
def tiny_ckpt(tiny_backbone, tmp_path_factory) -> Path:
    return _save_tiny(tiny_backbone, tmp_path_factory.mktemp("hostile") / "ckpt", torch_seed=0)


@pytest.fixture(scope="session")
def evaluated(tiny_ckpt, tmp_path_factory, data_root) -> Path:
    """A results folder holding one finished evaluation (4 SNLI test examples)."""
    from benchmark.cli import main

    results = tmp_path_factory.mktemp("evaluated")
    assert main(["--quiet", "evaluate", str(tiny_ckpt), "--dataset", "snli-test", "-n", "4",
                 "--results", str(results)]) == 0
    return results


def _snapshot(results: Path) -> dict:
    folder = Path(results) / "records"
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*"))} if folder.is_dir() else {}


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def _last_line(err: str) -> str:
    lines = err.strip().splitlines()
    return lines[-1] if lines else ""


# ---------------------------------------------------------------- 1. silent wrong numbers


def test_finished_attack_log_from_other_weights_is_refused(tiny_backbone, tiny_ckpt, tmp_path, run_cli, data_root):
    ckpt = _copy(tiny_ckpt, tmp_path / "ckpt")
    results = tmp_path / "results"
    code, _, err = run_cli("--quiet", "attack", str(ckpt), *ATTACK, "--results", str(results))
    assert code == 0, err
    before = _snapshot(results)
    _save_tiny(tiny_backbone, ckpt, torch_seed=1)  # retrained into the same folder
    code, _, err = run_cli("--quiet", "attack", str(ckpt), *ATTACK, "--results", str(results))
    assert code == 2
    assert "was written by a different run (weights_sha256 differs" in _last_line(err)
    assert _snapshot(results) == before


def test_evaluation_log_without_header_is_refused(evaluated, tiny_ckpt, tmp_path, run_cli):
    results = _copy(evaluated, tmp_path / "r")
    log = next((results / "records").glob("*.examples.jsonl"))
    log.write_text("".join(line + "\n" for line in log.read_text().splitlines()[1:]))
    before = _snapshot(results)
    code, _, err = run_cli("--quiet", "evaluate", str(tiny_ckpt), "--dataset", "snli-test", "-n", "4",
                           "--results", str(results))
    assert code == 2
    assert "has no header line" in _last_line(err) and f"rm {log}" in _last_line(err)
    assert _snapshot(results) == before


@pytest.mark.parametrize("argv, flag", [
    (["evaluate", "CKPT", "--dataset", "snli-test", "-n", "4", "--batch-size", "-3"], "--batch-size"),
    (["evaluate", "CKPT", "--dataset", "snli-test", "--batch-size", "0"], "--batch-size"),
    (["evaluate", "CKPT", "--dataset", "snli-test", "-n", "0"], "-n"),
    (["evaluate", "CKPT", "--dataset", "snli-test", "--seed", "-1"], "--seed"),
    (["attack", "CKPT", "--recipe", "pwws", "--query-budget", "-5"], "--query-budget"),
    (["attack", "CKPT", "--recipe", "pwws", "--threads", "-1"], "--threads"),
    (["attack", "CKPT", "--recipe", "pwws", "--batch-size", "x"], "--batch-size"),
    (["train", "--method", "standard", "--seed", "-1"], "--seed"),
    (["train", "--method", "standard", "--lr", "nan"], "--lr"),
    (["grid", "spec.toml", "--workers", "0"], "--workers"),
])
def test_bad_numbers_are_refused_before_anything_runs(argv, flag, tiny_ckpt, tmp_path, run_cli):
    argv = [str(tiny_ckpt) if a == "CKPT" else a for a in argv]
    if argv[0] in ("evaluate", "attack"):
        argv += ["--results", str(tmp_path / "results")]
    code, _, err = run_cli("--quiet", *argv)  # argparse's exit, caught by the fixture
    assert code == 2 and flag in err
    assert not (tmp_path / "results").exists()


def test_bad_flag_message_is_one_line(tiny_ckpt, tmp_path):
    done = subprocess.run([sys.executable, "-m", "benchmark.cli", "evaluate", str(tiny_ckpt), "--dataset",
                           "snli-test", "--batch-size", "-3", "--results", str(tmp_path)],
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == ("infobench: error: argument --batch-size: must be at least 1, got -3 "
                                   "(see `infobench evaluate --help`)")


def test_cuda_device_without_cuda_is_refused(tiny_ckpt, tmp_path, capsys):
    import torch

    from benchmark.cli import main

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: --device cuda is valid here")
    with pytest.raises(SystemExit) as exit_info:
        main(["attack", str(tiny_ckpt), "--recipe", "pwws", "--device", "cuda", "--results", str(tmp_path / "r")])
    assert exit_info.value.code == 2
    assert "torch sees no CUDA device" in _last_line(capsys.readouterr().err)


def _interrupted_training(tiny_backbone: str, out: Path) -> None:
    """A real `train` run, SIGKILLed once it has saved resumable state."""
    command = [sys.executable, "-m", "benchmark.cli", "--quiet", "train", "--method", "standard", "--backbone",
               tiny_backbone, "--max-train", "400", "--batch-size", "4", "--epochs", "1", "--max-length", "32",
               "--max-dev", "8", "--save-every", "2", "--seed", "3", "--lr", "1e-4", "--output", str(out)]
    process = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while not (out / "train_state" / "state.json").is_file() and process.poll() is None:
        assert time.monotonic() < deadline, "training saved no state in time"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    _, err = process.communicate()
    assert (out / "train_state" / "state.json").is_file(), err.decode()[-2000:]


def test_resume_with_other_hyperparameters_is_refused_naming_them(tiny_backbone, tmp_path, run_cli, data_root):
    out = tmp_path / "run"
    _interrupted_training(tiny_backbone, out)
    saved = (out / "train_state" / "state.json").read_bytes()
    code, _, err = run_cli("--quiet", "train", "--method", "standard", "--backbone", tiny_backbone, "--max-train",
                           "400", "--batch-size", "4", "--epochs", "1", "--max-length", "32", "--max-dev", "8",
                           "--save-every", "2", "--seed", "4", "--lr", "2e-4", "--output", str(out), "--resume")
    assert code == 2
    message = _last_line(err)
    assert "--resume with other settings" in message and "--lr 0.0001 -> 0.0002" in message
    assert "--seed 3 -> 4" in message
    assert (out / "train_state" / "state.json").read_bytes() == saved and not (out / "card.json").exists()


# ---------------------------------------------------------------- 2. one writer per run


def _attack_cmd(ckpt: Path, results: Path, n: str) -> list[str]:
    return [sys.executable, "-m", "benchmark.cli", "--quiet", "attack", str(ckpt), "--recipe", "pwws",
            "--dataset", "snli-test", "-n", n, "--seed", "0", "--query-budget", "15", "--results", str(results)]


def test_two_identical_attacks_one_writer(tiny_ckpt, tmp_path, data_root):
    """Two real processes, one results folder: the second stops at once with a message; the log stays clean."""
    results = tmp_path / "results"
    first = subprocess.Popen(_attack_cmd(tiny_ckpt, results, "500"), env=ENV, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)  # long enough to still run when the second starts
    log = results / "records" / "tiny-hostile__attack__snli-test__pwws-n500-s0-b15.examples.jsonl"
    deadline = time.monotonic() + 300
    while first.poll() is None and _lines(log) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.poll() is None and _lines(log) >= 2, first.communicate()[1][-2000:]
    second = subprocess.run(_attack_cmd(tiny_ckpt, results, "500"), env=ENV, capture_output=True, text=True,
                            timeout=300)
    still_running = first.poll() is None
    first.send_signal(signal.SIGKILL)
    first.communicate()
    assert still_running, "the first attack ended before the second started: make it longer"
    assert second.returncode == 2
    assert _last_line(second.stderr).startswith(f"infobench: error: another infobench process is writing {log}")
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.endswith("}")]
    indices = [line["index"] for line in lines[1:]]
    assert "header" in lines[0] and sum("header" in line for line in lines) == 1
    assert len(indices) == len(set(indices)) and not list((results / "records").glob("*.json"))


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except OSError:
        return 0


def test_lock_of_a_killed_process_is_taken_over(tiny_ckpt, evaluated, tmp_path, run_cli):
    results = _copy(evaluated, tmp_path / "r")
    rid = "tiny-hostile__evaluate__snli-test__n6-s0"
    log = records.example_log_path(results, rid)
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom benchmark.core.atomic import exclusive_writer"
                               "\nwith exclusive_writer(sys.argv[1]):\n    print('held', flush=True)\n"
                               "    time.sleep(600)", str(log)], env=ENV, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    argv = ["--quiet", "evaluate", str(tiny_ckpt), "--dataset", "snli-test", "-n", "6", "--results", str(results)]
    code, _, err = run_cli(*argv)
    assert code == 2 and "another infobench process is writing" in _last_line(err)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (log.parent / f".{log.name}.lock").exists()  # the stale lock file is still there...
    code, _, err = run_cli(*argv)
    assert code == 0, err  # ...and taken over: the OS released the dead holder's lock
    assert records.load_record(records.record_path(results, rid))["counts"]["n"] == 6


# ---------------------------------------------------------------- 3. every failure a clear message


def test_unknown_backbone_leaves_no_folder(tmp_path, run_cli, data_root):
    out = tmp_path / "ckpt"
    code, _, err = run_cli("--quiet", "train", "--method", "standard", "--backbone", "minilm-l7", "--max-train",
                           "8", "--max-dev", "8", "--output", str(out))
    assert code == 2 and _last_line(err).startswith("infobench: error: unknown backbone 'minilm-l7'")
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_output_path_that_is_a_file_is_refused(tiny_ckpt, tmp_path, capsys):
    from benchmark.cli import main

    taken = tmp_path / "results"
    taken.write_text("not a folder")
    for argv in (["evaluate", str(tiny_ckpt), "--dataset", "snli-test", "--results", str(taken)],
                 ["train", "--method", "standard", "--output", str(taken / "sub")],
                 ["leaderboard", "--out", str(taken)]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        assert "is an existing file, not a folder" in _last_line(capsys.readouterr().err)
    assert taken.read_text() == "not a folder"


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_damaged_dataset_file_is_named(damage, tiny_ckpt, tmp_path, run_cli, data_root):
    root = tmp_path / "data"
    (root / "snli").mkdir(parents=True)
    source = (data_root / "snli" / "snli_1.0_test.jsonl.gz").read_bytes()
    damaged = root / "snli" / "snli_1.0_test.jsonl.gz"
    damaged.write_bytes(source[:len(source) // 2] if damage == "truncated" else b"\x1f\x8b" + b"\x00" * 64)
    os.environ["INFOBENCH_DATA"], saved = str(root), os.environ["INFOBENCH_DATA"]
    try:
        code, _, err = run_cli("--quiet", "evaluate", str(tiny_ckpt), "--dataset", "snli-test", "-n", "4",
                               "--results", str(tmp_path / "r"))
    finally:
        os.environ["INFOBENCH_DATA"] = saved
    assert code == 2
    assert f"{damaged}: damaged or truncated compressed file" in _last_line(err)
    assert _snapshot(tmp_path / "r") == {}


def test_damaged_line_in_the_middle_of_a_log_is_named(evaluated, tiny_ckpt, tmp_path, run_cli):
    results = _copy(evaluated, tmp_path / "r")
    log = next((results / "records").glob("*.examples.jsonl"))
    lines = log.read_text().splitlines()
    lines[2] = lines[2][:10] + "#" + lines[2][11:]
    log.write_text("\n".join(lines) + "\n")
    before = _snapshot(results)
    code, _, err = run_cli("--quiet", "evaluate", str(tiny_ckpt), "--dataset", "snli-test", "-n", "4",
                           "--results", str(results))
    assert code == 2 and f"{log}:3: damaged line in a per-example log" in _last_line(err)
    assert _snapshot(results) == before


@pytest.fixture()
def tiny_disk(tmp_path):
    """A 256 KiB tmpfs (needs root and mount rights; skipped elsewhere)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tiny tmpfs here to fill up ({done.stderr.strip()[:120]})")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path) -> None:
    handle = open(disk / "filler", "wb", buffering=0)
    try:
        while True:
            handle.write(b"\0" * 512)
    except OSError:
        pass
    finally:
        handle.close()


def test_disk_full_during_evaluate_and_leaderboard(tiny_disk, evaluated, tiny_ckpt, run_cli):
    results = _copy(evaluated, tiny_disk / "results")
    assert run_cli("--quiet", "leaderboard", "--results", str(results), "--no-plots",
                   "--readme", str(results / "none.md"))[0] == 0
    board = (results / "leaderboard.md").read_bytes()
    before = _snapshot(results)
    _fill(tiny_disk)
    code, _, err = run_cli("--quiet", "evaluate", str(tiny_ckpt), "--dataset", "snli-test", "-n", "9",
                           "--results", str(results))
    log = records.example_log_path(results, "tiny-hostile__evaluate__snli-test__n9-s0")
    assert code == 2 and f"no space left on the device while appending to {log}" in _last_line(err)
    code, _, err = run_cli("--quiet", "leaderboard", "--results", str(results), "--no-plots",
                           "--readme", str(results / "none.md"), "--task", "nli")
    assert code == 2 and "no space left on the device while writing" in _last_line(err)
    assert (results / "leaderboard.md").read_bytes() == board
    assert {k: v for k, v in _snapshot(results).items() if "n9" not in k} == before


def _deep_record(results: Path, depth: int = 100_000) -> Path:
    path = results / "records" / "deep.json"
    path.write_text('{"schema_version": 1, "x": ' + "[" * depth + "]" * depth + "}")
    return path


def test_record_nested_100000_deep_is_refused_or_skipped(evaluated, tmp_path, run_cli):
    results = _copy(evaluated, tmp_path / "r")
    deep = _deep_record(results)
    argv = ["--quiet", "leaderboard", "--results", str(results), "--no-plots", "--readme", str(tmp_path / "x.md")]
    code, _, err = run_cli(*argv)
    assert code == 2 and f"{deep}: not a record (JSON nested too deeply)" in err
    assert not (results / "leaderboard.md").exists()
    code, _, err = run_cli(*argv, "--skip-invalid")
    assert code == 0, err
    assert "tiny-hostile" in (results / "leaderboard.md").read_text()


def test_unexpected_error_is_one_message_and_a_log_file(tiny_ckpt, tmp_path, run_cli, monkeypatch):
    """The last resort: a fault injected below the CLI (a bug stand-in) is summarised, its traceback saved."""
    from benchmark.records import adversarial

    def broken(name):
        raise RuntimeError("injected fault\nsecond line")

    # every dataset an evaluation reads comes through here (registered and adversarial sets alike)
    monkeypatch.setattr(adversarial, "load_registered", broken)
    monkeypatch.setenv("INFOBENCH_HOME", str(tmp_path / "home"))
    argv = ["evaluate", str(tiny_ckpt), "--dataset", "snli-test", "-n", "4", "--results", str(tmp_path / "r")]
    code, _, err = run_cli("--quiet", *argv)
    assert code == 1
    first, second = err.strip().splitlines()
    assert first == "infobench: internal error: RuntimeError: injected fault second line"
    crash_log = Path(second.split("the full traceback is in ")[1].split(";")[0])
    assert crash_log.parent == tmp_path / "home" / "logs" and "Traceback" in crash_log.read_text()
    with pytest.raises(RuntimeError, match="injected fault"):
        run_cli("--quiet", *argv, "--debug")


# ---------------------------------------------------------------- 4. leaderboard from hostile records


def _hostile_results(evaluated: Path, tmp_path: Path, **changes) -> Path:
    from hostile_records import plant_hostile_record

    return plant_hostile_record(_copy(evaluated, tmp_path / "r"), **changes)


def test_leaderboard_markdown_escapes_record_fields(evaluated, tmp_path, run_cli):
    results = _hostile_results(evaluated, tmp_path, checkpoint__model_id="<script>alert(1)</script>",
                               checkpoint__backbone="a|b", evaluation__dataset='<img src=x onerror="alert(1)">')
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- leaderboard:start -->\n<!-- leaderboard:end -->\n")
    code, _, err = run_cli("--quiet", "leaderboard", "--results", str(results), "--no-plots", "--readme", str(readme))
    assert code == 0, err
    for page in (results / "leaderboard.md", readme):
        text = page.read_text()
        assert "<script" not in text and "<img" not in text and "&lt;script&gt;" in text
        rows = [line for line in text.splitlines() if line.startswith("|")]
        widths = {line.replace("\\|", "").count("|") for line in rows}
        assert len(widths) == 1, rows  # an escaped | does not add a column


def test_a_leaderboard_of_another_folder_never_rewrites_the_readme_of_the_working_directory(
        evaluated, tmp_path, run_cli, monkeypatch):
    markers = "intro\n<!-- leaderboard:start -->\n<!-- leaderboard:end -->\n"
    project = tmp_path / "project"
    project.mkdir()
    (project / "README.md").write_text(markers)
    monkeypatch.chdir(project)  # a user inside some repository benchmarks results kept elsewhere
    results = _copy(evaluated, tmp_path / "elsewhere" / "results")
    (tmp_path / "elsewhere" / "README.md").write_text(markers)
    code, _, err = run_cli("--quiet", "leaderboard", "--results", str(results), "--no-plots")
    assert code == 0, err
    assert (project / "README.md").read_text() == markers
    beside = (tmp_path / "elsewhere" / "README.md").read_text()
    assert "sortable page: [results/leaderboard.html](results/leaderboard.html)" in beside


@pytest.mark.parametrize("field, value", [("counts__n", "twelve rows"), ("checkpoint__seed", "s-forty-two"),
                                          ("evaluation__sample__n", "<b>x</b>")])
def test_strings_where_counts_or_seeds_belong_are_refused(field, value, evaluated, tmp_path, run_cli):
    results = _hostile_results(evaluated, tmp_path, **{field: value})
    argv = ["--quiet", "leaderboard", "--results", str(results), "--no-plots", "--readme", str(tmp_path / "x.md")]
    code, _, err = run_cli(*argv)
    assert code == 2 and "hostile.json" in err
    assert "must be a whole number >= 0" in err or "should be a valid integer" in err  # leaderboard or record schema
    code, _, err = run_cli(*argv, "--skip-invalid")
    assert code == 0, err
    header = next(line for line in (results / "leaderboard.md").read_text().splitlines() if line.startswith("|"))
    assert value not in header and len((results / "leaderboard.csv").read_text().splitlines()) == 2  # one row


def test_leftover_leaderboard_temp_files_are_removed(evaluated, tmp_path, run_cli):
    results = _copy(evaluated, tmp_path / "r")
    leftovers = [results / ".leaderboard.md.abc123.tmp", results / ".leaderboard.html.x.tmp"]
    for path in leftovers:
        path.write_text("half a page")
    code, _, err = run_cli("--quiet", "leaderboard", "--results", str(results), "--no-plots",
                           "--readme", str(tmp_path / "x.md"))
    assert code == 0, err
    assert not any(path.exists() for path in leftovers)
    assert not list(results.glob(".*.tmp"))


# ---------------------------------------------------------------- 5. recipe folders


def test_only_the_requested_recipe_file_is_imported(tmp_path, run_cli, monkeypatch):
    from attacks.registry import get_recipe

    folder = tmp_path / "recipes"
    folder.mkdir()
    marker = tmp_path / "imported"
    (folder / "wanted.py").write_text('"""A recipe."""\nNAME = "wanted"\nPAPER = "-"\nRESOURCES = ()\n'
                                      '\ndef build(w, r, query_budget=None):\n    return None\n')
    (folder / "other.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\nraise RuntimeError('boom')\n"
                                     'NAME = "other"\n')
    monkeypatch.setenv("INFOBENCH_RECIPES_PATH", str(folder))
    assert get_recipe("wanted").source == str(folder / "wanted.py")
    assert get_recipe("pwws").name == "pwws"
    assert not marker.exists()  # other.py never ran
    code, _, err = run_cli("--quiet", "recipes", "--recipes-dir", str(folder))
    assert code == 2
    assert _last_line(err) == f"infobench: error: cannot load recipe file {folder / 'other.py'}: RuntimeError: boom"


def test_help_says_a_recipe_folder_runs_code(capsys):
    from benchmark.cli import main

    for command in ("attack", "recipes"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "Python code" in " ".join(capsys.readouterr().out.split())
