"""Rerun the hostile-user pass of issue 14: 59 cases a careless or unlucky user tries against the CLI.

Each case runs real commands on a tiny random BERT checkpoint built here and real SNLI examples
from $INFOBENCH_DATA, and checks the exit code plus an expectation (message, files unchanged,
same record after a kill). Prints one line per case and the totals: tried, held, open (with why).

    python scripts/hostile_pass.py [--only SUBSTRING] [--keep DIR]

Most cases call the CLI in this process (fast); kills and concurrent writers start real processes.
The reconstruction follows the issue's list; cases the issue names only as a group ("bad grid
specs were caught") are spelled out as the concrete commands tried here.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
CARD = {"model_id": "tiny-pass", "task": "nli", "label_names": ["entailment", "neutral", "contradiction"],
        "method": "standard", "hyperparameters": {"max_length": 48}, "seed": 0}
ATTACK = ["--recipe", "pwws", "--dataset", "snli-test", "-n", "3", "--seed", "0", "--query-budget", "15"]


class Env:
    """The work folder, the tiny checkpoint, and ways to run the CLI."""

    def __init__(self, root: Path):
        self.root = root
        self.backbone = str(_tiny_backbone(root / "backbone"))
        self.ckpt = _tiny_checkpoint(self.backbone, root / "ckpt", seed=0)
        self.counter = 0

    def fresh(self, name: str) -> Path:
        self.counter += 1
        path = self.root / f"{self.counter:02d}-{name}"
        path.mkdir(parents=True)
        return path

    def cli(self, *argv: str) -> tuple[int, str]:
        """(exit code, stderr) of `infobench ARGV` run in this process."""
        from benchmark.cli import main

        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main(["--quiet", *argv])
            except SystemExit as exit_:
                code = exit_.code
        return code, err.getvalue()

    def proc(self, *argv: str, timeout: float = 600) -> tuple[int, str]:
        done = subprocess.run([sys.executable, "-m", "benchmark.cli", "--quiet", *argv], env=ENV,
                              capture_output=True, text=True, timeout=timeout)
        return done.returncode, done.stderr

    def evaluated(self, name: str, n: str = "4") -> Path:
        results = self.fresh(name)
        code, err = self.cli("evaluate", str(self.ckpt), "--dataset", "snli-test", "-n", n, "--results", str(results))
        assert code == 0, err
        return results


def _tiny_backbone(out: Path) -> Path:
    import torch
    import transformers

    from models.backbones import resolve_backbone

    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=30522, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=128, max_position_embeddings=512)
    transformers.BertModel(config).save_pretrained(out, safe_serialization=True)
    transformers.AutoTokenizer.from_pretrained(resolve_backbone("minilm-l6")).save_pretrained(out)
    return out


def _tiny_checkpoint(backbone: str, out: Path, seed: int) -> Path:
    import torch

    from models.backbones import build_task_model
    from models.checkpoint import save_checkpoint

    torch.manual_seed(seed)
    model, tokenizer = build_task_model(backbone, "nli", 0.1, 0.0)
    save_checkpoint(model, tokenizer, {**CARD, "backbone": backbone}, out)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only cases whose name contains this")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temp folder)")
    args = parser.parse_args()
    from hostile_cases import CASES  # the case table, kept apart so both files stay short
    root = args.keep or Path(tempfile.mkdtemp(prefix="hostile-pass-"))
    os.environ["INFOBENCH_HOME"] = str(root / "home")
    ENV["INFOBENCH_HOME"] = str(root / "home")
    env = Env(root)
    cases = [c for c in CASES if not args.only or args.only in c.name]
    held, open_ = 0, []
    for number, case in enumerate(cases, start=1):
        started = time.perf_counter()
        if case.open_reason:
            code, why = None, case.open_reason
        else:
            try:
                code, why = case.run(env)
            except Exception as err:  # a case that crashes is open, with the reason
                code, why = None, f"case raised {type(err).__name__}: {str(err)[:300]}"
            if why is None and code != case.expect:
                why = f"exit {code}, expected {case.expect}"
        held += why is None
        if why is not None:
            open_.append((number, case, why))
        verdict = "held" if why is None else "OPEN"
        print(f"{number:2d} [{case.section}] {verdict:4s} exit {code!s:>4} (want {case.expect}) "
              f"{time.perf_counter() - started:5.1f}s  {case.name}" + (f"\n      -> {why}" if why else ""),
              flush=True)
    print(f"\ncases tried: {len(cases)}, held: {held}, open: {len(open_)}")
    for number, case, why in open_:
        print(f"  open {number}: {case.name}: {why}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if not open_ else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
