"""Sections C-G of the hostile pass: what failed in issue 14's first run (see hostile_cases.py)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ATTACK = ["--recipe", "pwws", "--dataset", "snli-test", "-n", "3", "--seed", "0", "--query-budget", "15"]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def _cases():
    import hostile_cases as base

    return base


# ---------------------------------------------------------------- C: silent wrong numbers


def attack_over_other_weights(env):
    b = _cases()
    from models.checkpoint import save_checkpoint  # noqa: F401  (the retrain below saves through it)

    ckpt = b._copy_ckpt(env, "retrained")
    results = ckpt.parent / "r"
    code, err = env.cli("attack", str(ckpt), *ATTACK, "--results", str(results))
    assert code == 0, err
    before = b.snapshot(results)
    shutil.rmtree(ckpt)
    from hostile_pass import _tiny_checkpoint

    _tiny_checkpoint(env.backbone, ckpt, seed=1)  # retrained into the same folder
    return b.message(*env.cli("attack", str(ckpt), *ATTACK, "--results", str(results)),
                     "weights_sha256 differs", unchanged=(before, results))


def headerless_eval_log(env):
    b = _cases()
    results = env.evaluated("headerless")
    log = next((results / "records").glob("*.examples.jsonl"))
    log.write_text("".join(line + "\n" for line in log.read_text().splitlines()[1:]))
    before = b.snapshot(results)
    return b.message(*env.cli("evaluate", str(env.ckpt), "--dataset", "snli-test", "-n", "4", "--results",
                              str(results)), "has no header line", "rm ", unchanged=(before, results))


def bad_flag(argv_of, *needles):
    def run(env):
        b = _cases()
        results = env.root / f"flag-{env.counter}"
        env.counter += 1
        code, err = env.cli(*argv_of(env), *(["--results", str(results)] if argv_of(env)[0] in
                                              ("evaluate", "attack") else []))
        held = b.message(code, err, *needles)
        if held[1] is None and results.exists() and results.is_dir():
            return code, "an output folder was made"
        return held
    return run


def label_order(env):
    b = _cases()
    ckpt = b._copy_ckpt(env, "labels")
    card = json.loads((ckpt / "card.json").read_text())
    card["label_names"] = list(reversed(card["label_names"]))
    (ckpt / "card.json").write_text(json.dumps(card))
    code, err = env.cli("evaluate", str(ckpt), "--dataset", "snli-test", "-n", "8", "--results", str(ckpt.parent / "r"))
    held = b.message(code, err, "label")
    return code, None if held[1] is None and code == 2 else "card label order not checked against config.json " \
        "id2label (left to issue 15's helper)"


def resume_changed(env):
    b = _cases()
    out = env.fresh("resume-changed") / "ckpt"
    argv = ["train", "--method", "standard", "--backbone", env.backbone, "--max-train", "400", "--batch-size", "4",
            "--epochs", "1", "--max-length", "32", "--max-dev", "8", "--save-every", "2", "--output", str(out)]
    b._kill_when(b._cli_cmd(*argv, "--seed", "3", "--lr", "1e-4"), lambda: (out / "train_state").is_dir())
    return b.message(*env.cli(*argv, "--seed", "4", "--lr", "2e-4", "--resume"), "--seed 3 -> 4",
                     "--lr 0.0001 -> 0.0002")


def two_writers(kind: str):
    def run(env):
        b = _cases()
        results = env.fresh(f"two-{kind}")
        if kind == "attack":
            argv = ["attack", str(env.ckpt), "--recipe", "pwws", "--dataset", "snli-test", "-n", "500",
                    "--query-budget", "15", "--results", str(results)]
        else:
            argv = ["evaluate", str(env.ckpt), "--dataset", "snli-test", "-n", "9000", "--batch-size", "1",
                    "--results", str(results)]
        first = subprocess.Popen(b._cli_cmd(*argv), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 600
        logs = lambda: list((results / "records").glob("*.examples.jsonl"))  # noqa: E731
        while first.poll() is None and not (logs() and b._lines(logs()[0]) >= 2) and time.monotonic() < deadline:
            time.sleep(0.05)
        code, err = env.proc(*argv)
        alive = first.poll() is None
        first.send_signal(signal.SIGKILL)
        first.wait()
        if not alive:
            return code, "the first run ended before the second started"
        lines = [json.loads(x) for x in logs()[0].read_text().splitlines() if x.endswith("}")]
        keys = [x.get("index") for x in lines[1:]]
        if sum("header" in x for x in lines) != 1 or len(keys) != len(set(keys)):
            return code, "log has two headers or duplicated examples"
        return b.message(code, err, "another infobench process is writing")
    return run


def stale_lock(env):
    b = _cases()
    results = env.evaluated("stale-lock")
    from benchmark import records

    log = records.example_log_path(results, "tiny-pass__evaluate__snli-test__n6-s0")
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom benchmark.core.atomic import "
                               "exclusive_writer\nwith exclusive_writer(sys.argv[1]):\n    print('held', flush=True)"
                               "\n    time.sleep(600)", str(log)], env=_env(), stdout=subprocess.PIPE, text=True)
    holder.stdout.readline()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    code, err = env.cli("evaluate", str(env.ckpt), "--dataset", "snli-test", "-n", "6", "--results", str(results))
    return code, None if code == 0 else b.last_line(err)


# ---------------------------------------------------------------- E: clear messages


def unknown_backbone(env):
    b = _cases()
    out = env.fresh("backbone") / "ckpt"
    code, err = env.cli("train", "--method", "standard", "--backbone", "minilm-l7", "--max-train", "8", "--max-dev",
                        "8", "--output", str(out))
    held = b.message(code, err, "unknown backbone 'minilm-l7'")
    return code, held[1] or ("an empty output folder was left" if out.exists() else None)


def damaged_gz(env):
    b = _cases()
    root = env.fresh("data")
    (root / "snli").mkdir()
    source = Path(os.environ["INFOBENCH_DATA"]) / "snli" / "snli_1.0_test.jsonl.gz"
    (root / "snli" / source.name).write_bytes(source.read_bytes()[:20000])
    saved, os.environ["INFOBENCH_DATA"] = os.environ["INFOBENCH_DATA"], str(root)
    try:
        return b.message(*env.cli("evaluate", str(env.ckpt), "--dataset", "snli-test", "-n", "4", "--results",
                                  str(root / "r")), "damaged or truncated compressed file", source.name)
    finally:
        os.environ["INFOBENCH_DATA"] = saved


def damaged_log_line(env):
    b = _cases()
    results = env.evaluated("damaged-line")
    log = next((results / "records").glob("*.examples.jsonl"))
    lines = log.read_text().splitlines()
    lines[2] = "{not json" + lines[2][9:]
    log.write_text("\n".join(lines) + "\n")
    before = b.snapshot(results)
    return b.message(*env.cli("evaluate", str(env.ckpt), "--dataset", "snli-test", "-n", "4", "--results",
                              str(results)), f"{log}:3", unchanged=(before, results))


def disk_full(command: str):
    def run(env):
        b = _cases()
        disk = env.fresh(f"disk-{command}")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True,
                              text=True)
        if done.returncode != 0:
            return None, f"cannot mount a tiny tmpfs here (not root?): {done.stderr.strip()[:100]}"
        try:
            results = disk / "r"
            shutil.copytree(env.evaluated(f"disk-src-{command}"), results)
            env.cli("leaderboard", "--results", str(results), "--no-plots", "--readme", str(disk / "x.md"))
            before, page = b.snapshot(results), (results / "leaderboard.md").read_bytes()
            with open(disk / "filler", "wb", buffering=0) as handle:
                try:
                    while True:
                        handle.write(b"\0" * 512)
                except OSError:
                    pass
            if command == "evaluate":
                code, err = env.cli("evaluate", str(env.ckpt), "--dataset", "snli-test", "-n", "9", "--results",
                                    str(results))
            else:
                code, err = env.cli("leaderboard", "--results", str(results), "--no-plots", "--task", "nli",
                                    "--readme", str(disk / "x.md"))
            held = b.message(code, err, "no space left on the device while", str(results))
            kept = {k: v for k, v in b.snapshot(results).items() if "n9" not in k} == before and \
                (results / "leaderboard.md").read_bytes() == page
            return code, held[1] or (None if kept else "old files changed")
        finally:
            subprocess.run(["umount", "-l", str(disk)], check=False)
    return run


def deep_record(skip: bool):
    def run(env):
        b = _cases()
        results = env.evaluated(f"deep-{skip}")
        depth = 100_000
        (results / "records" / "deep.json").write_text('{"a": ' + "[" * depth + "]" * depth + "}")
        code, err = env.cli("leaderboard", "--results", str(results), "--no-plots", "--readme", str(results / "x.md"),
                            *(["--skip-invalid"] if skip else []))
        if skip:
            return code, None if code == 0 else b.last_line(err)
        return code, None if "nested too deeply" in err else b.last_line(err)
    return run


def output_is_file(env):
    b = _cases()
    taken = env.fresh("taken") / "results"
    taken.write_text("x")
    return b.message(*env.cli("evaluate", str(env.ckpt), "--dataset", "snli-test", "--results", str(taken)),
                     "is an existing file, not a folder")


def cuda_without_cuda(env):
    import torch

    b = _cases()
    if torch.cuda.is_available():
        return 2, None  # nothing to refuse on a CUDA machine; the check is the same code path
    return b.message(*env.cli("attack", str(env.ckpt), "--recipe", "pwws", "--device", "cuda"), "no CUDA device")


# ---------------------------------------------------------------- F: leaderboard


def markdown_fields(env):
    b = _cases()
    results = b._hostile_record(env, "markdown", checkpoint__model_id="<script>alert(1)</script>",
                                evaluation__dataset='<img src=x onerror="alert(1)">', checkpoint__backbone="a|b|c")
    readme = results / "README.md"
    readme.write_text("<!-- leaderboard:start -->\n<!-- leaderboard:end -->\n")
    code, err = env.cli("leaderboard", "--results", str(results), "--no-plots", "--readme", str(readme))
    for page in (results / "leaderboard.md", readme):
        text = page.read_text()
        rows = [line for line in text.splitlines() if line.startswith("|")]
        if "<script" in text or "<img" in text or len({r.replace("\\|", "").count("|") for r in rows}) != 1:
            return code, f"{page.name}: raw HTML or a broken table"
    return code, None


def wrong_type(field: str, value):
    def run(env):
        b = _cases()
        results = b._hostile_record(env, f"type-{field}", **{field: value})
        argv = ["leaderboard", "--results", str(results), "--no-plots", "--readme", str(results / "x.md")]
        code, err = env.cli(*argv)
        if "must be a whole number" not in err:
            return code, f"accepted: {b.last_line(err)}"
        env.cli(*argv, "--skip-invalid")
        header = next(x for x in (results / "leaderboard.md").read_text().splitlines() if x.startswith("|"))
        return code, None if str(value) not in header else "became a column header"
    return run


def leftover_tmp(env):
    results = env.evaluated("leftover")
    tmp = results / ".leaderboard.md.a1b2c3.tmp"
    tmp.write_text("half")
    code, err = env.cli("leaderboard", "--results", str(results), "--no-plots", "--readme", str(results / "x.md"))
    return code, None if not tmp.exists() else "temp file left"


# ---------------------------------------------------------------- G: recipe folders


def recipe_folder(env, failing: bool):
    folder = env.fresh("recipes")
    marker = folder / "other-ran"
    (folder / "wanted.py").write_text('NAME = "wanted"\nPAPER = "-"\nRESOURCES = ()'
                                      '\n\ndef build(w, r, query_budget=None):\n    return None\n')
    (folder / "other.py").write_text(f"open({str(marker)!r}, 'w').write('x')\nraise RuntimeError('boom')\n")
    if failing:
        return _cases().message(*env.cli("recipes", "--recipes-dir", str(folder)), "other.py", "RuntimeError: boom")
    from attacks.registry import get_recipe

    get_recipe("wanted", [str(folder)])
    return 0, None if not marker.exists() else "other.py was imported for --recipe wanted"


def recipe_help(env):
    out = subprocess.run([sys.executable, "-m", "benchmark.cli", "attack", "--help"], env=_env(), capture_output=True,
                         text=True).stdout
    return 0, None if "Python code" in " ".join(out.split()) else "--help does not say a recipe folder runs code"


def _more():
    from hostile_cases import Case

    flag = bad_flag
    ck = lambda e: str(e.ckpt)  # noqa: E731
    return [
        Case("C", "attack over a finished log from other weights (retrained folder)", 2, attack_over_other_weights),
        Case("C", "evaluation log without a header line", 2, headerless_eval_log),
        Case("C", "evaluate --batch-size -3", 2, flag(lambda e: ["evaluate", ck(e), "--dataset", "snli-test", "-n",
                                                                 "4", "--batch-size", "-3"], "--batch-size")),
        Case("C", "label_names reordered in card.json", 2, label_order),
        Case("C", "train --resume with another --seed and --lr", 2, resume_changed),
        Case("D", "two identical attacks on one results folder", 2, two_writers("attack")),
        Case("D", "two identical evaluates on one results folder", 2, two_writers("evaluate")),
        Case("D", "lock left by a SIGKILLed writer is taken over", 0, stale_lock),
        Case("E", "--backbone minilm-l7", 2, unknown_backbone),
        Case("E", "train --seed -1", 2, flag(lambda e: ["train", "--method", "standard", "--seed", "-1"], "--seed")),
        Case("E", "truncated .jsonl.gz dataset", 2, damaged_gz),
        Case("E", "damaged line in the middle of a per-example log", 2, damaged_log_line),
        Case("E", "disk full during evaluate", 2, disk_full("evaluate")),
        Case("E", "disk full during leaderboard", 2, disk_full("leaderboard")),
        Case("E", "record nested 100,000 deep", 2, deep_record(skip=False)),
        Case("E", "record nested 100,000 deep, --skip-invalid", 0, deep_record(skip=True)),
        Case("E", "evaluate --batch-size 0", 2, flag(lambda e: ["evaluate", ck(e), "--dataset", "snli-test",
                                                                "--batch-size", "0"], "--batch-size")),
        Case("E", "attack --query-budget -5", 2, flag(lambda e: ["attack", ck(e), "--recipe", "pwws",
                                                                 "--query-budget", "-5"], "--query-budget")),
        Case("E", "attack --threads -1", 2, flag(lambda e: ["attack", ck(e), "--recipe", "pwws", "--threads", "-1"],
                                                 "--threads")),
        Case("E", "attack --device cuda without CUDA", 2, cuda_without_cuda),
        Case("E", "--results is an existing file", 2, output_is_file),
        Case("F", "<script>, <img onerror> and | from records in leaderboard.md and README", 0, markdown_fields),
        Case("F", "a string where counts.n belongs", 2, wrong_type("counts__n", "many-rows")),
        Case("F", "a string where seed belongs", 2, wrong_type("checkpoint__seed", "forty-two")),
        Case("F", "leftover .leaderboard.md.*.tmp after a kill", 0, leftover_tmp),
        Case("G", "--recipe NAME imports only that recipe's file", 0, lambda e: recipe_folder(e, failing=False)),
        Case("G", "a recipe file that raises is named with its error", 2, lambda e: recipe_folder(e, failing=True)),
        Case("G", "--help says a recipe folder runs code", 0, recipe_help),
        Case("E", "an unexpected error: one message, traceback in a log file", 1, crash_handler),
    ]


def crash_handler(env):
    """A fault below the CLI stands in for a bug: the user sees one message and the path of the traceback."""
    from benchmark.records import adversarial  # every dataset an evaluation reads comes through it

    original = adversarial.load_registered
    adversarial.load_registered = lambda name: (_ for _ in ()).throw(RuntimeError("injected fault"))
    try:
        code, err = env.cli("evaluate", str(env.ckpt), "--dataset", "snli-test", "-n", "2", "--results",
                            str(env.root / "crash"))
    finally:
        adversarial.load_registered = original
    lines = err.strip().splitlines()
    if len(lines) != 2 or "internal error: RuntimeError: injected fault" not in lines[0]:
        return code, f"unexpected output: {err[-300:]}"
    log = Path(lines[1].split("the full traceback is in ")[1].split(";")[0])
    return code, None if "Traceback" in log.read_text() else "no traceback in the log"


MORE_CASES = _more()
