"""One module per CLI command, found by listing this package.

Each module has `register(subparsers)` that adds its parser and sets `handler`;
heavy imports happen inside the handler, so `infobench --help` stays fast.
"""

import pkgutil


def command_modules() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_"))


# Torch CPU threads for commands that run a model. One by default: on a CPU shared with other jobs
# (a cluster node, a CI runner, this project's 2-core machines) a second intra-op thread waits on
# cores that others hold, and was measured 1.4-9.5x slower per attack query than one thread
# (scripts/bench_attacks.py, docs/performance.md). On a machine of your own, --threads 0 (torch's
# choice: one per core) or N is faster for large batches (evaluate, attacks on long texts).
DEFAULT_THREADS = 1


def add_threads_option(parser) -> None:
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help=f"torch CPU threads (default {DEFAULT_THREADS}, right for a shared machine; "
                             "0 = torch's choice, one per core; see docs/performance.md)")


def use_threads(threads: int) -> None:
    """Apply --threads (torch is imported here, by commands that are about to run a model anyway)."""
    from benchmark.core.errors import UserError

    if threads < 0:
        raise UserError(f"--threads must be 0 (torch's choice) or more, got {threads}")
    if threads:
        import torch

        torch.set_num_threads(threads)
