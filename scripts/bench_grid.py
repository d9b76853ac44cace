"""Measure `infobench grid` on this machine: 1 vs 2 workers, Ray's per-task overhead, a simulated
two-node cluster, and a worker killed in the middle of a shard.

    .venv/bin/python scripts/bench_grid.py                      # the two zoo checkpoints, ~10 min on 2 cores
    .venv/bin/python scripts/bench_grid.py --attack-n 4 --eval-n 50 --out /tmp/bench-grid

Every run writes its records into its own results folder under --out; all runs must give the
same records (timing fields aside), which the script checks. Prints a markdown report and
writes it, with the raw numbers (bench_grid.json), to --out.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ZOO = ["checkpoints/standard-minilm-l6-snli-s42", "checkpoints/infobert-minilm-l6-snli-s42"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", nargs="+", default=ZOO)
    parser.add_argument("--attack-n", type=int, default=8, help="PWWS sample per checkpoint")
    parser.add_argument("--budget", type=int, default=100, help="PWWS query budget")
    parser.add_argument("--eval-n", type=int, default=200, help="clean-accuracy sample per checkpoint")
    parser.add_argument("--shard-size", type=int, default=4)
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for results and the report (default: a temp dir)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-grid-"))
    out.mkdir(parents=True, exist_ok=True)
    report = {"load_average_before": os.getloadavg(), "cores": os.cpu_count(), "args": {
        k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}

    report["local_1_worker"] = timed_run(args, out, "w1", workers=1)
    report["local_2_workers"] = timed_run(args, out, "w2", workers=2)
    report["rerun_finished_2_workers"] = timed_run(args, out, "w2", workers=2)
    report["cluster_2_nodes_killed_worker"] = cluster_run(args, out)
    report["noop_round_trip_ms"] = noop_round_trip()
    report["identical_records"] = {name: same_records(out / "w1", out / name) for name in ("w2", "cluster")}
    report["load_average_after"] = os.getloadavg()
    (out / "bench_grid.json").write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report)
    (out / "bench_grid.md").write_text(text)
    sys.stdout.write(text + f"\n(raw numbers: {out / 'bench_grid.json'})\n")
    return 0 if all(report["identical_records"].values()) else 1


def write_spec(args, folder: Path, workers: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "spec.toml"
    spec.write_text(
        f"checkpoints = {json.dumps(args.checkpoints)}\nresults = {json.dumps(str(folder / 'results'))}\n\n"
        f"[execution]\nworkers = {workers}\nshard_size = {args.shard_size}\n\n"
        f'[[evaluate]]\ndataset = "snli-test"\nn = {args.eval_n}\n\n'
        f'[[attack]]\nrecipe = "pwws"\ndataset = "snli-test"\nn = {args.attack_n}\nseed = 0\n'
        f"query_budget = {args.budget}\n", encoding="utf-8")
    return spec


def timed_run(args, out: Path, name: str, workers: int, address=None, on_event=None) -> dict:
    from benchmark.grid.driver import load_grid, model_loads, run_grid

    started = time.perf_counter()
    grid, plans = load_grid(write_spec(args, out / name, workers))
    run = run_grid(grid, plans, address=address, quiet=True, on_event=on_event)
    wall = time.perf_counter() - started
    overheads = [t["latency_s"] - t["seconds"] for t in run.tasks]
    busy = sum(t["seconds"] for t in run.tasks)
    return {"wall_s": round(wall, 1), "ray_start_and_workers_s": round(run.startup_s, 1), "tasks": len(run.tasks),
            "workers": len(run.workers), "nodes": len({t["node"] for t in run.tasks}),
            "task_seconds_total": round(busy, 1), "checkpoint_loads": model_loads(run),
            "per_task_overhead_s_mean": round(statistics.mean(overheads), 3) if overheads else None,
            "per_task_overhead_s_max": round(max(overheads), 3) if overheads else None,
            "retried": run.retried, "failed": [p.record_ids[-1] for p in plans if p.status == "failed"],
            "tasks_by_node": _count(t["node"][:8] for t in run.tasks)}


def cluster_run(args, out: Path) -> dict:
    """Two simulated nodes of one CPU each (Ray's own test cluster), joined by address; a worker is
    SIGKILLed once the first attack shard has logged one example."""
    from ray.cluster_utils import Cluster

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the fault injector is test code
    from grid_faults import KillWorkerMidShard

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    try:
        killer = KillWorkerMidShard(out / "cluster" / "results")
        result = timed_run(args, out, "cluster", workers=2, address=cluster.address, on_event=killer)
        logged = killer.killed.get("logged", [])
        result["killed"] = {k: v for k, v in killer.killed.items() if k != "logged"}
        result["killed"]["examples_logged_before_kill"] = len(logged)
        # Lines logged before the kill are in the merged log unchanged (timings too): not attacked again.
        merged = {line for path in (out / "cluster" / "results" / "records").glob("*attack*.examples.jsonl")
                  for line in path.read_bytes().splitlines()}
        result["killed"]["logged_examples_kept"] = bool(logged) and all(line in merged for line in logged)
        return result
    finally:
        cluster.shutdown()


def noop_round_trip() -> dict:
    """Ray's floor: a no-op actor method call and a no-op task, driver to worker and back."""
    import ray

    ray.init(num_cpus=2, log_to_driver=False, include_dashboard=False)
    try:
        @ray.remote
        class Echo:
            def ping(self, x):
                return x

        @ray.remote
        def ping(x):
            return x

        actor = Echo.remote()
        ray.get([actor.ping.remote(0), ping.remote(0)])  # warm both up
        timings = {}
        for name, call in (("actor_method", lambda: actor.ping.remote(0)), ("task", lambda: ping.remote(0))):
            started = time.perf_counter()
            for _ in range(200):
                ray.get(call())
            timings[name] = round(1000 * (time.perf_counter() - started) / 200, 2)
        return timings
    finally:
        ray.shutdown()


def same_records(reference: Path, other: Path) -> bool:
    from benchmark.records import strip_volatile

    def load(folder: Path) -> dict:
        out = {}
        for path in sorted((folder / "results" / "records").iterdir()):
            text = path.read_text(encoding="utf-8")
            if path.name.endswith(".examples.jsonl"):
                out[path.name] = [{k: v for k, v in json.loads(line).items() if k != "seconds"}
                                  for line in text.splitlines()]
            else:
                out[path.name] = strip_volatile(json.loads(text))
        return out

    return load(reference) == load(other)


def markdown(report: dict) -> str:
    one, two, rerun = report["local_1_worker"], report["local_2_workers"], report["rerun_finished_2_workers"]
    cluster = report["cluster_2_nodes_killed_worker"]
    rows = [("local, 1 worker", one), ("local, 2 workers", two), ("rerun of the finished grid", rerun),
            ("2 simulated nodes, 1 worker killed", cluster)]
    lines = ["| run | wall s | Ray start + workers s | tasks | nodes | task s (sum) | overhead/task s (mean, max) |",
             "|---|---|---|---|---|---|---|"]
    for name, r in rows:
        lines.append(f"| {name} | {r['wall_s']} | {r['ray_start_and_workers_s']} | {r['tasks']} | {r['nodes']} | "
                     f"{r['task_seconds_total']} | {r['per_task_overhead_s_mean']}, {r['per_task_overhead_s_max']} |")
    speedup = one["wall_s"] / two["wall_s"] if two["wall_s"] else None
    killed = cluster.get("killed", {})
    retried = [(r["old_pid"], r["pid"]) for r in cluster["retried"]]
    lines += [
        "",
        (f"speed-up 1 -> 2 workers: {speedup:.2f}x (wall, Ray start included); cores: {report['cores']}, "
         f"load average before/after: {report['load_average_before'][0]:.1f}/{report['load_average_after'][0]:.1f}"),
        f"no-op round trip (ms): {report['noop_round_trip_ms']}",
        f"cluster tasks per node: {cluster['tasks_by_node']}",
        (f"killed worker pid {killed.get('pid')} in {killed.get('task')} after "
         f"{killed.get('examples_logged_before_kill')} logged example(s) (kept, not redone: "
         f"{killed.get('logged_examples_kept')}); re-runs (old pid, new pid): {retried}; "
         f"failed cells: {cluster['failed']}"),
        f"records identical to the 1-worker run: {report['identical_records']}",
    ]
    return "\n".join(lines) + "\n"


def _count(items) -> dict:
    counts: dict = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


if __name__ == "__main__":
    sys.exit(main())
