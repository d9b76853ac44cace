"""Examples pages: rendered from committed attack records in headless Chromium (screenshot, filters,
sorting, escaping), linked from every attack cell of the leaderboard, and the validity-filtered column."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.leaderboard.examples_page import COLUMNS
from benchmark.metrics import outcomes as outcome_logs
from benchmark.metrics.validity import FLAGS

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
MODEL = "infobert-minilm-l6-snli-s42"
TEXTFOOLER = f"{MODEL}__attack__snli-test__textfooler-n200-s0"
PWWS = f"{MODEL}__attack__snli-test__pwws-n200-s0"
HOSTILE = '<script>document.body.setAttribute("data-pwned", "yes")</script><img src=x onerror="alert(1)">'
KEY = "accuracy_under_attack_validity_filtered"


@pytest.fixture(scope="module")
def board(tmp_path_factory) -> Path:
    """Two committed attack logs (one with a hostile perturbed text), through `infobench leaderboard`."""
    results = tmp_path_factory.mktemp("board") / "results"
    (results / "records").mkdir(parents=True)
    for record_id in (TEXTFOOLER, PWWS):
        for suffix in (".json", ".examples.jsonl"):
            shutil.copy(REPO / "results" / "records" / f"{record_id}{suffix}", results / "records")
    log = results / "records" / f"{TEXTFOOLER}.examples.jsonl"
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    first_success = next(e for e in lines if e.get("result") == "successful")
    first_success["perturbed_hypothesis"] += " " + HOSTILE  # text only: the outcomes stay as recorded
    log.write_text("".join(json.dumps(e) + "\n" for e in lines))
    assert main(["--quiet", "leaderboard", "--results", str(results), "--no-plots",
                 "--readme", str(results / "none.md")]) == 0
    return results


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium); .ci/run installs it")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'chromium-profile'}", *args]
    done = subprocess.run([str(CHROMIUM), *flags], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def visible_rows(dom: str) -> list[dict]:
    """The examples table's rows the browser did not hide: result, flags, and each cell's data-value."""
    body = re.search(r'<table id="table-examples".*?<tbody>(.*?)</tbody>', dom, re.S).group(1)
    rows = []
    for attributes, cells in re.findall(r"<tr([^>]*)>(.*?)</tr>", body, re.S):
        if re.search(r"\shidden(=|\s|$)", attributes):
            continue
        flags = re.search(r'data-flags="([^"]*)"', attributes)
        rows.append({"result": re.search(r'data-result="([^"]*)"', attributes).group(1),
                     "flags": flags.group(1).split() if flags else None,
                     "values": [html.unescape(v) for v in re.findall(r'data-value="([^"]*)"', cells)]})
    return rows


def page_url(board: Path, record_id: str) -> str:
    return (board / "examples" / f"{record_id}.html").as_uri()


def log_entries(record_id: str) -> list[dict]:
    return outcome_logs.read_log_entries(REPO / "results" / "records", record_id)


def test_examples_page_renders_in_chromium(board, tmp_path):
    from PIL import Image

    shot = tmp_path / "page.png"
    chromium(tmp_path, "--window-size=2000,1200", "--hide-scrollbars", f"--screenshot={shot}",
             page_url(board, TEXTFOOLER))
    image = Image.open(shot).convert("RGB")
    colours = {colour for _, colour in image.getcolors(maxcolors=1 << 24)}
    assert len(colours) > 16, "the screenshot is (nearly) one colour: the page did not render"
    assert (0xC6, 0xEC, 0xC6) in colours and (0xF8, 0xC9, 0xC4) in colours  # both highlight colours drawn
    dom = chromium(tmp_path, "--dump-dom", page_url(board, TEXTFOOLER)).stdout
    rows = visible_rows(dom)
    assert len(rows) == len(log_entries(TEXTFOOLER)) == 200  # every logged example, none hidden
    assert "200 of 200 examples shown" in dom


def test_filters_set_from_the_url(board, tmp_path):
    entries = log_entries(TEXTFOOLER)
    for result in ("successful", "failed", "skipped"):
        dom = chromium(tmp_path, "--dump-dom", f"{page_url(board, TEXTFOOLER)}?result={result}").stdout
        rows = visible_rows(dom)
        expected = sum(e["result"] == result for e in entries)
        assert len(rows) == expected and {r["result"] for r in rows} <= {result}
        assert f"{expected} of 200 examples shown" in dom
    flagged = visible_rows(chromium(tmp_path, "--dump-dom", f"{page_url(board, TEXTFOOLER)}?flag=flagged").stdout)
    clean = visible_rows(chromium(tmp_path, "--dump-dom",
                                  f"{page_url(board, TEXTFOOLER)}?result=successful&flag=unflagged").stdout)
    assert flagged and clean and all(r["flags"] for r in flagged) and all(r["flags"] == [] for r in clean)
    assert len(flagged) + len(clean) == sum(e["result"] == "successful" for e in entries)
    counts = {flag: sum(flag in r["flags"] for r in flagged) for flag in FLAGS}
    by_flag = max(counts, key=counts.get)
    only = visible_rows(chromium(tmp_path, "--dump-dom", f"{page_url(board, TEXTFOOLER)}?flag={by_flag}").stdout)
    assert len(only) == counts[by_flag] and all(by_flag in r["flags"] for r in only)


def test_sorting_from_the_hash(board, tmp_path):
    dom = chromium(tmp_path, "--dump-dom", f"{page_url(board, PWWS)}?result=successful#sort=examples:queries:desc").stdout
    column = [key for key, _, _ in COLUMNS].index("queries")
    queries = [float(r["values"][column]) for r in visible_rows(dom)]
    assert queries == sorted(queries, reverse=True) and len(set(queries)) > 1
    assert 'aria-sort="descending"' in dom


def test_a_script_in_a_perturbed_text_is_shown_not_run(board, tmp_path):
    source = (board / "examples" / f"{TEXTFOOLER}.html").read_text()
    assert HOSTILE not in source and html.escape(HOSTILE) in source
    assert source.count("<script>") == 1 and source.count("<img") == 0  # the page's own script only
    dom = chromium(tmp_path, "--dump-dom", page_url(board, TEXTFOOLER)).stdout
    assert "data-pwned" not in dom.split("<table", 1)[0] and "<img src=" not in dom
    assert any(HOSTILE in value for row in visible_rows(dom) for value in row["values"])  # shown as text


def test_every_attack_cell_links_to_an_existing_examples_page(board):
    page = (board / "leaderboard.html").read_text()
    head, body = re.search(r'<table id="table-nli".*?<thead>(.*?)</thead><tbody>(.*?)</tbody>', page, re.S).groups()
    keys = re.findall(r'<th data-key="([^"]*)"', head)
    attack_columns = [i for i, key in enumerate(keys) if "@" in key]
    assert len(attack_columns) >= 2 * 6  # two recipes, six columns each (and any added, e.g. AUC)
    targets = set()
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        for column in attack_columns:
            link = re.match(r'<a href="([^"]+)"', cells[column])
            assert link, f"attack cell {keys[column]} has no examples link: {cells[column]}"
            assert (board / html.unescape(link.group(1))).is_file()
            targets.add(html.unescape(link.group(1)))
    assert targets == {f"examples/{TEXTFOOLER}.html", f"examples/{PWWS}.html"}


def test_validity_filtered_column_beside_the_raw_aua(board, capsys):
    assert main(["leaderboard", "--results", str(board), "--format", "json"]) == 0
    nli = json.loads(capsys.readouterr().out)["measured"][0]
    headers = {c["key"]: c["header"] for c in nli["columns"]}
    for record_id, recipe in ((TEXTFOOLER, "textfooler"), (PWWS, "pwws")):
        column = f"{recipe}@snli-test.{KEY}"
        assert headers[column] == f"{recipe}/snli-test AuA% validity-filtered"
        entries = log_entries(record_id)  # the committed log predates the flags: computed now
        assert all("validity" not in e for e in entries)
        record = json.loads((REPO / "results" / "records" / f"{record_id}.json").read_text())
        value, cell = nli["rows"][0][column], nli["cells"][0][column]
        assert nli["rows"][0][f"{recipe}@snli-test.accuracy_under_attack"] == record["metrics"]["accuracy_under_attack"]
        assert record["metrics"]["accuracy_under_attack"] <= value <= record["metrics"]["clean_accuracy"]
        assert cell["method"] == "wilson" and cell["n"] == 200 and cell["low"] < value < cell["high"]


def test_records_with_flags_carry_the_filtered_figure_and_its_interval():
    entries = [{"index": 0, "result": "failed", "queries": 3, "validity": None},
               {"index": 1, "result": "successful", "queries": 2, "words_perturbed_pct": 10.0, "similarity": 0.9,
                "validity": {"flagged": True, "flags": ["antonym"], "swaps": [], "similarity": 0.9}},
               {"index": 2, "result": "successful", "queries": 2, "words_perturbed_pct": 10.0, "similarity": 0.9,
                "validity": {"flagged": False, "flags": [], "swaps": [], "similarity": 0.9}},
               {"index": 3, "result": "skipped", "queries": 0, "validity": None}]
    found = outcome_logs.outcomes_from_log("attack", {}, entries)
    assert found[KEY].successes == 2 and found[KEY].n == 4  # the failure and the flagged success
    counts = {"n": 4, "failed": 1, "successful": 2, "skipped": 1, "validity_flagged": 1}
    from_counts = outcome_logs.intervals("attack", {KEY: 0.5}, counts)
    assert from_counts[KEY]["method"] == "wilson" and from_counts[KEY]["n"] == 4
    old_log = [{k: v for k, v in e.items() if k != "validity"} for e in entries]
    assert KEY not in outcome_logs.outcomes_from_log("attack", {}, old_log)


def test_a_seed_merged_row_links_to_the_single_seed_rows(tmp_path):
    from test_leaderboard import attack, checkpoint

    from benchmark.leaderboard import tables
    from benchmark.leaderboard.examples_page import link_attack_cells, page_link

    results = tmp_path / "results"
    seeds = [checkpoint(f"infobert-minilm-l6-snli-s{seed}", "infobert", seed=seed) for seed in (1, 2)]
    written = [attack(results, ckpt, "textfooler", "snli-test", 0.8, 0.2) for ckpt in seeds]
    measured = tables.measured_tables(tables.load_results(results).records)
    links = {record["record_id"]: page_link(record["record_id"]) for record in written}
    link_attack_cells(measured, links)
    nli = measured[0]
    merged = {key: stats.extra.get("href") for (row, key), stats in nli.cells.items() if "@" in key}
    single = {(row, key): stats.extra.get("href") for (row, key), stats in nli.single_seeds.cells.items()}
    assert len(nli.frame) == 1 and set(merged.values()) == {"#seeds-nli"}
    assert {single[(row, "textfooler@snli-test.accuracy_under_attack")] for row in (0, 1)} == set(links.values())
