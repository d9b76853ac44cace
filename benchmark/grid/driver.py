"""`infobench grid SPEC`: checkpoints x evaluations, run on Ray, into the records the single commands write.

load_grid  -> the spec, checked (benchmark/grid_spec.py), and a plan per cell: the records it
              writes, its shards and how many examples are already logged;
run_grid   -> the cells not done yet, as tasks on Ray worker actors (benchmark/grid_ray.py):
              an attack cell is split into shards of `shard_size` examples (the attack runner's
              own sharding) merged at the end by `merge_attack_logs`; an evaluation cell is one
              task. Records that exist are skipped, logs resume, so a rerun continues where the
              last run stopped and a finished grid reruns without starting Ray.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmark import records
from benchmark.core.atomic import atomic_write_text
from benchmark.core.errors import UserError
from benchmark.grid.spec import Cell, GridSpec, load_spec

log = logging.getLogger(__name__)


@dataclass
class ShardPlan:
    index: int | None  # None: the cell runs unsharded (it fits in one shard)
    count: int
    n: int
    done: int
    record_id: str


@dataclass
class CellPlan:
    cell: Cell
    record_ids: list[str]  # records the cell writes; its own record is the last
    n: int
    done: int
    status: str  # done | partial | todo, then ran | failed after a run
    shards: list[ShardPlan] = field(default_factory=list)
    error: str | None = None


@dataclass
class GridRun:
    plans: list[CellPlan]
    wall_s: float = 0.0
    startup_s: float = 0.0
    workers: list[dict] = field(default_factory=list)  # pid, node, host of each worker
    tasks: list[dict] = field(default_factory=list)  # task_id, pid, node, seconds, latency_s
    retried: list[dict] = field(default_factory=list)


def load_grid(path, results_dir=None) -> tuple[GridSpec, list[CellPlan]]:
    """Read, check and plan a grid: every error a run could hit early is raised here."""
    grid = load_spec(path, results_dir)
    return grid, plan_grid(grid)


def plan_grid(grid: GridSpec) -> list[CellPlan]:
    from benchmark.records.adversarial import load_dataset

    loaded = {}

    def dataset(name):
        if name not in loaded:
            loaded[name] = load_dataset(name, grid.results_dir)
        return loaded[name]

    plans = [_plan_attack(grid, cell, dataset) if cell.kind == "attack" else _plan_evaluate(grid, cell, dataset)
             for cell in grid.cells]
    _check_duplicates(plans, grid.path)
    return plans


def attack_spec(grid: GridSpec, cell: Cell, shard=None):
    """The AttackSpec `infobench attack` builds from the same arguments."""
    from benchmark.attack.runner import AttackSpec

    execution = grid.execution
    return AttackSpec(checkpoint=Path(cell.checkpoint), recipe=cell.recipe, dataset=cell.dataset, n=cell.n,
                      seed=cell.seed, query_budget=cell.query_budget, recipe_params=dict(cell.params), shard=shard,
                      results_dir=grid.results_dir, recipes_dirs=grid.recipes_dirs, batch_size=execution.batch_size,
                      precision=execution.precision)


def _plan_attack(grid: GridSpec, cell: Cell, dataset) -> CellPlan:
    from attacks.registry import get_recipe
    from benchmark.attack.runner import attack_record_id
    from benchmark.data import sample_indices

    card = grid.cards[cell.checkpoint]
    recipe = get_recipe(cell.recipe, list(grid.recipes_dirs)).name
    rid = attack_record_id(card, attack_spec(grid, cell), recipe)
    total = len(sample_indices(len(dataset(cell.dataset)), cell.n, cell.seed))
    if _record_exists(grid, rid, card):
        return CellPlan(cell, [rid], n=total, done=total, status="done")
    count = max(1, math.ceil(total / grid.execution.shard_size))
    if count == 1:
        shards = [ShardPlan(None, 1, total, _logged(grid, rid, total), rid)]
    else:
        shards = []
        for index in range(count):
            shard_rid = attack_record_id(card, attack_spec(grid, cell, (index, count)), recipe)
            size = len(range(index, total, count))
            shards.append(ShardPlan(index, count, size, _logged(grid, shard_rid, size), shard_rid))
    done = sum(s.done for s in shards)
    return CellPlan(cell, [rid], n=total, done=done, status="partial" if done else "todo", shards=shards)


def _plan_evaluate(grid: GridSpec, cell: Cell, dataset) -> CellPlan:
    """The record ids `infobench evaluate` gives a dataset (or each member of a group, then the group)."""
    from benchmark.data import expand, sample_indices

    card = grid.cards[cell.checkpoint]
    rids, sizes, suffixes = [], [], []
    for name in expand(cell.dataset):
        loaded = dataset(name)
        indices = sample_indices(len(loaded), cell.n, cell.seed)
        suffixes.append(f"n{len(indices)}-s{cell.seed}" if len(indices) < len(loaded) else "")
        rids.append(records.record_id(card["model_id"], "evaluate", loaded.name, suffixes[-1]))
        sizes.append(len(indices))
    logged = list(rids)
    if len(rids) > 1:
        rids.append(records.record_id(card["model_id"], "evaluate", cell.dataset, suffixes[0]))
    total = sum(sizes)
    if all(_record_exists(grid, rid, card) for rid in rids):
        return CellPlan(cell, rids, n=total, done=total, status="done")
    done = sum(_logged(grid, rid, size) for rid, size in zip(logged, sizes))
    return CellPlan(cell, rids, n=total, done=done, status="partial" if done else "todo")


def _record_exists(grid: GridSpec, rid: str, card: dict) -> bool:
    path = records.record_path(grid.results_dir, rid)
    if not path.is_file():
        return False
    record = records.load_record(path)
    if record["checkpoint"].get("weights_sha256") != card["weights_sha256"]:
        raise UserError(f"{path} was made from other weights than the checkpoint {card['model_id']} has now "
                        "(retrained?); move the record and its .examples.jsonl away to rerun that cell")
    return True


def _logged(grid: GridSpec, rid: str, size: int) -> int:
    """Examples already in a log (complete lines, header aside), read without touching the file."""
    path = records.example_log_path(grid.results_dir, rid)
    if not path.is_file():
        return 0
    lines = path.read_bytes().split(b"\n")[:-1]
    return min(size, sum(1 for line in lines if line.strip() and not line.startswith(b'{"header"')))


def _check_duplicates(plans: list[CellPlan], where) -> None:
    owner = {}
    for plan in plans:
        for rid in plan.record_ids:
            if rid in owner:
                raise UserError(f"{where}: duplicate cells: {owner[rid].label} ({owner[rid].entry}) and "
                                f"{plan.cell.label} ({plan.cell.entry}) both write record {rid}")
            owner[rid] = plan.cell


# ---- run ----------------------------------------------------------------------------------------

def run_grid(grid: GridSpec, plans: list[CellPlan], address: str | None = None, workers: int | None = None,
             quiet: bool = False, on_event=None) -> GridRun:
    """Run every cell not done yet on Ray; returns what ran where (the plans are updated in place)."""
    from benchmark.grid.engine import RayEngine

    started = time.perf_counter()
    run = GridRun(plans=plans)
    tasks, owners = _tasks(grid, [p for p in plans if p.status not in ("done", "ran")])
    if not tasks:
        return run

    def event(item: dict) -> None:
        if item["event"] == "retried":
            run.retried.append(item)
        if on_event is not None:
            on_event(item)

    with RayEngine(grid.execution, address, workers, event, max_workers=len(tasks)) as engine, \
            _ProgressBar(plans, quiet) as bar:
        run.startup_s = engine.startup_s
        run.workers = [{"pid": w.pid, "node": w.node, "host": w.host} for w in engine.workers]
        for outcome in engine.run(tasks):
            _absorb(grid, outcome, owners, run)
            bar.show(outcome, owners)
    run.wall_s = time.perf_counter() - started
    return run


def _tasks(grid: GridSpec, todo: list[CellPlan]):
    from benchmark.grid.engine import Task

    tasks, owners = [], {}
    for plan in sorted(todo, key=lambda p: p.cell.checkpoint):  # a worker's next task tends to reuse its model
        cell = plan.cell
        if cell.kind == "evaluate":
            payload = {"kind": "evaluate", "checkpoint": cell.checkpoint, "dataset": cell.dataset, "n": cell.n,
                       "seed": cell.seed, "results_dir": str(grid.results_dir),
                       "batch_size": grid.execution.batch_size}
            tasks.append(Task(task_id=plan.record_ids[-1], checkpoint=cell.checkpoint, payload=payload))
            owners[plan.record_ids[-1]] = (plan, None, plan.done)
            continue
        for shard in plan.shards:
            if shard.done == shard.n and shard.index is not None:
                continue  # a complete shard log: nothing to attack (the merge reads it)
            spec = attack_spec(grid, cell, None if shard.index is None else (shard.index, shard.count))
            tasks.append(Task(task_id=shard.record_id, checkpoint=cell.checkpoint,
                              payload={"kind": "attack", "checkpoint": cell.checkpoint, "spec": spec}))
            owners[shard.record_id] = (plan, shard, shard.done)
        if plan.shards and all(s.done == s.n for s in plan.shards) and plan.shards[0].index is not None:
            _merge(grid, plan)  # every shard was complete already: only the merge was missing
    return tasks, owners


def _absorb(grid: GridSpec, outcome, owners: dict, run: GridRun) -> None:
    """Keep a finished task's files, merge a cell whose shards are all done, note failures."""
    plan, shard, _ = owners[outcome.task.task_id]
    if outcome.error is not None:
        plan.status, plan.error = "failed", _error_text(outcome.error)
        log.error("%s failed: %s", outcome.task.task_id, plan.error)
        return
    result = outcome.result
    run.tasks.append({"task_id": outcome.task.task_id, "pid": result["pid"], "node": result["node"],
                      "host": result["host"], "seconds": result["seconds"], "latency_s": outcome.latency_s,
                      "loads": result["loads"]})
    for relative, text in result["files"].items():
        _adopt(grid.results_dir / relative, text)
    if shard is None:
        plan.done, plan.status = plan.n, "ran"
        return
    plan.done += shard.n - shard.done
    shard.done = shard.n
    if all(s.done == s.n for s in plan.shards) and plan.status != "failed":
        if shard.index is not None:
            _merge(grid, plan)
        plan.status = "ran"


