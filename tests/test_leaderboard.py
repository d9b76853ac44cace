"""`infobench leaderboard`: tables from generated records, determinism, bad input, reported rows, browser."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.data import NLI_LABELS
from benchmark.leaderboard import tables as leaderboard
from benchmark.records import make_record, record_id, write_record

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")


# ---------------------------------------------------------------- record fixtures (generated, never typed JSON)


def checkpoint(model_id: str, method: str, task: str = "nli", backbone: str = "minilm-l6", seed: int = 42,
               weights: str | None = None) -> dict:
    return {"path": f"checkpoints/{model_id}", "model_id": model_id, "backbone": backbone, "task": task,
            "method": method, "seed": seed,
            "weights_sha256": weights or hashlib.sha256(model_id.encode()).hexdigest(),
            "label_names": list(NLI_LABELS), "hyperparameters": {"lr": 2e-5}, "training_data": "snli-train"}


def evaluate(results: Path, ckpt: dict, dataset: str, metrics: dict, n: int | None = None,
             created: str | None = None, rid_suffix: str = "") -> dict:
    rid = record_id(ckpt["model_id"], "evaluate", dataset, rid_suffix)
    evaluation = {"dataset": dataset, "source": "test", "n_examples": n or 1000, "examples_sha256": "0" * 64,
                  "sample": {"n": n, "seed": 0 if n else None}}
    return _write(results, make_record(rid=rid, kind="evaluate", checkpoint=ckpt, evaluation=evaluation,
                                       metrics=metrics, counts={"examples": n or 1000}, wall_time_s=1.0,
                                       device="cpu"), created)


def attack(results: Path, ckpt: dict, recipe: str, dataset: str, clean: float, robust: float,
           created: str | None = None, attack_repr: str | None = None, rid_suffix: str = "") -> dict:
    rid = record_id(ckpt["model_id"], "attack", dataset, recipe + rid_suffix)
    evaluation = {"dataset": dataset, "recipe": {"name": recipe, "params": {"max_candidates": 50},
                                                 "attack_repr": attack_repr},
                  "resources": [], "sample": {"n": 100, "seed": 0}}
    metrics = {"clean_accuracy": clean, "accuracy_under_attack": robust,
               "attack_success_rate": round(1 - robust / clean, 4), "avg_words_perturbed_pct": 12.5,
               "avg_queries": 210.25, "avg_sentence_similarity": 0.9}
    return _write(results, make_record(rid=rid, kind="attack", checkpoint=ckpt, evaluation=evaluation,
                                       metrics=metrics, counts={"examples": 100}, wall_time_s=2.0,
                                       device="cpu"), created)


def _write(results: Path, record: dict, created: str | None) -> dict:
    record["created"] = created or "2025-01-01T00:00:00+00:00"  # fixed: outputs must not depend on the clock
    write_record(results, record)
    return record


STANDARD = checkpoint("standard-minilm-l6-snli-s42", "standard")
FREELB = checkpoint("freelb-minilm-l6-snli-s42", "freelb")
INFOBERT = checkpoint("infobert-minilm-l6-snli-s42", "infobert")
QA_MODEL = checkpoint("standard-minilm-l6-squad-s42", "standard", task="qa")


def populate(results: Path) -> Path:
    """Three NLI checkpoints (evaluate + attack) and one QA checkpoint, plus the committed reported rows."""
    for ckpt, snli, rounds, robust in ((STANDARD, 0.81, (0.30, 0.31, 0.32, 0.31), 0.05),
                                       (FREELB, 0.83, (0.33, 0.32, 0.34, 0.33), 0.12),
                                       (INFOBERT, 0.82, (0.35, 0.33, 0.36, 0.347), 0.20)):
        evaluate(results, ckpt, "snli-test", {"accuracy": snli})
        for dataset, accuracy in zip(("anli-r1-test", "anli-r2-test", "anli-r3-test", "anli"), rounds):
            evaluate(results, ckpt, dataset, {"accuracy": accuracy})
        attack(results, ckpt, "textfooler", "snli-test", snli, robust)
    attack(results, INFOBERT, "pwws", "snli-test", 0.8, 0.25)
    evaluate(results, QA_MODEL, "squad-dev", {"exact_match": 61.25, "f1": 72.5})
    evaluate(results, QA_MODEL, "adv-squad-addsent", {"exact_match": 30.0, "f1": 35.75})
    shutil.copytree(REPO / "results" / "reported", results / "reported", dirs_exist_ok=True)
    return results


@pytest.fixture
def results(tmp_path) -> Path:
    return populate(tmp_path / "results")


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main(["leaderboard", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def as_json(capsys, results: Path, *args) -> dict:
    code, out, _ = run_cli(capsys, "--results", results, "--format", "json", *args)
    assert code == 0
    return json.loads(out)


# ---------------------------------------------------------------- tables


def test_one_row_per_checkpoint_grouped_by_task(capsys, results):
    board = as_json(capsys, results)
    assert [t["slug"] for t in board["measured"]] == ["nli", "qa"]
    nli, qa = board["measured"]
    assert [r["method"] for r in nli["rows"]] == ["standard", "freelb", "infobert"]  # baseline first
    infobert = nli["rows"][2]
    assert infobert["snli-test.accuracy"] == 0.82 and infobert["anli-r3-test.accuracy"] == 0.36
    assert infobert["anli.accuracy"] == 0.347
    assert infobert["textfooler@snli-test.accuracy_under_attack"] == 0.20
    assert infobert["pwws@snli-test.avg_queries"] == 210.25
    assert nli["rows"][0].get("pwws@snli-test.accuracy_under_attack") is None  # absent, not zero
    headers = [c["header"] for c in nli["columns"]]
    assert headers.index("snli-test acc%") < headers.index("ANLI R1 acc%") < headers.index("ANLI all acc%")
    assert "textfooler/snli-test AuA%" in headers and "squad-dev EM" not in headers
    assert qa["rows"][0]["adv-squad-addsent.f1"] == 35.75
    assert [c["header"] for c in qa["columns"]][-4:] == ["squad-dev EM", "squad-dev F1", "AddSent EM", "AddSent F1"]


def test_markdown_shows_percentages_with_one_decimal(capsys, results):
    code, out, _ = run_cli(capsys, "--results", results, "--format", "md")
    assert code == 0
    # a wide table is cut into column groups: the row's cells are spread over one line per group
    infobert_lines = [line for line in out.splitlines() if "| infobert-minilm-l6-snli-s42" in line]
    cells = [c.strip() for line in infobert_lines for c in line.strip("|").split("|")]
    assert "82.0" in cells and "34.7" in cells and "20.0" in cells and "210.2" in cells
    assert "## NLI (measured)" in out and "## QA (measured)" in out
    assert out.index("## QA (measured)") < out.index("## Reported in the literature")


def test_filters(capsys, results):
    only_qa = as_json(capsys, results, "--task", "qa")
    assert [t["slug"] for t in only_qa["measured"]] == ["qa"] and only_qa["reported"]["rows"] == []
    infobert = as_json(capsys, results, "--method", "infobert")
    assert [r["checkpoint"] for r in infobert["measured"][0]["rows"]] == [INFOBERT["model_id"]]
    assert {r["method"] for r in infobert["reported"]["rows"]} == {"infobert"}
    code, out, _ = run_cli(capsys, "--results", results, "--format", "csv", "--backbone", "minilm-l6")
    assert code == 0 and out.splitlines()[0].startswith("task,backbone,method,checkpoint,seed,")
    assert len(out.splitlines()) == 1 + 4  # header + every checkpoint of the two tasks


def test_empty_records_write_an_empty_state(capsys, tmp_path):
    (tmp_path / "results" / "records").mkdir(parents=True)
    code, _, _ = run_cli(capsys, "--results", tmp_path / "results", "--no-plots", "--readme", tmp_path / "README.md")
    assert code == 0
    page = (tmp_path / "results" / "leaderboard.md").read_text()
    assert "No measured records yet" in page and "No reported rows." in page
    assert (tmp_path / "results" / "leaderboard.csv").read_text() == "task,backbone,method,checkpoint,seed\n"
    assert 'id="table-reported"' in (tmp_path / "results" / "leaderboard.html").read_text()


def test_record_variants_get_their_own_columns(capsys, tmp_path):
    results = tmp_path / "results"
    evaluate(results, STANDARD, "snli-test", {"accuracy": 0.8}, n=100, rid_suffix="n100")
    evaluate(results, STANDARD, "snli-test", {"accuracy": 0.7}, n=500, rid_suffix="n500")
    row = as_json(capsys, results)["measured"][0]["rows"][0]
    assert row["snli-test+n100.accuracy"] == 0.8 and row["snli-test+n500.accuracy"] == 0.7


def test_a_recipe_whose_constraint_changed_under_the_same_name_gets_its_own_columns(capsys, tmp_path):
    # Issue 17 kept TextFooler's name and parameters but calibrated its word-cosine threshold:
    # the records before and after must not be averaged, only told apart.
    results = tmp_path / "results"
    for seed, threshold, robust in ((1, 0.5, 0.05), (2, 0.5, 0.07), (1, 0.95, 0.4)):
        model = checkpoint(f"standard-minilm-l6-snli-s{seed}", "standard", seed=seed)
        attack(results, model, "textfooler", "snli-test", 0.8, robust, rid_suffix=f"-cos{threshold}",
               attack_repr=f"Attack(WordEmbeddingDistance(min_cos_sim={threshold}))")
    page = as_json(capsys, results)
    row = page["measured"][0]["rows"][0]
    robust = {key: value for key, value in row.items() if key.endswith(".accuracy_under_attack")}
    assert len(robust) == 2 and all("+d" in key for key in robust)
    assert sorted(robust.values()) == [pytest.approx(0.06), 0.4]  # the old pair merged, the new one alone
    code, markdown, _ = run_cli(capsys, "--results", results, "--format", "md")
    assert code == 0 and len(set(re.findall(r"textfooler/snli-test \(attack [0-9a-f]{6}\) AuA%", markdown))) == 2


# ---------------------------------------------------------------- determinism


def test_two_runs_write_byte_identical_files(tmp_path):
    """Two processes with different hash seeds, same records: every written byte the same."""
    results = populate(tmp_path / "results")
    readme = tmp_path / "README.md"
    readme.write_text("# project\n\n<!-- leaderboard:start -->\nold\n<!-- leaderboard:end -->\n\ntail\n")
    snapshots = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-m", "benchmark.cli", "--quiet", "leaderboard", "--results",
                               str(results), "--readme", str(readme)], env=env, capture_output=True, text=True,
                              timeout=120, cwd=REPO)
        assert done.returncode == 0, done.stderr
        files = sorted([*results.glob("leaderboard*"), *results.glob("plots/*")])
        snapshots.append({p.relative_to(results).as_posix(): p.read_bytes() for p in files}
                         | {"README.md": readme.read_bytes()})
    assert set(snapshots[0]) == {"leaderboard.md", "leaderboard.csv", "leaderboard_reported.csv", "leaderboard.html",
                                 "plots/clean_vs_robust.png", "plots/anli_rounds.png", "README.md"}
    assert snapshots[0] == snapshots[1]
    assert b"tEXt" not in snapshots[0]["plots/anli_rounds.png"]  # no Software/version text chunk
    text = readme.read_text()
    assert text.startswith("# project\n\n<!-- leaderboard:start -->\n") and text.endswith("<!-- leaderboard:end -->\n\ntail\n")
    assert "### NLI (measured)" in text and "\nold\n" not in text and "](results/plots/anli_rounds.png)" in text


# ---------------------------------------------------------------- invalid and duplicate records


def test_invalid_and_foreign_files_are_named_and_stop_the_command(capsys, results):
    records = results / "records"
    (records / "truncated.json").write_text('{"schema_version": 1, "record_id": ')
    (records / "notes.txt").write_text("not a record")
    future = json.loads((records / f"{record_id(STANDARD['model_id'], 'evaluate', 'snli-test')}.json").read_text())
    future.update(schema_version=2, record_id="future")
    (records / "future.json").write_text(json.dumps(future))
    percent = dict(future, schema_version=1, record_id="percent", metrics={"accuracy": 81.0})
    (records / "percent.json").write_text(json.dumps(percent))
    (records / "x.examples.jsonl").write_text('{"a": 1}\n')  # per-example logs are not records
    code, out, err = run_cli(capsys, "--results", results, "--no-plots")
    assert code == 2 and out == ""
    for name in ("truncated.json", "notes.txt", "future.json", "percent.json"):
        assert name in err
    assert "schema_version 2" in err and "not a fraction" in err and "x.examples.jsonl" not in err
    assert not (results / "leaderboard.md").exists()
    board = as_json(capsys, results, "--skip-invalid")
    assert len(board["skipped_invalid"]) == 4 and len(board["measured"][0]["rows"]) == 3


def test_newest_duplicate_wins_and_others_are_listed(capsys, results, caplog):
    evaluate(results, FREELB, "snli-test", {"accuracy": 0.90}, created="2025-03-01T00:00:00+00:00",
             rid_suffix="rerun")
    evaluate(results, FREELB, "snli-test", {"accuracy": 0.10}, created="2024-12-31T23:00:00-02:00",
             rid_suffix="older")  # 2025-01-01T01:00Z: newer than the original, older than the rerun
    board = as_json(capsys, results)
    assert board["measured"][0]["rows"][1]["snli-test.accuracy"] == 0.90
    original = f"{record_id(FREELB['model_id'], 'evaluate', 'snli-test')}.json"
    rerun = f"{record_id(FREELB['model_id'], 'evaluate', 'snli-test', 'rerun')}.json"
    listed = {(s["file"], s["superseded_by"]) for s in board["superseded"]}
    assert listed == {(original, rerun), (original.replace(".json", "__older.json"), rerun)}
    assert f"{original} is superseded by the newer {rerun}" in caplog.text


def test_same_timestamp_ties_break_on_record_id(tmp_path):
    results = tmp_path / "results"
    evaluate(results, STANDARD, "snli-test", {"accuracy": 0.5}, rid_suffix="a")
    evaluate(results, STANDARD, "snli-test", {"accuracy": 0.6}, rid_suffix="b")
    found = leaderboard.load_results(results)
    assert [r["metrics"]["accuracy"] for r in found.records] == [0.6]
    assert [loser for loser, _ in found.superseded] == [f"{record_id(STANDARD['model_id'], 'evaluate', 'snli-test', 'a')}.json"]


# ---------------------------------------------------------------- reported rows


def test_committed_reported_rows_are_valid_and_sourced():
    found = leaderboard.load_results(REPO / "results")
    assert not [why for path, why in found.invalid if "/reported/" in path]
    assert len(found.reported) >= 4
    released = next(d for d in found.reported if d["reported_id"] == "infobert-roberta-large-released")
    scores = {e["dataset"]: e["metrics"]["accuracy"] for e in released["results"]}
    assert scores["anli-r1-test"] == 0.755 and scores["anli"] == 0.5831  # fractions, like measured records
    assert all(doc["reported"] is True and doc["source"]["citation"] for doc in found.reported)


def test_reported_rows_stay_out_of_measured_tables_and_plots(capsys, results, tmp_path):
    board = as_json(capsys, results)
    measured_ids = {r["checkpoint"] for t in board["measured"] for r in t["rows"]}
    reported_models = {r["model"] for r in board["reported"]["rows"]}
    assert measured_ids.isdisjoint(reported_models) and len(reported_models) >= 4
    code, out, _ = run_cli(capsys, "--results", results, "--format", "csv")
    assert "InfoBERT (RoBERTa" not in out
    # Plots drawn with and without the reported rows are the same image.
    bare = tmp_path / "bare"
    shutil.copytree(results / "records", bare / "records")
    for folder in (results, bare):
        assert run_cli(capsys, "--results", folder, "--readme", tmp_path / "none.md")[0] == 0
    for name in ("clean_vs_robust.png", "anli_rounds.png"):
        assert (results / "plots" / name).read_bytes() == (bare / "plots" / name).read_bytes()


def test_invalid_reported_row_is_named(capsys, results):
    doc = json.loads((results / "reported" / "roberta-large-anli-leaderboard.json").read_text())
    doc["results"][0]["metrics"]["accuracy"] = 73.8  # a percentage where a fraction belongs
    (results / "reported" / "roberta-large-anli-leaderboard.json").write_text(json.dumps(doc))
    code, _, err = run_cli(capsys, "--results", results, "--format", "md")
    assert code == 2 and "roberta-large-anli-leaderboard.json" in err and "not a fraction" in err


def test_readme_without_markers_is_left_alone(capsys, results, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    readme = tmp_path / "README.md"
    readme.write_text("# project\n")
    assert run_cli(capsys, "--results", results, "--no-plots", "--readme", readme)[0] == 0
    assert readme.read_text() == "# project\n" and "has no leaderboard markers" in caplog.text


# ---------------------------------------------------------------- the page in a real browser


def dump_dom(url: str, tmp_path: Path) -> str:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium); .ci/run installs it")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'chromium-profile'}", "--dump-dom", url]
    done = subprocess.run([str(CHROMIUM), *flags], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def table_column(dom: str, slug: str, key: str) -> list[str]:
    """The cells of one column (by its data-key), top to bottom, as the browser left them."""
    head, body = re.search(rf'<table id="table-{slug}".*?<thead>(.*?)</thead><tbody>(.*?)</tbody>', dom, re.S).groups()
    column = re.findall(r'<th data-key="([^"]*)"', head).index(key)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[column] for row in rows]


def test_html_page_renders_and_sorts_in_chromium(capsys, results, tmp_path):
    assert run_cli(capsys, "--results", results, "--readme", tmp_path / "none.md")[0] == 0
    page = results / "leaderboard.html"
    source = page.read_text()
    assert source.count('src="data:image/png;base64,') == 2  # plots embedded, not linked
    assert not re.search(r'(src="(?!data:)|<link|@import|url\()', source), "the page must load nothing"
    url = page.as_uri()
    dom = dump_dom(url, tmp_path)
    assert table_column(dom, "nli", "checkpoint") == [STANDARD["model_id"], FREELB["model_id"], INFOBERT["model_id"]]
    assert table_column(dom, "qa", "checkpoint") == [QA_MODEL["model_id"]] and len(table_column(dom, "reported", "model")) >= 4
    aua = "textfooler@snli-test.accuracy_under_attack"
    sorted_desc = dump_dom(f"{url}#sort=nli:{aua}:desc", tmp_path)
    assert table_column(sorted_desc, "nli", "checkpoint") == [INFOBERT["model_id"], FREELB["model_id"], STANDARD["model_id"]]
    assert 'aria-sort="descending"' in sorted_desc
    by_snli = dump_dom(f"{url}#sort=nli:snli-test.accuracy:asc", tmp_path)
    assert table_column(by_snli, "nli", "checkpoint") == [STANDARD["model_id"], INFOBERT["model_id"], FREELB["model_id"]]
    # Missing cells sort last in either direction; numbers compare as numbers.
    pwws = dump_dom(f"{url}#sort=nli:pwws@snli-test.clean_accuracy:asc", tmp_path)
    assert table_column(pwws, "nli", "checkpoint")[0] == INFOBERT["model_id"]
    anli_all = dump_dom(f"{url}#sort=reported:anli.accuracy:desc", tmp_path)
    assert table_column(anli_all, "reported", "model")[-2:] == ["RoBERTa-large", "ALUM (RoBERTa-large)"]


def test_command_module_imports_nothing_heavy():
    code = ("import sys, benchmark.commands.leaderboard; "
            "print(sorted(m for m in ('pandas', 'matplotlib', 'tabulate') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.stdout.strip() == "[]"


def test_variant_labels_never_give_two_variants_one_column():
    from benchmark.leaderboard.tables import _variant_label

    base = {"recipe": "pwws", "n": 100, "seed": 0, "definition": "abc123"}
    one, text_one = {**base, "params": {"k": 1}}, {**base, "params": {"k": "1"}}
    budget = {**base, "params": {"k": 1, "query_budget": None}}
    labels = [_variant_label(v, [one, text_one, budget]) for v in (one, text_one, budget)]
    assert len({key for key, _ in labels}) == 3
    assert labels[1] == ('+k"1"', ' (k="1")')  # the string "1" is not the number 1
    # The number 1 with and without an explicit null budget read alike: each gets its own digest.
    assert labels[0][0].startswith("+h") and labels[2][0].startswith("+h")
