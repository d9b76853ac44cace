"""Leaderboard parts made from attack logs and transfer records: the source x target transfer
matrix (Markdown + heatmap), robustness curves (one PNG per recipe and dataset, one line per
checkpoint) and an area-under-curve column. Reads records and their per-example logs only.
"""

from __future__ import annotations

import logging
from pathlib import Path

from benchmark.core.atomic import atomic_write_bytes
from benchmark.records.store import safe_name

log = logging.getLogger(__name__)
WHITE_BOX = "◆"  # marks a diagonal cell: the target is the model the examples were made against
MATRIX_NOTE = (f"Accuracy (%) of each target (column) on the successful adversarial examples of each source "
               f"(row), with the 95% Wilson interval and n. {WHITE_BOX} white-box: the target is the source "
               "model itself (0 by construction, up to numerical ties); other cells measure transfer.")


# ---- transfer matrix ---------------------------------------------------------------------------

def transfer_matrices(records: list[dict]) -> dict[str, dict]:
    """{family: {"sources": [...], "targets": [...], "cells": {(source, target): record}}}.

    A family is the attack the sets come from (recipe on dataset); rows are source checkpoints.
    """
    families: dict[str, dict] = {}
    for record in sorted(records, key=lambda r: r["record_id"]):
        source = record["evaluation"].get("adversarial_source")
        if record["kind"] != "evaluate" or not source:
            continue
        family = families.setdefault(f"{source['recipe']['name']} on {source['dataset']}",
                                     {"sources": [], "targets": [], "cells": {}})
        row, column = source["model_id"], record["checkpoint"]["model_id"]
        for names, name in ((family["sources"], row), (family["targets"], column)):
            if name not in names:
                names.append(name)
        family["cells"].setdefault((row, column), record)
    for family in families.values():
        family["sources"].sort()
        family["targets"].sort()
    return families


def cell_text(record: dict) -> str:
    correct, n = record["counts"]["correct"], record["counts"]["n"]
    low, high = wilson(correct, n)
    mark = f" {WHITE_BOX}" if is_white_box(record) else ""
    return f"{100 * correct / n:.1f} [{100 * low:.1f}, {100 * high:.1f}] n={n}{mark}"


def is_white_box(record: dict) -> bool:
    return record["evaluation"]["adversarial_source"]["weights_sha256"] == record["checkpoint"]["weights_sha256"]


def wilson(successes: int, n: int) -> tuple[float, float]:
    from benchmark.core.stats import wilson_interval

    interval = wilson_interval(successes, n)
    return interval.low, interval.high


def matrix_markdown(records: list[dict], level: int = 2) -> str:
    """The transfer section: one source x target table per family ("" when there is none)."""
    from tabulate import tabulate

    families = transfer_matrices(records)
    if not families:
        return ""
    parts = [f"{'#' * level} Transfer (adversarial examples made against one model, evaluated on others)",
             MATRIX_NOTE]
    for name, family in sorted(families.items()):
        rows = [[source] + [cell_text(family["cells"][(source, target)]) if (source, target) in family["cells"]
                            else "" for target in family["targets"]] for source in family["sources"]]
        parts += [f"{'#' * (level + 1)} {name}",
                  tabulate(rows, headers=["source \\ target", *family["targets"]], tablefmt="github",
                           disable_numparse=True)]
    return "\n\n".join(parts) + "\n"


def _heatmap(name: str, family: dict):
    import numpy as np
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    sources, targets = family["sources"], family["targets"]
    values = np.full((len(sources), len(targets)), np.nan)
    figure = Figure(figsize=(max(6.0, 2.5 + 1.6 * len(targets)), 2.2 + 0.7 * len(sources)), layout="constrained")
    axes = figure.add_subplot()
    for (source, target), record in family["cells"].items():
        values[sources.index(source), targets.index(target)] = 100 * record["metrics"]["accuracy"]
    image = axes.imshow(values, cmap="viridis", vmin=0, vmax=100, aspect="auto")
    for (source, target), record in family["cells"].items():
        i, j = sources.index(source), targets.index(target)
        axes.text(j, i, f"{values[i, j]:.1f}\nn={record['counts']['n']}", ha="center", va="center",
                  color="white" if values[i, j] < 60 else "black", fontsize="small")
        if is_white_box(record):
            axes.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2.5))
    axes.set_xticks(range(len(targets)), targets, rotation=30, ha="right", fontsize="small")
    axes.set_yticks(range(len(sources)), sources, fontsize="small")
    axes.set_xlabel("target (evaluated); red box: white-box (target = source)")
    axes.set_ylabel("source (attacked)")
    axes.set_title(f"transfer: {name}", fontsize="medium")
    figure.colorbar(image, ax=axes, label="accuracy (%)")
    return figure


