"""Kill a command with SIGKILL at several random points of its progress, as a crash would."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from typing import Callable, Sequence


def random_kill_points(seed: int, low: int, high: int, kills: int) -> list[int]:
    """`kills` distinct progress values in [low, high), ascending: where each run is to be killed."""
    return sorted(random.Random(seed).sample(range(low, high), kills))


def kill_at_progress_points(command: Sequence[str], progress: Callable[[], int], points: Sequence[int],
                            seed: int, timeout: float = 300, **popen_kwargs) -> list[int]:
    """Run `command` once per point and SIGKILL it once `progress()` reaches that point.

    A random extra delay of up to 50 ms after the point is reached lets a kill land mid-write
    as well as between writes. Returns the progress seen after each kill; a run that finishes
    before its point is reached is reported as a failed assertion (the kill must land mid-run).
    """
    jitter = random.Random(seed)
    seen = []
    for point in points:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **popen_kwargs)
        deadline = time.monotonic() + timeout
        while process.poll() is None and progress() < point and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(jitter.uniform(0, 0.05))
        alive = process.poll() is None
        process.send_signal(signal.SIGKILL)
        _, err = process.communicate()
        assert alive, f"the run ended before its kill point {point}: {err.decode()[-2000:]}"
        seen.append(progress())
    return seen