def _adopt(path: Path, text: str) -> None:
    """Write a file a worker made unless it is already here (same machine or a shared filesystem)."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    atomic_write_text(path, text)


def _merge(grid: GridSpec, plan: CellPlan) -> None:
    """The unsharded log and record from the shard logs; then the shard files go, as after one process."""
    from benchmark.attack.runner import merge_attack_logs

    merge_attack_logs(attack_spec(grid, plan.cell), plan.shards[0].count)
    for shard in plan.shards:
        records.record_path(grid.results_dir, shard.record_id).unlink(missing_ok=True)
        records.example_log_path(grid.results_dir, shard.record_id).unlink(missing_ok=True)
    plan.status = "ran"


def _error_text(error: BaseException) -> str:
    cause = getattr(error, "cause", None)
    return str(cause if isinstance(cause, BaseException) else error).strip().splitlines()[-1]


class _ProgressBar:
    """One bar for the grid: examples done (rate, ETA), cells done, attack success rate so far."""

    def __init__(self, plans: list[CellPlan], quiet: bool):
        from tqdm.auto import tqdm

        self.plans = plans
        self.decided = [0, 0]  # successful, failed
        self.bar = tqdm(total=sum(p.n for p in plans), initial=sum(p.done for p in plans), desc="grid",
                        unit="ex", disable=quiet)
        self._postfix()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.bar.close()

    def show(self, outcome, owners: dict) -> None:
        plan, shard, already = owners[outcome.task.task_id]
        if outcome.result is not None:
            self.bar.update((shard.n if shard else plan.n) - already)
            for relative, text in outcome.result["files"].items():
                if relative.endswith(".json") and shard is not None:  # an attack record: its outcomes so far
                    counts = json.loads(text)["counts"]
                    self.decided[0] += counts.get("successful", 0)
                    self.decided[1] += counts.get("failed", 0)
        self._postfix()

    def _postfix(self) -> None:
        done = sum(p.status in ("done", "ran") for p in self.plans)
        postfix = {"cells": f"{done}/{len(self.plans)}"}
        if sum(self.decided):
            postfix["success"] = f"{self.decided[0] / sum(self.decided):.1%}"
        self.bar.set_postfix(postfix, refresh=True)


# ---- tables -------------------------------------------------------------------------------------

def plan_table(plans: list[CellPlan]) -> str:
    """`--dry-run`: every cell, its shards and what already exists."""
    from tabulate import tabulate

    rows = []
    for plan in plans:
        cell = plan.cell
        shards = "-" if not plan.shards else (str(plan.shards[0].count) if plan.shards[0].index is not None else "1")
        rows.append([Path(cell.checkpoint).name, cell.kind, cell.recipe or "", cell.dataset,
                     cell.n if cell.n is not None else "all", cell.seed,
                     cell.query_budget if cell.query_budget is not None else "", shards,
                     f"{plan.done}/{plan.n}", plan.status, plan.record_ids[-1]])
    headers = ["checkpoint", "kind", "recipe", "dataset", "n", "seed", "budget", "shards", "examples", "status",
               "record"]
    todo = sum(p.status != "done" for p in plans)
    return tabulate(rows, headers=headers) + f"\n\n{len(plans)} cells: {len(plans) - todo} done, {todo} to run\n"


def summary_table(run: GridRun, results_dir: Path) -> str:
    """The end-of-run table: each cell's headline metric, what ran, where, and how long it took."""
    from tabulate import tabulate

    rows = []
    for plan in run.plans:
        cell = plan.cell
        metric = plan.error or _headline(results_dir, plan.record_ids[-1])
        rows.append([Path(cell.checkpoint).name, cell.kind, cell.recipe or "", cell.dataset, plan.n,
                     {"done": "skipped (exists)"}.get(plan.status, plan.status), metric])
    text = tabulate(rows, headers=["checkpoint", "kind", "recipe", "dataset", "n", "status", "result"]) + "\n"
    hosts = sorted({w["host"] for w in run.workers})
    nodes = sorted({t["node"] for t in run.tasks})
    text += (f"\n{len(run.tasks)} tasks on {len(run.workers)} worker(s), {len(nodes)} node(s) ({', '.join(hosts)}); "
             f"{model_loads(run)} checkpoint loads; {len(run.retried)} re-run(s) after a worker died; "
             f"wall {run.wall_s:.1f}s (Ray start {run.startup_s:.1f}s)\n"
             if run.tasks or run.workers else "\nnothing to run: every record exists\n")
    failed = sum(p.status == "failed" for p in run.plans)
    if failed:
        text += f"{failed} cells failed; rerun the same command to retry them (finished work is kept)\n"
    return text + f"records in {results_dir}/records; `infobench leaderboard --results {results_dir}` picks them up\n"


def model_loads(run: GridRun) -> int:
    """Checkpoint loads over all worker processes (each reports its running count)."""
    last: dict = {}
    for task in run.tasks:
        last[task["pid"]] = max(last.get(task["pid"], 0), task["loads"])
    return sum(last.values())


def _headline(results_dir: Path, rid: str) -> str:
    path = records.record_path(results_dir, rid)
    if not path.is_file():
        return "no record"
    metrics = json.loads(path.read_text(encoding="utf-8"))["metrics"]
    keys = ("accuracy_under_attack", "attack_success_rate") if "accuracy_under_attack" in metrics else ("accuracy",)
    return ", ".join(f"{k} {metrics[k]:.3f}" for k in keys if isinstance(metrics.get(k), (int, float)))