# ---- robustness curves -------------------------------------------------------------------------

def curve_runs(records: list[dict]) -> dict[tuple, list[tuple[dict, list[dict]]]]:
    """{(column group, heading): [(record, log entries)]}: unbudgeted, uncapped runs, grouped exactly
    as the tables group them (one group per recipe, dataset and variant: sample, attack definition)."""
    from benchmark.leaderboard.auc_column import unbudgeted_attack
    from benchmark.leaderboard.tables import attack_group, variant_labeller
    from benchmark.leaderboard.validity_column import checked_entries

    label = variant_labeller(records)
    runs: dict[tuple, list] = {}
    for record in sorted(records, key=lambda r: r["record_id"]):
        if not unbudgeted_attack(record):
            continue
        entries = checked_entries(record)  # read once per leaderboard run, shared with the columns
        if entries:
            runs.setdefault(attack_group(record, label(record)), []).append((record, entries))
    return runs


def _curves_figure(heading: str, runs: list[tuple[dict, list[dict]]]):
    import numpy as np
    from matplotlib.figure import Figure

    from benchmark.metrics.curves import exactness, query_curve, search_of, share_curve

    figure = Figure(figsize=(11, 4.5), layout="constrained")
    by_budget, by_share = figure.subplots(1, 2)
    top = max(max((e["queries"] for e in entries), default=10) for _, entries in runs)
    budgets = np.unique(np.round(np.logspace(0, np.log10(max(top, 10) * 1.2), 200)).astype(int))
    shares = np.linspace(0, 0.5, 101)
    notes = set()
    for i, (record, entries) in enumerate(runs):
        exact = exactness(entries, search_of(record))
        notes.update(f"{axis}: {how}" for axis, how in exact.items())
        label = record["checkpoint"]["model_id"]
        by_budget.step(budgets, 100 * np.array(query_curve(entries, budgets)), where="post", color=f"C{i % 10}",
                       linestyle="-" if exact["queries"] == "exact" else "--", label=label)
        by_share.step(shares, 100 * np.array(share_curve(entries, shares)), where="post", color=f"C{i % 10}",
                      linestyle="-" if exact["share"] == "exact" else "--", label=label)
    by_budget.set_xscale("log")
    by_budget.set_xlabel("query budget per example")
    by_share.set_xlabel("largest share of words perturbed")
    for axes in (by_budget, by_share):
        axes.set_ylabel("after-attack accuracy (%)")
        axes.set_ylim(0, 100)
        axes.legend(fontsize="small")
    figure.suptitle(f"{heading}: robustness curves from one unbudgeted run\n"  # two lines: fits the width
                    f"({', '.join(sorted(notes))}; dashed = not exact)", fontsize="medium")
    return figure


# ---- files -------------------------------------------------------------------------------------

def write_plots(records: list[dict], plots_dir: Path) -> dict[str, Path]:
    """Heatmaps and curve plots into plots_dir; returns title -> path."""
    import matplotlib.style

    from benchmark.leaderboard.plots import _png_bytes

    written = {}
    with matplotlib.style.context("default"):
        for name, family in sorted(transfer_matrices(records).items()):
            path = Path(plots_dir) / f"transfer-{safe_name(name.replace(' on ', '-'))}.png"
            atomic_write_bytes(path, _png_bytes(_heatmap(name, family)))
            written[f"transfer matrix: {name}"] = path
        for (group_key, heading), runs in sorted(curve_runs(records).items()):
            path = Path(plots_dir) / f"curves-{safe_name(group_key.replace('@', '-'))}.png"
            atomic_write_bytes(path, _png_bytes(_curves_figure(heading, runs)))
            written[f"robustness curves: {heading}"] = path
    return written
