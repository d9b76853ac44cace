"""The Ray side of `infobench grid`: start or join a cluster, run tasks on worker actors.

Ray places the workers (actors declaring their CPUs and GPUs, spread over the nodes),
restarts one whose process dies and re-runs the task it was running; this module only
hands each idle worker its next task. A worker keeps the checkpoints it loaded (a few
at a time), and a worker is preferably given tasks on the checkpoint it already holds, so
a model is loaded once per worker, not once per shard. Tasks are resumable (the attack
runner and the evaluation log each example as it is done), so a re-run task redoes only
the examples that were in flight when its worker died.

Tasks write their files under the results folder as the single commands do, and return
the text of what they wrote; the driver copies it into its own results folder, so a
cluster without a shared filesystem still ends with every record in one place.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmark.core.errors import UserError

log = logging.getLogger(__name__)
MODELS_PER_WORKER = 2  # loaded checkpoints a worker keeps (MiniLM: ~90 MB each)
# Settings a worker on another node needs to find data and resources the way the driver does.
PROPAGATED_ENV = ("INFOBENCH_DATA", "INFOBENCH_HOME", "INFOBENCH_RECIPES_PATH", "NLTK_DATA", "TA_CACHE_DIR",
                  "HF_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TOKENIZERS_PARALLELISM")


@dataclass
class Task:
    """One unit of work: an attack shard, an unsharded attack, or an evaluation cell."""

    task_id: str
    checkpoint: str
    payload: dict  # what CellWorker.run needs (picklable)
    submitted: float = 0.0


@dataclass
class Outcome:
    """A finished task: its result dict, or the error that ended it after Ray's retries."""

    task: Task
    result: dict | None = None
    error: BaseException | None = None
    latency_s: float = 0.0  # driver-side submit -> result


@dataclass
class WorkerInfo:
    handle: object
    pid: int = 0
    node: str = ""
    host: str = ""
    holding: str | None = None  # checkpoint of its last task
    busy: bool = False
    alive: bool = True
    pids: list[int] = field(default_factory=list)


class CellWorker:
    """A Ray actor: runs grid tasks in the driver's folder, keeping loaded checkpoints."""

    def __init__(self, cwd: str, threads: int):
        if Path(cwd).is_dir():
            os.chdir(cwd)  # checkpoint and results paths are relative to it, as on the command line
        self._threads = threads
        self._models: OrderedDict = OrderedDict()
        self._loads = 0  # checkpoints loaded by this process so far

    def where(self) -> dict:
        import socket

        import ray

        return {"pid": os.getpid(), "node": ray.get_runtime_context().get_node_id(), "host": socket.gethostname()}

    def run(self, payload: dict) -> dict:
        from benchmark.grid.tasks import run_payload

        started = time.perf_counter()
        result = run_payload(payload, self._load)
        return {**result, **self.where(), "seconds": time.perf_counter() - started, "loads": self._loads}

    def _load(self, checkpoint: str):
        """(model, tokenizer, card), loaded once per worker and kept for the next task."""
        if checkpoint in self._models:
            self._models.move_to_end(checkpoint)
            return self._models[checkpoint]
        import torch

        from models.checkpoint import load_checkpoint

        torch.set_num_threads(self._threads)
        while len(self._models) >= MODELS_PER_WORKER:
            self._models.popitem(last=False)
        loaded = load_checkpoint(checkpoint)
        self._loads += 1
        if torch.cuda.is_available():
            loaded[0].to("cuda")
        self._models[checkpoint] = loaded
        return loaded


