"""The 59 cases of the hostile-user pass (issue 14), run by scripts/hostile_pass.py.

Each case function takes the pass's Env and returns (exit code, None when the expectation held,
else the reason). Sections: A kills and resume, B refusals that held before, C silent wrong
numbers, D one writer per run, E clear messages, F leaderboard, G recipe folders.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO)}


@dataclass
class Case:
    section: str
    name: str
    expect: int
    run: Callable
    open_reason: str | None = None


def snapshot(results: Path) -> dict:
    folder = Path(results) / "records"
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*"))} if folder.is_dir() else {}


def last_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.startswith("infobench")]
    return lines[-1] if lines else err.strip()[-300:]


def message(code: int, err: str, *needles: str, unchanged: tuple | None = None) -> tuple[int, str | None]:
    """Held when the last message line holds every needle (and `unchanged` = (before, results) still matches)."""
    text = last_line(err)
    missing = [n for n in needles if n not in text]
    if missing:
        return code, f"message lacks {missing}: {text[:300]}"
    if unchanged is not None and snapshot(unchanged[1]) != unchanged[0]:
        return code, "records changed"
    return code, None


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except OSError:
        return 0


def _kill_when(command: list[str], ready: Callable[[], bool], timeout: float = 600) -> bool:
    """Start `command`, SIGKILL it once ready(); True if it was still running when killed."""
    process = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while process.poll() is None and not ready() and time.monotonic() < deadline:
        time.sleep(0.02)
    alive = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    return alive


def _cli_cmd(*argv: str) -> list[str]:
    return [sys.executable, "-m", "benchmark.cli", "--quiet", *argv]


def _strip(record: dict) -> dict:
    from benchmark.records import strip_volatile

    return strip_volatile({**record, "checkpoint": {**record["checkpoint"], "path": None}})


def _only_record(results: Path, pattern: str = "*.json") -> dict:
    from benchmark.records import load_record

    (path,) = sorted((results / "records").glob(pattern))
    return load_record(path)


# ---------------------------------------------------------------- A: kill -9 and resume


def kill_train(env):
    argv = ["train", "--method", "standard", "--backbone", env.backbone, "--max-train", "240", "--batch-size", "4",
            "--epochs", "1", "--max-length", "32", "--max-dev", "8", "--save-every", "5"]
    killed, straight = env.fresh("train-killed") / "ckpt", env.fresh("train-straight") / "ckpt"
    if not _kill_when(_cli_cmd(*argv, "--output", str(killed)), lambda: (killed / "train_state").is_dir()):
        return None, "the run ended before the kill"
    code, err = env.cli(*argv, "--output", str(killed), "--resume")
    assert env.cli(*argv, "--output", str(straight))[0] == 0
    same = [json.loads((p / "card.json").read_text())["weights_sha256"] for p in (killed, straight)]
    return code, None if same[0] == same[1] else "resumed weights differ from the unbroken run's"


def kill_evaluate(env):
    killed, straight = env.fresh("eval-killed"), env.fresh("eval-straight")
    argv = ["evaluate", str(env.ckpt), "--dataset", "snli-test", "-n", "2000"]
    log = killed / "records" / "tiny-pass__evaluate__snli-test__n2000-s0.examples.jsonl"
    if not _kill_when(_cli_cmd(*argv, "--results", str(killed)), lambda: _lines(log) > 300):
        return None, "the run ended before the kill"
    code, _ = env.cli(*argv, "--results", str(killed))
    env.cli(*argv, "--results", str(straight))
    return code, None if _strip(_only_record(killed)) == _strip(_only_record(straight)) else "records differ"


def kill_attack(env):
    killed, straight = env.fresh("attack-killed"), env.fresh("attack-straight")
    argv = ["attack", str(env.ckpt), "--recipe", "pwws", "--dataset", "snli-test", "-n", "8", "--query-budget", "15"]
    log = killed / "records" / "tiny-pass__attack__snli-test__pwws-n8-s0-b15.examples.jsonl"
    if not _kill_when(_cli_cmd(*argv, "--results", str(killed)), lambda: _lines(log) >= 4):
        return None, "the run ended before the kill"
    code, _ = env.cli(*argv, "--results", str(killed))
    env.cli(*argv, "--results", str(straight))
    return code, None if _strip(_only_record(killed)) == _strip(_only_record(straight)) else "records differ"


def kill_leaderboard(env):
    """A kill mid-write leaves a temp file beside the page; the rerun removes it and writes the same page."""
    results = env.evaluated("board-killed")
    argv = ["leaderboard", "--results", str(results), "--no-plots", "--readme", str(results / "no-readme.md")]
    env.cli(*argv)
    clean = (results / "leaderboard.md").read_bytes()
    (results / ".leaderboard.md.k1ll3d.tmp").write_bytes(clean[:40])
    (results / "leaderboard.md").write_bytes(clean[:40])  # even a damaged page is simply rewritten
    code, err = env.cli(*argv)
    ok = (results / "leaderboard.md").read_bytes() == clean and not list(results.glob(".*.tmp"))
    return code, None if ok else "page differs or a temp file remains"


# ---------------------------------------------------------------- B: refusals (held before; keep them)


def _copy_ckpt(env, name: str) -> Path:
    import shutil

    target = env.fresh(name) / "ckpt"
    shutil.copytree(env.ckpt, target)
    return target


def pickle_refused(env):
    ckpt = _copy_ckpt(env, "pickle")
    (ckpt / "pytorch_model.bin").write_bytes(b"\x80\x04not really")
    return message(*env.cli("evaluate", str(ckpt), "--dataset", "snli-test", "-n", "2", "--results",
                            str(ckpt.parent / "r")), "refusing pickle weight files")


def truncated_weights(env):
    ckpt = _copy_ckpt(env, "truncated")
    weights = ckpt / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:5000])
    return message(*env.cli("evaluate", str(ckpt), "--dataset", "snli-test", "-n", "2", "--results",
                            str(ckpt.parent / "r")), "sha256")


def corrupt_card(env):
    ckpt = _copy_ckpt(env, "card")
    (ckpt / "card.json").write_text('{"model_id": ')
    return message(*env.cli("evaluate", str(ckpt), "--dataset", "snli-test", "--results", str(ckpt.parent / "r")),
                   "card.json")


def simple(argv_of: Callable, *needles: str):
    def run(env):
        return message(*env.cli(*argv_of(env)), *needles)
    return run


def grid_spec(text: str, *needles: str):
    def run(env):
        folder = env.fresh("grid")
        spec = folder / "spec.toml"
        spec.write_text(text.replace("CKPT", str(env.ckpt)))
        return message(*env.cli("grid", str(spec), "--dry-run", "--results", str(folder / "r")), *needles)
    return run


def other_weights_with_header(env):
    results = env.evaluated("other-weights")
    log = next((results / "records").glob("*.examples.jsonl"))
    lines = log.read_text().splitlines()
    header = json.loads(lines[0])
    header["header"]["weights_sha256"] = "0" * 64
    log.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    before = snapshot(results)
    return message(*env.cli("evaluate", str(env.ckpt), "--dataset", "snli-test", "-n", "4", "--results",
                            str(results)), "different weights_sha256", unchanged=(before, results))


def torn_line_resumes(env):
    results = env.evaluated("torn")
    log = next((results / "records").glob("*.examples.jsonl"))
    with open(log, "a") as handle:
        handle.write('{"index": 1, "corr')
    code, err = env.cli("evaluate", str(env.ckpt), "--dataset", "snli-test", "-n", "4", "--results", str(results))
    return code, None if code == 0 and log.read_text().endswith("}\n") else f"torn line kept: {err[-200:]}"


def rerun_keeps_bytes(env):
    results = env.evaluated("rerun")
    before = snapshot(results)
    code, _ = env.cli("evaluate", str(env.ckpt), "--dataset", "snli-test", "-n", "4", "--results", str(results))
    return code, None if snapshot(results) == before else "records rewritten"


def html_escaped(env):
    results = _hostile_record(env, "html", checkpoint__model_id="<script>alert(1)</script>")
    code, err = env.cli("leaderboard", "--results", str(results), "--no-plots", "--readme", str(results / "x.md"))
    text = (results / "leaderboard.html").read_text() if code == 0 else ""
    return code, None if "<script>alert" not in text and "&lt;script&gt;" in text else f"not escaped {err[-200:]}"


def finished_checkpoint(env):
    return message(*env.cli("train", "--method", "standard", "--backbone", env.backbone, "--output", str(env.ckpt)),
                   "already holds a finished checkpoint")


def interrupted_without_resume(env):
    out = env.fresh("no-resume") / "ckpt"
    (out / "train_state").mkdir(parents=True)
    return message(*env.cli("train", "--method", "standard", "--backbone", env.backbone, "--max-train", "8",
                            "--max-dev", "8", "--output", str(out)), "pass --resume")


def bad_record(env, name: str, change: dict, needle: str, skip: bool = False):
    results = _hostile_record(env, name, **change)
    argv = ["leaderboard", "--results", str(results), "--no-plots", "--readme", str(results / "x.md")]
    code, err = env.cli(*argv, *(["--skip-invalid"] if skip else []))
    if skip:
        return code, None if code == 0 else err[-300:]
    return code, None if needle in err else f"message lacks {needle!r}: {err[-300:]}"


def _hostile_record(env, name: str, **changes) -> Path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from hostile_records import plant_hostile_record

    return plant_hostile_record(env.evaluated(name), **changes)


from hostile_cases_more import MORE_CASES  # noqa: E402  (sections C-G)

CKPT = lambda env: str(env.ckpt)  # noqa: E731
CASES = [
    Case("A", "kill -9 during train, then --resume: same weights as an unbroken run", 0, kill_train),
    Case("A", "kill -9 during evaluate, rerun: same record as an unbroken run", 0, kill_evaluate),
    Case("A", "kill -9 during attack, rerun: same record as an unbroken run", 0, kill_attack),
    Case("A", "kill -9 during leaderboard (its leftovers), rerun: same page, no temp file", 0, kill_leaderboard),
    Case("B", "pickle weights next to safetensors are refused", 2, pickle_refused),
    Case("B", "truncated weights are refused (sha256 mismatch)", 2, truncated_weights),
    Case("B", "corrupt card.json is named", 2, corrupt_card),
    Case("B", "missing checkpoint folder", 2, simple(lambda e: ["evaluate", str(e.root / "nope"), "--dataset",
                                                                 "snli-test"], "nope")),
    Case("B", "unknown dataset", 2, simple(lambda e: ["evaluate", CKPT(e), "--dataset", "snli-tset"],
                                           "unknown dataset 'snli-tset'")),
    Case("B", "unknown recipe", 2, simple(lambda e: ["attack", CKPT(e), "--recipe", "pwwz"], "unknown recipe")),
    Case("B", "unknown recipe parameter", 2, simple(lambda e: ["attack", CKPT(e), "--recipe", "pwws", "--param",
                                                               "nope=1"], "has no parameter")),
    Case("B", "--shard 3/2", 2, simple(lambda e: ["attack", CKPT(e), "--recipe", "pwws", "--shard", "3/2"],
                                       "need 0 <= i < N")),
    Case("B", "--merge before the shards ran", 2, simple(lambda e: ["attack", CKPT(e), "--recipe", "pwws", "-n", "4",
                                                                    "--merge", "2", "--results", str(e.root / "m2")],
                                                         "run that shard first")),
    Case("B", "QA dataset on an NLI checkpoint", 2, simple(lambda e: ["evaluate", CKPT(e), "--dataset", "squad-dev",
                                                                      "-n", "2", "--results", str(e.root / "q")],
                                                           "extractive QA")),
    Case("B", "attack on a QA dataset", 2, simple(lambda e: ["attack", CKPT(e), "--recipe", "pwws", "--dataset",
                                                             "squad-dev", "-n", "2"], "attacks run on NLI")),
    Case("B", "unknown training method", 2, simple(lambda e: ["train", "--method", "infobret"], "infobret")),
    Case("B", "train into a finished checkpoint", 2, finished_checkpoint),
    Case("B", "train over an interrupted run without --resume", 2, interrupted_without_resume),
    Case("B", "evaluation log (with header) from other weights", 2, other_weights_with_header),
    Case("B", "torn last log line after a crash: resumes cleanly", 0, torn_line_resumes),
    Case("B", "rerunning a finished evaluation keeps its records byte for byte", 0, rerun_keeps_bytes),
    Case("B", "record fields escaped in leaderboard.html", 0, html_escaped),
    Case("B", "leaderboard without a results folder", 2, simple(lambda e: ["leaderboard", "--results",
                                                                           str(e.root / "none")], "no results")),
    Case("B", "invalid record JSON stops the leaderboard, file named", 2,
         lambda e: bad_record(e, "badjson", {"metrics__accuracy": "high"}, "must be a number")),
    Case("B", "the same with --skip-invalid goes on", 0,
         lambda e: bad_record(e, "badjson-skip", {"metrics__accuracy": "high"}, "", skip=True)),
    Case("B", "metric out of range", 2, lambda e: bad_record(e, "range", {"metrics__accuracy": 7.5},
                                                             "not a fraction")),
    Case("B", "grid spec that is not TOML", 2, grid_spec("checkpoints = [", "spec.toml")),
    Case("B", "grid spec with an unknown key", 2, grid_spec('checkpoints = ["CKPT"]\nbogus = 1\n'
                                                            '[[evaluate]]\ndataset = "snli-test"\n', "bogus")),
    Case("B", "grid spec naming a missing checkpoint", 2, grid_spec('checkpoints = ["/nope/ckpt"]\n[[evaluate]]\n'
                                                                    'dataset = "snli-test"\n', "nope")),
    Case("B", "grid spec with an unknown dataset", 2, grid_spec('checkpoints = ["CKPT"]\n[[evaluate]]\n'
                                                                'dataset = "snli-tset"\n', "snli-tset")),
    *MORE_CASES,
]
