"""The layer contract (pyproject's [tool.importlinter], docs/architecture.md) holds, and it bites.

`lint-imports` (import-linter) reads the contract from pyproject.toml and the import graph from
the source; the second test plants an upward import in a copy of the packages and checks that
the same contract then fails naming it, so a passing first test means something.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("benchmark", "attacks", "models")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """Run import-linter on the packages under `root` with `root`'s pyproject.toml."""
    script = Path(sys.executable).with_name("lint-imports")
    command = [str(script)] if script.is_file() else [sys.executable, "-c",
                                                       "import sys; from importlinter.cli import lint_imports_command;"
                                                       " sys.exit(lint_imports_command())"]
    env = {**os.environ, "PYTHONPATH": str(root)}  # these sources, not an installed copy
    return subprocess.run([*command, "--no-cache"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=120)


def test_layer_contract_is_kept():
    done = lint_imports(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    for name in PACKAGES:
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    errors = tmp_path / "benchmark" / "core" / "errors.py"
    errors.write_text(errors.read_text() + "\n\ndef _upward():\n    from models.checkpoint import read_card\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert "benchmark.core.errors -> models.checkpoint" in done.stdout
