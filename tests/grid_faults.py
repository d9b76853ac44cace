"""Fault injection for the grid: kill a worker in the middle of an attack shard.

Pass an instance as `run_grid(..., on_event=...)` to check that a run survives losing a
worker (Ray restarts the actor and reruns the shard, which resumes from its log). Used by
the grid tests and by scripts/bench_grid.py.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path


class KillWorkerMidShard:
    """On the first attack shard sent to a worker, SIGKILL that worker once the shard has logged one example.

    After the kill, `killed` holds the worker's pid, the shard's task id, the time, and the
    example lines its log held at that moment (`logged`).
    """

    def __init__(self, results: Path, timeout: float = 240.0):
        self.results, self.timeout = results, timeout
        self.killed: dict = {}
        self.thread: threading.Thread | None = None

    def __call__(self, event: dict) -> None:
        if event["event"] == "submitted" and "shard" in event["task"] and self.thread is None:
            self.thread = threading.Thread(target=self._watch, args=(event,), daemon=True)
            self.thread.start()

    def _watch(self, event: dict) -> None:
        from benchmark.records import example_log_path

        log = example_log_path(self.results, event["task"])
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            lines = log.read_bytes().splitlines() if log.is_file() else []
            if len(lines) >= 2:  # the header and one example
                os.kill(event["pid"], signal.SIGKILL)
                self.killed = {"pid": event["pid"], "task": event["task"], "at": time.time(), "logged": lines[1:]}
                return
            time.sleep(0.01)
