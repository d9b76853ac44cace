"""Leaderboard plots (PNG, matplotlib Agg), from measured records only, byte-identical across runs.

No pyplot: a bare Figure on an Agg canvas touches no global backend state, and the default
style is pinned so a user's matplotlibrc cannot change the pixels. The PNG "Software" text chunk
is dropped (it carries the matplotlib version); Agg PNGs have no timestamp.
"""

from __future__ import annotations

import io
from pathlib import Path

from benchmark.core.atomic import atomic_write_bytes
from benchmark.leaderboard.tables import ANLI_HEADERS, METHOD_ORDER, order_rank

PLOT_FILES = {"clean vs. robust accuracy": "clean_vs_robust.png", "accuracy by ANLI round": "anli_rounds.png"}
_MARKERS = "os^DvP*X<>"


def write_plots(records: list[dict], plots_dir: Path) -> dict[str, Path]:
    """Draw both plots into `plots_dir`; returns title -> path."""
    import matplotlib.style

    plots_dir = Path(plots_dir)
    written = {}
    with matplotlib.style.context("default"):
        for title, name in PLOT_FILES.items():
            draw = _clean_vs_robust if name == "clean_vs_robust.png" else _anli_rounds
            figure = draw(records, title)
            atomic_write_bytes(plots_dir / name, _png_bytes(figure))
            written[title] = plots_dir / name
    return written


def _png_bytes(figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def _new_figure(title: str):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 5), layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title)
    return figure, axes


def _methods(records: list[dict]) -> list[str]:
    return sorted({r["checkpoint"].get("method") or "unknown" for r in records}, key=lambda m: order_rank(m, METHOD_ORDER))


def _empty(axes, message: str) -> None:
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes, color="0.4")
    axes.set_xticks([])
    axes.set_yticks([])


def _clean_vs_robust(records: list[dict], title: str):
    """One point per (checkpoint, recipe, dataset): clean accuracy on the attacked sample vs. AuA."""
    figure, axes = _new_figure(title)
    attacks = [r for r in records if r["kind"] == "attack"
               and r["metrics"].get("clean_accuracy") is not None
               and r["metrics"].get("accuracy_under_attack") is not None]
    if not attacks:
        _empty(axes, "no attack records yet")
        return figure
    methods = _methods(attacks)
    recipes = sorted({r["evaluation"]["recipe"]["name"] for r in attacks})
    for record in sorted(attacks, key=lambda r: r["record_id"]):
        method = record["checkpoint"].get("method") or "unknown"
        recipe = record["evaluation"]["recipe"]["name"]
        axes.scatter(100 * record["metrics"]["clean_accuracy"], 100 * record["metrics"]["accuracy_under_attack"],
                     color=f"C{methods.index(method) % 10}", marker=_MARKERS[recipes.index(recipe) % len(_MARKERS)],
                     s=50, edgecolors="black", linewidths=0.5)
    axes.plot([0, 100], [0, 100], color="0.7", linestyle="--", linewidth=1)  # no attack: AuA = clean
    axes.set_xlim(0, 100)
    axes.set_ylim(0, 100)
    axes.set_xlabel("clean accuracy on the attacked sample (%)")
    axes.set_ylabel("accuracy under attack (%)")
    handles = [axes.scatter([], [], color=f"C{i % 10}", label=m) for i, m in enumerate(methods)]
    handles += [axes.scatter([], [], color="white", edgecolors="black", marker=_MARKERS[i % len(_MARKERS)],
                             label=r) for i, r in enumerate(recipes)]
    axes.legend(handles=handles, loc="upper left", fontsize="small")
    return figure


def _anli_rounds(records: list[dict], title: str):
    """Mean accuracy per ANLI round for each (backbone, method); dots are single checkpoints."""
    figure, axes = _new_figure(title)
    rounds = list(ANLI_HEADERS)
    scores: dict[tuple, dict[str, list[float]]] = {}
    for record in sorted(records, key=lambda r: r["record_id"]):
        accuracy = record["metrics"].get("accuracy")
        if record["kind"] != "evaluate" or record["evaluation"]["dataset"] not in rounds or accuracy is None:
            continue
        group = (record["checkpoint"].get("backbone") or "unknown", record["checkpoint"].get("method") or "unknown")
        scores.setdefault(group, {}).setdefault(record["evaluation"]["dataset"], []).append(100 * accuracy)
    if not scores:
        _empty(axes, "no ANLI evaluation records yet")
        return figure
    groups = sorted(scores, key=lambda g: (g[0], order_rank(g[1], METHOD_ORDER)))
    width = 0.8 / len(groups)
    for g, group in enumerate(groups):
        for r, dataset in enumerate(rounds):
            values = scores[group].get(dataset, [])
            if not values:
                continue
            x = r - 0.4 + width * (g + 0.5)
            axes.bar(x, sum(values) / len(values), width=width * 0.9, color=f"C{g % 10}",
                     label=f"{group[1]} ({group[0]})" if r == min(rounds.index(d) for d in scores[group]) else None)
            axes.scatter([x] * len(values), values, color="black", s=8, zorder=3)
    axes.axhline(100 / 3, color="0.5", linestyle=":", linewidth=1, label="chance (3 classes)")
    axes.set_xticks(range(len(rounds)), [ANLI_HEADERS[d] for d in rounds])
    axes.set_ylim(0, 100)
    axes.set_ylabel("accuracy (%)")
    axes.legend(loc="upper right", fontsize="small")
    return figure
