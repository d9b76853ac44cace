"""Benchmark suites: TOML data (a grid spec without checkpoints) run by `infobench benchmark`.

A suite file has `description`, `task` (nli or qa), an optional [execution] table and
[[evaluate]] / [[attack]] tables exactly as in a grid spec (docs/grid.md). Built-in suites are
the *.toml files beside this module; QA checkpoints get `squad-<suite>` for a built-in name.
"""

from __future__ import annotations

from pathlib import Path

from benchmark.core.errors import UserError

SUITES_DIR = Path(__file__).resolve().parent
SUITE_KEYS = ("description", "task")


def builtin_suites() -> list[str]:
    return sorted(p.stem for p in SUITES_DIR.glob("*.toml") if not p.stem.startswith("squad-"))


def suite_path(suite: str, task: str) -> Path:
    """A built-in name (quick, standard, full; squad-NAME for QA checkpoints) or a TOML file."""
    if suite in builtin_suites():
        return SUITES_DIR / (f"squad-{suite}.toml" if task == "qa" else f"{suite}.toml")
    path = Path(suite)
    if path.suffix.lower() == ".toml" and path.is_file():
        return path
    raise UserError(f"unknown suite {suite!r}: use one of {', '.join(builtin_suites())} or a .toml file")


def load_suite(suite: str, task: str) -> tuple[dict, Path]:
    """(the suite's grid tables, its file); a suite written for the other task is refused."""
    from benchmark.grid.spec import _toml_reader

    path = suite_path(suite, task)
    tomllib = _toml_reader()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise UserError(f"{path}: not a readable TOML suite ({err})") from None
    if "checkpoints" in raw:
        raise UserError(f"{path}: a suite names no checkpoints (the command line gives the one to benchmark)")
    declared = raw.get("task", task)
    if declared != task:
        raise UserError(f"{path}: a {declared} suite, but the checkpoint is a {task} model")
    return {k: v for k, v in raw.items() if k not in SUITE_KEYS}, path
