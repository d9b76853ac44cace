"""Where the CLI's last-resort handler keeps the traceback of an unexpected error."""

from __future__ import annotations

import datetime
import os
import tempfile
from pathlib import Path


def crash_log_dir() -> Path:
    """$INFOBENCH_HOME/logs (default ~/.cache/infobench/logs), the home benchmark.resources uses."""
    home = Path(os.environ.get("INFOBENCH_HOME", os.path.expanduser("~/.cache/infobench")))
    return home / "logs"


def write_crash_log(trace: str, argv: list[str]) -> Path:
    """Write the traceback to a new file and return its path (the temp folder if the home is unwritable)."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    text = f"infobench {' '.join(argv)}\n{trace}"
    for folder in (crash_log_dir(), Path(tempfile.gettempdir())):
        path = folder / f"infobench-crash-{stamp}-{os.getpid()}.log"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return Path("(could not write a crash log)")