class RayEngine:
    """Start a local Ray (no address) or join a cluster; run tasks on a pool of CellWorker actors."""

    def __init__(self, execution, address: str | None = None, workers: int | None = None,
                 on_event: Callable[[dict], None] | None = None, max_workers: int | None = None):
        self.execution = execution
        self.address = address
        self.requested_workers = workers if workers is not None else execution.workers
        self.max_workers = max_workers  # no point in more workers than tasks
        self.on_event = on_event or (lambda event: None)
        self.workers: list[WorkerInfo] = []
        self.startup_s = 0.0
        self._owns_ray = False

    # ---- start and stop ----------------------------------------------------------------------

    def __enter__(self) -> RayEngine:
        import ray

        started = time.perf_counter()
        self._connect(ray)
        self._start_workers(ray)
        self.startup_s = time.perf_counter() - started
        return self

    def __exit__(self, *exc) -> None:
        import ray

        for worker in self.workers:
            try:
                ray.kill(worker.handle, no_restart=True)
            except Exception as err:  # already gone: nothing to stop
                log.debug("worker %d: %s", worker.pid, err)
        if self._owns_ray:
            ray.shutdown()

    def _connect(self, ray) -> None:
        if ray.is_initialized():
            log.info("using the Ray session this process already has")
            return
        if self.address:
            env = {k: os.environ[k] for k in PROPAGATED_ENV if k in os.environ}
            try:
                ray.init(address=self.address, log_to_driver=False, runtime_env={"env_vars": env})
            except ConnectionError as err:
                raise UserError(f"cannot reach the Ray cluster at {self.address} ({err}); start one with "
                                "`ray start --head` (see docs/grid.md)") from None
        else:
            per_worker = max(self.execution.cpus_per_worker, 1.0)
            count = self.requested_workers or max(1, int((os.cpu_count() or 1) // per_worker))
            self.requested_workers = min(count, self.max_workers or count)
            quiet = logging.getLogger().getEffectiveLevel() >= logging.WARNING  # `infobench --quiet`
            try:
                ray.init(num_cpus=max(1, math.ceil(self.requested_workers * self.execution.cpus_per_worker)),
                         log_to_driver=False, include_dashboard=False,
                         logging_level=logging.WARNING if quiet else logging.INFO)
            except Exception as err:  # Ray's own startup timeouts, on a machine too busy to meet them
                if "timed out during startup" not in str(err):
                    raise
                raise UserError(f"the local Ray did not start in time ({err}). On a busy machine start it once "
                                "yourself (`ray start --head --num-cpus N`), then pass --address auto") from None
        self._owns_ray = True

    def _start_workers(self, ray) -> None:
        capacity = self._cluster_capacity(ray)
        count = self.requested_workers or capacity
        if count > capacity:
            log.warning("%d workers asked for, but the cluster has room for %d now; starting %d", count, capacity,
                        capacity)
            count = capacity
        count = min(count, self.max_workers or count)
        execution = self.execution
        actor_class = ray.remote(CellWorker).options(
            num_cpus=execution.cpus_per_worker, num_gpus=execution.gpus_per_worker,
            max_restarts=execution.max_retries, max_task_retries=execution.max_retries,
            scheduling_strategy="SPREAD")
        threads = max(1, int(execution.cpus_per_worker))
        handles = [actor_class.remote(os.getcwd(), threads) for _ in range(count)]
        places = ray.get([handle.where.remote() for handle in handles])
        for index, (handle, place) in enumerate(zip(handles, places)):
            self.workers.append(WorkerInfo(handle=handle, pids=[place["pid"]], **place))
            self.on_event({"event": "worker", "worker": index, **place})

    def _cluster_capacity(self, ray) -> int:
        """Workers the cluster's resources hold at once (GPU-bound when workers ask for GPUs)."""
        resources = ray.cluster_resources()
        if self.execution.gpus_per_worker > 0:
            return max(1, int(resources.get("GPU", 0) // self.execution.gpus_per_worker))
        return max(1, int(resources.get("CPU", 1) // self.execution.cpus_per_worker))

    def nodes(self) -> list[str]:
        return sorted({w.node for w in self.workers if w.alive})

    # ---- run ---------------------------------------------------------------------------------

    def run(self, tasks: list[Task]) -> Iterator[Outcome]:
        """Yield each task's Outcome as it finishes; a worker that stays dead is dropped."""
        import ray

        pending, inflight = list(tasks), {}
        while pending or inflight:
            for index, worker in enumerate(self.workers):
                if worker.alive and not worker.busy and pending:
                    task = _take_next(pending, worker.holding, {w.holding for w in self.workers if w is not worker})
                    task.submitted = time.perf_counter()
                    inflight[worker.handle.run.remote(task.payload)] = (index, task)
                    worker.busy, worker.holding = True, task.checkpoint
                    self.on_event({"event": "submitted", "task": task.task_id, "worker": index, "pid": worker.pid,
                                   "node": worker.node})
            if not inflight:
                raise UserError(f"every grid worker died; {len(pending)} tasks were not run")
            ready, _ = ray.wait(list(inflight), num_returns=1)
            index, task = inflight.pop(ready[0])
            yield self._finish(ray, ready[0], index, task)

    def _finish(self, ray, ref, index: int, task: Task) -> Outcome:
        worker = self.workers[index]
        worker.busy = False
        latency = time.perf_counter() - task.submitted
        try:
            result = ray.get(ref)
        except ray.exceptions.ActorDiedError as err:  # restarts used up: this worker is gone for good
            worker.alive = False
            self.on_event({"event": "worker_lost", "worker": index, "pid": worker.pid})
            return Outcome(task=task, error=err, latency_s=latency)
        except Exception as err:  # the task itself failed (a UserError or a bug): report, go on
            return Outcome(task=task, error=err, latency_s=latency)
        if result["pid"] != worker.pid:  # Ray restarted the worker and ran the task again
            self.on_event({"event": "retried", "task": task.task_id, "worker": index, "old_pid": worker.pid,
                           "pid": result["pid"]})
            worker.pid, worker.node = result["pid"], result["node"]
            worker.pids.append(result["pid"])
        self.on_event({"event": "done", "task": task.task_id, "worker": index, "pid": result["pid"],
                       "node": result["node"]})
        return Outcome(task=task, result=result, latency_s=latency)


def _take_next(pending: list[Task], holding: str | None, held_elsewhere: set) -> Task:
    """Next task for a worker: one on the checkpoint it holds, else one on a checkpoint no other
    worker holds (so each checkpoint gets its own worker while there are enough), else the first."""
    for wanted in (lambda t: t.checkpoint == holding, lambda t: t.checkpoint not in held_elsewhere):
        for position, task in enumerate(pending):
            if wanted(task):
                return pending.pop(position)
    return pending.pop(0)
