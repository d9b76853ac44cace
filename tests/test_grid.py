"""`infobench grid`: records equal to the single commands, a killed worker, two nodes, spec errors.

Two Ray starts in all: a local one (the CLI's embedded default, 2 workers) and a simulated
two-node cluster (ray.cluster_utils.Cluster, one CPU per node) joined by address, which also
loses a worker to SIGKILL in the middle of a shard. Checkpoints are tiny random BERTs.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import time
from pathlib import Path

import pytest

ATTACK = ["--recipe", "pwws", "--dataset", "snli-test", "-n", "6", "--seed", "3", "--query-budget", "30"]
EVALUATE = ["--dataset", "snli-test", "-n", "4"]
CELLS = """
[[evaluate]]
dataset = "snli-test"
n = 4

[[attack]]
recipe = "pwws"
dataset = "snli-test"
n = 6
seed = 3
query_budget = 30
"""


def write_spec(path: Path, checkpoints, results: Path, body: str = CELLS, workers: int = 2,
               shard_size: int = 3) -> Path:
    head = (f"checkpoints = {json.dumps([str(c) for c in checkpoints])}\nresults = {json.dumps(str(results))}\n\n"
            f"[execution]\nworkers = {workers}\nshard_size = {shard_size}\nmax_retries = 2\n")
    path.write_text(head + body, encoding="utf-8")
    return path


def folder_contents(results: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((results / "records").iterdir())}


def comparable(name: str, text: str):
    """A record without its volatile fields, or a log without per-example timings."""
    from benchmark.records import strip_volatile

    if name.endswith(".examples.jsonl"):
        return [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in text.splitlines()]
    return strip_volatile(json.loads(text))


def assert_same_records(results: Path, reference: dict[str, str]) -> None:
    found = folder_contents(results)
    assert sorted(found) == sorted(reference)  # no shard files left over, nothing missing
    for name, text in reference.items():
        assert comparable(name, found[name]) == comparable(name, text), name


@pytest.fixture(scope="session")
def tiny_checkpoints(tiny_backbone, tmp_path_factory, data_root) -> list[Path]:
    import torch

    from models.backbones import build_task_model
    from models.checkpoint import save_checkpoint

    out = tmp_path_factory.mktemp("grid-checkpoints")
    paths = []
    for name, seed in (("tiny-a", 1), ("tiny-b", 2)):
        torch.manual_seed(seed)
        model, tokenizer = build_task_model(tiny_backbone, "nli", hidden_dropout=0.1, attention_dropout=0.1)
        card = {"model_id": f"test-grid-{name}", "backbone": "tiny-bert", "task": "nli",
                "label_names": ["entailment", "neutral", "contradiction"], "method": "standard",
                "hyperparameters": {"max_length": 64}, "seed": seed}
        save_checkpoint(model, tokenizer, card, out / name)
        paths.append(out / name)
    return paths


@pytest.fixture(scope="module")
def reference(tiny_checkpoints, tmp_path_factory) -> dict[str, str]:
    """What the single-process commands write for every cell of the grid."""
    from benchmark.cli import main

    results = tmp_path_factory.mktemp("single-commands")
    for ckpt in tiny_checkpoints:
        assert main(["--quiet", "attack", str(ckpt), *ATTACK, "--results", str(results)]) == 0
        assert main(["--quiet", "evaluate", str(ckpt), *EVALUATE, "--results", str(results)]) == 0
    return folder_contents(results)


@pytest.fixture(scope="module")
def local_grid(tiny_checkpoints, tmp_path_factory):
    """`infobench grid SPEC` with no address: a local Ray with 2 workers, attack cells in 2 shards each."""
    from benchmark.cli import main

    folder = tmp_path_factory.mktemp("local-grid")
    spec = write_spec(folder / "spec.toml", tiny_checkpoints, folder / "results")
    summary = io.StringIO()
    with contextlib.redirect_stdout(summary):
        assert main(["--quiet", "grid", str(spec)]) == 0
    return spec, folder / "results", summary.getvalue()


def test_local_two_worker_grid_writes_the_single_commands_records(local_grid, reference, run_cli):
    _, results, summary = local_grid
    assert_same_records(results, reference)
    # 6 tasks (2 evaluations, 2 x 2 attack shards) on 2 workers: a model is loaded per worker, not per task.
    tasks, workers, loads = map(int, re.search(r"(\d+) tasks on (\d+) worker\(s\).*?(\d+) checkpoint loads",
                                               summary).groups())
    assert (tasks, workers) == (6, 2) and 2 <= loads <= 4, summary
    code, out, err = run_cli("leaderboard", "--results", str(results), "--format", "csv")
    assert code == 0 and "test-grid-tiny-a" in out and "test-grid-tiny-b" in out, err


def test_rerunning_a_finished_grid_does_no_work(local_grid, run_cli):
    import ray

    spec, results, _ = local_grid
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in (results / "records").iterdir()}
    started = time.perf_counter()
    code, out, err = run_cli("--quiet", "grid", str(spec))
    assert code == 0, err
    assert time.perf_counter() - started < 30 and not ray.is_initialized()  # Ray was not even started
    assert "nothing to run" in out and out.count("skipped (exists)") == 4
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in (results / "records").iterdir()} == before


def test_dry_run_lists_cells_and_what_exists(tiny_checkpoints, reference, tmp_path, run_cli):
    results = tmp_path / "results"
    (results / "records").mkdir(parents=True)
    done = [name for name in reference if "tiny-a__evaluate" in name]
    for name in done:
        (results / "records" / name).write_text(reference[name], encoding="utf-8")
    spec = write_spec(tmp_path / "spec.toml", tiny_checkpoints, results)
    code, out, err = run_cli("grid", str(spec), "--dry-run")
    assert code == 0, err
    rows = [line.split() for line in out.splitlines() if line.startswith("tiny-")]
    assert [(r[0], r[1], r[-2]) for r in rows] == [("tiny-a", "evaluate", "done"), ("tiny-b", "evaluate", "todo"),
                                                   ("tiny-a", "attack", "todo"), ("tiny-b", "attack", "todo")]
    assert "4 cells: 1 done, 3 to run" in out
    assert sorted(p.name for p in (results / "records").iterdir()) == sorted(done)  # nothing ran


def test_a_yaml_spec_plans_the_same_cells(tiny_checkpoints, tmp_path, run_cli):
    toml_spec = write_spec(tmp_path / "spec.toml", tiny_checkpoints, tmp_path / "results")
    yaml_spec = tmp_path / "spec.yaml"
    yaml_spec.write_text(
        f"checkpoints: {json.dumps([str(c) for c in tiny_checkpoints])}\n"
        f"results: {json.dumps(str(tmp_path / 'results'))}\n"
        "execution: {workers: 2, shard_size: 3, max_retries: 2}\n"
        "evaluate:\n  - {dataset: snli-test, n: 4}\n"
        "attack:\n  - {recipe: pwws, dataset: snli-test, n: 6, seed: 3, query_budget: 30}\n", encoding="utf-8")
    outputs = [run_cli("grid", str(spec), "--dry-run") for spec in (toml_spec, yaml_spec)]
    assert outputs[0][0] == 0 and outputs[0] == outputs[1]


@pytest.fixture(scope="module")
def two_node_cluster():
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    yield cluster
    cluster.shutdown()


@pytest.mark.slow
def test_two_node_cluster_spreads_shards_and_survives_a_killed_worker(two_node_cluster, tiny_checkpoints,
                                                                       reference, tmp_path):
    from benchmark.grid.driver import load_grid, run_grid
    from grid_faults import KillWorkerMidShard

    # A tiny model attacks a 3-example shard in milliseconds when its examples are skipped
    # (misclassified), so a kill can come too late; such a run proves nothing and is redone.
    for attempt in range(4):
        results = tmp_path / f"results-{attempt}"
        grid, plans = load_grid(write_spec(tmp_path / f"spec-{attempt}.toml", tiny_checkpoints, results))
        killer = KillWorkerMidShard(results)
        run = run_grid(grid, plans, address=two_node_cluster.address, quiet=True, on_event=killer)
        if killer.killed and len(killer.killed["logged"]) < 3:
            break

    assert len({task["node"] for task in run.tasks}) == 2  # both nodes ran shards
    assert killer.killed, "the shard finished before its worker could be killed"
    assert len(killer.killed["logged"]) < 3, "in 4 runs no kill landed before the shard's end"
    assert [r["old_pid"] for r in run.retried] == [killer.killed["pid"]]  # Ray restarted it, re-ran the shard
    assert all(plan.status == "ran" for plan in plans)
    assert_same_records(results, reference)
    # Examples logged before the kill were not attacked again: their lines (timings included) are kept.
    merged = [line for name, text in folder_contents(results).items()
              if "attack" in name and name.endswith(".examples.jsonl") for line in text.encode().splitlines()]
    assert all(line in merged for line in killer.killed["logged"])
    _, again = load_grid(grid.path)
    assert all(plan.status == "done" for plan in again)


# ---- bad specs ----------------------------------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    (CELLS.replace('"pwws"', '"textfoolr"'), "unknown recipe 'textfoolr'. Did you mean textfooler"),
    (CELLS.replace('dataset = "snli-test"\nn = 4', 'dataset = "snli-tset"\nn = 4'), "unknown dataset 'snli-tset'"),
    (CELLS.replace("recipe =", "reciep ="), "unknown key 'reciep'. Did you mean 'recipe'?"),
    (CELLS + '\n[[evaluate]]\ndataset = ["snli-dev", "snli-test"]\nn = 4\n',
     "duplicate cells: tiny-a: evaluate snli-test n=4 seed=0"),
    (CELLS.replace('dataset = "snli-test"\nn = 6', 'dataset = "anli"\nn = 6'), "groups such as anli are for"),
    (CELLS + "params = { window = 3 }\n", "no parameter window"),
    (CELLS.replace("n = 6", "n = 0"), "n must be a whole number >= 1"),
    ("", "nothing to run"),
])
def test_bad_specs_are_one_clear_error(tiny_checkpoints, tmp_path, run_cli, body, message):
    spec = write_spec(tmp_path / "spec.toml", tiny_checkpoints, tmp_path / "results", body=body)
    code, _, err = run_cli("grid", str(spec), "--dry-run")
    assert code == 2 and message in err and "Traceback" not in err, err
    assert not (tmp_path / "results").exists()


def test_missing_checkpoint_names_what_was_looked_for(tiny_checkpoints, tmp_path, run_cli):
    spec = write_spec(tmp_path / "spec.toml", [tiny_checkpoints[0], tiny_checkpoints[0].parent / "tiny-c"],
                      tmp_path / "results")
    code, _, err = run_cli("grid", str(spec))
    assert code == 2 and "checkpoint" in err and "tiny-c' not found" in err and "Did you mean tiny-a" not in err


def test_checkpoint_by_id_and_a_retrained_checkpoint(tiny_checkpoints, reference, tmp_path, run_cli):
    """A bare id is looked up in checkpoints_dir; a record made from other weights stops the grid."""
    folder = tmp_path / "zoo"
    shutil.copytree(tiny_checkpoints[0], folder / "tiny-a")
    spec = tmp_path / "spec.toml"
    spec.write_text(f'checkpoints = ["tiny-a"]\ncheckpoints_dir = {json.dumps(str(folder))}\n'
                    f'results = {json.dumps(str(tmp_path / "results"))}\n' + CELLS, encoding="utf-8")
    code, out, err = run_cli("grid", str(spec), "--dry-run")
    assert code == 0 and out.count("todo") == 2, err
    name = next(n for n in reference if n.startswith("test-grid-tiny-a__evaluate") and n.endswith(".json"))
    record = json.loads(reference[name])
    record["checkpoint"]["weights_sha256"] = "0" * 64
    (tmp_path / "results" / "records").mkdir(parents=True)
    (tmp_path / "results" / "records" / name).write_text(json.dumps(record), encoding="utf-8")
    code, _, err = run_cli("grid", str(spec), "--dry-run")
    assert code == 2 and "made from other weights" in err
