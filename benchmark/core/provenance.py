"""Where a record or a checkpoint card comes from: package versions, git commit, time of writing."""

from __future__ import annotations

import datetime
import platform
import subprocess
from pathlib import Path


def package_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    names = ("infobench", "torch", "transformers", "datasets", "textattack", "accelerate", "numpy")
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def git_commit() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                              cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
